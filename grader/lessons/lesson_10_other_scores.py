"""Lesson 10 (``10_other_scores``): its exercises as the instructor's side knows them: their
records (:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls)
and the wrong variants of its functions, as live code. Each variant makes exactly one mistake
and is otherwise right, so that its output tells it apart; the judge runs them on the learner's
inputs to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs
for the public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_10_other_scores``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.lessons.shapes import transpose


def _nadaraya_watson(x_query, x_train, y_train, width, *, axis=-1, sign=-1.0, power=2,
                     factor=2.0, distance="squared", width_divides=True, normalised=True,
                     stable=True, row_max=True, keepdims=True, values="y_train",
                     reduce="sum", returns="prediction"):
    """Nadaraya–Watson regression with one switch turned off or done another way: the mistake
    it names."""
    gap = x_query[..., :, None] - x_train[..., None, :]  # (..., n_query, n_train)
    gap = {"squared": gap**2, "absolute": np.abs(gap), "signed": gap}[distance]
    if width_divides:
        scores = sign * gap / (factor * width**power)  # (..., n_query, n_train)
    else:  # -d² / 2 * w²: the width multiplied, as Python's precedence reads it
        scores = sign * gap / factor * width**power
    if not normalised:
        weights = np.exp(scores)  # the kernel alone, (..., n_query, n_train)
    elif not stable:
        exp = np.exp(scores)  # underflows to 0 for a tiny width: 0/0
        weights = exp / exp.sum(axis=axis, keepdims=True)
    elif not row_max:
        exp = np.exp(scores - scores.max())  # one shift for every query: rows underflow
        total = exp.sum(axis=axis, keepdims=True)
        weights = np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)
    elif not keepdims:
        exp = np.exp(scores - scores.max(axis=axis))  # (..., n_query) against n_train
        weights = exp / exp.sum(axis=axis, keepdims=True)
    else:
        weights = ref.softmax(scores, axis=axis)
    if returns == "weights":
        return weights
    targets = {"y_train": y_train, "x_train": x_train}[values]
    if reduce == "matmul":
        return weights @ targets  # a batch of targets read as a matrix
    return (weights @ targets[..., :, None])[..., 0]  # (..., n_query)


def _nadaraya_watson_with(**switches):
    return lambda x_query, x_train, y_train, width: _nadaraya_watson(
        x_query, x_train, y_train, width, **switches)


def _nadaraya_watson_not_broadcast(x_query, x_train, y_train, width):
    """Query ``i`` against training point ``i`` only: ``x_query - x_train`` without the pair
    axes fails unless ``n_query = n_train``."""
    scores = -((x_query - x_train) ** 2) / (2 * width**2)  # (..., n)
    return ref.softmax(scores, axis=-1) * y_train


def _nadaraya_watson_one_curve(x_query, x_train, y_train, width):
    """A loop over the queries of one curve: right for 1-D inputs, a broadcasting error for a
    batch of curves."""
    predictions = []
    for query in x_query:
        weights = ref.softmax(-((query - x_train) ** 2) / (2 * width**2), axis=-1)
        predictions.append(np.sum(weights * y_train, axis=-1))
    return np.array(predictions)


NADARAYA_WATSON = {
    "nw_softmax_over_queries": _nadaraya_watson_with(axis=-2),
    "nw_width_not_squared": _nadaraya_watson_with(power=1),
    "nw_width_without_two": _nadaraya_watson_with(factor=1.0),
    "nw_farthest_point": _nadaraya_watson_with(sign=1.0),
    "nw_unnormalised": _nadaraya_watson_with(normalised=False),
    "nw_unstable_softmax": _nadaraya_watson_with(stable=False),
    "nw_absolute_distance": _nadaraya_watson_with(distance="absolute"),
    "nw_distance_not_squared": _nadaraya_watson_with(distance="signed"),
    "nw_width_multiplied": _nadaraya_watson_with(width_divides=False),
    "nw_returns_weights": _nadaraya_watson_with(returns="weights"),
    "nw_averages_x_train": _nadaraya_watson_with(values="x_train"),
    "nw_matmul_targets": _nadaraya_watson_with(reduce="matmul"),
    "softmax_no_keepdims": _nadaraya_watson_with(keepdims=False),
    "global_max": _nadaraya_watson_with(row_max=False),
    "nw_width_doubled_squared": _nadaraya_watson_with(factor=4.0),
    "nw_pairs_not_broadcast": _nadaraya_watson_not_broadcast,
    "nw_one_curve_only": _nadaraya_watson_one_curve,
}


def _projected(q, k, w_q, w_k):
    """``(q W_q (..., Tq, 1, h), k W_k (..., 1, Tk, h))``, ready to meet pair by pair."""
    return (q @ w_q)[..., :, None, :], (k @ w_k)[..., None, :, :]


def _additive_pairs(q, k, w_q, w_k):
    projected_q, projected_k = _projected(q, k, w_q, w_k)
    return projected_q + projected_k  # (..., Tq, Tk, h)


def _tanh_each(q, k, w_q, w_k, v):
    projected_q, projected_k = _projected(q, k, w_q, w_k)
    return (np.tanh(projected_q) + np.tanh(projected_k)) @ v


def _multiplied(q, k, w_q, w_k, v):
    projected_q, projected_k = _projected(q, k, w_q, w_k)
    return np.tanh(projected_q * projected_k) @ v


def _column_convention(q, k, w_q, w_k, v):
    return np.tanh((w_q @ q)[..., :, None, :] + (w_k @ k)[..., None, :, :]) @ v


ADDITIVE_SCORES = {
    "add_tanh_after_v": lambda q, k, w_q, w_k, v: np.tanh(_additive_pairs(q, k, w_q, w_k) @ v),
    "add_no_tanh": lambda q, k, w_q, w_k, v: _additive_pairs(q, k, w_q, w_k) @ v,
    "add_transposed": lambda q, k, w_q, w_k, v: transpose(ref.additive_scores(q, k, w_q, w_k, v)),
    "add_pairs_not_broadcast": lambda q, k, w_q, w_k, v: np.tanh(q @ w_q + k @ w_k) @ v,
    "add_weights_swapped": lambda q, k, w_q, w_k, v: np.tanh(_additive_pairs(q, k, w_k, w_q)) @ v,
    "add_tanh_each_projection": _tanh_each,
    "add_v_ignored": lambda q, k, w_q, w_k, v: np.tanh(_additive_pairs(q, k, w_q, w_k)).sum(-1),
    "add_scaled_by_sqrt_h": lambda q, k, w_q, w_k, v: (
        ref.additive_scores(q, k, w_q, w_k, v) / np.sqrt(v.shape[-1])),
    "add_projections_multiplied": _multiplied,
    "add_weights_transposed": lambda q, k, w_q, w_k, v: np.tanh(
        _additive_pairs(q, k, w_q.T, w_k.T)) @ v,
    "add_v_on_the_left": lambda q, k, w_q, w_k, v: v @ np.tanh(_additive_pairs(q, k, w_q, w_k)),
    "add_column_convention": _column_convention,
    "add_keys_projected_with_w_q": lambda q, k, w_q, w_k, v: np.tanh(
        _additive_pairs(q, k, w_q, w_q)) @ v,
    "add_softmax_applied": lambda q, k, w_q, w_k, v: ref.softmax(
        ref.additive_scores(q, k, w_q, w_k, v), axis=-1),
    "add_relu_not_tanh": lambda q, k, w_q, w_k, v: np.maximum(
        _additive_pairs(q, k, w_q, w_k), 0.0) @ v,
}


GRADED = (
    Graded("nadaraya_watson", ref.nadaraya_watson, NADARAYA_WATSON,
           ("kernel_regression",), "the squared distances, a stable softmax and a weighted sum"),
    Graded("additive_scores", ref.additive_scores, ADDITIVE_SCORES, ("additive",),
           "q @ w_q and k @ w_k added for every pair, np.tanh, @ v"),
)
