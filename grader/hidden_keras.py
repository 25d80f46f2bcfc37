"""Hidden tests of the Keras lessons (04 and 05), with the known wrong variants as live code.

Lesson 04: ``grade_attention_layer(AttentionLayer)`` and ``grade_multi_head_attention(
MultiHeadAttention)`` compare the learner's layer with the answer key (``grader.reference``)
and with ``keras.layers.MultiHeadAttention``, weights copied across in both directions, on
random shapes where every size differs (``Tq ≠ Tk``, ``value_dim ≠ key_dim``); then masks
(proving the mask changes the output), the causal mask, fully masked rows, and serialization
(``get_config``/``from_config`` and a ``.keras`` file). When an output is wrong, the flawed
layers below run on the same inputs with the same weights and the matching one is named.

Lesson 05: ``grade_teacher_forcing``, ``grade_build_translator``, ``grade_greedy_decode`` and
``grade_alignment``, against the answer-key functions of this module.

Every test runs quiet and with TensorFloat-32 off (``course_lib.checks_keras.checking``), at the
tolerance ``rtol=1e-4, atol=1e-5``; each returns the points earned (the cell's partial credit).
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

from course_lib.checks_keras import (
    build_with_spy,
    chain_model,
    check_call_signature,
    check_config_round_trip,
    check_fully_masked_rows,
    check_mask_changes_output,
    check_translator_model,
    check_weight_shapes,
    checking,
    compare_keras,
    layer_inputs,
    learner_weights,
    make_layer,
    run_answer,
    run_layer,
    translator_batch,
    two_sided_mask,
)
from course_lib.dates import START_ID, TARGET_LEN, TARGET_VOCAB
from course_lib.feedback import CheckFailed, PartialCredit, compare, to_numpy
from course_lib.misconceptions import DESCRIPTIONS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_LARGE_NEGATIVE = -1e9


# == lesson 04: the wrong variants, as layers =================================================
def _flawed_mask(attention_mask, use_causal_mask, t_q, t_k, flaw):
    """The boolean mask a flawed layer uses (``None`` for none)."""
    from keras import ops

    mask = None
    if attention_mask is not None and flaw != "mask_ignored":
        mask = ops.cast(attention_mask, "bool")
        if flaw == "mask_inverted":
            mask = ops.logical_not(mask)
    if use_causal_mask and flaw != "causal_ignored":
        causal = ops.cast(ops.tril(ops.ones((1, t_q, t_k), dtype="int32")), "bool")  # (1,Tq,Tk)
        mask = causal if mask is None else ops.logical_and(mask, causal)
    return mask


def _flawed_softmax(scores, mask, flaw):
    """Weights ``(..., Tq, Tk)`` from scores, the way a layer with this flaw computes them."""
    from keras import ops

    axis = -2 if flaw == "softmax_wrong_axis" else -1
    if mask is None:
        return ops.softmax(scores, axis=axis)
    if flaw == "mask_after_softmax":
        return ops.where(mask, ops.softmax(scores, axis=axis), 0.0)
    fill = -np.inf if flaw == "fully_masked_nan" else _LARGE_NEGATIVE
    weights = ops.softmax(ops.where(mask, scores, fill), axis=axis)
    return weights if flaw in ("fully_masked_uniform", "fully_masked_nan") else ops.where(
        mask, weights, 0.0
    )


def _flawed_attention_layer(flaw: str):
    """``grader.reference.AttentionLayer`` with one mistake (same weights, same config)."""
    from keras import ops

    from grader.reference import keras_layers

    class FlawedAttentionLayer(keras_layers.AttentionLayer):
        def call(self, query, value, key=None, attention_mask=None,
                 return_attention_scores=False, use_causal_mask=False):
            key = value if key is None else key
            q = self.query_dense(query)  # (B, Tq, u)
            k = self.key_dense(key)  # (B, Tk, u)
            v = value if flaw == "values_not_projected" else self.value_dense(value)  # (B,Tk,u)
            size = {"no_scaling": 1, "scale_by_input_dim": query.shape[-1]}.get(flaw, self.units)
            scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(size)  # (B, Tq, Tk)
            mask = _flawed_mask(attention_mask, use_causal_mask, q.shape[1], k.shape[1], flaw)
            weights = _flawed_softmax(scores, mask, flaw)  # (B, Tq, Tk)
            context = ops.matmul(weights, v)  # (B, Tq, u)
            output = context if flaw == "no_output_projection" else self.output_dense(context)
            return (output, weights) if return_attention_scores else output

    return FlawedAttentionLayer


def _flawed_multi_head_attention(flaw: str):
    """``grader.reference.MultiHeadAttention`` with one mistake (same weights, same config)."""
    from keras import ops

    from grader.reference import keras_layers

    class FlawedMultiHeadAttention(keras_layers.MultiHeadAttention):
        def _heads(self, x, kernel, bias):
            """``(B, T, d)`` → ``(B, H, T, head_dim)``."""
            projected = self._project(x, kernel, bias)  # (B, T, H, h)
            if flaw != "heads_not_split":
                return ops.transpose(projected, (0, 2, 1, 3))  # (B, H, T, h)
            batch, length, heads, size = projected.shape
            flat = ops.reshape(projected, (batch, length, heads * size))  # (B, T, H·h)
            return ops.reshape(flat, (batch, heads, length, size))  # positions and heads mixed

        def call(self, query, value, key=None, attention_mask=None,
                 return_attention_scores=False, use_causal_mask=False):
            key = value if key is None else key
            q = self._heads(query, self.query_kernel, self.query_bias)  # (B, H, Tq, dk)
            k = self._heads(key, self.key_kernel, self.key_bias)  # (B, H, Tk, dk)
            if flaw == "values_not_projected":
                v = ops.repeat(ops.expand_dims(value, 1), self.num_heads, axis=1)  # (B,H,Tk,dv)
            else:
                v = self._heads(value, self.value_kernel, self.value_bias)  # (B, H, Tk, dv)
            size = {"no_scaling": 1, "scale_by_model_dim": self.num_heads * self.key_dim}.get(
                flaw, self.key_dim
            )
            scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(size)  # (B, H, Tq, Tk)
            mask = _flawed_mask(attention_mask, use_causal_mask, q.shape[2], k.shape[2], flaw)
            if mask is not None:
                mask = ops.expand_dims(mask, 1)  # (B, 1, Tq, Tk)
            weights = _flawed_softmax(scores, mask, flaw)  # (B, H, Tq, Tk)
            heads = ops.matmul(weights, v)  # (B, H, Tq, dv)
            output = ops.einsum("bnth,nhd->btd", heads, self.output_kernel)  # (B, Tq, d_q)
            if self.output_bias is not None:
                output = output + self.output_bias
            return (output, weights) if return_attention_scores else output

    return FlawedMultiHeadAttention


ATTENTION_LAYER_FLAWS = (
    "values_not_projected", "no_scaling", "scale_by_input_dim", "softmax_wrong_axis",
    "mask_ignored", "mask_inverted", "mask_after_softmax", "causal_ignored",
    "no_output_projection", "fully_masked_uniform", "fully_masked_nan",
)
MULTI_HEAD_FLAWS = (
    "values_not_projected", "no_scaling", "scale_by_model_dim", "softmax_wrong_axis",
    "mask_ignored", "mask_inverted", "mask_after_softmax", "causal_ignored", "heads_not_split",
    "fully_masked_uniform", "fully_masked_nan",
)
WRONG_LAYERS = {
    "AttentionLayer": {flaw: _flawed_attention_layer for flaw in ATTENTION_LAYER_FLAWS},
    "MultiHeadAttention": {flaw: _flawed_multi_head_attention for flaw in MULTI_HEAD_FLAWS},
}


def wrong_layer(layer_name: str, flaw: str):
    """The live wrong variant ``flaw`` of ``"AttentionLayer"`` or ``"MultiHeadAttention"``."""
    return WRONG_LAYERS[layer_name][flaw](flaw)


def _reference(layer_name: str):
    from grader import reference as ref

    return getattr(ref, layer_name)


def wrong_layer_outputs(layer_name, config, weights, query, value, key=None, scores=False,
                        **options) -> dict[str, np.ndarray]:
    """``{description: output}`` of every wrong variant that runs on these inputs, each holding
    ``weights``. With ``scores``, the outputs are the weights instead."""
    outputs = {}
    for flaw in WRONG_LAYERS[layer_name]:
        try:
            layer = wrong_layer(layer_name, flaw)(**config)
            layer(query, value, key=key)
            layer.set_weights(weights)
            out = layer(query, value, key=key, return_attention_scores=True, **options)
        except Exception:  # a variant that cannot run on these shapes
            continue
        outputs[DESCRIPTIONS["layer_" + flaw]] = np.asarray(out[1] if scores else out[0])
    return outputs


# == lesson 04: the hidden tests ===============================================================
class _LayerGrader:
    """Compares one learner's layer class with the answer key, naming wrong variants."""

    def __init__(self, cls, layer_name: str, seed=None):
        self.cls, self.name = cls, layer_name
        self.rng = np.random.default_rng(seed)
        self.credit = PartialCredit(layer_name)
        self._pairs = {}

    def pair(self, config, query, value, key=None):
        """The learner's layer and the answer key's, built on these inputs, same weights (made
        once per inputs, so that every part can ask for them and fail on its own)."""
        cache_key = (tuple(config.items()), id(query))
        if cache_key not in self._pairs:  # the query is kept too, so that its id stays unique
            self._pairs[cache_key] = (query, self._new_pair(config, query, value, key))
        return self._pairs[cache_key][1]

    def _new_pair(self, config, query, value, key):
        reference = _reference(self.name)(**config)
        reference(query, value, key=key)
        layer = make_layer(self.cls, self.name, **config)
        run_layer(layer, self.name, query, value, key)
        check_weight_shapes(learner_weights(layer, self.name), reference.get_weights(), self.name)
        layer.set_weights(reference.get_weights())
        return layer, reference

    def compare(self, layer, reference, config, query, value, key=None, what="", **options):
        """The learner's output and weights equal the answer key's (wrong variants named)."""
        out, weights = run_layer(layer, self.name, query, value, key, scores=True, **options)
        expected_out, expected_weights = (
            np.asarray(x) for x in reference(query, value, key=key, return_attention_scores=True,
                                              **options)
        )
        params = reference.get_weights()
        for received, expected, scores in ((out, expected_out, False),
                                           (weights, expected_weights, True)):
            compare_keras(
                received, expected,
                what=f"the {'weight matrix' if scores else 'output'} of {self.name} {what}".strip(),
                misconceptions=lambda scores=scores: wrong_layer_outputs(
                    self.name, config, params, query, value, key, scores=scores, **options
                ),
            )
        return out

    def masks(self, config, points: float, sizes):
        """attention_mask by keyword (and proof it acts), use_causal_mask, both together."""
        query, value, key = layer_inputs(self.rng, *sizes)
        batch, t_q, t_k = query.shape[0], query.shape[1], value.shape[1]
        mask = two_sided_mask(self.rng, batch, t_q, t_k)  # (B, Tq, Tk)
        lengths = self.rng.integers(2, t_k + 1, size=batch)
        padding = (np.arange(t_k) < lengths[:, None])[:, None, :]  # (B, 1, Tk)
        cases = (
            (points / 2, f"attention_mask= (B={batch}, Tq={t_q}, Tk={t_k})", "with attention_mask=",
             {"attention_mask": mask}),
            (points / 4, "use_causal_mask=True, Tq ≠ Tk", "with use_causal_mask=True",
             {"use_causal_mask": True}),
            (points / 4, "a padding mask and the causal mask together", "with both masks",
             {"attention_mask": padding, "use_causal_mask": True}),
        )
        for part_points, label, what, options in cases:
            with self.credit.part(part_points, label):
                layer, reference = self.pair(config, query, value, key)
                masked = self.compare(layer, reference, config, query, value, key, what, **options)
                check_mask_changes_output(masked, run_layer(layer, self.name, query, value, key),
                                          f"{self.name} {what}")

    def fully_masked(self, config, points: float, sizes):
        """A row with no allowed key: zero weights, no NaN, the answer key's output."""
        with self.credit.part(points, "a fully masked row: zero weights, never NaN"):
            query, value, key = layer_inputs(self.rng, *sizes)
            layer, reference = self.pair(config, query, value, key)
            mask = two_sided_mask(self.rng, query.shape[0], query.shape[1], value.shape[1])
            mask[0, -1, :] = False
            out, weights = run_layer(layer, self.name, query, value, key, scores=True,
                                     attention_mask=mask)
            rows = (0, -1) if weights.ndim == 3 else (0, slice(None), -1)
            check_fully_masked_rows(weights, out, rows, f"{self.name} on a fully masked row")
            self.compare(layer, reference, config, query, value, key, "with a fully masked row",
                         attention_mask=mask)

    def serialization(self, config, points: float, sizes):
        """get_config/from_config, then a model holding the layer through a ``.keras`` file."""
        query, value, key = layer_inputs(self.rng, *sizes)
        with self.credit.part(points / 2, "get_config() and from_config()"):
            layer, _ = self.pair(config, query, value, key)
            check_config_round_trip(layer, self.cls, self.name, config)
        with self.credit.part(points / 2, "saved to a .keras file and loaded back"):
            layer, _ = self.pair(config, query, value, key)
            check_keras_file(layer, self.cls, self.name, query, value, key)


