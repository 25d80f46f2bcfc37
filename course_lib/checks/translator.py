"""Public checks of lesson 07's date translator: teacher forcing, the model
``build_translator`` returns, greedy decoding and the alignment read from its weights."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import passed
from course_lib.dates import PAD_ID, SOURCE_LEN, START_ID, TARGET_LEN, TARGET_VOCAB, encode_targets
from course_lib.feedback import CheckFailed, compare, to_numpy
from course_lib.keras_harness import (
    KERAS_ATOL,
    build_with_spy,
    chain_model,
    checking,
    cross_attention_scores,
    mistake,
    predict,
    run_answer,
    translator_batch,
)
from course_lib.misconceptions import DESCRIPTIONS


def check_teacher_forcing(teacher_forcing) -> None:
    """Public check of lesson 07's ``teacher_forcing(targets)``."""
    targets = encode_targets(["1979-05-03", "2001-12-31"])  # (2, 10)
    result = run_answer(teacher_forcing, targets, name="teacher_forcing")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise CheckFailed("teacher_forcing should return a pair (decoder_inputs, decoder_targets).")
    decoder_inputs, decoder_targets = (to_numpy(r, f"teacher_forcing's {what}")
                                       for r, what in zip(result, ("decoder_inputs", "targets"),
                                                          strict=True))
    expected = np.array([[0, 2, 10, 8, 10, 11, 1, 6, 11, 1],
                         [0, 3, 1, 1, 2, 11, 2, 3, 11, 4]])
    start = np.full((2, 1), START_ID)
    compare(decoder_inputs, expected, what="decoder_inputs for '1979-05-03' and '2001-12-31'",
            misconceptions={
                DESCRIPTIONS["start_missing"]: targets[:, :-1],
                DESCRIPTIONS["shift_wrong_axis"]: np.concatenate(
                    [start, np.roll(targets, 1, axis=0)[:, 1:]], axis=1),
                DESCRIPTIONS["last_not_dropped"]: np.concatenate([start, targets], axis=1),
                DESCRIPTIONS["no_shift"]: targets,
                DESCRIPTIONS["shift_left"]: np.concatenate([targets[:, 1:], start], axis=1),
                DESCRIPTIONS["start_at_end"]: np.concatenate([targets[:, :-1], start], 1),
            }, hint="Put START_ID in front and drop the last character: the decoder reads "
                    "START, t₀, …, t₈ and predicts t₀, …, t₉.")
    compare(decoder_targets, targets, what="decoder_targets", misconceptions={
        DESCRIPTIONS["targets_shifted"]: targets[:, 1:],
    })
    for returned, what in ((decoder_inputs, "decoder_inputs"), (decoder_targets, "targets")):
        if returned.dtype != targets.dtype:
            raise mistake(f"teacher_forcing's {what} ({returned.dtype} for {targets.dtype} "
                          "targets)", "dtype_changed")
    passed("teacher_forcing", 3)


def check_greedy_decode(greedy_decode) -> None:
    """Public check of lesson 07's ``greedy_decode(model, source)`` on a :func:`chain_model`."""
    source = np.array([[8, 10, 35, 23, 1, 30, 21, 1, 51, 16, 29, 36],
                       [16, 13, 4, 17, 16, 4, 8, 10, 0, 0, 0, 0]], dtype="int32")
    source = np.pad(source, ((0, 0), (0, 20)))  # (2, SOURCE_LEN)
    with checking():
        result = to_numpy(run_answer(greedy_decode, chain_model(), source, name="greedy_decode"),
                          "the result of greedy_decode")
    expected = np.array([[8, 11, 2, 6, 3, 8, 9, 3, 2, 1],
                         [4, 2, 8, 0, 0, 9, 5, 2, 0, 1]])
    compare(result, expected, what="greedy_decode on a stand-in model", misconceptions={
        DESCRIPTIONS["start_kept"]: np.concatenate([np.zeros((2, 1), int), expected[:, :-1]],
                                                         axis=1),
    }, hint="Start from START_ID; at step i read the logits at position i, take the argmax, and "
            "write it into the decoder input at position i + 1.")
    if not np.issubdtype(result.dtype, np.integer):
        raise mistake(f"greedy_decode (a {result.dtype} result)", "ids_not_integers")
    passed("greedy_decode", 2)


#: What each known mistake of ``alignment`` returns on the weights of :func:`check_alignment`.
ALIGNMENT_MISTAKES = {
    "head_zero_only": np.array([[0, 1, 3]]),
    "max_not_argmax": np.array([[0.4, 0.55, 0.5]]),
    "argmax_over_outputs": np.array([[0, 1, 0, 2]]),
    "per_head_argmax": np.array([[[0, 1, 3], [2, 1, 2]]]),
    "mean_over_batch": np.array([[0, 1, 3], [2, 1, 2]]),
    "argmax_then_mean": np.array([[1.0, 1.0, 2.5]]),
}


