"""The answer key in NumPy: one function per equation of scaled dot-product attention.

Shapes follow the course convention: ``q (..., Tq, d_k)``, ``k (..., Tk, d_k)``,
``v (..., Tk, d_v)``; scores and weights ``(..., Tq, Tk)``; output ``(..., Tq, d_v)``.
Masks are boolean, broadcastable to the scores, and ``True`` means "may attend".
A query row with no allowed key gets all-zero weights and a zero output, never NaN.
"""

from __future__ import annotations

import math

import numpy as np


def _as_float_array(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"`{name}` must be a numeric array. Received: {name}.dtype={x.dtype}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def _require_rank(x: np.ndarray, name: str, rank: int = 2) -> None:
    if x.ndim < rank:
        raise ValueError(
            f"`{name}` needs at least {rank} axes (..., T, d). Received: {name}.shape={x.shape}"
        )


def _scores_shape(q: np.ndarray, k: np.ndarray) -> tuple[int, ...]:
    """Shape of ``q kᵀ``: the broadcast leading axes, then ``(Tq, Tk)``."""
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    except ValueError:
        raise ValueError(
            "The leading (batch/head) axes of `q` and `k` do not broadcast. "
            f"Received: q.shape={q.shape}, k.shape={k.shape}"
        ) from None
    return (*batch, q.shape[-2], k.shape[-2])


def _broadcast_mask(mask, scores_shape: tuple[int, ...]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise ValueError(
            "`mask` must be boolean (True = may attend). "
            f"Received: mask.dtype={mask.dtype}"
        )
    try:
        return np.broadcast_to(mask, scores_shape)
    except ValueError:
        raise ValueError(
            f"`mask` must broadcast to the scores' shape {scores_shape}. "
            f"Received: mask.shape={mask.shape}"
        ) from None


def dot_product(a, b):
    r"""The dot product of two vectors: multiply matching entries, then add the products.

    .. math:: a \cdot b = \sum_{i=1}^{n} a_i b_i

    The warm-up of lesson ``00_welcome``: every attention score is one such dot product, of a
    query with a key.

    Args:
        a: a vector, shape ``(n,)``.
        b: a vector, shape ``(n,)``.

    Returns:
        A Python ``float``.

    Raises:
        ValueError: when ``a`` and ``b`` are not vectors of the same length.
    """
    a = _as_float_array(a, "a")
    b = _as_float_array(b, "b")
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            "`a` and `b` must be vectors of the same length n, shape (n,). "
            f"Received: a.shape={a.shape}, b.shape={b.shape}"
        )
    return float(a @ b)


def attention_scores(q, k):
    r"""Scaled dot-product scores between every query and every key.

    .. math:: S = \frac{Q K^\top}{\sqrt{d_k}}

    Derived in lesson ``01_scores`` (why divide by :math:`\sqrt{d_k}`: the dot product of two
    vectors with independent unit-variance components has variance :math:`d_k`).

    Args:
        q: queries, shape ``(..., Tq, d_k)``.
        k: keys, shape ``(..., Tk, d_k)``.

    Returns:
        Scores of shape ``(..., Tq, Tk)``.

    Raises:
        ValueError: when ``q`` and ``k`` disagree on ``d_k`` or on the leading axes.
    """
    q = _as_float_array(q, "q")
    k = _as_float_array(k, "k")
    _require_rank(q, "q")
    _require_rank(k, "k")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            "`q` and `k` must share their last axis d_k. "
            f"Received: q.shape={q.shape}, k.shape={k.shape}"
        )
    _scores_shape(q, k)
    d_k = q.shape[-1]
    # Scaling q (Tq × d_k numbers) before the product is cheaper than scaling the Tq × Tk
    # scores after it, and equal up to rounding. A Python float keeps float32 inputs float32.
    return (q / math.sqrt(d_k)) @ np.swapaxes(k, -1, -2)  # (..., Tq, Tk)


def softmax(x, axis=-1):
    r"""Numerically stable softmax along ``axis``.

    .. math:: \mathrm{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}},\quad m = \max_j x_j

    Subtracting the maximum changes nothing (shift invariance) and keeps :math:`e^{x}` from
    overflowing at logits of 1000. Derived in lesson ``02_softmax``.

    Args:
        x: any array, e.g. scores ``(..., Tq, Tk)``.
        axis: the axis that sums to one (the keys' axis, ``-1``, for attention).

    Returns:
        An array of the same shape, positive, summing to 1 along ``axis``.
    """
    x = _as_float_array(x, "x")
    shifted = x - np.max(x, axis=axis, keepdims=True)  # largest entry becomes 0
    exp = np.exp(shifted, out=shifted)  # in place: one array of x's size, not three
    exp /= np.sum(exp, axis=axis, keepdims=True)
    return exp


