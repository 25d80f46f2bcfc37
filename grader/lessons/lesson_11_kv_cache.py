"""Lesson 11 (``11_kv_cache``): its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_11_kv_cache``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.lessons.lesson_01_scores import ATTENTION_SCORES
from grader.lessons.lesson_02_softmax import SOFTMAX
from grader.reference import decoding


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


def _global_max_softmax(scores):
    """A softmax that subtracts one max for the whole batch: rows far below it underflow."""
    e = np.exp(scores - np.max(scores))  # (..., t+1)
    return e / e.sum(axis=-1, keepdims=True)


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
    "step_scale_by_value_width": lambda q_t, k_cache, v_cache: ref.attend_step(
        q_t * np.sqrt(q_t.shape[-1] / v_cache.shape[-1]), k_cache, v_cache),
    "step_divide_by_dk": _attend_step_with(scores=ATTENTION_SCORES["divide_by_dk"]),
    "step_multiply_by_sqrt_dk": _attend_step_with(scores=ATTENTION_SCORES["multiply_by_sqrt_dk"]),
    "step_global_max": _attend_step_with(weights=_global_max_softmax),
    "step_softmax_no_keepdims": _attend_step_with(weights=SOFTMAX["softmax_no_keepdims"]),
    "step_weights_not_a_row": lambda q_t, k_cache, v_cache: ref.softmax(
        ref.attention_scores(q_t[..., None, :], k_cache)[..., 0, :]) @ v_cache,
    "step_keys_values_swapped": lambda q_t, k_cache, v_cache: ref.attend_step(q_t, v_cache,
                                                                              k_cache),
    "step_transpose_every_axis": lambda q_t, k_cache, v_cache: ref.softmax(
        q_t @ k_cache.T / np.sqrt(q_t.shape[-1])) @ v_cache,
    "step_weights_returned": lambda q_t, k_cache, v_cache: ref.softmax(
        ref.attention_scores(q_t[..., None, :], k_cache)[..., 0, :]),
}


GRADED = (
    Graded("attend_step", ref.attend_step, ATTEND_STEP, ("softmax", "attention"),
           "the scores q_t·k_j / √d_k, a stable softmax and a weighted sum, with NumPy"),
    Graded("decode_step", decoding.TranslatorForward, decoding.DECODE_VARIANTS),
    Graded("cached_greedy_decode", decoding.TranslatorForward, decoding.GREEDY_VARIANTS),
)
