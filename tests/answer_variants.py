"""A corpus of learner answers to every NumPy exercise, right and wrong.

``VARIANTS[exercise]`` holds:

- ``"right"``: answers that differ from the answer key (einsum, loops, float32 arithmetic,
  a log-sum-exp…) and must still get full marks;
- ``"wrong"``: ``(answer, misconception)`` pairs, each answer making one known mistake that the
  checks must name with ``course_lib.misconceptions.DESCRIPTIONS[misconception]``.

Every answer is self-contained (it only uses ``np``), so :func:`notebook_source` can paste it
into a notebook cell under the exercise's name, e.g. to autograde a simulated submission.
pytest puts ``tests/`` on ``sys.path``, so test modules ``import answer_variants``.
"""

from __future__ import annotations

import inspect
import textwrap

import numpy as np
from language_model_variants import VARIANTS as LANGUAGE_MODEL  # lesson 12's corpus
from modern_block_variants import VARIANTS as MODERN_BLOCK  # lesson 13's corpus

# 00 dot_product -------------------------------------------------------------------------------


def dot_product_loop(a, b):
    total = 0.0
    for i in range(len(a)):
        total += a[i] * b[i]
    return total


def dot_product_einsum(a, b):
    return float(np.einsum("i,i->", a, b))


def dot_product_elementwise(a, b):
    return a * b


def dot_product_sum_times_sum(a, b):
    return np.sum(a) * np.sum(b)


def dot_product_sum_of_sums(a, b):
    return float(np.sum(a + b))


def dot_product_lengths(a, b):
    return float(np.sqrt(np.sum(a**2)) * np.sqrt(np.sum(b**2)))


def dot_product_cosine(a, b):
    return np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))


# 01 attention_scores --------------------------------------------------------------------------


def attention_scores_einsum(q, k):
    return np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])


def attention_scores_float32(q, k):
    q32, k32 = np.asarray(q, dtype=np.float32), np.asarray(k, dtype=np.float32)
    return q32 @ np.swapaxes(k32, -1, -2) / np.float32(np.sqrt(q.shape[-1]))


def attention_scores_loops(q, k):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    q = np.broadcast_to(q, batch + q.shape[-2:])
    k = np.broadcast_to(k, batch + k.shape[-2:])
    scores = np.zeros(batch + (q.shape[-2], k.shape[-2]))
    for index in np.ndindex(*batch):
        for i in range(q.shape[-2]):
            for j in range(k.shape[-2]):
                scores[index + (i, j)] = np.dot(q[index + (i,)], k[index + (j,)])
    return scores / np.sqrt(q.shape[-1])


def attention_scores_unscaled(q, k):
    return q @ np.swapaxes(k, -1, -2)


def attention_scores_over_dk(q, k):
    return np.matmul(q, np.swapaxes(k, -1, -2)) / q.shape[-1]


def attention_scores_over_tk(q, k):
    d_k = k.shape[-2]
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)


def attention_scores_k_q(q, k):
    return k @ np.swapaxes(q, -1, -2) / np.sqrt(q.shape[-1])


def attention_scores_times_sqrt(q, k):
    return q @ np.swapaxes(k, -1, -2) * np.sqrt(q.shape[-1])


# 02 softmax -----------------------------------------------------------------------------------


