"""Lesson 10_other_scores: its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_10_other_scores``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.lessons.shapes import transpose


def _nadaraya_watson(x_query, x_train, y_train, width, *, axis=-1, sign=-1.0, power=2,
                     factor=2.0, normalised=True, stable=True):
    """Nadaraya–Watson regression with one switch turned off: the mistake it names."""
    distance = x_query[..., :, None] - x_train[..., None, :]  # (..., n_query, n_train)
    scores = sign * distance**2 / (factor * width**power)  # (..., n_query, n_train)
    if not normalised:
        weights = np.exp(scores)  # the kernel alone, (..., n_query, n_train)
    elif stable:
        weights = ref.softmax(scores, axis=axis)
    else:
        exp = np.exp(scores)  # underflows to 0 for a tiny width: 0/0
        weights = exp / exp.sum(axis=axis, keepdims=True)
    return (weights @ y_train[..., :, None])[..., 0]  # (..., n_query)


def _nadaraya_watson_with(**switches):
    return lambda x_query, x_train, y_train, width: _nadaraya_watson(
        x_query, x_train, y_train, width, **switches)


NADARAYA_WATSON = {
    "nw_softmax_over_queries": _nadaraya_watson_with(axis=-2),
    "nw_width_not_squared": _nadaraya_watson_with(power=1),
    "nw_width_without_two": _nadaraya_watson_with(factor=1.0),
    "nw_farthest_point": _nadaraya_watson_with(sign=1.0),
    "nw_unnormalised": _nadaraya_watson_with(normalised=False),
    "nw_unstable_softmax": _nadaraya_watson_with(stable=False),
}


def _additive_pairs(q, k, w_q, w_k):
    return (q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :]  # (..., Tq, Tk, h)


ADDITIVE_SCORES = {
    "add_tanh_after_v": lambda q, k, w_q, w_k, v: np.tanh(_additive_pairs(q, k, w_q, w_k) @ v),
    "add_no_tanh": lambda q, k, w_q, w_k, v: _additive_pairs(q, k, w_q, w_k) @ v,
    "add_transposed": lambda q, k, w_q, w_k, v: transpose(ref.additive_scores(q, k, w_q, w_k, v)),
    "add_pairs_not_broadcast": lambda q, k, w_q, w_k, v: np.tanh(q @ w_q + k @ w_k) @ v,
    "add_weights_swapped": lambda q, k, w_q, w_k, v: ref.additive_scores(q, k, w_k, w_q, v),
}


GRADED = (
    Graded("nadaraya_watson", ref.nadaraya_watson, NADARAYA_WATSON,
           ("kernel_regression",), "the squared distances, a stable softmax and a weighted sum"),
    Graded("additive_scores", ref.additive_scores, ADDITIVE_SCORES, ("additive",),
           "q @ w_q and k @ w_k added for every pair, np.tanh, @ v"),
)