def check_keras_file(layer, cls, name, query, value, key):
    """A functional model around ``layer`` survives ``model.save`` / ``keras.saving.load_model``
    with the same outputs."""
    import keras

    inputs = [keras.Input(batch_shape=x.shape) for x in (query, value, key)]
    try:
        model = keras.Model(inputs, layer(inputs[0], inputs[1], key=inputs[2]))
    except Exception as error:
        raise CheckFailed(f"{name} cannot be used in a functional keras.Model: "
                          f"{type(error).__name__}: {error}") from None
    expected = np.asarray(model([query, value, key]))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "attention.keras")
        run_answer(model.save, path, name=f"saving a model holding {name}")
        loaded = run_answer(keras.saving.load_model, path, custom_objects={name: cls},
                             name=f"loading a model holding {name}")
    compare_keras(np.asarray(loaded([query, value, key])), expected,
                  what=f"the output of a model holding {name} after saving and loading")


def grade_attention_layer(AttentionLayer, points: float = 4, seed=None) -> float:  # noqa: N803
    """Hidden test for lesson 04's ``AttentionLayer(units)``."""
    grader = _LayerGrader(AttentionLayer, "AttentionLayer", seed)
    with checking():
        with grader.credit.part(points * 0.15, "value features = units (B=3, Tq=4, Tk=6)"):
            config = {"units": 5}
            check_call_signature(AttentionLayer, grader.name)
            query, value, key = layer_inputs(grader.rng, 3, 4, 6, 7, 5, 9)
            layer, reference = grader.pair(config, query, value, key)
            grader.compare(layer, reference, config, query, value, key)
        with grader.credit.part(points * 0.15, "every size different, key omitted (= value)"):
            config = {"units": 6}
            query, value, _ = layer_inputs(grader.rng, 2, 5, 3, 4, 7)
            layer, reference = grader.pair(config, query, value)
            grader.compare(layer, reference, config, query, value)
        grader.masks({"units": 4}, points * 0.35, (2, 5, 7, 3, 6, 8))
        grader.fully_masked({"units": 4}, points * 0.15, (2, 3, 4, 5, 6, 7))
        grader.serialization({"units": 3}, points * 0.2, (2, 3, 4, 5, 6, 7))
    return grader.credit.points