def softmax_logsumexp(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    log_sum = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return np.exp(x - log_sum)


def softmax_float32(x, axis=-1):
    x32 = np.asarray(x, dtype=np.float32)
    e = np.exp(x32 - x32.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_loops(x, axis=-1):
    rows = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    out = np.empty_like(rows)
    for index in np.ndindex(*rows.shape[:-1]):
        e = np.exp(rows[index] - rows[index].max())
        out[index] = e / e.sum()
    return np.moveaxis(out, -1, axis)


def softmax_columns(x, axis=-1):
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def softmax_last_axis_only(x, axis=-1):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_whole_array(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def softmax_without_keepdims(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis))
    return e / np.sum(e, axis=axis)


def softmax_overflowing(x, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_exp_only(x, axis=-1):
    return np.exp(x)


def softmax_without_exp(x, axis=-1):
    return x / np.sum(x, axis=axis, keepdims=True)


# 02 masked_softmax ----------------------------------------------------------------------------


def masked_softmax_where(scores, mask):
    scores = np.where(mask, scores, -np.inf)
    row_max = np.max(scores, axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.exp(scores - row_max)
    total = e.sum(axis=-1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def masked_softmax_loops(scores, mask):
    scores = np.asarray(scores, dtype=float)
    mask = np.broadcast_to(mask, scores.shape)
    out = np.zeros_like(scores)
    for index in np.ndindex(*scores.shape[:-1]):
        allowed = mask[index]
        if allowed.any():
            row = scores[index][allowed]
            e = np.exp(row - row.max())
            out[index][allowed] = e / e.sum()
    return out


def masked_softmax_mask_after(scores, mask):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) * mask


def masked_softmax_inverted(scores, mask):
    scores = np.where(mask, -np.inf, scores)
    row_max = np.max(scores, axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.exp(scores - row_max)
    total = e.sum(axis=-1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def masked_softmax_times_mask(scores, mask):
    scores = scores * mask
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def masked_softmax_ignores_mask(scores, mask):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def masked_softmax_nan_rows(scores, mask):
    scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def masked_softmax_minus_1e9(scores, mask):
    scores = np.where(mask, scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# 02 causal_mask -------------------------------------------------------------------------------


def causal_mask_compare(t):
    i = np.arange(t)
    return i[:, None] >= i[None, :]


def causal_mask_loops(t):
    mask = np.zeros((t, t), dtype=bool)
    for i in range(t):
        for j in range(i + 1):
            mask[i, j] = True
    return mask


def causal_mask_tri(t):
    return np.tri(t, dtype=bool)


def causal_mask_triu(t):
    return np.triu(np.ones((t, t), dtype=bool))


def causal_mask_future(t):
    return np.triu(np.ones((t, t), dtype=bool), k=1)


def causal_mask_strict(t):
    return np.tril(np.ones((t, t), dtype=bool), k=-1)


def causal_mask_everything(t):
    return np.ones((t, t), dtype=bool)


def causal_mask_ones(t):
    return np.tril(np.ones((t, t)))


# 02 padding_mask ------------------------------------------------------------------------------


def padding_mask_broadcast(lengths, t):
    return np.arange(t) < np.asarray(lengths)[:, None, None]


def padding_mask_loops(lengths, t):
    mask = np.zeros((len(lengths), 1, t), dtype=bool)
    for b, length in enumerate(lengths):
        mask[b, 0, :length] = True
    return mask


def padding_mask_inverted(lengths, t):
    return (np.arange(t)[None, :] >= np.asarray(lengths)[:, None])[:, None, :]


def padding_mask_off_by_one(lengths, t):
    return (np.arange(t)[None, :] <= np.asarray(lengths)[:, None])[:, None, :]


def padding_mask_2d(lengths, t):
    return np.arange(t)[None, :] < np.asarray(lengths)[:, None]


def padding_mask_query_axis(lengths, t):
    return (np.arange(t)[None, :] < np.asarray(lengths)[:, None])[:, :, None]


def padding_mask_ints(lengths, t):
    mask = np.zeros((len(lengths), 1, t), dtype=int)
    for b, length in enumerate(lengths):
        mask[b, 0, :length] = 1
    return mask


# 03 weighted_sum ------------------------------------------------------------------------------


def weighted_sum_einsum(weights, v):
    return np.einsum("...qk,...kd->...qd", weights, v)


def weighted_sum_broadcast(weights, v):
    return np.sum(weights[..., :, :, None] * v[..., None, :, :], axis=-2)


def weighted_sum_float32(weights, v):
    return np.asarray(weights, dtype=np.float32) @ np.asarray(v, dtype=np.float32)


def weighted_sum_transposed(weights, v):
    return np.swapaxes(weights, -1, -2) @ v


def weighted_sum_v_first(weights, v):
    return v @ weights


def weighted_sum_elementwise(weights, v):
    return weights * v


def weighted_sum_mean(weights, v):
    return np.zeros(weights.shape[:-1] + v.shape[-1:]) + v.mean(axis=-2, keepdims=True)


# 03 scaled_dot_product_attention --------------------------------------------------------------


def sdpa_einsum(q, k, v, mask=None):
    scores = np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isneginf(row_max), 0.0, row_max))
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    return np.einsum("...qk,...kd->...qd", weights, v), weights


def sdpa_float32(q, k, v, mask=None):
    q, k, v = (np.asarray(x, dtype=np.float32) for x in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.float32(np.sqrt(q.shape[-1]))
    if mask is None:
        mask = np.ones(scores.shape, dtype=bool)
    mask = np.broadcast_to(mask, scores.shape)
    row_max = np.where(mask, scores, -np.inf).max(axis=-1, keepdims=True)
    e = np.where(mask, np.exp(scores - np.where(mask.any(-1, keepdims=True), row_max, 0)), 0)
    total = e.sum(axis=-1, keepdims=True)
    weights = np.where(total > 0, e / np.maximum(total, np.float32(1e-30)), 0).astype(np.float32)
    return weights @ v, weights


def sdpa_loops(q, k, v, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    t_q, t_k = q.shape[-2], k.shape[-2]
    q, k, v = (np.broadcast_to(x, batch + x.shape[-2:]) for x in (q, k, v))
    mask = np.ones((t_q, t_k), dtype=bool) if mask is None else mask
    mask = np.broadcast_to(mask, batch + (t_q, t_k))
    output = np.zeros(batch + (t_q, v.shape[-1]))
    weights = np.zeros(batch + (t_q, t_k))
    for index in np.ndindex(*batch):
        for i in range(t_q):
            allowed = mask[index + (i,)]
            if not allowed.any():
                continue
            scores = k[index][allowed] @ q[index + (i,)] / np.sqrt(q.shape[-1])
            e = np.exp(scores - scores.max())
            weights[index + (i,)][allowed] = e / e.sum()
            output[index + (i,)] = weights[index + (i,)] @ v[index]
    return output, weights


def sdpa_unscaled(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isneginf(row_max), 0.0, row_max))
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    return weights @ v, weights


def sdpa_mask_after_softmax(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    if mask is not None:
        weights = weights * mask
    return weights @ v, weights


def sdpa_softmax_over_queries(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-2, keepdims=True))
    weights = e / e.sum(axis=-2, keepdims=True)
    return weights @ v, weights


def sdpa_ignores_mask(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ v, weights


def sdpa_weights_first(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isneginf(row_max), 0.0, row_max))
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    return weights, weights @ v


def sdpa_transposed_weights(q, k, v, mask=None):
    scores = np.einsum("...kd,...qd->...kq", k, q) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(np.swapaxes(mask, -1, -2), scores, -np.inf)
    col_max = scores.max(axis=-2, keepdims=True)
    e = np.exp(scores - np.where(np.isneginf(col_max), 0.0, col_max))
    total = e.sum(axis=-2, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)  # (..., Tk, Tq)
    return np.swapaxes(weights, -1, -2) @ v, weights


def sdpa_nan_rows(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ v, weights


def sdpa_minus_1e9(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ v, weights


# 06 blockwise_attention -----------------------------------------------------------------------


def blockwise_einsum(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (t_q, t_k))
    m = np.full(batch + (t_q, 1), -np.inf)
    total = np.zeros(batch + (t_q, 1))
    out = np.zeros(batch + (t_q, v.shape[-1]))
    for start in range(0, t_k, block_size):
        stop = min(start + block_size, t_k)
        s = np.einsum("...qd,...kd->...qk", q, k[..., start:stop, :]) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(m_new == -np.inf, 0.0, m_new)
        p = np.exp(s - safe)
        alpha = np.exp(m - safe)
        total = alpha * total + p.sum(axis=-1, keepdims=True)
        out = alpha * out + np.einsum("...qk,...kd->...qd", p, v[..., start:stop, :])
        m = m_new
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 0.0)


def blockwise_logsumexp(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (t_q, t_k))
    lse = np.full(batch + (t_q, 1), -np.inf)  # log of the running sum of exp(scores)
    out = np.zeros(batch + (t_q, v.shape[-1]))  # normalised after every block
    for start in range(0, t_k, block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        block_max = s.max(axis=-1, keepdims=True)
        block_max = np.where(np.isfinite(block_max), block_max, 0.0)
        block_lse = block_max + np.log(np.exp(s - block_max).sum(axis=-1, keepdims=True))
        new_lse = np.logaddexp(lse, block_lse)
        shift = np.where(np.isfinite(new_lse), new_lse, 0.0)
        out = np.exp(lse - shift) * out + np.exp(s - shift) @ v[..., start:start + block_size, :]
        lse = new_lse
    return out


def blockwise_row_by_row(q, k, v, block_size, mask=None):
    """One query row at a time, with scalars m and ℓ as in the derivation."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    t_q, t_k, d_v = q.shape[-2], k.shape[-2], v.shape[-1]
    q = np.broadcast_to(q / np.sqrt(q.shape[-1]), batch + q.shape[-2:])
    k = np.broadcast_to(k, batch + k.shape[-2:])
    v = np.broadcast_to(v, batch + v.shape[-2:])
    allowed = np.broadcast_to(True if mask is None else mask, batch + (t_q, t_k))
    output = np.zeros(batch + (t_q, d_v))
    for *b, i in np.ndindex(*batch, t_q):
        b = tuple(b)
        query, keys, values, allowed_keys = q[b][i], k[b], v[b], allowed[b][i]
        m, total, acc = -np.inf, 0.0, np.zeros(d_v)
        for start in range(0, t_k, block_size):
            block = slice(start, start + block_size)
            s = keys[block] @ query
            if mask is not None:
                s = np.where(allowed_keys[block], s, -np.inf)
            new_m = max(m, s.max())
            if new_m == -np.inf:
                continue  # no allowed key yet: nothing to add
            p = np.exp(s - new_m)
            rescale = np.exp(m - new_m)
            total = rescale * total + p.sum()
            acc = rescale * acc + p @ values[block]
            m = new_m
        if total > 0:
            output[b + (i,)] = acc / total
    return output


def blockwise_no_rescale(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (t_q, t_k))
    m = np.full(batch + (t_q, 1), -np.inf)
    total = np.zeros(batch + (t_q, 1))
    out = np.zeros(batch + (t_q, v.shape[-1]))
    for start in range(0, t_k, block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        m = np.maximum(m, s.max(axis=-1, keepdims=True))
        p = np.exp(s - np.where(np.isfinite(m), m, 0.0))
        total = total + p.sum(axis=-1, keepdims=True)
        out = out + p @ v[..., start:start + block_size, :]
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 0.0)


def blockwise_full_blocks_only(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (t_q, t_k))
    m = np.full(batch + (t_q, 1), -np.inf)
    total = np.zeros(batch + (t_q, 1))
    out = np.zeros(batch + (t_q, v.shape[-1]))
    for start in range(0, t_k - block_size + 1, block_size):
        stop = start + block_size
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 0.0)


def blockwise_no_division(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (t_q, t_k))
    m = np.full(batch + (t_q, 1), -np.inf)
    out = np.zeros(batch + (t_q, v.shape[-1]))
    for start in range(0, t_k, block_size):
        stop = min(start + block_size, t_k)
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        out = np.exp(m - safe) * out + np.exp(s - safe) @ v[..., start:stop, :]
        m = m_new
    return out


def blockwise_average_of_blocks(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    mask = np.broadcast_to(True if mask is None else mask, batch + (t_q, t_k))
    outputs = []
    for start in range(0, t_k, block_size):
        stop = min(start + block_size, t_k)
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        s = np.where(mask[..., start:stop], s, -np.inf)
        row_max = s.max(axis=-1, keepdims=True)
        e = np.exp(s - np.where(np.isfinite(row_max), row_max, 0.0))
        total = e.sum(axis=-1, keepdims=True)
        weights = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
        outputs.append(weights @ v[..., start:stop, :])
    return sum(outputs) / len(outputs)


def blockwise_nan_after_masked_block(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (t_q, t_k))
    m = np.full(batch + (t_q, 1), -np.inf)
    total = np.zeros(batch + (t_q, 1))
    out = np.zeros(batch + (t_q, v.shape[-1]))
    for start in range(0, t_k, block_size):
        stop = min(start + block_size, t_k)
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        p = np.exp(s - m_new)
        total = np.exp(m - m_new) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - m_new) * out + p @ v[..., start:stop, :]
        m = m_new
    return out / total


def blockwise_nan_rows(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (t_q, t_k))
    m = np.full(batch + (t_q, 1), -np.inf)
    total = np.zeros(batch + (t_q, 1))
    out = np.zeros(batch + (t_q, v.shape[-1]))
    for start in range(0, t_k, block_size):
        stop = min(start + block_size, t_k)
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return out / total


def blockwise_no_max(q, k, v, block_size, mask=None):
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (t_q, t_k))
    total = np.zeros(batch + (t_q, 1))
    out = np.zeros(batch + (t_q, v.shape[-1]))
    for start in range(0, t_k, block_size):
        stop = min(start + block_size, t_k)
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        p = np.exp(s)
        total = total + p.sum(axis=-1, keepdims=True)
        out = out + p @ v[..., start:stop, :]
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 0.0)


def blockwise_full_matrix(q, k, v, block_size, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(row_max), row_max, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0) @ v


def blockwise_finite_start(q, k, v, block_size, mask=None):
    """The running max starts at -1e30, not -inf: exp(m - m') is then never NaN."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    allowed = None if mask is None else np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    q = q / np.sqrt(q.shape[-1])
    m = np.full(batch + (q.shape[-2], 1), -1e30)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    start = 0
    while start < k.shape[-2]:
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2)
        if allowed is not None:
            s = np.where(allowed[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        p = np.exp(s - m_new)
        total = np.exp(m - m_new) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - m_new) * out + p @ v[..., start:stop, :]
        m, start = m_new, stop
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)



def blockwise_max_never_updated(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        # m = m_new forgotten: m stays -inf
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_output_not_rescaled(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = out + p @ v[..., start:stop, :]  # the sum rescaled, the output not
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_sum_not_rescaled(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = total + p.sum(axis=-1, keepdims=True)  # the output rescaled, the sum not
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_blocks_of_queries(q, k, v, block_size, mask=None):
    """The loop counts blocks up to Tq, the number of queries, and slices the keys with it."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, q.shape[-2], block_size):
        stop = min(start + block_size, q.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_mask_rows_sliced(q, k, v, block_size, mask=None):
    m = np.full((*q.shape[:-1], 1), -np.inf)
    total = np.zeros((*q.shape[:-1], 1))
    out = np.zeros((*q.shape[:-1], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop, :], s, -np.inf)  # the query axis sliced
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_mask_second_axis(q, k, v, block_size, mask=None):
    """Written for a 2-D mask (Tq, Tk): mask[:, start:stop] slices axis 1, whatever its rank."""
    m = np.full((*q.shape[:-1], 1), -np.inf)
    total = np.zeros((*q.shape[:-1], 1))
    out = np.zeros((*q.shape[:-1], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[:, start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_global_max(q, k, v, block_size, mask=None):
    """One running max for every row at once: a scalar."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = -np.inf
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = max(m, s.max())
        safe = m_new if np.isfinite(m_new) else 0.0
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_unscaled(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2)  # no 1/√d_k
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_over_dk(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / q.shape[-1]
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_mask_inverted(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], -np.inf, s)  # True taken as "hide"
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_mask_ignored(q, k, v, block_size, mask=None):
    m = np.full((*q.shape[:-1], 1), -np.inf)
    total = np.zeros((*q.shape[:-1], 1))
    out = np.zeros((*q.shape[:-1], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        p = np.exp(s - m_new)
        total = np.exp(m - m_new) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - m_new) * out + p @ v[..., start:stop, :]
        m = m_new
    return out / total


def blockwise_step_of_one(q, k, v, block_size, mask=None):
    """range(0, Tk) without its step: the blocks overlap and count keys several times."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(k.shape[-2]):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_dot_t(q, k, v, block_size, mask=None):
    """k_block.T reverses every axis of a batched block, not only the last two."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ k[..., start:stop, :].T / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:stop, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_all_values(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        stop = min(start + block_size, k.shape[-2])
        s = q @ np.swapaxes(k[..., start:stop, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v  # every value, not the block's
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_divided_each_block(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:start + block_size, :]
        out = np.divide(out, total, out=np.zeros_like(out), where=total > 0)
        m = m_new
    return out

def blockwise_slice_one_short(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        end = start + block_size - 1  # one key short: the slice's end is already left out
        s = q @ np.swapaxes(k[..., start:end, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:end], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True, initial=-np.inf))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:end, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def blockwise_mask_multiplied(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = s * mask[..., start:start + block_size]  # a masked score of 0 still counts
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        p = np.exp(s - m_new)
        total = np.exp(m - m_new) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - m_new) * out + p @ v[..., start:start + block_size, :]
        m = m_new
    return out / total


def blockwise_scaled_by_dv(q, k, v, block_size, mask=None):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    m = np.full(batch + (q.shape[-2], 1), -np.inf)
    total = np.zeros(batch + (q.shape[-2], 1))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for start in range(0, k.shape[-2], block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2) / np.sqrt(v.shape[-1])
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(m_new), m_new, 0.0)
        p = np.exp(s - safe)
        total = np.exp(m - safe) * total + p.sum(axis=-1, keepdims=True)
        out = np.exp(m - safe) * out + p @ v[..., start:start + block_size, :]
        m = m_new
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


# 05 sinusoidal_encoding -----------------------------------------------------------------------


def sinusoidal_encoding_outer(T, d):
    inverse_wavelengths = np.exp(-np.log(10000.0) * np.arange(0, d, 2) / d)
    angles = np.outer(np.arange(T), inverse_wavelengths)
    encoding = np.zeros((T, d))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles[:, : d // 2])
    return encoding


def sinusoidal_encoding_loops(T, d):
    encoding = np.zeros((T, d))
    for t in range(T):
        for j in range(d):
            angle = t / 10000 ** (2 * (j // 2) / d)
            encoding[t, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return encoding


def sinusoidal_encoding_float32(T, d):
    positions = np.arange(T, dtype=np.float32)[:, None]
    frequencies = np.float32(10000.0) ** (-np.arange(0, d, 2, dtype=np.float32) / np.float32(d))
    angles = positions * frequencies
    encoding = np.zeros((T, d), dtype=np.float32)
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles[:, : d // 2])
    return encoding


def sinusoidal_encoding_stacked(T, d):
    i = np.arange((d + 1) // 2)
    angles = np.arange(T)[:, None] / 10000 ** (2 * i / d)
    pairs = np.stack([np.sin(angles), np.cos(angles)], axis=-1)  # (T, pairs, 2)
    return pairs.reshape(T, -1)[:, :d]


def sinusoidal_encoding_swapped(T, d):
    angles = np.arange(T)[:, None] / 10000 ** (2 * (np.arange(d) // 2) / d)
    return np.where(np.arange(d) % 2 == 0, np.cos(angles), np.sin(angles))


def sinusoidal_encoding_per_column(T, d):
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(d) / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def sinusoidal_encoding_pair_index(T, d):
    angles = np.arange(T)[:, None] / 10000 ** ((np.arange(d) // 2) / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def sinusoidal_encoding_halves(T, d):
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)[:, :d]


def sinusoidal_encoding_from_one(T, d):
    angles = np.arange(1, T + 1)[:, None] / 10000 ** (2 * (np.arange(d) // 2) / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def sinusoidal_encoding_d_by_t(T, d):
    columns = np.arange(d)[:, None]
    angles = np.arange(T)[None, :] / 10000 ** (2 * (columns // 2) / d)
    return np.where(columns % 2 == 0, np.sin(angles), np.cos(angles))


def sinusoidal_encoding_base_1000(T, d):
    angles = np.arange(T)[:, None] / 1000 ** (2 * (np.arange(d) // 2) / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def sinusoidal_encoding_tutorial(T, d):
    # the TensorFlow tutorial's way: one angle per column, then sin/cos in place
    def get_angles(pos, i, d_model):
        angle_rates = 1 / np.power(10000, (2 * (i // 2)) / np.float32(d_model))
        return pos * angle_rates

    angle_rads = get_angles(np.arange(T)[:, np.newaxis], np.arange(d)[np.newaxis, :], d)
    angle_rads[:, 0::2] = np.sin(angle_rads[:, 0::2])
    angle_rads[:, 1::2] = np.cos(angle_rads[:, 1::2])
    return angle_rads


def sinusoidal_encoding_comprehension(T, d):
    table = np.array([[pos / np.power(10000, 2 * (j // 2) / d) for j in range(d)]
                      for pos in range(T)])
    return np.where(np.arange(d) % 2 == 0, np.sin(table), np.cos(table))


def sinusoidal_encoding_div_term(T, d):
    position = np.arange(0, T, dtype=np.float64).reshape(-1, 1)
    div_term = np.exp(np.arange(0, d, 2) * (-np.log(10000.0) / d))
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(position * div_term)
    pe[:, 1::2] = np.cos(position * div_term)[:, : d // 2]
    return pe


def sinusoidal_encoding_two_pi(T, d):
    angles = 2 * np.pi * np.arange(T)[:, None] / 10000 ** (2 * (np.arange(d) // 2) / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def sinusoidal_encoding_over_wavelength(T, d):
    wavelengths = 2 * np.pi * 10000 ** (np.arange(0, d, 2) / d)
    angles = np.arange(T)[:, None] / wavelengths
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_times_power(T, d):
    angles = np.arange(T)[:, None] * 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_doubled_exponent(T, d):
    two_i = np.arange(0, d, 2)
    angles = np.arange(T)[:, None] / np.power(10000, 2 * two_i / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_over_length(T, d):
    positions = np.arange(T)[:, None] / T
    angles = positions / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_sines_only(T, d):
    angles = np.arange(T)[:, None] / 10000 ** (2 * (np.arange(d) // 2) / d)
    return np.sin(angles)


def sinusoidal_encoding_odd_crash(T, d):
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe


def sinusoidal_encoding_pair_loop(T, d):
    pe = np.zeros((T, d))
    for i in range(d // 2):
        angle = np.arange(T) / 10000 ** (2 * i / d)
        pe[:, 2 * i] = np.sin(angle)
        pe[:, 2 * i + 1] = np.cos(angle)
    return pe


def sinusoidal_encoding_integers(T, d):
    positions = np.arange(T)[:, None]
    angles = positions / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros_like(positions, shape=(T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_d_first(d, T):
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_base_1e5(T, d):
    angles = np.arange(T)[:, None] / 1e5 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_odd_columns_exponent(T, d):
    # the exponent from the cosine's column, 2i + 1, for both columns of a pair
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(1, d + 1, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_blog_loop(T, d):
    # a popular blog post's loop: the column's own index in the exponent
    pe = np.zeros((T, d))
    for pos in range(T):
        for i in range(0, d, 2):
            pe[pos, i] = np.sin(pos / (10000 ** ((2 * i) / d)))
            if i + 1 < d:
                pe[pos, i + 1] = np.cos(pos / (10000 ** ((2 * (i + 1)) / d)))
    return pe


def sinusoidal_encoding_batched(T, d):
    # the TensorFlow tutorial's return value: a batch axis in front
    angles = np.arange(T)[:, np.newaxis] / np.power(10000, 2 * (np.arange(d) // 2) / d)
    angles[:, 0::2] = np.sin(angles[:, 0::2])
    angles[:, 1::2] = np.cos(angles[:, 1::2])
    return angles[np.newaxis, ...]


def sinusoidal_encoding_degrees(T, d):
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(np.deg2rad(angles))
    pe[:, 1::2] = np.cos(np.deg2rad(angles[:, : d // 2]))
    return pe


def sinusoidal_encoding_extra_row(T, d):
    angles = np.arange(T + 1)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T + 1, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_float16(T, d):
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d), dtype=np.float16)
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_sines_of_pairs(T, d):
    # one column per pair: the sines alone, never interleaved with the cosines
    return np.sin(np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d))


def sinusoidal_encoding_scaled(T, d):
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe * np.sqrt(d)


def sinusoidal_encoding_countdown(T, d):
    angles = np.arange(T - 1, -1, -1)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def sinusoidal_encoding_cos_as_shifted_sin(T, d):
    # cos a written as sin(a - π/2), which is -cos a
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.sin(angles[:, : d // 2] - np.pi / 2)
    return pe



def sinusoidal_encoding_even_width(T, d):
    # an odd d made even, d + 1 columns, then cut back to d
    width = d + d % 2
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, width, 2) / width)
    pe = np.zeros((T, width))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe[:, :d]

# 09 attention_backward ------------------------------------------------------------------------


def backward_einsum(q, k, v, d_out, mask=None):
    scale = 1 / np.sqrt(q.shape[-1])
    s = np.einsum("...qd,...kd->...qk", q, k) * scale
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    dv = np.einsum("...qk,...qd->...kd", a, d_out)
    da = np.einsum("...qd,...kd->...qk", d_out, v)
    ds = a * da - a * np.einsum("...qk,...qk->...q", a, da)[..., None]
    return (np.einsum("...qk,...kd->...qd", ds, k) * scale,
            np.einsum("...qk,...qd->...kd", ds, q) * scale, dv)


def backward_row_jacobians(q, k, v, d_out, mask=None):
    """The softmax's Jacobian diag(a) - a aᵀ built row by row, in loops."""
    t_q, t_k = q.shape[-2], k.shape[-2]
    batch = q.shape[:-2]
    mask = np.broadcast_to(True if mask is None else mask, (*batch, t_q, t_k))
    dq, dk, dv = np.zeros(q.shape), np.zeros(k.shape), np.zeros(v.shape)
    for index in np.ndindex(*batch):
        for i in range(t_q):
            allowed = mask[index][i]
            if not allowed.any():
                continue
            s = k[index] @ q[index][i] / np.sqrt(q.shape[-1])
            s = np.where(allowed, s, -np.inf)
            a = np.exp(s - s[allowed].max())
            a = a / a.sum()
            jacobian = np.diag(a) - np.outer(a, a)
            dv[index] += np.outer(a, d_out[index][i])
            ds = jacobian @ (v[index] @ d_out[index][i])
            dq[index][i] = ds @ k[index] / np.sqrt(q.shape[-1])
            dk[index] += np.outer(ds, q[index][i]) / np.sqrt(q.shape[-1])
    return dq, dk, dv


def backward_float32(q, k, v, d_out, mask=None):
    q, k, v, d_out = (x.astype(np.float32) for x in (q, k, v, d_out))
    scale = np.float32(1 / np.sqrt(q.shape[-1]))
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = np.where(mask, s, np.float32(-np.inf))
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, np.float32(0)))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    dv = np.swapaxes(a, -1, -2) @ d_out
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, dv


def backward_no_rowsum(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    ds = a * (d_out @ np.swapaxes(v, -1, -2))  # the row sum forgotten
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_unscaled(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, np.swapaxes(a, -1, -2) @ d_out


def backward_dk_untransposed(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, ds @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_dv_untransposed(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, a @ d_out


def backward_returns_ds(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_mask_forgotten(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # the mask never applied
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    a = e / e.sum(axis=-1, keepdims=True)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_nan_rows(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))  # -inf - (-inf) = NaN in a masked row
    a = e / e.sum(axis=-1, keepdims=True)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_flash_rowsum(q, k, v, d_out, mask=None):
    """rowsum(dA ⊙ A) = rowsum(dO ⊙ O), as FlashAttention computes it."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    out = a @ v
    delta = np.sum(d_out * out, axis=-1, keepdims=True)  # (..., Tq, 1)
    ds = a * (d_out @ np.swapaxes(v, -1, -2) - delta)
    return (ds @ k / np.sqrt(q.shape[-1]), np.swapaxes(ds, -1, -2) @ q / np.sqrt(q.shape[-1]),
            np.swapaxes(a, -1, -2) @ d_out)


def backward_full_jacobian(q, k, v, d_out, mask=None):
    """The softmax's Jacobian of every row at once, (..., Tq, Tk, Tk), then one einsum."""
    s = np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])
    allowed = np.broadcast_to(True if mask is None else mask, s.shape)
    s = np.where(allowed, s, -np.inf)
    m = np.max(s, axis=-1, keepdims=True)
    e = np.exp(s - np.nan_to_num(m, neginf=0.0))
    a = np.nan_to_num(e / e.sum(axis=-1, keepdims=True))
    jacobian = a[..., :, None] * np.eye(k.shape[-2]) - a[..., :, None] * a[..., None, :]
    ds = np.einsum("...qij,...qj->...qi", jacobian, np.einsum("...qd,...kd->...qk", d_out, v))
    return (np.einsum("...qk,...kd->...qd", ds, k) / np.sqrt(q.shape[-1]),
            np.einsum("...qk,...qd->...kd", ds, q) / np.sqrt(q.shape[-1]),
            np.einsum("...qk,...qd->...kd", a, d_out))


def backward_rowsum_over_queries(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-2, keepdims=True))  # summed over the queries
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_rowsum_no_keepdims(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1))  # (..., Tq) lines up with the keys' axis
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_rowsum_without_weights(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - da.sum(axis=-1, keepdims=True))  # rowsum(dA), not rowsum(dA ⊙ A)
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_rowsum_outside(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * da - (da * a).sum(axis=-1, keepdims=True)  # the row sum not multiplied by A
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_scale_multiplied(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = np.sqrt(q.shape[-1])  # multiplied by √d_k
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_scaled_twice(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True)) / np.sqrt(q.shape[-1])
    scale = 1 / np.sqrt(q.shape[-1])  # a second time: dq and dk over d_k
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_minus_1e9(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -1e9)  # a fully masked row gets uniform weights
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    a = e / e.sum(axis=-1, keepdims=True)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_dv_from_scores(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    scores = q @ np.swapaxes(k, -1, -2) * scale
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(scores, -1, -2) @ d_out


def backward_dq_k_transposed(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    dq = ds @ np.swapaxes(k, -1, -2) * scale  # kᵀ as in the forward pass
    return dq, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_dot_t(q, k, v, d_out, mask=None):
    """.T to transpose: on (B, H, Tq, Tk) it reverses all four axes."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    dv = a.T @ d_out
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, ds.T @ q * scale, dv


def backward_q_k_swapped(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ q * scale, np.swapaxes(ds, -1, -2) @ k * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_da_v_untransposed(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ v  # v not transposed
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_in_computing_order(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    dv = np.swapaxes(a, -1, -2) @ d_out
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return dv, np.swapaxes(ds, -1, -2) @ q * scale, ds @ k * scale  # (dv, dk, dq)


def backward_weights_unscaled(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2)  # the forward pass recomputed without 1/√d_k
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_overflowing(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(s) if mask is None else np.where(mask, np.exp(s), 0.0)  # no max subtracted
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_mask_on_ds(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    a = e / e.sum(axis=-1, keepdims=True)  # forward weights unmasked
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    if mask is not None:
        ds = ds * mask
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_dv_times_scale(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return (ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale,
            np.swapaxes(a, -1, -2) @ d_out * scale)

def backward_ds_sign_flipped(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * ((da * a).sum(axis=-1, keepdims=True) - da)  # the two terms the wrong way round
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_softmax_skipped(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    a = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    ds = d_out @ np.swapaxes(v, -1, -2)  # dA taken for dS
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


def backward_mask_after_softmax(q, k, v, d_out, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    a = e / e.sum(axis=-1, keepdims=True)
    if mask is not None:
        a = a * mask  # zeroed after the softmax, not renormalised
    da = d_out @ np.swapaxes(v, -1, -2)
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    scale = 1 / np.sqrt(q.shape[-1])
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(a, -1, -2) @ d_out


# 10 nadaraya_watson ----------------------------------------------------------------------------


def nw_loops(x_query, x_train, y_train, width):
    x_query, x_train, y_train = (np.asarray(a, dtype=float) for a in (x_query, x_train, y_train))
    y_hat = np.zeros(x_query.shape)
    for index in np.ndindex(*x_query.shape[:-1]):
        for i, x in enumerate(x_query[index]):
            scores = [-(x - x_i) ** 2 / (2 * width**2) for x_i in x_train[index]]
            top = max(scores)
            kernel = [np.exp(s - top) for s in scores]
            total = sum(w * y for w, y in zip(kernel, y_train[index], strict=True))
            y_hat[index][i] = total / sum(kernel)
    return y_hat


def nw_logsumexp(x_query, x_train, y_train, width):
    """log-weights = scores − logsumexp(scores), the logsumexp written out."""
    scores = -np.square(x_query[..., :, None] - x_train[..., None, :]) / (2 * width**2)
    top = scores.max(axis=-1, keepdims=True)
    log_norm = top + np.log(np.exp(scores - top).sum(axis=-1, keepdims=True))
    return np.einsum("...qn,...n->...q", np.exp(scores - log_norm), y_train)


def nw_float32(x_query, x_train, y_train, width):
    x_query, x_train, y_train = (a.astype(np.float32) for a in (x_query, x_train, y_train))
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / np.float32(2 * width**2)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_over_queries(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2)
    e = np.exp(scores - scores.max(axis=-2, keepdims=True))
    weights = e / e.sum(axis=-2, keepdims=True)  # over the queries
    return (weights * y_train[..., None, :]).sum(axis=-1)


def nw_width_not_squared(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_width_without_two(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / width**2
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_positive_distance(x_query, x_train, y_train, width):
    scores = (x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_kernel_sum(x_query, x_train, y_train, width):
    kernel = np.exp(-(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2))
    return (kernel * y_train[..., None, :]).sum(axis=-1)  # never normalised


def nw_unstable(x_query, x_train, y_train, width):
    e = np.exp(-(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)  # 0/0 for a tiny width


def nw_gaussian_density(x_query, x_train, y_train, width):
    """The kernel as a normalised Gaussian density: its constant 1/(w√(2π)) cancels."""
    distance = np.subtract.outer(x_query, x_train) if x_query.ndim == 1 else (
        x_query[..., :, None] - x_train[..., None, :])
    log_kernel = -0.5 * (distance / width) ** 2 - np.log(width * np.sqrt(2 * np.pi))
    kernel = np.exp(log_kernel - log_kernel.max(axis=-1, keepdims=True))
    return np.sum(kernel * y_train[..., None, :], axis=-1) / np.sum(kernel, axis=-1)


def nw_absolute_distance(x_query, x_train, y_train, width):
    scores = -np.abs(x_query[..., :, None] - x_train[..., None, :]) / (2 * width**2)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_signed_distance(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) / (2 * width**2)  # not squared
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_width_multiplied(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / 2 * width**2  # precedence
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_returns_weights(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # the weights, not ŷ


def nw_averages_x_train(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * x_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)  # x_train as the values


def nw_matmul_targets(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ y_train  # a batch of y_train read as a matrix


def nw_max_without_keepdims(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2)
    e = np.exp(scores - scores.max(axis=-1))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_global_max(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width**2)
    e = np.exp(scores - scores.max())  # one max for every query
    total = e.sum(axis=-1)
    return np.divide((e * y_train[..., None, :]).sum(axis=-1), total,
                     out=np.zeros_like(total), where=total > 0)


def nw_two_w_all_squared(x_query, x_train, y_train, width):
    scores = -(x_query[..., :, None] - x_train[..., None, :]) ** 2 / (2 * width) ** 2
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e * y_train[..., None, :]).sum(axis=-1) / e.sum(axis=-1)


def nw_pairs_not_broadcast(x_query, x_train, y_train, width):
    scores = -(x_query - x_train) ** 2 / (2 * width**2)  # query i against point i only
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) * y_train

def nw_loop_over_queries(x_query, x_train, y_train, width):
    predictions = []
    for x in x_query:  # one query at a time: one curve only
        scores = -(x - x_train) ** 2 / (2 * width**2)
        e = np.exp(scores - scores.max())
        predictions.append((e / e.sum()) @ y_train)
    return np.array(predictions)


# 10 additive_scores ----------------------------------------------------------------------------


def additive_einsum(q, k, w_q, w_k, v):
    features = np.tanh(np.einsum("...qd,dh->...qh", q, w_q)[..., :, None, :]
                       + np.einsum("...kd,dh->...kh", k, w_k)[..., None, :, :])
    return np.einsum("...qkh,h->...qk", features, v)


def additive_loops(q, k, w_q, w_k, v):
    scores = np.zeros((*q.shape[:-1], k.shape[-2]))
    for index in np.ndindex(*q.shape[:-2]):
        for i, q_i in enumerate(q[index]):
            for j, k_j in enumerate(k[index]):
                scores[index][i, j] = np.dot(v, np.tanh(q_i @ w_q + k_j @ w_k))
    return scores


def additive_float32(q, k, w_q, w_k, v):
    q, k, w_q, w_k, v = (a.astype(np.float32) for a in (q, k, w_q, w_k, v))
    return np.tanh(np.expand_dims(q @ w_q, -2) + np.expand_dims(k @ w_k, -3)) @ v


def additive_tanh_last(q, k, w_q, w_k, v):
    return np.tanh(((q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :]) @ v)


def additive_linear(q, k, w_q, w_k, v):
    return ((q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :]) @ v  # no tanh


def additive_transposed(q, k, w_q, w_k, v):
    return np.tanh((q @ w_q)[..., None, :, :] + (k @ w_k)[..., :, None, :]) @ v  # (..., Tk, Tq)


def additive_position_by_position(q, k, w_q, w_k, v):
    return np.tanh(q @ w_q + k @ w_k) @ v  # query i meets key i only


def additive_swapped(q, k, w_q, w_k, v):
    return np.tanh((q @ w_k)[..., :, None, :] + (k @ w_q)[..., None, :, :]) @ v


def additive_concatenated(q, k, w_q, w_k, v):
    """[q_i ; k_j] @ [W_q ; W_k]: the concatenation form of the same score."""
    t_q, t_k = q.shape[-2], k.shape[-2]
    pairs = np.concatenate([np.broadcast_to(q[..., :, None, :], (*q.shape[:-1], t_k, q.shape[-1])),
                            np.broadcast_to(k[..., None, :, :], (*k.shape[:-2], t_q, t_k,
                                                                 k.shape[-1]))], axis=-1)
    return np.tanh(pairs @ np.concatenate([w_q, w_k], axis=0)) @ v


def additive_tanh_each(q, k, w_q, w_k, v):
    return (np.tanh(q @ w_q)[..., :, None, :] + np.tanh(k @ w_k)[..., None, :, :]) @ v


def additive_v_ignored(q, k, w_q, w_k, v):
    return np.tanh((q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :]).sum(axis=-1)


def additive_scaled(q, k, w_q, w_k, v):
    features = np.tanh((q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :])
    return features @ v / np.sqrt(v.shape[-1])  # scaled as dot-product scores are


def additive_multiplied(q, k, w_q, w_k, v):
    return np.tanh((q @ w_q)[..., :, None, :] * (k @ w_k)[..., None, :, :]) @ v


def additive_weights_transposed(q, k, w_q, w_k, v):
    return np.tanh((q @ w_q.T)[..., :, None, :] + (k @ w_k.T)[..., None, :, :]) @ v


def additive_v_first(q, k, w_q, w_k, v):
    return v @ np.tanh((q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :])


def additive_column_vectors(q, k, w_q, w_k, v):
    """W q as in the paper's column convention: the matrix on the left."""
    return np.tanh((w_q @ q)[..., :, None, :] + (w_k @ k)[..., None, :, :]) @ v


def additive_one_projection(q, k, w_q, w_k, v):
    return np.tanh((q @ w_q)[..., :, None, :] + (k @ w_q)[..., None, :, :]) @ v  # w_k unused


def additive_softmaxed(q, k, w_q, w_k, v):
    scores = np.tanh((q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :]) @ v
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # the weights, not the scores

def additive_relu(q, k, w_q, w_k, v):
    return np.maximum((q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :], 0.0) @ v


# 11 attend_step --------------------------------------------------------------------------------


def attend_step_einsum(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_running_max(q_t, k_cache, v_cache):
    """One pass over the cached positions with a running max, sum and output (lesson 08)."""
    top = np.full((*q_t.shape[:-1], 1), -np.inf)
    total = np.zeros((*q_t.shape[:-1], 1))
    output = np.zeros((*q_t.shape[:-1], v_cache.shape[-1]))
    for j in range(k_cache.shape[-2]):
        score = np.sum(q_t * k_cache[..., j, :], axis=-1, keepdims=True) / np.sqrt(q_t.shape[-1])
        new_top = np.maximum(top, score)
        rescale, p = np.exp(top - new_top), np.exp(score - new_top)
        total = rescale * total + p
        output = rescale * output + p * v_cache[..., j, :]
        top = new_top
    return output / total


def attend_step_float32(q_t, k_cache, v_cache):
    """float32 arithmetic, and a float32 result: the text promises float64 for float64 inputs."""
    q_t, k_cache, v_cache = (a.astype(np.float32) for a in (q_t, k_cache, v_cache))
    scores = (k_cache @ q_t[..., :, None])[..., 0] / np.float32(np.sqrt(q_t.shape[-1]))
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e[..., None] * v_cache).sum(axis=-2) / e.sum(axis=-1, keepdims=True)


def attend_step_causal_attention(q_t, k_cache, v_cache):
    """Full causal attention over the cache with q_t as the last position's query: its last row
    (the earlier positions' queries are zeros, their rows thrown away)."""
    length, d_k = k_cache.shape[-2], q_t.shape[-1]
    earlier = np.zeros((*q_t.shape[:-1], length - 1, d_k))
    q = np.concatenate([earlier, q_t[..., None, :]], axis=-2)  # (..., t+1, d_k)
    scores = q @ np.swapaxes(k_cache, -1, -2) / np.sqrt(d_k)  # (..., t+1, t+1)
    scores = np.where(np.tril(np.ones((length, length), dtype=bool)), scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True) @ v_cache)[..., -1, :]


def attend_step_unscaled(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_over_length(q_t, k_cache, v_cache):
    length = k_cache.shape[-2]
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(length)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_softmax_axis_0(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=0))  # right for one query (t+1,), not for a batch
    return np.einsum("...t,...tv->...v", e / e.sum(axis=0), v_cache)


def attend_step_without_newest(q_t, k_cache, v_cache):
    k_cache, v_cache = k_cache[..., :-1, :], v_cache[..., :-1, :]  # the cache before the step
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_newest_only(q_t, k_cache, v_cache):
    k_t, v_t = k_cache[..., -1:, :], v_cache[..., -1:, :]  # the newest token's own key and value
    scores = np.einsum("...d,...td->...t", q_t, k_t) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_t)


def attend_step_exp_only(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    return np.einsum("...t,...tv->...v", np.exp(scores), v_cache)


def attend_step_overflowing(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores)
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_query_row(q_t, k_cache, v_cache):
    q = q_t[..., None, :]  # (..., 1, d_k): one query row, as in lesson 03
    scores = q @ np.swapaxes(k_cache, -1, -2) / np.sqrt(q_t.shape[-1])  # (..., 1, t+1)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v_cache  # (..., 1, d_v): the row kept


def attend_step_loop_over_positions(q_t, k_cache, v_cache):
    """A Python loop over the cached positions for the scores; the softmax of lesson 02."""
    scores = np.stack([np.sum(q_t * k_cache[..., j, :], axis=-1)
                       for j in range(k_cache.shape[-2])], axis=-1) / np.sqrt(q_t.shape[-1])
    weights = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
    weights = weights / np.sum(weights, axis=-1, keepdims=True)
    return np.sum(weights[..., None] * v_cache, axis=-2)


def attend_step_float32_cast_back(q_t, k_cache, v_cache):
    """float32 arithmetic, the result cast back to the inputs' float64."""
    q, k, v = (np.asarray(a, dtype=np.float32) for a in (q_t, k_cache, v_cache))
    scores = np.einsum("...d,...td->...t", q, k) / np.float32(np.sqrt(q.shape[-1]))
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    out = np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v)
    return out.astype(q_t.dtype)


def attend_step_scale_by_value_width(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(v_cache.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_divide_by_dk(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / q_t.shape[-1]
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_times_sqrt_dk(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) * np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_global_max(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - np.max(scores))  # one max for the whole batch
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), v_cache)


def attend_step_max_without_keepdims(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - np.max(scores, axis=-1))  # (..., t+1) - (...,)
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1), v_cache)


def attend_step_softmax_over_heads(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-2, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-2, keepdims=True), v_cache)


def attend_step_weights_as_matrix(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v_cache  # (..., t+1) is no row here


def attend_step_keys_values_swapped(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, v_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...t,...tv->...v", e / e.sum(axis=-1, keepdims=True), k_cache)


def attend_step_transposed_with_t(q_t, k_cache, v_cache):
    scores = q_t @ k_cache.T / np.sqrt(q_t.shape[-1])  # .T reverses every axis
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v_cache


def attend_step_weights_returned(q_t, k_cache, v_cache):
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attend_step_with_weights(q_t, k_cache, v_cache):
    """Lesson 03's habit: (output, weights)."""
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / np.sqrt(q_t.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return np.einsum("...t,...tv->...v", weights, v_cache), weights


VARIANTS = {
    "dot_product": {
        "right": [dot_product_loop, dot_product_einsum],
        "wrong": [
            (dot_product_elementwise, "dot_elementwise"),
            (dot_product_sum_times_sum, "dot_sum_times_sum"),
            (dot_product_sum_of_sums, "dot_sum_of_sums"),
            (dot_product_lengths, "dot_norm_product"),
            (dot_product_cosine, "dot_cosine"),
        ],
    },
    "attention_scores": {
        "right": [attention_scores_einsum, attention_scores_float32, attention_scores_loops],
        "wrong": [
            (attention_scores_unscaled, "no_scaling"),
            (attention_scores_over_dk, "divide_by_dk"),
            (attention_scores_over_tk, "scale_by_tk"),
            (attention_scores_k_q, "k_times_q"),
            (attention_scores_times_sqrt, "multiply_by_sqrt_dk"),
        ],
    },
    "softmax": {
        "right": [softmax_logsumexp, softmax_float32, softmax_loops],
        "wrong": [
            (softmax_columns, "softmax_wrong_axis"),
            (softmax_last_axis_only, "softmax_ignores_axis"),
            (softmax_whole_array, "softmax_global"),
            (softmax_without_keepdims, "softmax_no_keepdims"),
            (softmax_overflowing, "softmax_unstable"),
            (softmax_exp_only, "softmax_no_normalise"),
            (softmax_without_exp, "softmax_no_exp"),
        ],
    },
    "masked_softmax": {
        "right": [masked_softmax_where, masked_softmax_loops],
        "wrong": [
            (masked_softmax_mask_after, "mask_after_softmax"),
            (masked_softmax_inverted, "mask_inverted"),
            (masked_softmax_times_mask, "mask_multiplied"),
            (masked_softmax_ignores_mask, "mask_ignored"),
            (masked_softmax_nan_rows, "mask_fully_masked_nan"),
            (masked_softmax_minus_1e9, "mask_large_negative"),
        ],
    },
    "causal_mask": {
        "right": [causal_mask_compare, causal_mask_loops, causal_mask_tri],
        "wrong": [
            (causal_mask_triu, "causal_upper"),
            (causal_mask_future, "causal_inverted"),
            (causal_mask_strict, "causal_strict"),
            (causal_mask_everything, "causal_all_true"),
            (causal_mask_ones, "mask_not_bool"),
        ],
    },
    "padding_mask": {
        "right": [padding_mask_broadcast, padding_mask_loops],
        "wrong": [
            (padding_mask_inverted, "padding_inverted"),
            (padding_mask_off_by_one, "padding_off_by_one"),
            (padding_mask_2d, "padding_no_query_axis"),
            (padding_mask_query_axis, "padding_wrong_axis"),
            (padding_mask_ints, "mask_not_bool"),
        ],
    },
    "weighted_sum": {
        "right": [weighted_sum_einsum, weighted_sum_broadcast, weighted_sum_float32],
        "wrong": [
            (weighted_sum_transposed, "weights_transposed"),
            (weighted_sum_v_first, "v_times_weights"),
            (weighted_sum_elementwise, "weights_elementwise"),
            (weighted_sum_mean, "values_mean"),
        ],
    },
    "scaled_dot_product_attention": {
        "right": [sdpa_einsum, sdpa_float32, sdpa_loops],
        "wrong": [
            (sdpa_unscaled, "no_scaling"),
            (sdpa_mask_after_softmax, "mask_after_softmax"),
            (sdpa_softmax_over_queries, "softmax_wrong_axis"),
            (sdpa_ignores_mask, "mask_ignored"),
            (sdpa_weights_first, "returns_weights_first"),
            (sdpa_transposed_weights, "returns_transposed_weights"),
            (sdpa_nan_rows, "mask_fully_masked_nan"),
            (sdpa_minus_1e9, "mask_large_negative"),
        ],
    },
    "sinusoidal_encoding": {
        "right": [sinusoidal_encoding_outer, sinusoidal_encoding_loops,
                  sinusoidal_encoding_float32, sinusoidal_encoding_stacked,
                  sinusoidal_encoding_tutorial, sinusoidal_encoding_comprehension,
                  sinusoidal_encoding_div_term],
        "wrong": [
            (sinusoidal_encoding_swapped, "pe_sin_cos_swapped"),
            (sinusoidal_encoding_halves, "pe_halves_concatenated"),
            (sinusoidal_encoding_from_one, "pe_positions_from_one"),
            (sinusoidal_encoding_d_by_t, "pe_transposed"),
            (sinusoidal_encoding_per_column, "pe_frequency_per_column"),
            (sinusoidal_encoding_pair_index, "pe_exponent_i_over_d"),
            (sinusoidal_encoding_base_1000, "pe_wrong_base"),
            (sinusoidal_encoding_two_pi, "pe_two_pi"),
            (sinusoidal_encoding_over_wavelength, "pe_divided_by_wavelength"),
            (sinusoidal_encoding_times_power, "pe_frequency_inverted"),
            (sinusoidal_encoding_doubled_exponent, "pe_exponent_doubled"),
            (sinusoidal_encoding_over_length, "pe_positions_over_length"),
            (sinusoidal_encoding_sines_only, "pe_sines_only"),
            (sinusoidal_encoding_odd_crash, "pe_odd_d_cosines"),
            (sinusoidal_encoding_pair_loop, "pe_odd_d_last_column_zero"),
            (sinusoidal_encoding_integers, "pe_integer_array"),
            (sinusoidal_encoding_d_first, "pe_arguments_swapped"),
            (sinusoidal_encoding_base_1e5, "pe_wrong_base"),
            (sinusoidal_encoding_odd_columns_exponent, "pe_wrong_frequencies"),
            (sinusoidal_encoding_degrees, "pe_wrong_frequencies"),
            (sinusoidal_encoding_blog_loop, "pe_exponent_2j_over_d"),
            (sinusoidal_encoding_batched, "pe_batch_axis"),
            (sinusoidal_encoding_extra_row, "pe_one_row_too_many"),
            (sinusoidal_encoding_float16, "pe_half_precision"),
            (sinusoidal_encoding_sines_of_pairs, "pe_one_column_per_pair"),
            (sinusoidal_encoding_scaled, "pe_scaled_by_sqrt_d"),
            (sinusoidal_encoding_countdown, "pe_positions_reversed"),
            (sinusoidal_encoding_cos_as_shifted_sin, "pe_cosines_negated"),
            (sinusoidal_encoding_even_width, "pe_odd_d_from_d_plus_one"),
        ],
    },
    "attention_backward": {
        "right": [backward_einsum, backward_row_jacobians, backward_float32,
                  backward_flash_rowsum, backward_full_jacobian],
        "wrong": [
            (backward_no_rowsum, "grad_softmax_no_rowsum"),
            (backward_unscaled, "grad_no_scaling"),
            (backward_dk_untransposed, "grad_dk_not_transposed"),
            (backward_dv_untransposed, "grad_dv_not_transposed"),
            (backward_returns_ds, "grad_scores_as_dq"),
            (backward_mask_forgotten, "grad_mask_ignored"),
            (backward_nan_rows, "grad_fully_masked_nan"),
            (backward_rowsum_over_queries, "grad_rowsum_wrong_axis"),
            (backward_rowsum_no_keepdims, "grad_rowsum_no_keepdims"),
            (backward_rowsum_without_weights, "grad_rowsum_without_weights"),
            (backward_rowsum_outside, "grad_rowsum_outside_weights"),
            (backward_scale_multiplied, "grad_scale_multiplied"),
            (backward_scaled_twice, "grad_scaled_twice"),
            (backward_minus_1e9, "mask_large_negative"),
            (backward_dv_from_scores, "grad_dv_from_scores"),
            (backward_dq_k_transposed, "grad_dq_k_transposed"),
            (backward_dot_t, "transpose_reverses_batch"),
            (backward_q_k_swapped, "grad_q_k_swapped"),
            (backward_da_v_untransposed, "grad_da_v_not_transposed"),
            (backward_in_computing_order, "grad_returns_wrong_order"),
            (backward_weights_unscaled, "grad_weights_unscaled"),
            (backward_overflowing, "softmax_unstable"),
            (backward_dv_times_scale, "grad_dv_scaled"),
            (backward_mask_on_ds, "grad_mask_on_ds"),
            (backward_ds_sign_flipped, "grad_ds_sign_flipped"),
            (backward_softmax_skipped, "grad_softmax_skipped"),
            (backward_mask_after_softmax, "mask_after_softmax"),
        ],
    },
    "nadaraya_watson": {
        "right": [nw_loops, nw_logsumexp, nw_float32, nw_gaussian_density],
        "wrong": [
            (nw_over_queries, "nw_softmax_over_queries"),
            (nw_width_not_squared, "nw_width_not_squared"),
            (nw_width_without_two, "nw_width_without_two"),
            (nw_positive_distance, "nw_farthest_point"),
            (nw_kernel_sum, "nw_unnormalised"),
            (nw_unstable, "nw_unstable_softmax"),
            (nw_absolute_distance, "nw_absolute_distance"),
            (nw_signed_distance, "nw_distance_not_squared"),
            (nw_width_multiplied, "nw_width_multiplied"),
            (nw_returns_weights, "nw_returns_weights"),
            (nw_averages_x_train, "nw_averages_x_train"),
            (nw_matmul_targets, "nw_matmul_targets"),
            (nw_max_without_keepdims, "softmax_no_keepdims"),
            (nw_global_max, "global_max"),
            (nw_two_w_all_squared, "nw_width_doubled_squared"),
            (nw_pairs_not_broadcast, "nw_pairs_not_broadcast"),
            (nw_loop_over_queries, "nw_one_curve_only"),
        ],
    },
    "additive_scores": {
        "right": [additive_einsum, additive_loops, additive_float32, additive_concatenated],
        "wrong": [
            (additive_tanh_last, "add_tanh_after_v"),
            (additive_linear, "add_no_tanh"),
            (additive_transposed, "add_transposed"),
            (additive_position_by_position, "add_pairs_not_broadcast"),
            (additive_swapped, "add_weights_swapped"),
            (additive_tanh_each, "add_tanh_each_projection"),
            (additive_v_ignored, "add_v_ignored"),
            (additive_scaled, "add_scaled_by_sqrt_h"),
            (additive_multiplied, "add_projections_multiplied"),
            (additive_weights_transposed, "add_weights_transposed"),
            (additive_v_first, "add_v_on_the_left"),
            (additive_column_vectors, "add_column_convention"),
            (additive_one_projection, "add_keys_projected_with_w_q"),
            (additive_softmaxed, "add_softmax_applied"),
            (additive_relu, "add_relu_not_tanh"),
        ],
    },
    "attend_step": {
        "right": [attend_step_einsum, attend_step_running_max, attend_step_float32_cast_back,
                  attend_step_causal_attention, attend_step_loop_over_positions],
        "wrong": [
            (attend_step_unscaled, "step_no_scaling"),
            (attend_step_over_length, "step_scale_by_length"),
            (attend_step_softmax_axis_0, "step_softmax_wrong_axis"),
            (attend_step_without_newest, "step_newest_missing"),
            (attend_step_newest_only, "step_cache_ignored"),
            (attend_step_exp_only, "step_unnormalised"),
            (attend_step_overflowing, "step_unstable_softmax"),
            (attend_step_query_row, "step_query_axis_kept"),
            (attend_step_float32, "float32_result"),
            (attend_step_scale_by_value_width, "step_scale_by_value_width"),
            (attend_step_divide_by_dk, "step_divide_by_dk"),
            (attend_step_times_sqrt_dk, "step_multiply_by_sqrt_dk"),
            (attend_step_global_max, "step_global_max"),
            (attend_step_max_without_keepdims, "step_softmax_no_keepdims"),
            (attend_step_softmax_over_heads, "step_softmax_wrong_axis"),
            (attend_step_weights_as_matrix, "step_weights_not_a_row"),
            (attend_step_keys_values_swapped, "step_keys_values_swapped"),
            (attend_step_transposed_with_t, "step_transpose_every_axis"),
            (attend_step_weights_returned, "step_weights_returned"),
            (attend_step_with_weights, "tuple_returned"),
        ],
    },
    "blockwise_attention": {
        "right": [blockwise_einsum, blockwise_logsumexp, blockwise_row_by_row,
                  blockwise_finite_start],
        "wrong": [  # the lesson's own mistakes first (its batch of autogrades), then generic ones
            (blockwise_no_rescale, "blockwise_no_rescale"),
            (blockwise_full_blocks_only, "blockwise_drops_last_block"),
            (blockwise_no_division, "blockwise_no_final_division"),
            (blockwise_average_of_blocks, "blockwise_average_of_blocks"),
            (blockwise_nan_after_masked_block, "blockwise_masked_block_nan"),
            (blockwise_full_matrix, "full_score_matrix"),
            (blockwise_nan_rows, "mask_fully_masked_nan"),
            (blockwise_no_max, "softmax_unstable"),
            (blockwise_max_never_updated, "blockwise_max_not_updated"),
            (blockwise_output_not_rescaled, "blockwise_output_not_rescaled"),
            (blockwise_sum_not_rescaled, "blockwise_sum_not_rescaled"),
            (blockwise_blocks_of_queries, "blockwise_blocks_up_to_tq"),
            (blockwise_step_of_one, "blockwise_overlapping_blocks"),
            (blockwise_mask_rows_sliced, "blockwise_mask_wrong_axis"),
            (blockwise_mask_second_axis, "blockwise_mask_wrong_axis"),
            (blockwise_global_max, "global_max"),
            (blockwise_unscaled, "no_scaling"),
            (blockwise_over_dk, "divide_by_dk"),
            (blockwise_mask_inverted, "mask_inverted"),
            (blockwise_mask_ignored, "mask_ignored"),
            (blockwise_dot_t, "transpose_reverses_batch"),
            (blockwise_all_values, "blockwise_values_not_sliced"),
            (blockwise_divided_each_block, "blockwise_divided_every_block"),
            (blockwise_slice_one_short, "blockwise_block_one_short"),
            (blockwise_mask_multiplied, "mask_multiplied"),
            (blockwise_scaled_by_dv, "scale_by_value_width"),
        ],
    },
    **LANGUAGE_MODEL,
    **MODERN_BLOCK,
}


RIGHT_ANSWERS = [(exercise, answer) for exercise, kinds in VARIANTS.items()
                 for answer in kinds["right"]]
WRONG_ANSWERS = [(exercise, answer, key) for exercise, kinds in VARIANTS.items()
                 for answer, key in kinds["wrong"]]


def notebook_source(answer, exercise: str) -> str:
    """The source of ``answer`` renamed to ``exercise``, ready to paste into a notebook cell
    (the cell needs ``import numpy as np`` above it)."""
    source = textwrap.dedent(inspect.getsource(answer))
    return source.replace(f"def {answer.__name__}(", f"def {exercise}(", 1)


# Right answers of lesson 02 that print to stderr while they are graded: a NumPy RuntimeWarning
# (fully masked rows make -inf - (-inf) = nan before nan_to_num cleans it up) and a
# TensorFlow-style log line. The first answer cell turns warnings on, whatever the environment
# says. ``{grade_id: answer cell}``.
NOISY_ANSWER_CELLS = {
    "answer_softmax": textwrap.dedent('''
        import sys
        import warnings

        import numpy as np

        warnings.simplefilter("always")


        def softmax(x, axis=-1):
            print("I0000 00:00:1700000000.000000   123 cpu_feature_guard.cc:210] This TensorFlow "
                  "binary is optimized to use available CPU instructions.", file=sys.stderr)
            e = np.exp(x - np.max(x, axis=axis, keepdims=True))
            return e / np.sum(e, axis=axis, keepdims=True)
    '''),
    "answer_masked_softmax": textwrap.dedent('''
        def masked_softmax(scores, mask):
            scores = np.where(mask, scores, -np.inf)
            e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))  # nan in empty rows
            weights = e / np.sum(e, axis=-1, keepdims=True)
            return np.nan_to_num(weights, nan=0.0)
    '''),
}
