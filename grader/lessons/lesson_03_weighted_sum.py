"""Lesson 03 (``03_weighted_sum``): its exercises as the instructor's side knows them: their
records (:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls)
and the wrong variants of its functions, as live code. Each variant makes exactly one mistake
and is otherwise right, so that its output tells it apart; the judge runs them on the learner's
inputs to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs
for the public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_03_weighted_sum``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.lessons.lesson_01_scores import ATTENTION_SCORES
from grader.lessons.lesson_02_softmax import MASKED_SOFTMAX
from grader.lessons.shapes import transpose

WEIGHTED_SUM = {
    "weights_transposed": lambda weights, v: transpose(weights) @ v,
    "v_times_weights": lambda weights, v: v @ weights,
    "weights_elementwise": lambda weights, v: weights * v,
    "values_mean": lambda weights, v: np.full_like(weights, 1 / weights.shape[-1]) @ v,
}


def _attention(q, k, v, mask=None, *, scores=ref.attention_scores, weights=ref.masked_softmax):
    """Attention assembled from (possibly wrong) parts; returns ``(output, weights)``."""
    w = weights(scores(q, k), mask)
    return w @ v, w


def _when_masked(wrong_masked_softmax):
    """A wrong masked softmax that only goes wrong when there is a mask."""
    return lambda s, mask: ref.softmax(s) if mask is None else wrong_masked_softmax(s, mask)


def _softmax_over_queries(s, mask):
    mask = None if mask is None else transpose(np.broadcast_to(mask, s.shape))
    return transpose(ref.masked_softmax(transpose(s), mask))


def _attention_with_weights(wrong_weights):
    return lambda q, k, v, mask=None: _attention(q, k, v, mask, weights=wrong_weights)


def _attention_reordered(q, k, v, mask=None):
    output, weights = ref.scaled_dot_product_attention(q, k, v, mask)
    return weights, output


def _attention_transposed_weights(q, k, v, mask=None):
    output, weights = ref.scaled_dot_product_attention(q, k, v, mask)
    return output, transpose(weights)


SCALED_DOT_PRODUCT_ATTENTION = {
    "no_scaling": lambda q, k, v, mask=None: _attention(
        q, k, v, mask, scores=ATTENTION_SCORES["no_scaling"]
    ),
    "softmax_wrong_axis": _attention_with_weights(_softmax_over_queries),
    "returns_weights_first": _attention_reordered,
    "returns_transposed_weights": _attention_transposed_weights,
    **{
        key: _attention_with_weights(_when_masked(MASKED_SOFTMAX[key]))
        for key in (
            "mask_after_softmax",
            "mask_ignored",
            "mask_fully_masked_nan",
            "mask_large_negative",
        )
    },
}


GRADED = (
    Graded("weighted_sum", ref.weighted_sum, WEIGHTED_SUM, ("attention",),
           "a matrix product of the weights and the values"),
    Graded("scaled_dot_product_attention", ref.scaled_dot_product_attention,
           SCALED_DOT_PRODUCT_ATTENTION, ("softmax", "attention"),
           "your attention_scores, masked_softmax and weighted_sum"),
)
