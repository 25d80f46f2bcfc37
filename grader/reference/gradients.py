"""The answer key of lesson ``09_gradients``: the backward pass of scaled dot-product attention.

The forward pass (lessons 01–03), with a mask ``M`` (True = may attend):

.. math::
    S = \\frac{Q K^\\top}{\\sqrt{d_k}}, \\qquad A = \\mathrm{softmax}_M(S), \\qquad O = A V .

Given ``dO = ∂L/∂O`` for some scalar loss ``L``, the chain rule taken backwards gives

.. math::
    dV = A^\\top dO, \\qquad dA = dO\\, V^\\top, \\qquad
    dS = A \\odot \\big(dA - \\mathrm{rowsum}(dA \\odot A)\\big), \\qquad
    dQ = \\frac{dS\\, K}{\\sqrt{d_k}}, \\qquad dK = \\frac{dS^\\top Q}{\\sqrt{d_k}} .

A masked key has ``A = 0``, so its ``dS`` is 0: no gradient flows through it. A query with no
allowed key has all-zero weights and a zero output (the course's convention): its ``dS`` row,
its ``dQ`` row and its share of ``dK`` and ``dV`` are zero.
"""

from __future__ import annotations

import math

import numpy as np

from grader.reference.numpy_attention import (
    _as_float_array,
    _require_rank,
    attention_scores,
    masked_softmax,
)


def softmax_backward(weights, d_weights):
    r"""The gradient of the scores from the gradient of the softmax's weights, row by row.

    .. math:: dS = A \odot \big(dA - \mathrm{rowsum}(dA \odot A)\big)

    the product of ``dA`` with the softmax's Jacobian ``diag(a) - a aᵀ`` of each row. Derived
    in lesson ``09_gradients``.

    Args:
        weights: ``A``, ``(..., Tq, Tk)``; rows sum to 1, or are all 0 (fully masked).
        d_weights: ``dA = ∂L/∂A``, ``(..., Tq, Tk)``.

    Returns:
        ``dS = ∂L/∂S``, ``(..., Tq, Tk)``; 0 wherever ``A`` is 0.
    """
    row_dot = np.sum(d_weights * weights, axis=-1, keepdims=True)  # (..., Tq, 1)
    return weights * (d_weights - row_dot)  # (..., Tq, Tk)


def attention_backward(q, k, v, d_out, mask=None):
    r"""The gradients of a loss with respect to ``q``, ``k`` and ``v``, given ``∂L/∂O``.

    .. math::
        dV = A^\top dO,\quad dA = dO\,V^\top,\quad
        dS = A \odot (dA - \mathrm{rowsum}(dA \odot A)),\quad
        dQ = dS\,K / \sqrt{d_k},\quad dK = dS^\top Q / \sqrt{d_k}

    Derived in lesson ``09_gradients``. The forward pass is lesson 03's
    ``scaled_dot_product_attention``; fully masked rows give zero gradients.

    Args:
        q: ``(..., Tq, d_k)``.
        k: ``(..., Tk, d_k)``.
        v: ``(..., Tk, d_v)``.
        d_out: ``∂L/∂O``, ``(..., Tq, d_v)``.
        mask: optional boolean, broadcastable to ``(..., Tq, Tk)``; ``True`` = may attend.

    Returns:
        ``(dq, dk, dv)``, shaped like ``q``, ``k`` and ``v`` (their own leading axes).
    """
    q, k = _as_float_array(q, "q"), _as_float_array(k, "k")
    v, d_out = _as_float_array(v, "v"), _as_float_array(d_out, "d_out")
    for x, name in ((q, "q"), (k, "k"), (v, "v"), (d_out, "d_out")):
        _require_rank(x, name)
    if k.shape[-2] != v.shape[-2] or d_out.shape[-2:] != (q.shape[-2], v.shape[-1]):
        raise ValueError(
            "Expected k (..., Tk, d_k), v (..., Tk, d_v) and d_out (..., Tq, d_v). "
            f"Received: q.shape={q.shape}, k.shape={k.shape}, v.shape={v.shape}, "
            f"d_out.shape={d_out.shape}"
        )
    scale = 1.0 / math.sqrt(q.shape[-1])
    weights = masked_softmax(attention_scores(q, k), mask)  # (..., Tq, Tk)
    d_v = np.swapaxes(weights, -1, -2) @ d_out  # (..., Tk, d_v)
    d_weights = d_out @ np.swapaxes(v, -1, -2)  # (..., Tq, Tk)
    d_scores = softmax_backward(weights, d_weights)  # (..., Tq, Tk)
    d_q = d_scores @ k * scale  # (..., Tq, d_k)
    d_k = np.swapaxes(d_scores, -1, -2) @ q * scale  # (..., Tk, d_k)
    return (_summed_to(d_q, q.shape), _summed_to(d_k, k.shape), _summed_to(d_v, v.shape))


def _summed_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``grad`` summed over the leading axes its input was broadcast along: an input shared by
    several batch entries or heads collects the gradient of each."""
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra else grad
    shared = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=shared, keepdims=True) if shared else grad
