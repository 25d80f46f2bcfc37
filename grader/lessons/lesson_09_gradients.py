"""Lesson 09 (``09_gradients``): its exercises as the instructor's side knows them: their records
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


def _backward(q, k, v, d_out, mask=None, *, rowsum="weighted", rowsum_axis=-1,
              rowsum_keepdims=True, scale="divide", forward_scaled=True, dk_transposed=True,
              dv_transposed=True, dv_from="weights", scores_as_dq=False, dq_k_transposed=False,
              da_v_transposed=True, transpose_with="swapaxes", swap_q_k=False,
              mask_in_backward=True, guard_rows=True, masked_score=-np.inf,
              order=("dq", "dk", "dv"), stable=True, scale_dv=False, mask_on_ds=False,
              ds_sign=1.0, softmax_jacobian=True, mask_after_softmax=False):
    """The backward pass of attention with one switch turned off or done another way: the
    mistake it names. ``rowsum``: ``"weighted"`` (rowsum(dA ⊙ A)), ``"plain"`` (rowsum(dA)),
    ``"outside"`` (A ⊙ dA − rowsum(dA ⊙ A)) or ``"none"``; ``softmax_jacobian`` False: dS = dA;
    ``mask_after_softmax``: the weights of the unmasked scores, zeroed where masked."""
    def t(x):  # the learner's transpose: the last two axes, or every axis with .T
        return x.T if transpose_with == ".T" else transpose(x)

    root = np.sqrt(q.shape[-1])
    factor = {"divide": 1 / root, "none": 1.0, "multiply": root, "twice": 1 / q.shape[-1]}[scale]
    scores = q @ transpose(k) / (root if forward_scaled else 1.0)  # (..., Tq, Tk)
    if not stable:  # e^S without the row max: overflows for large scores
        exp = np.exp(scores) if mask is None else np.where(mask, np.exp(scores), 0.0)
        total = exp.sum(axis=-1, keepdims=True)  # (..., Tq, 1)
        weights = np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)
    elif not guard_rows:
        shifted = np.where(True if mask is None else mask, scores, -np.inf)  # (..., Tq, Tk)
        exp = np.exp(shifted - shifted.max(axis=-1, keepdims=True))  # NaN: -inf - (-inf)
        weights = exp / exp.sum(axis=-1, keepdims=True)  # (..., Tq, Tk)
    elif mask is not None and mask_in_backward and masked_score != -np.inf:
        weights = ref.softmax(np.where(mask, scores, masked_score))  # (..., Tq, Tk)
    elif mask is not None and mask_after_softmax:  # zeroed, not renormalised
        weights = np.where(mask, ref.softmax(scores), 0.0)  # (..., Tq, Tk)
    else:
        weights = ref.masked_softmax(scores, None if mask_on_ds or not mask_in_backward else mask)
    source = weights if dv_from == "weights" else scores
    d_v = (t(source) if dv_transposed else source) @ d_out  # (..., Tk, d_v)
    if scale_dv:
        d_v = d_v * factor
    d_weights = d_out @ (t(v) if da_v_transposed else v)  # (..., Tq, Tk)
    products = d_weights * weights if rowsum in ("weighted", "outside") else d_weights
    row_dot = np.sum(products, axis=rowsum_axis, keepdims=rowsum_keepdims)
    if rowsum == "none":
        row_dot = 0.0
    if rowsum == "outside":
        d_scores = weights * d_weights - row_dot  # (..., Tq, Tk)
    else:
        d_scores = weights * (d_weights - row_dot)  # (..., Tq, Tk)
    d_scores = ds_sign * (d_scores if softmax_jacobian else d_weights)
    if mask_on_ds and mask is not None:  # the weights unmasked, their gradient masked
        d_scores = d_scores * mask
    first, second = (q, k) if swap_q_k else (k, q)
    d_q = d_scores if scores_as_dq else d_scores @ (
        t(first) if dq_k_transposed else first) * factor
    d_k = (t(d_scores) if dk_transposed else d_scores) @ second * factor
    grads = {"dq": d_q, "dk": d_k, "dv": d_v}
    return tuple(grads[name] for name in order)


def _backward_with(**switches):
    return lambda q, k, v, d_out, mask=None: _backward(q, k, v, d_out, mask, **switches)


ATTENTION_BACKWARD = {
    "grad_softmax_no_rowsum": _backward_with(rowsum="none"),
    "grad_no_scaling": _backward_with(scale="none"),
    "grad_dk_not_transposed": _backward_with(dk_transposed=False),
    "grad_dv_not_transposed": _backward_with(dv_transposed=False),
    "grad_scores_as_dq": _backward_with(scores_as_dq=True),
    "grad_mask_ignored": _backward_with(mask_in_backward=False),
    "grad_fully_masked_nan": _backward_with(guard_rows=False),
    "grad_rowsum_wrong_axis": _backward_with(rowsum_axis=-2),
    "grad_rowsum_no_keepdims": _backward_with(rowsum_keepdims=False),
    "grad_rowsum_without_weights": _backward_with(rowsum="plain"),
    "grad_rowsum_outside_weights": _backward_with(rowsum="outside"),
    "grad_scale_multiplied": _backward_with(scale="multiply"),
    "grad_scaled_twice": _backward_with(scale="twice"),
    "grad_weights_unscaled": _backward_with(forward_scaled=False),
    "grad_dv_from_scores": _backward_with(dv_from="scores"),
    "grad_dq_k_transposed": _backward_with(dq_k_transposed=True),
    "grad_da_v_not_transposed": _backward_with(da_v_transposed=False),
    "grad_q_k_swapped": _backward_with(swap_q_k=True),
    "grad_returns_wrong_order": _backward_with(order=("dv", "dk", "dq")),
    "mask_large_negative": _backward_with(masked_score=-1e9),
    "transpose_reverses_batch": _backward_with(transpose_with=".T"),
    "softmax_unstable": _backward_with(stable=False),
    "grad_dv_scaled": _backward_with(scale_dv=True),
    "grad_mask_on_ds": _backward_with(mask_on_ds=True),
    "grad_ds_sign_flipped": _backward_with(ds_sign=-1.0),
    "grad_softmax_skipped": _backward_with(softmax_jacobian=False),
    "mask_after_softmax": _backward_with(mask_after_softmax=True),
}


GRADED = (
    Graded("attention_backward", ref.attention_backward, ATTENTION_BACKWARD,
           ("autodiff",), "the five equations of the backward pass, with NumPy"),
)