def grade_multi_head_attention(MultiHeadAttention, points: float = 6, seed=None) -> float:  # noqa: N803
    """Hidden test for lesson 04's ``MultiHeadAttention(num_heads, key_dim, value_dim=None,
    use_bias=True)``: the answer key, then ``keras.layers.MultiHeadAttention`` in both
    directions."""
    import keras

    grader = _LayerGrader(MultiHeadAttention, "MultiHeadAttention", seed)
    with checking():
        config = {"num_heads": 3, "key_dim": 4, "value_dim": 5}
        with grader.credit.part(points * 0.15, "3 heads, key_dim 4 ≠ value_dim 5, Tq 5 ≠ Tk 7"):
            # value features = value_dim, so that the unprojected-values variant runs too
            query, value, key = layer_inputs(grader.rng, 2, 5, 7, 6, 5, 8)
            layer, reference = grader.pair(config, query, value, key)
            grader.compare(layer, reference, config, query, value, key)
        with grader.credit.part(points * 0.1, "key given by position, as layer(q, v, k)"):
            check_call_signature(MultiHeadAttention, grader.name)
            out = run_answer(layer, query, value, key, name="MultiHeadAttention.call")
            compare_keras(to_numpy(out, "the output"), np.asarray(reference(query, value, key)),
                          what="MultiHeadAttention(q, v, k) with the key third")
        with grader.credit.part(points * 0.1, "weights from keras.layers.MultiHeadAttention"):
            keras_layer = keras.layers.MultiHeadAttention(**config)
            keras_layer(query, value, key=key)
            keras_layer.set_weights([w * 1.5 for w in keras_layer.get_weights()])
            layer.set_weights(keras_layer.get_weights())
            compare_keras(run_layer(layer, grader.name, query, value, key),
                          np.asarray(keras_layer(query, value, key=key)),
                          what="the output with keras.layers.MultiHeadAttention's weights")
        with grader.credit.part(points * 0.1, "use_bias=False, weights into Keras's layer"):
            config_nb = {"num_heads": 2, "key_dim": 6, "value_dim": 3, "use_bias": False}
            query, value, _ = layer_inputs(grader.rng, 3, 4, 2, 5, 7)
            layer = make_layer(MultiHeadAttention, grader.name, **config_nb)
            out = run_layer(layer, grader.name, query, value)
            keras_layer = keras.layers.MultiHeadAttention(**config_nb)
            keras_layer(query, value)
            check_weight_shapes(learner_weights(layer, grader.name), keras_layer.get_weights(),
                                grader.name)
            keras_layer.set_weights(learner_weights(layer, grader.name))
            compare_keras(out, np.asarray(keras_layer(query, value)),
                          what="keras.layers.MultiHeadAttention holding your layer's weights")
        grader.masks({"num_heads": 2, "key_dim": 3, "value_dim": 4}, points * 0.25,
                     (2, 5, 6, 4, 7, 5))
        grader.fully_masked({"num_heads": 2, "key_dim": 3}, points * 0.1, (2, 3, 4, 5, 6, 7))
        grader.serialization({"num_heads": 2, "key_dim": 3, "value_dim": 4, "use_bias": True},
                             points * 0.2, (2, 3, 4, 5, 6, 7))
    return grader.credit.points