def masked_softmax(scores, mask):
    r"""Softmax over the keys' axis with disallowed keys removed *before* normalising.

    .. math:: w_{ij} = \frac{[M_{ij}]\, e^{s_{ij} - m_i}}{\sum_{j'} [M_{ij'}]\, e^{s_{ij'} - m_i}}

    where :math:`m_i` is the largest *allowed* score of row :math:`i`. A row with no allowed
    key gets all-zero weights (not NaN). Derived in lesson ``02_softmax``.

    Args:
        scores: ``(..., Tq, Tk)``.
        mask: boolean, broadcastable to ``scores``; ``True`` = may attend. ``None`` = no mask.

    Returns:
        Weights ``(..., Tq, Tk)``; each row sums to 1, or to 0 if it is fully masked.
    """
    scores = _as_float_array(scores, "scores")
    if mask is None:
        return softmax(scores, axis=-1)
    mask = _broadcast_mask(mask, scores.shape)
    shifted = np.where(mask, scores, -np.inf)  # (..., Tq, Tk), disallowed keys at -inf
    row_max = np.max(shifted, axis=-1, keepdims=True)  # (..., Tq, 1)
    row_max[~np.isfinite(row_max)] = 0.0  # fully masked rows: any shift works
    shifted -= row_max  # largest allowed entry of each row becomes 0
    exp = np.exp(shifted, out=shifted)  # (..., Tq, Tk), in place; exp(-inf) = 0 exactly
    total = np.sum(exp, axis=-1, keepdims=True)  # (..., Tq, 1), 0 for fully masked rows
    return np.divide(exp, total, out=exp, where=total > 0)  # fully masked rows stay 0


def causal_mask(t):
    r"""Mask that lets position :math:`i` attend to positions :math:`j \le i` only.

    .. math:: M_{ij} = [\, j \le i \,]

    Derived in lesson ``02_softmax``.

    Args:
        t: sequence length.

    Returns:
        Boolean array ``(t, t)``, lower triangular, ``True`` = may attend.
    """
    t = int(t)
    if t < 0:
        raise ValueError(f"`t` must be a non-negative length. Received: t={t}")
    return np.tril(np.ones((t, t), dtype=bool))


