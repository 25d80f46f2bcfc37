"""Known wrong variants of decoding, as live code (as ``grader.judging.wrong_variants``, which
holds the other function exercises'): lesson 07's teacher forcing, greedy decoding and
alignment, and lesson 11's one step of attention over a cache.
"""

from __future__ import annotations

import numpy as np

from course_lib.dates import START_ID, TARGET_LEN
from grader import reference as ref
from grader.judging.wrong_variants import ATTENTION_SCORES, SOFTMAX


# 07 the translator's data and decoding --------------------------------------------------------
def _start_column(n, dtype):
    return np.full((n, 1), START_ID, dtype=dtype)


def _decoder_start(source):
    return np.full((len(source), TARGET_LEN), START_ID, dtype="int32")


def _decode_without_feedback(model, source):
    return np.asarray(model([source, _decoder_start(source)])).argmax(axis=-1)


def _decode_feeding_back(model, source, *, read_last=False, in_place=False):
    decoder_input = _decoder_start(source)
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input]))
        predicted[:, step] = logits[:, -1 if read_last else step].argmax(axis=-1)
        if in_place:
            decoder_input[:, step] = predicted[:, step]
        elif step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def _decode_keeping_start(model, source):
    predicted = ref.greedy_decode(model, source)
    return np.concatenate([_start_column(len(predicted), predicted.dtype), predicted[:, :-1]], 1)


def _shifted(targets, keep, start_first):
    targets = np.asarray(targets)
    start = _start_column(len(targets), targets.dtype)
    kept = targets[:, keep]
    return (np.concatenate([start, kept] if start_first else [kept, start], axis=1), targets)


TEACHER_FORCING = {
    "no_shift": lambda targets: (np.asarray(targets), np.asarray(targets)),
    "shift_left": lambda targets: _shifted(targets, slice(1, None), start_first=False),
    "start_at_end": lambda targets: _shifted(targets, slice(None, -1), start_first=False),
    "targets_shifted": lambda targets: (ref.teacher_forcing(targets)[0],
                                        np.asarray(targets)[:, 1:]),
}

GREEDY_DECODE = {
    "no_feedback": _decode_without_feedback,
    "last_position": lambda model, source: _decode_feeding_back(model, source, read_last=True),
    "start_kept": _decode_keeping_start,
    "fed_back_in_place": lambda model, source: _decode_feeding_back(model, source,
                                                                    in_place=True),
}

ALIGNMENT = {
    "head_zero_only": lambda weights: np.asarray(weights)[:, 0].argmax(axis=-1),
    "argmax_over_outputs": lambda weights: np.asarray(weights).mean(axis=1).argmax(axis=-2),
    "max_not_argmax": lambda weights: np.asarray(weights).mean(axis=1).max(axis=-1),
    "per_head_argmax": lambda weights: np.asarray(weights).argmax(axis=-1),
}


# 11 attend_step ------------------------------------------------------------------------------


def _attend_step(q_t, k_cache, v_cache, *, scores=ref.attention_scores, weights=ref.softmax):
    """The newest query's attention over its cache, from (possibly wrong) parts: ``scores`` of
    lesson 01 (on the query as a row) and ``weights`` of lesson 02, one of them wrong."""
    step_scores = scores(q_t[..., None, :], k_cache)[..., 0, :]  # (..., t+1)
    return np.einsum("...t,...tv->...v", weights(step_scores), v_cache)  # (..., d_v)


def _attend_step_with(**parts):
    return lambda q_t, k_cache, v_cache: _attend_step(q_t, k_cache, v_cache, **parts)


def _without_newest(scores):
    """Weights over positions ``0 … t-1`` only: all zero when the cache holds the newest alone."""
    length = scores.shape[-1]
    return ref.masked_softmax(scores, np.arange(length) < length - 1)  # (..., t+1)


ATTEND_STEP = {
    "step_no_scaling": _attend_step_with(scores=ATTENTION_SCORES["no_scaling"]),
    "step_scale_by_length": _attend_step_with(scores=ATTENTION_SCORES["scale_by_tk"]),
    "step_softmax_wrong_axis": _attend_step_with(weights=SOFTMAX["softmax_wrong_axis"]),
    "step_newest_missing": _attend_step_with(weights=_without_newest),
    "step_cache_ignored": lambda q_t, k_cache, v_cache: v_cache[..., -1, :],
    "step_unnormalised": _attend_step_with(weights=SOFTMAX["softmax_no_normalise"]),
    "step_unstable_softmax": _attend_step_with(weights=SOFTMAX["softmax_unstable"]),
    "step_query_axis_kept": lambda q_t, k_cache, v_cache: ref.attend_step(
        q_t, k_cache, v_cache)[..., None, :],
}