# == lesson 05: the answer key ================================================================
def teacher_forcing(targets):
    """``(decoder_inputs, decoder_targets)``: START then the targets shifted right by one, and
    the targets themselves."""
    targets = np.asarray(targets)
    start = np.full((len(targets), 1), START_ID, dtype=targets.dtype)  # (n, 1)
    return np.concatenate([start, targets[:, :-1]], axis=1), targets  # (n, Tt), (n, Tt)


def greedy_decode(model, source):
    """The most likely character at each step, fed back as the next decoder input."""
    source = np.asarray(source)
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")  # (n, Tt)
    predicted = np.zeros((len(source), TARGET_LEN), dtype="int32")  # (n, Tt)
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input]))  # (n, Tt, V)
        predicted[:, step] = logits[:, step].argmax(axis=-1)
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def alignment(scores):
    """The source position each output position attends to most, heads averaged."""
    return np.asarray(scores).mean(axis=1).argmax(axis=-1)  # (B, Tt)


def _start_column(n, dtype):
    return np.full((n, 1), START_ID, dtype=dtype)


# Wrong variants of lesson 05's functions, keyed like KERAS_DESCRIPTIONS.
def _decode_without_feedback(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    return np.asarray(model([source, decoder_input])).argmax(axis=-1)


def _decode_last_position(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN):
        predicted[:, step] = np.asarray(model([source, decoder_input]))[:, -1].argmax(axis=-1)
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def _decode_fed_back_in_place(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN):
        predicted[:, step] = np.asarray(model([source, decoder_input]))[:, step].argmax(axis=-1)
        decoder_input[:, step] = predicted[:, step]
    return predicted


def _decode_keeping_start(model, source):
    predicted = greedy_decode(model, source)
    return np.concatenate([_start_column(len(predicted), predicted.dtype), predicted[:, :-1]], 1)


WRONG_FUNCTIONS = {
    "teacher_forcing": {
        "no_shift": lambda t: (np.asarray(t), np.asarray(t)),
        "shift_left": lambda t: (
            np.concatenate([np.asarray(t)[:, 1:], _start_column(len(t), np.asarray(t).dtype)], 1),
            np.asarray(t),
        ),
        "start_at_end": lambda t: (
            np.concatenate([np.asarray(t)[:, :-1], _start_column(len(t), np.asarray(t).dtype)], 1),
            np.asarray(t),
        ),
        "targets_shifted": lambda t: (teacher_forcing(t)[0], np.asarray(t)[:, 1:]),
    },
    "greedy_decode": {
        "no_feedback": _decode_without_feedback,
        "last_position": _decode_last_position,
        "start_kept": _decode_keeping_start,
        "fed_back_in_place": _decode_fed_back_in_place,
    },
    "alignment": {
        "head_zero_only": lambda s: np.asarray(s)[:, 0].argmax(axis=-1),
        "argmax_over_outputs": lambda s: np.asarray(s).mean(axis=1).argmax(axis=-2),
        "max_not_argmax": lambda s: np.asarray(s).mean(axis=1).max(axis=-1),
        "per_head_argmax": lambda s: np.asarray(s).argmax(axis=-1),
    },
}


def wrong_function_outputs(exercise: str, *args, part=None) -> dict[str, np.ndarray]:
    """``{description: output}`` of lesson 05's wrong variants (``part`` picks one result)."""
    outputs = {}
    for key, variant in WRONG_FUNCTIONS[exercise].items():
        try:
            result = variant(*args)
        except Exception:
            continue
        outputs[DESCRIPTIONS[key]] = np.asarray(result if part is None else result[part])
    return outputs


# == lesson 05: the hidden tests ===============================================================
def grade_teacher_forcing(teacher_forcing_fn, points: float = 1, seed=None) -> float:
    """Hidden test for ``teacher_forcing(targets)`` on random target ids."""
    rng = np.random.default_rng(seed)
    credit = PartialCredit("teacher_forcing")
    for label, n in (("a batch of 7 dates", 7), ("a single date", 1)):
        with credit.part(points / 2, label):
            targets = rng.integers(1, len(TARGET_VOCAB), size=(n, TARGET_LEN)).astype("int32")
            result = run_answer(teacher_forcing_fn, targets, name="teacher_forcing")
            if not isinstance(result, tuple | list) or len(result) != 2:
                raise CheckFailed("teacher_forcing should return (decoder_inputs, decoder_targets)")
            expected = teacher_forcing(targets)
            for index, what in enumerate(("decoder_inputs", "decoder_targets")):
                compare(to_numpy(result[index], what), expected[index], what=f"{what} ({label})",
                        misconceptions=wrong_function_outputs("teacher_forcing", targets,
                                                              part=index))
    return credit.points


def check_training_step(build_translator, seed=None) -> None:
    """Every weight of the model gets a gradient, and a gradient-descent step on a batch lowers
    the loss on that batch (eager: no compilation, so it takes about a second)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0 if seed is None else seed)
    model, _ = build_with_spy(build_translator, d_model=32, num_heads=2)
    source, decoder_input = translator_batch(16, seed=1)
    targets = np.roll(decoder_input, -1, axis=1)  # (B, Tt): any fixed targets will do
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        before = loss_fn(targets, model([source, decoder_input], training=True))
    gradients = tape.gradient(before, model.trainable_variables)
    unused = [v.path for v, g in zip(model.trainable_variables, gradients, strict=True)
              if g is None]
    if unused:
        raise CheckFailed(f"These weights get no gradient, so they never learn: "
                          f"{', '.join(unused[:4])}. Is every layer connected to the output?")
    start = [np.asarray(v) for v in model.trainable_variables]
    losses = []
    for rate in (1e-2, 1e-3):  # a gradient-descent step, small enough not to overshoot
        for variable, value, gradient in zip(model.trainable_variables, start, gradients,
                                             strict=True):
            variable.assign(value - rate * np.asarray(tf.convert_to_tensor(gradient)))
        losses.append(float(loss_fn(targets, model([source, decoder_input], training=True))))
        if losses[-1] < float(before) - 1e-3:
            return
    raise CheckFailed(f"A gradient-descent step moved the loss from {float(before):.3f} to "
                      f"{min(losses):.3f}; it should fall.")


def grade_build_translator(build_translator, points: float = 3, seed=None) -> float:
    """Hidden test for ``build_translator``: the model's properties at other sizes, and a
    training step that lowers the loss (gradients reach every weight)."""
    credit = PartialCredit("build_translator")
    with checking():
        with credit.part(points / 2, "d_model=32, num_heads=2: shapes, causality, masks"):
            check_translator_model(build_translator, d_model=32, num_heads=2)
        with credit.part(points / 2, "one training step lowers the loss"):
            check_training_step(build_translator, seed)
    return credit.points


def grade_greedy_decode(greedy_decode_fn, points: float = 2, seed=None) -> float:
    """Hidden test for ``greedy_decode`` on stand-in models whose every step depends on the one
    before."""
    rng = np.random.default_rng(seed)
    credit = PartialCredit("greedy_decode")
    with checking():
        for multiplier, n in ((5, 6), (7, 1)):
            with credit.part(points / 2, f"a stand-in model (multiplier {multiplier}), {n} "
                                         "source(s)"):
                model = chain_model(multiplier)
                source = rng.integers(1, 40, size=(n, 32)).astype("int32")
                received = run_answer(greedy_decode_fn, model, source, name="greedy_decode")
                compare(to_numpy(received, "the result of greedy_decode"),
                        greedy_decode(model, source), what="greedy_decode",
                        misconceptions=wrong_function_outputs("greedy_decode", model, source))
    return credit.points


def grade_alignment(alignment_fn, points: float = 1, seed=None) -> float:
    """Hidden test for ``alignment`` on random weights where the heads disagree."""
    rng = np.random.default_rng(seed)
    credit = PartialCredit("alignment")
    for batch, heads in ((3, 4), (1, 1)):
        with credit.part(points / 2, f"B={batch}, H={heads}, Tt=10, Ts=32"):
            logits = rng.standard_normal((batch, heads, TARGET_LEN, 32)) * 3
            scores = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
            received = to_numpy(run_answer(alignment_fn, scores, name="alignment"), "alignment")
            compare(received, alignment(scores), what=f"alignment (B={batch}, H={heads})",
                    misconceptions=wrong_function_outputs("alignment", scores))
    return credit.points