def padding_mask(lengths, t):
    r"""Mask that hides the padding at the end of each sequence of a batch.

    .. math:: M_{b,0,j} = [\, j < \mathrm{length}_b \,]

    Derived in lesson ``02_softmax``.

    Args:
        lengths: true lengths, shape ``(B,)``.
        t: padded length ``Tk``.

    Returns:
        Boolean array ``(B, 1, t)``, broadcastable to scores ``(B, Tq, t)``.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"`lengths` must have shape (B,). Received: lengths.shape={lengths.shape}")
    if np.any(lengths < 0) or np.any(lengths > t):
        raise ValueError(f"Every length must lie in [0, t={t}]. Received: lengths={lengths}")
    positions = np.arange(int(t))  # (t,)
    return (positions[None, :] < lengths[:, None])[:, None, :]  # (B, 1, t)


def weighted_sum(weights, v):
    r"""Each output row is the weighted average of the value rows.

    .. math:: O = A V,\qquad o_i = \sum_j a_{ij} v_j

    With weights from a softmax, :math:`o_i` is a convex combination of the values. Derived in
    lesson ``03_weighted_sum``.

    Args:
        weights: ``(..., Tq, Tk)``.
        v: values ``(..., Tk, d_v)``.

    Returns:
        Output ``(..., Tq, d_v)``.
    """
    weights = _as_float_array(weights, "weights")
    v = _as_float_array(v, "v")
    _require_rank(weights, "weights")
    _require_rank(v, "v")
    if weights.shape[-1] != v.shape[-2]:
        raise ValueError(
            "`weights` has one column per key and `v` one row per key, so weights.shape[-1] "
            f"must equal v.shape[-2]. Received: weights.shape={weights.shape}, v.shape={v.shape}"
        )
    return weights @ v  # (..., Tq, d_v)


def scaled_dot_product_attention(q, k, v, mask=None):
    r"""Scaled dot-product attention: the three equations in a row.

    .. math:: \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}
              + \log M\right) V

    Derived in lesson ``03_weighted_sum``.

    Args:
        q: ``(..., Tq, d_k)``.
        k: ``(..., Tk, d_k)``.
        v: ``(..., Tk, d_v)``.
        mask: optional boolean, broadcastable to ``(..., Tq, Tk)``; ``True`` = may attend.

    Returns:
        ``(output, weights)``: output ``(..., Tq, d_v)`` and weights ``(..., Tq, Tk)``.
    """
    k = _as_float_array(k, "k")
    v = _as_float_array(v, "v")
    _require_rank(v, "v")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            "`k` and `v` must hold one row per key. "
            f"Received: k.shape={k.shape}, v.shape={v.shape}"
        )
    scores = attention_scores(q, k)  # (..., Tq, Tk)
    weights = masked_softmax(scores, mask)  # (..., Tq, Tk)
    return weighted_sum(weights, v), weights  # (..., Tq, d_v), (..., Tq, Tk)


def blockwise_attention(q, k, v, block_size, mask=None):
    r"""Attention computed one block of keys at a time with an online softmax.

    For each block :math:`B` of keys, with :math:`S_B = q K_B^\top/\sqrt{d_k}`:

    .. math::
        m' = \max(m, \max_j S_{B,j}),\quad
        \ell' = e^{m - m'}\ell + \sum_j e^{S_{B,j} - m'},\quad
        o' = e^{m - m'} o + e^{S_B - m'} V_B

    and finally :math:`\mathrm{output} = o / \ell`. Only ``Tq × block_size`` scores exist at
    any time, yet the result equals :func:`scaled_dot_product_attention`. Derived in lesson
    ``08_efficiency`` (the idea behind FlashAttention).

    Args:
        q: ``(..., Tq, d_k)``.
        k: ``(..., Tk, d_k)``.
        v: ``(..., Tk, d_v)``.
        block_size: keys per block, a positive integer (need not divide ``Tk``).
        mask: optional boolean, broadcastable to ``(..., Tq, Tk)``; ``True`` = may attend.

    Returns:
        Output ``(..., Tq, d_v)``; fully masked rows give zeros.
    """
    q = _as_float_array(q, "q")
    k = _as_float_array(k, "k")
    v = _as_float_array(v, "v")
    for x, name in ((q, "q"), (k, "k"), (v, "v")):
        _require_rank(x, name)
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            "Expected q (..., Tq, d_k), k (..., Tk, d_k), v (..., Tk, d_v). "
            f"Received: q.shape={q.shape}, k.shape={k.shape}, v.shape={v.shape}"
        )
    if int(block_size) != block_size or block_size < 1:
        raise ValueError(f"`block_size` must be a positive integer. Received: {block_size!r}")
    block_size = int(block_size)
    scores_shape = _scores_shape(q, k)
    if mask is not None:
        mask = _broadcast_mask(mask, scores_shape)  # a view: no Tq × Tk copy
    batch, t_q, t_k = scores_shape[:-2], q.shape[-2], k.shape[-2]
    dtype = np.result_type(q, k, v)

    running_max = np.full((*batch, t_q, 1), -np.inf, dtype=dtype)  # m, (..., Tq, 1)
    running_sum = np.zeros((*batch, t_q, 1), dtype=dtype)  # ℓ, (..., Tq, 1)
    output = np.zeros((*batch, t_q, v.shape[-1]), dtype=dtype)  # o, (..., Tq, d_v)
    q_scaled = q / math.sqrt(q.shape[-1])  # (..., Tq, d_k), scaled once for every block
    for start in range(0, t_k, block_size):
        stop = min(start + block_size, t_k)
        scores = q_scaled @ np.swapaxes(k[..., start:stop, :], -1, -2)  # (..., Tq, b)
        if mask is not None:
            scores[~mask[..., start:stop]] = -np.inf
        new_max = np.maximum(running_max, scores.max(axis=-1, keepdims=True))  # (..., Tq, 1)
        shift = np.where(np.isfinite(new_max), new_max, 0.0)  # rows masked so far: no shift
        scores -= shift
        probs = np.exp(scores, out=scores)  # (..., Tq, b) in place; masked keys give exactly 0
        rescale = np.exp(running_max - shift)  # (..., Tq, 1), 0 while nothing was seen
        running_sum = rescale * running_sum + probs.sum(axis=-1, keepdims=True)
        output = rescale * output + probs @ v[..., start:stop, :]  # (..., Tq, d_v)
        running_max = new_max
    return np.divide(output, running_sum, out=np.zeros_like(output), where=running_sum > 0)
