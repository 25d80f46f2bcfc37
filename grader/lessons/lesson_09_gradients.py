"""Lesson 09_gradients: its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_09_gradients``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.lessons.shapes import transpose


def _backward(q, k, v, d_out, mask=None, *, rowsum=True, scale=True, dk_transposed=True,
              dv_transposed=True, scores_as_dq=False, mask_in_backward=True, guard_rows=True):
    """The backward pass of attention with one switch turned off: the mistake it names."""
    factor = 1 / np.sqrt(q.shape[-1]) if scale else 1.0
    scores = q @ transpose(k) / np.sqrt(q.shape[-1])  # (..., Tq, Tk)
    if not guard_rows:
        shifted = np.where(True if mask is None else mask, scores, -np.inf)  # (..., Tq, Tk)
        exp = np.exp(shifted - shifted.max(axis=-1, keepdims=True))  # NaN: -inf - (-inf)
        weights = exp / exp.sum(axis=-1, keepdims=True)  # (..., Tq, Tk)
    else:
        weights = ref.masked_softmax(scores, mask if mask_in_backward else None)
    d_v = (transpose(weights) if dv_transposed else weights) @ d_out  # (..., Tk, d_v)
    d_weights = d_out @ transpose(v)  # (..., Tq, Tk)
    row_dot = np.sum(d_weights * weights, axis=-1, keepdims=True) if rowsum else 0.0
    d_scores = weights * (d_weights - row_dot)  # (..., Tq, Tk)
    d_q = d_scores if scores_as_dq else d_scores @ k * factor
    d_k = (transpose(d_scores) if dk_transposed else d_scores) @ q * factor
    return d_q, d_k, d_v


def _backward_with(**switches):
    return lambda q, k, v, d_out, mask=None: _backward(q, k, v, d_out, mask, **switches)


ATTENTION_BACKWARD = {
    "grad_softmax_no_rowsum": _backward_with(rowsum=False),
    "grad_no_scaling": _backward_with(scale=False),
    "grad_dk_not_transposed": _backward_with(dk_transposed=False),
    "grad_dv_not_transposed": _backward_with(dv_transposed=False),
    "grad_scores_as_dq": _backward_with(scores_as_dq=True),
    "grad_mask_ignored": _backward_with(mask_in_backward=False),
    "grad_fully_masked_nan": _backward_with(guard_rows=False),
}


GRADED = (
    Graded("attention_backward", ref.attention_backward, ATTENTION_BACKWARD,
           ("autodiff",), "the five equations of the backward pass, with NumPy"),
)
