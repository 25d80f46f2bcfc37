"""Lesson 02 (``02_softmax``): its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_02_softmax``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded


def _normalise(e, axis, keepdims=True):
    return e / np.sum(e, axis=axis, keepdims=keepdims)


def _softmax_global(x, axis=-1):
    return _normalise(np.exp(x - np.max(x)), axis=None)


def _softmax_no_keepdims(x, axis=-1):
    return _normalise(np.exp(x - np.max(x, axis=axis)), axis, keepdims=False)


SOFTMAX = {
    "softmax_wrong_axis": lambda x, axis=-1: ref.softmax(x, axis=0),
    "softmax_ignores_axis": lambda x, axis=-1: ref.softmax(x, axis=-1),
    "softmax_global": _softmax_global,
    "softmax_no_keepdims": _softmax_no_keepdims,
    "softmax_unstable": lambda x, axis=-1: _normalise(np.exp(x), axis),
    "softmax_no_normalise": lambda x, axis=-1: np.exp(x),
    "softmax_no_exp": lambda x, axis=-1: _normalise(x, axis),
}


MASKED_SOFTMAX = {
    "mask_after_softmax": lambda scores, mask: ref.softmax(scores) * mask,
    "mask_inverted": lambda scores, mask: ref.masked_softmax(scores, ~np.asarray(mask)),
    "mask_multiplied": lambda scores, mask: ref.softmax(scores * mask),
    "mask_ignored": lambda scores, mask: ref.softmax(scores),
    "mask_fully_masked_nan": lambda scores, mask: ref.softmax(np.where(mask, scores, -np.inf)),
    "mask_large_negative": lambda scores, mask: ref.softmax(np.where(mask, scores, -1e9)),
}


def _lower(t, k=0):
    return np.tril(np.ones((t, t), dtype=bool), k=k)


CAUSAL_MASK = {
    "causal_upper": lambda t: np.triu(np.ones((t, t), dtype=bool)),
    "causal_inverted": lambda t: ~_lower(t),
    "causal_strict": lambda t: _lower(t, k=-1),
    "causal_all_true": lambda t: np.ones((t, t), dtype=bool),
    "mask_not_bool": lambda t: _lower(t).astype(int),
}


def _positions_vs_lengths(lengths, t):
    """``(positions (1, t), lengths (B, 1))``, ready to compare into a ``(B, t)`` mask."""
    return np.arange(t)[None, :], np.asarray(lengths)[:, None]


def _padding(compare_positions, lengths, t):
    positions, lengths = _positions_vs_lengths(lengths, t)
    return compare_positions(positions, lengths)[:, None, :]  # (B, 1, t)


PADDING_MASK = {
    "padding_inverted": lambda lengths, t: _padding(np.greater_equal, lengths, t),
    "padding_off_by_one": lambda lengths, t: _padding(np.less_equal, lengths, t),
    "padding_no_query_axis": lambda lengths, t: ref.padding_mask(lengths, t)[:, 0, :],
    "padding_wrong_axis": lambda lengths, t: np.swapaxes(ref.padding_mask(lengths, t), 1, 2),
    "mask_not_bool": lambda lengths, t: ref.padding_mask(lengths, t).astype(int),
}


GRADED = (
    Graded("softmax", ref.softmax, SOFTMAX, ("softmax",),
           "np.exp and np.sum, as derived in the lesson"),
    Graded("masked_softmax", ref.masked_softmax, MASKED_SOFTMAX, ("softmax",),
           "your own softmax, or np.exp and np.sum"),
    Graded("causal_mask", ref.causal_mask, CAUSAL_MASK),
    Graded("padding_mask", ref.padding_mask, PADDING_MASK),
)
