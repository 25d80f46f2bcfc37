"""The judge of lesson 07's ``build_translator`` (``translator``): the properties of the
learner's model's outputs name the known mistakes (causality, masks, which way the
cross-attention reads), and the points come from the grader's own forward pass, gradients and
loss of the model of the lesson's diagram (``grader.reference.translator``) on the weights the
learner's model holds.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.records import Part, Slot
from course_lib.dates import PAD_ID, SOURCE_LEN, SOURCE_VOCAB, TARGET_LEN, TARGET_VOCAB
from course_lib.feedback import CheckFailed, PartialCredit, close, compare_hidden
from course_lib.keras_harness import KERAS_ATOL, KERAS_RTOL, translator_batch
from course_lib.misconceptions import DESCRIPTIONS
from grader.judging.judges.scoring import judging, scored_parts
from grader.judging.probe_data import ProbeData, array, received_result
from grader.reference import numpy_block
from grader.reference.numeric_gradients import directional_derivatives, wrong_gradients
from grader.reference.translator import TranslatorForward, variant_logits


def _translator_mistake(key: str) -> CheckFailed:
    return CheckFailed(f"build_translator is wrong: it matches {DESCRIPTIONS[key]}.", key)


def _check_translator_outputs(case, received: tuple) -> None:
    """The properties of the learner's model, from its outputs on the plan's batch: they name
    a known mistake, and can only cost points."""
    source, _ = translator_batch(4, seed=case.batch_seed)
    if not isinstance(received, tuple) or len(received) != 4:
        raise CheckFailed("the translator's outputs are missing from the data")
    logits, changed, other_source, scores = (np.asarray(r, dtype=np.float64) for r in received)
    shape = (len(source), TARGET_LEN, len(TARGET_VOCAB))
    if logits.shape != shape or changed.shape != shape or other_source.shape != shape:
        raise CheckFailed(f"The model's output should be (B, TARGET_LEN, len(TARGET_VOCAB)) = "
                          f"{shape}. Received: {logits.shape}")
    if not np.all(np.isfinite(logits)):
        raise CheckFailed("The model's output holds NaN or inf.")
    if scores.shape == (len(source), case.num_heads, SOURCE_LEN, TARGET_LEN):
        raise _translator_mistake("swapped_cross_attention")
    if scores.shape != (len(source), case.num_heads, TARGET_LEN, SOURCE_LEN):
        raise CheckFailed(f"The cross-attention weights should be (B, num_heads, TARGET_LEN, "
                          f"SOURCE_LEN). Received: {scores.shape}")
    if np.all(logits >= 0) and np.allclose(logits.sum(-1), 1.0, atol=1e-4):
        raise _translator_mistake("softmax_output")
    if not np.allclose(changed[:, :5], logits[:, :5], atol=KERAS_ATOL):
        raise _translator_mistake("not_causal")
    if np.allclose(changed[:, 5:], logits[:, 5:], atol=KERAS_ATOL):
        raise CheckFailed("The model's output does not depend on its decoder input.")
    if np.allclose(other_source, logits, atol=KERAS_ATOL):
        raise CheckFailed("The model's output does not depend on the source: the decoder block "
                          "must read the encoder's output as its context.")
    pads = np.broadcast_to((source == PAD_ID)[:, None, None, :], scores.shape)
    rows = scores.sum(axis=-1)
    if not np.allclose(rows, 1.0, atol=1e-4):
        raise CheckFailed("Each row of the cross-attention weights should sum to 1.")
    if not np.allclose(scores[pads], 0.0, atol=1e-6):
        raise _translator_mistake("padding_not_masked")


def _translator_weights(record: dict, arrays: dict, slot: Slot, prefix: str) -> list:
    """The arrays ``<slot key>_<prefix><j>`` the probe handed back: the model's weights
    (``w``) or their gradients (``g``), in the order of ``record``'s blocks and groups."""
    blocks, groups = record.get("blocks"), record.get("groups")
    if not isinstance(blocks, dict) or set(blocks) != {"encoder", "decoder"} \
            or not isinstance(groups, list) or len(groups) > 20:
        raise CheckFailed("the weights of the model are missing from the data")
    counts = [blocks[side].get("count") for side in ("encoder", "decoder")] + \
        [group.get("count") if isinstance(group, dict) else None for group in groups]
    if not all(isinstance(n, int) and 0 < n <= 64 for n in counts):
        raise CheckFailed("the weights of the model are missing from the data")
    weights = [array(arrays, f"{slot.key}_{prefix}{j}") for j in range(sum(counts))]
    if not all(np.issubdtype(w.dtype, np.number) for w in weights):
        raise CheckFailed("the weights of the model are not numbers")
    return weights