def check_alignment(alignment) -> None:
    """Public check of lesson 07's ``alignment(weights)``."""
    weights = np.array([[[[0.6, 0.2, 0.1, 0.1], [0.1, 0.5, 0.2, 0.2], [0.1, 0.1, 0.1, 0.7]],
                         [[0.1, 0.1, 0.7, 0.1], [0.1, 0.6, 0.2, 0.1], [0.1, 0.1, 0.5, 0.3]]]])
    # (B=1, H=2, Tt=3, Ts=4); averaged over the heads, the rows peak at sources 2, 1, 3
    result = to_numpy(run_answer(alignment, weights, name="alignment"), "the result of alignment")
    compare(result, np.array([[2, 1, 3]]), what="alignment of weights (1, 2, 3, 4)",
            misconceptions=ALIGNMENT_MISTAKES,
            hint="Average the weights over the heads (axis 1), then take the argmax over the "
                 "source positions (the last axis).")
    if not np.issubdtype(result.dtype, np.integer):
        raise mistake(f"alignment (a {result.dtype} result)", "ids_not_integers")
    passed("alignment", 2)


def check_translator_model(build_translator, d_model: int = 64, num_heads: int = 4) -> int:
    """Properties of the model ``build_translator`` returns; the number of checks passed."""
    model, spy = build_with_spy(build_translator, d_model=d_model, num_heads=num_heads)
    _check_blocks(model, spy, d_model // num_heads)
    source, decoder_input = translator_batch()
    logits = predict(model, source, decoder_input)
    expected_shape = (len(source), TARGET_LEN, len(TARGET_VOCAB))
    if logits.shape != expected_shape:
        raise CheckFailed(f"The model's output should be (B, TARGET_LEN, len(TARGET_VOCAB)) = "
                          f"{expected_shape}. Received: {logits.shape}")
    scores = cross_attention_scores(model, source, decoder_input)
    if scores.shape == (len(source), num_heads, SOURCE_LEN, TARGET_LEN):
        raise mistake("build_translator", "swapped_cross_attention")
    if scores.shape != (len(source), num_heads, TARGET_LEN, SOURCE_LEN):
        raise CheckFailed(f"The cross-attention weights should be (B, num_heads, TARGET_LEN, "
                          f"SOURCE_LEN). Received: {scores.shape}")
    if np.all(logits >= 0) and np.allclose(logits.sum(-1), 1.0, atol=1e-4):
        raise mistake("build_translator", "softmax_output")

    changed = decoder_input.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % len(TARGET_VOCAB)  # change the characters from 5 on
    if not np.allclose(predict(model, source, changed)[:, :5], logits[:, :5], atol=KERAS_ATOL):
        raise mistake("build_translator", "not_causal")
    reversed_source = source[:, ::-1]  # every character elsewhere, the pads too
    if np.allclose(predict(model, reversed_source, decoder_input), logits, atol=KERAS_ATOL):
        raise mistake("build_translator", "positions_missing")
    other_source = np.roll(source, 1, axis=0)
    if np.allclose(predict(model, other_source, decoder_input), logits, atol=KERAS_ATOL):
        raise CheckFailed("The model's output does not depend on the source: the decoder block "
                          "must read the encoder's output as its context.")
    pads = np.broadcast_to((source == PAD_ID)[:, None, None, :], scores.shape)
    if not np.allclose(scores[pads], 0.0, atol=1e-6):
        raise mistake("build_translator", "padding_not_masked")
    return 6


def _check_blocks(model, spy, key_dim: int) -> None:
    """Each block's heads are ``d_model // num_heads`` wide; the encoder's block is on the
    model's path and was called with the padding mask and without the causal mask."""
    if any(block.key_dim != key_dim for block in spy.instances):
        raise mistake("build_translator", "key_dim_not_divided")
    held = {id(layer) for layer in model._flatten_layers(include_self=False)}
    encoders = [block for block in spy.instances if not block.cross_attention]
    if encoders and not any(id(block) in held for block in encoders):
        raise mistake("build_translator", "encoder_output_not_used")
    names = {block.name for block in encoders}
    for name, _, given in spy.calls:
        if name in names and "use_causal_mask" in given:
            raise mistake("build_translator", "encoder_causal")
        if name in names and "attention_mask" not in given:
            raise mistake("build_translator", "encoder_padding_not_masked")


def check_build_translator(build_translator) -> None:
    """Public check of lesson 07's ``build_translator(block, positions, d_model, num_heads)``."""
    with checking():
        n_checks = check_translator_model(build_translator)
    passed("build_translator", n_checks)