def _block_twin(settings, weights, config: dict, cross: bool):
    """The NumPy twin of one of the model's blocks, its ``ff_dim`` read from ``W_1``."""
    if not isinstance(settings.get("norm_first"), bool) or \
            not isinstance(settings.get("epsilon"), float):
        raise CheckFailed("the blocks' settings are missing from the data")
    try:
        return numpy_block.TransformerBlockForward(
            weights, config["num_heads"], config["key_dim"], np.shape(weights[-6])[-1],
            cross_attention=cross, norm_first=settings["norm_first"],
            epsilon=settings["epsilon"])
    except (ValueError, IndexError):
        if np.shape(weights[0]) == (np.shape(weights[0])[0], config["num_heads"],
                                    config["num_heads"] * config["key_dim"]):
            raise _translator_mistake("key_dim_not_divided") from None
        raise CheckFailed(
            f"the {'decoder' if cross else 'encoder'} block holds weights of other shapes than "
            f"a block(num_heads={config['num_heads']}, key_dim={config['key_dim']}, ...) of "
            f"lesson 06: make it with the `block` argument as the exercise says.") from None


def translator_twins(case, record: dict, weights: list) -> list[TranslatorForward]:
    """Every model of the lesson's diagram that the weights the learner's model holds can be:
    one, or two when a pre-LN model's two final LayerNorms could each be on either side."""
    config = {"num_heads": case.num_heads, "key_dim": case.d_model // case.num_heads}
    blocks, groups = record["blocks"], record["groups"]
    n_encoder, n_decoder = blocks["encoder"]["count"], blocks["decoder"]["count"]
    encoder = _block_twin(blocks["encoder"], weights[:n_encoder], config, cross=False)
    decoder = _block_twin(blocks["decoder"], weights[n_encoder:n_encoder + n_decoder], config,
                          cross=True)
    rest, norms = weights[n_encoder + n_decoder:], []
    others = []
    for group in groups:
        held, rest = rest[:group["count"]], rest[group["count"]:]
        if group.get("kind") == "LayerNormalization" and len(held) == 2 \
                and isinstance(group.get("epsilon"), float):
            norms.append((*held, group["epsilon"]))
        else:
            others += held
    d, V = case.d_model, len(TARGET_VOCAB)
    roles = {(len(SOURCE_VOCAB), d): "source token", (SOURCE_LEN, d): "source positions",
             (V, d): "target token", (TARGET_LEN, d): "target positions", (d, V): "kernel",
             (V,): "bias"}
    found = {roles.get(tuple(w.shape)): w for w in others}
    if set(found) == set(roles.values()) - {"source positions", "target positions"}:
        raise _translator_mistake("positions_missing")
    if len(others) != len(roles) or set(found) != set(roles.values()) or len(norms) > 2:
        held = ", ".join(str(tuple(w.shape)) for w in others)
        raise CheckFailed(
            f"Besides its two blocks, the model holds weights of the shapes {held}"
            f"{f' and {len(norms)} LayerNormalization(s)' if norms else ''}; the diagram's model "
            f"holds {', '.join(str(s) for s in roles)}: two PositionalEmbeddings (learned "
            "positions) and layers.Dense(len(TARGET_VOCAB)), and nothing else.")
    tables = {"source": (found["source token"], found["source positions"]),
              "target": (found["target token"], found["target positions"])}
    logits = (found["kernel"], found["bias"])
    if len(norms) == 2:  # after the encoder and after the decoder, in one order or the other
        orders = [("encoder", "decoder"), ("decoder", "encoder")]
    elif norms:
        orders = [("encoder",), ("decoder",)]
    else:
        orders = [()]
    return [TranslatorForward(encoder, decoder, tables, logits,
                              dict(zip(order, norms, strict=True)))
            for order in orders]


def _matching_twin(twins, source, decoder_input, received_logits):
    """The twin whose logits equal the learner's model's (the first when none does)."""
    for twin in twins:
        if close(received_logits, twin.forward(source, decoder_input)[0], KERAS_RTOL,
                 KERAS_ATOL):
            return twin
    return twins[0]


def _check_same_model(case, record: dict, data: ProbeData, slot: Slot, received: tuple) -> None:
    """The learner's logits (on the batch, with later decoder inputs changed, with the sources
    of other dates) and cross-attention weights equal the diagram's model on the weights the
    learner's model holds: a model whose blocks do not matter cannot."""
    source, decoder_input = translator_batch(4, seed=case.batch_seed)
    changed = decoder_input.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % len(TARGET_VOCAB)
    twins = translator_twins(case, record, _translator_weights(record, data.arrays, slot, "w"))
    twin = _matching_twin(twins, source, decoder_input, received[0])
    logits, weights = twin.forward(source, decoder_input)
    what = ("the model's logits, against the lesson's diagram computed by the grader on the "
            "weights your model holds")
    compare_hidden(received[0], logits, what=what, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                   misconceptions=variant_logits(twin, source, decoder_input),
                   hint="Follow the diagram: both blocks on the path from the inputs to the "
                        "logits, the encoder's output as the decoder block's context, the masks "
                        "by keyword.")
    compare_hidden(received[1], twin.forward(source, changed)[0], rtol=KERAS_RTOL,
                   atol=KERAS_ATOL, what=f"{what}, other decoder inputs")
    compare_hidden(received[2], twin.forward(np.roll(source, 1, axis=0), decoder_input)[0],
                   rtol=KERAS_RTOL, atol=KERAS_ATOL, what=f"{what}, other sources")
    compare_hidden(received[3], weights, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                   what="the decoder block's cross-attention weights, against the diagram's")


def _check_training_step(case, record: dict, data: ProbeData, slot: Slot,
                         received: tuple) -> None:
    """The logits equal the diagram's model on the weights held; the gradient of the loss that
    the learner's model computes for each weight equals the grader's own (central differences
    along a random direction); and a step of gradient descent along it lowers the loss."""
    source, decoder_input = translator_batch(4, seed=case.batch_seed)
    weights = _translator_weights(record, data.arrays, slot, "w")
    gradients = _translator_weights(record, data.arrays, slot, "g")
    twins = translator_twins(case, record, weights)
    if not isinstance(received, tuple) or len(received) != 1:
        raise CheckFailed("the training step's outputs are missing from the data")
    twin = _matching_twin(twins, source, decoder_input, received[0])
    compare_hidden(received[0], twin.forward(source, decoder_input)[0], rtol=KERAS_RTOL,
                   atol=KERAS_ATOL, what="the model's logits, against the lesson's diagram "
                   "computed by the grader on the weights your model holds",
                   misconceptions=variant_logits(twin, source, decoder_input))

    def loss(arrays):
        return translator_twins(case, record, arrays)[twins.index(twin)].loss(source,
                                                                              decoder_input)

    slopes, directions = directional_derivatives(loss, weights, case.batch_seed)
    wrong = wrong_gradients(gradients, slopes, directions)
    if wrong:
        raise CheckFailed(f"The gradients your model computes for {len(wrong)} of its "
                          f"{len(weights)} weight arrays are not those of its loss (for "
                          "example, none reaches them): is every layer connected to the output, "
                          "with nothing frozen or cut off by stop_gradient?")
    before = loss(weights)
    after = min(loss([w - rate * g for w, g in zip(weights, gradients, strict=True)])
                for rate in (1e-2, 1e-3))
    if not after < before:
        raise CheckFailed("A step of gradient descent does not lower the loss.")


def judge_translator(exercise: str, parts: list[Part], data: ProbeData, credit: PartialCredit,
                     points: float) -> None:
    """Judge lesson 07's model: its outputs' properties name the known mistakes, and the points
    come from the grader's own forward pass (and gradients) of the diagram's model on the
    weights the learner's model holds."""
    for laid_out, part_points in scored_parts(parts, points):
        with judging(credit, part_points, laid_out.part.label):
            case, (slot,) = laid_out.placed[0].case, laid_out.placed[0].slots
            record = data.records[slot.index]
            received = received_result(data, slot, exercise, f"{exercise}(block=..., d_model="
                                       f"{case.d_model}, num_heads={case.num_heads})")
            if case.train:
                _check_training_step(case, record, data, slot, received)
            else:
                _check_translator_outputs(case, received)
                _check_same_model(case, record, data, slot, received)
