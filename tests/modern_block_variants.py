"""A corpus of learner answers to lesson 13's exercises, right and wrong, in the form of
``answer_variants.VARIANTS``: ``"right"`` answers written differently from the answer key (complex
numbers, rotation matrices, loops, float32, einsum…) that must get full marks, and ``"wrong"``
``(answer, misconception)`` pairs, each making one known mistake that the checks must name.

Every answer is self-contained (it only uses ``np``), so ``answer_variants.notebook_source``
can paste it into a notebook cell under the exercise's name.
"""

from __future__ import annotations

import numpy as np

# apply_rope -------------------------------------------------------------------------------------


def rope_complex(x, positions, base=10000):
    frequencies = base ** (-np.arange(0, x.shape[-1], 2) / x.shape[-1])
    pairs = x[..., 0::2] + 1j * x[..., 1::2]  # (..., T, d/2): each pair as a complex number
    turned = pairs * np.exp(1j * np.outer(positions, frequencies))
    return np.stack([turned.real, turned.imag], axis=-1).reshape(x.shape)


def rope_matrices(x, positions, base=10000):
    angles = np.outer(positions, base ** (-np.arange(0, x.shape[-1], 2) / x.shape[-1]))
    c, s = np.cos(angles), np.sin(angles)  # (T, d/2) each
    rotations = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (T, d/2, 2, 2)
    pairs = x.reshape(*x.shape[:-1], -1, 2)  # (..., T, d/2, 2)
    return np.einsum("tpij,...tpj->...tpi", rotations, pairs).reshape(x.shape)


def rope_float32_loops(x, positions, base=10000):
    x = np.asarray(x, dtype=np.float32)
    out = np.empty_like(x)
    d = x.shape[-1]
    for i in range(d // 2):
        theta = np.asarray(positions, dtype=np.float32) * np.float32(base ** (-2 * i / d))
        a, b = x[..., 2 * i], x[..., 2 * i + 1]  # (..., T) each
        out[..., 2 * i] = a * np.cos(theta) - b * np.sin(theta)
        out[..., 2 * i + 1] = a * np.sin(theta) + b * np.cos(theta)
    return out


def rope_rotate_pairs(x, positions, base=10000):
    """cos · x + sin · (-x1, x0, -x3, x2, …), with each pair's angle repeated twice."""
    frequencies = base ** (-np.arange(0, x.shape[-1], 2) / x.shape[-1])
    angles = np.repeat(np.outer(positions, frequencies), 2, axis=-1)  # (T, d)
    swapped = np.stack([-x[..., 1::2], x[..., 0::2]], axis=-1).reshape(x.shape)
    return x * np.cos(angles) + swapped * np.sin(angles)


def rope_halves(x, positions, base=10000):
    d = x.shape[-1]
    angles = np.outer(positions, base ** (-np.arange(0, d, 2) / d))  # (T, d/2)
    first, second = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([first * np.cos(angles) - second * np.sin(angles),
                           first * np.sin(angles) + second * np.cos(angles)], axis=-1)


def rope_i_over_d(x, positions, base=10000):
    d = x.shape[-1]
    angles = np.outer(positions, base ** (-np.arange(d // 2) / d))  # base^(-i/d)
    first, second = x[..., 0::2], x[..., 1::2]
    out = np.empty(x.shape)
    out[..., 0::2] = first * np.cos(angles) - second * np.sin(angles)
    out[..., 1::2] = first * np.sin(angles) + second * np.cos(angles)
    return out


def rope_clockwise(x, positions, base=10000):
    d = x.shape[-1]
    angles = np.outer(positions, base ** (-np.arange(0, d, 2) / d))
    first, second = x[..., 0::2], x[..., 1::2]
    out = np.empty(x.shape)
    out[..., 0::2] = first * np.cos(angles) + second * np.sin(angles)
    out[..., 1::2] = -first * np.sin(angles) + second * np.cos(angles)
    return out


def rope_row_index(x, positions, base=10000):
    d = x.shape[-1]
    angles = np.outer(np.arange(x.shape[-2]), base ** (-np.arange(0, d, 2) / d))
    first, second = x[..., 0::2], x[..., 1::2]
    out = np.empty(x.shape)
    out[..., 0::2] = first * np.cos(angles) - second * np.sin(angles)
    out[..., 1::2] = first * np.sin(angles) + second * np.cos(angles)
    return out


def rope_same_angle(x, positions, base=10000):
    angles = np.asarray(positions, dtype=float)[:, None]  # (T, 1): one angle for every pair
    first, second = x[..., 0::2], x[..., 1::2]
    out = np.empty(x.shape)
    out[..., 0::2] = first * np.cos(angles) - second * np.sin(angles)
    out[..., 1::2] = first * np.sin(angles) + second * np.cos(angles)
    return out


def rope_added(x, positions, base=10000):
    angles = np.outer(positions, base ** (-np.arange(0, x.shape[-1], 2) / x.shape[-1]))
    encoding = np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(x.shape[-2:])
    return x + encoding


def rope_growing_frequencies(x, positions, base=10000):
    d = x.shape[-1]
    angles = np.outer(positions, base ** (np.arange(0, d, 2) / d))  # base^(+2i/d)
    out = np.empty(x.shape)
    out[..., 0::2] = x[..., 0::2] * np.cos(angles) - x[..., 1::2] * np.sin(angles)
    out[..., 1::2] = x[..., 0::2] * np.sin(angles) + x[..., 1::2] * np.cos(angles)
    return out


def rope_positions_as_a_row(x, positions, base=10000):
    d = x.shape[-1]
    angles = positions * base ** (-np.arange(0, d, 2) / d)  # (T,) * (d/2,): no outer product
    out = np.empty(x.shape)
    out[..., 0::2] = x[..., 0::2] * np.cos(angles) - x[..., 1::2] * np.sin(angles)
    out[..., 1::2] = x[..., 0::2] * np.sin(angles) + x[..., 1::2] * np.cos(angles)
    return out


def rope_base_fixed(x, positions, base=10000):
    d = x.shape[-1]
    angles = np.outer(positions, 10000.0 ** (-np.arange(0, d, 2) / d))  # base not used
    out = np.empty(x.shape)
    out[..., 0::2] = x[..., 0::2] * np.cos(angles) - x[..., 1::2] * np.sin(angles)
    out[..., 1::2] = x[..., 0::2] * np.sin(angles) + x[..., 1::2] * np.cos(angles)
    return out

def rope_linspace_exponents(x, positions, base=10000):
    d = x.shape[-1]
    frequencies = base ** -np.linspace(0, 1, d // 2)  # the slowest pair at exactly 1/base
    angles = np.outer(positions, frequencies)  # (T, d/2)
    out = np.empty(x.shape)
    out[..., 0::2] = x[..., 0::2] * np.cos(angles) - x[..., 1::2] * np.sin(angles)
    out[..., 1::2] = x[..., 0::2] * np.sin(angles) + x[..., 1::2] * np.cos(angles)
    return out


# rms_norm ---------------------------------------------------------------------------------------


def rms_einsum(x, gain, eps=1e-6):
    mean_square = np.einsum("...d,...d->...", x, x)[..., None] / x.shape[-1]
    return gain * x / np.sqrt(mean_square + eps)


def rms_float32(x, gain, eps=1e-6):
    x = x.astype(np.float32)
    scale = 1 / np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True) + np.float32(eps))
    return x * scale * gain.astype(np.float32)


def rms_norm_of_vector(x, gain, eps=1e-6):
    d = x.shape[-1]
    return x * np.sqrt(d) / np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + d * eps) * gain


def rms_layer_norm(x, gain, eps=1e-6):
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + eps) * gain


def rms_eps_after_root(x, gain, eps=1e-6):
    return x / (np.sqrt(np.mean(x**2, axis=-1, keepdims=True)) + eps) * gain


def rms_over_first_axis(x, gain, eps=1e-6):
    return x / np.sqrt(np.mean(x**2, axis=0, keepdims=True) + eps) * gain


def rms_without_gain(x, gain, eps=1e-6):
    return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps)


def rms_mean_square(x, gain, eps=1e-6):
    return x / (np.mean(x**2, axis=-1, keepdims=True) + eps) * gain


def rms_l2_normalise(x, gain, eps=1e-6):
    return x / np.sqrt(np.sum(x**2, axis=-1, keepdims=True) + eps) * gain


def rms_variance(x, gain, eps=1e-6):
    return x / np.sqrt(np.var(x, axis=-1, keepdims=True) + eps) * gain  # var: x − mean


def rms_without_keepdims(x, gain, eps=1e-6):
    return x / np.sqrt(np.mean(x**2, axis=-1) + eps) * gain

def rms_gain_offset(x, gain, eps=1e-6):
    return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps) * (1 + gain)


def rms_eps_1e5(x, gain, eps=1e-5):
    return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps) * gain


def rms_without_eps(x, gain, eps=1e-6):
    return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True)) * gain


def rms_mean_abs(x, gain, eps=1e-6):
    return x / (np.mean(np.abs(x), axis=-1, keepdims=True) + eps) * gain


def rms_times_root(x, gain, eps=1e-6):
    return x * np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps) * gain


def rms_over_everything(x, gain, eps=1e-6):
    return x / np.sqrt(np.mean(x**2) + eps) * gain


def rms_gain_first(x, gain, eps=1e-6):
    y = x * gain
    return y / np.sqrt(np.mean(y**2, axis=-1, keepdims=True) + eps)


# swiglu -----------------------------------------------------------------------------------------


def swiglu_expit(x, w_gate, w_up, w_down):
    gate = x @ w_gate
    return (gate / (1 + np.exp(-gate)) * (x @ w_up)) @ w_down


def swiglu_einsum(x, w_gate, w_up, w_down):
    gate = np.einsum("...d,df->...f", x, w_gate)
    silu = gate * 0.5 * (1 + np.tanh(gate / 2))
    return np.einsum("...f,fo->...o", silu * np.einsum("...d,df->...f", x, w_up), w_down)


def swiglu_float32(x, w_gate, w_up, w_down):
    x, w_gate, w_up, w_down = (a.astype(np.float32) for a in (x, w_gate, w_up, w_down))
    gate = x @ w_gate
    sigmoid = np.where(gate >= 0, 1 / (1 + np.exp(-np.abs(gate))),
                       np.exp(-np.abs(gate)) / (1 + np.exp(-np.abs(gate))))
    return (gate * sigmoid * (x @ w_up)) @ w_down


def swiglu_sigmoid(x, w_gate, w_up, w_down):
    return (0.5 * (1 + np.tanh(x @ w_gate / 2)) * (x @ w_up)) @ w_down


def swiglu_relu(x, w_gate, w_up, w_down):
    return (np.maximum(x @ w_gate, 0) * (x @ w_up)) @ w_down


def swiglu_swapped(x, w_gate, w_up, w_down):
    up = x @ w_up
    return (up * 0.5 * (1 + np.tanh(up / 2)) * (x @ w_gate)) @ w_down


def swiglu_no_up(x, w_gate, w_up, w_down):
    gate = x @ w_gate
    return (gate * 0.5 * (1 + np.tanh(gate / 2))) @ w_down


def swiglu_silu_of_product(x, w_gate, w_up, w_down):
    product = (x @ w_gate) * (x @ w_up)
    return (product * 0.5 * (1 + np.tanh(product / 2))) @ w_down


def swiglu_without_down(x, w_gate, w_up, w_down):
    gate = x @ w_gate
    return gate / (1 + np.exp(-gate)) * (x @ w_up)  # w_down never applied


def swiglu_down_transposed(x, w_gate, w_up, w_down):
    gate = x @ w_gate
    return (gate / (1 + np.exp(-gate)) * (x @ w_up)) @ w_down.T

def swiglu_gelu(x, w_gate, w_up, w_down):
    g = x @ w_gate
    gelu = 0.5 * g * (1 + np.tanh(np.sqrt(2 / np.pi) * (g + 0.044715 * g**3)))
    return (gelu * (x @ w_up)) @ w_down


def swiglu_silu_twice(x, w_gate, w_up, w_down):
    g, u = x @ w_gate, x @ w_up
    return (g / (1 + np.exp(-g)) * (u / (1 + np.exp(-u)))) @ w_down


def swiglu_added(x, w_gate, w_up, w_down):
    g = x @ w_gate
    return (g / (1 + np.exp(-g)) + x @ w_up) @ w_down


def swiglu_silu_last(x, w_gate, w_up, w_down):
    z = ((x @ w_gate) * (x @ w_up)) @ w_down
    return z / (1 + np.exp(-z))


def swiglu_exp_sign(x, w_gate, w_up, w_down):
    g = x @ w_gate
    return (g / (1 + np.exp(g)) * (x @ w_up)) @ w_down

def swiglu_with_residual(x, w_gate, w_up, w_down):
    g = x @ w_gate
    return x + (g / (1 + np.exp(-g)) * (x @ w_up)) @ w_down


# grouped_query_attention ------------------------------------------------------------------------


def gqa_grouped_rows(q, k, v, mask=None):
    """The queries of a group stacked against their one key-value head, no copies."""
    *batch, heads, t_q, d_k = q.shape
    groups = k.shape[-3]
    rows = q.reshape(*batch, groups, heads // groups, t_q, d_k)  # (..., G, H/G, Tq, d_k)
    scores = rows @ np.swapaxes(k, -1, -2)[..., :, None, :, :] / np.sqrt(d_k)
    scores = scores.reshape(*batch, heads, t_q, k.shape[-2])  # (..., H, Tq, Tk)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    weights = weights.reshape(*batch, groups, heads // groups, t_q, -1)
    return (weights @ v[..., :, None, :, :]).reshape(*batch, heads, t_q, v.shape[-1])


def gqa_head_loop(q, k, v, mask=None):
    heads, groups = q.shape[-3], k.shape[-3]
    full = np.broadcast_to(True if mask is None else mask, (*q.shape[:-1], k.shape[-2]))
    out = []
    for h in range(heads):
        g = h // (heads // groups)
        scores = q[..., h, :, :] @ np.swapaxes(k[..., g, :, :], -1, -2) / np.sqrt(q.shape[-1])
        scores = np.where(full[..., h, :, :], scores, -np.inf)
        top = np.max(scores, axis=-1, keepdims=True)
        e = np.exp(scores - np.where(np.isfinite(top), top, 0))
        total = e.sum(axis=-1, keepdims=True)
        out.append(np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v[..., g, :, :])
    return np.stack(out, axis=-3)


def gqa_einsum_float32(q, k, v, mask=None):
    q, k, v = (a.astype(np.float32) for a in (q, k, v))
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scores = np.einsum("...hqd,...hkd->...hqk", q, k) / np.float32(np.sqrt(q.shape[-1]))
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return np.einsum("...hqk,...hkv->...hqv", weights, v)


def gqa_tiled(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.tile(k, (repeats, 1, 1)), np.tile(v, (repeats, 1, 1))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return weights @ v


def gqa_unscaled(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scores = q @ np.swapaxes(k, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return weights @ v


def gqa_mask_after(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return (weights if mask is None else weights * mask) @ v


def gqa_nan_rows(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


def gqa_minus_1e9(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


def gqa_over_queries(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-2, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-2, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v


def gqa_heads_not_repeated(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # H query heads against G
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v


def gqa_repeated_along_time(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-2), np.repeat(v, repeats, axis=-2)  # the keys' axis
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v


def gqa_over_dk(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scores = q @ np.swapaxes(k, -1, -2) / q.shape[-1]
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v


def gqa_mask_forgotten(q, k, v, mask=None):
    repeats = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v

def gqa_mask_flipped(q, k, v, mask=None):
    per_group = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, per_group, axis=-3), np.repeat(v, per_group, axis=-3)
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, -np.inf, s)  # True taken as "hidden"
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v


def gqa_mask_times_scores(q, k, v, mask=None):
    per_group = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, per_group, axis=-3), np.repeat(v, per_group, axis=-3)
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = s * mask
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


def gqa_times_root(q, k, v, mask=None):
    per_group = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, per_group, axis=-3), np.repeat(v, per_group, axis=-3)
    s = q @ np.swapaxes(k, -1, -2) * np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v


def gqa_overflowing(q, k, v, mask=None):
    per_group = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, per_group, axis=-3), np.repeat(v, per_group, axis=-3)
    e = np.exp(q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]))  # no max subtracted
    if mask is not None:
        e = np.where(mask, e, 0.0)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v


def gqa_over_dv(q, k, v, mask=None):
    per_group = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, per_group, axis=-3), np.repeat(v, per_group, axis=-3)
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(v.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v

def gqa_repeat_axis_1(q, k, v, mask=None):
    per_group = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, per_group, axis=1), np.repeat(v, per_group, axis=1)  # (B, H, …) only
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0) @ v


VARIANTS = {
    "apply_rope": {
        "right": [rope_complex, rope_matrices, rope_float32_loops, rope_rotate_pairs],
        "wrong": [
            (rope_halves, "rope_halves_pairing"),
            (rope_i_over_d, "rope_exponent_i_over_d"),
            (rope_clockwise, "rope_rotation_reversed"),
            (rope_row_index, "rope_positions_ignored"),
            (rope_same_angle, "rope_one_angle"),
            (rope_added, "rope_encoding_added"),
            (rope_growing_frequencies, "rope_exponent_positive"),
            (rope_positions_as_a_row, "rope_positions_not_a_column"),
            (rope_base_fixed, "rope_base_ignored"),
            (rope_linspace_exponents, "rope_frequencies_end_at_base"),
        ],
    },
    "rms_norm": {
        "right": [rms_einsum, rms_float32, rms_norm_of_vector],
        "wrong": [
            (rms_layer_norm, "rms_mean_subtracted"),
            (rms_eps_after_root, "rms_eps_outside_sqrt"),
            (rms_over_first_axis, "rms_wrong_axis"),
            (rms_without_gain, "rms_gain_forgotten"),
            (rms_mean_square, "rms_no_sqrt"),
            (rms_l2_normalise, "rms_norm_not_rms"),
            (rms_variance, "rms_variance_not_mean_square"),
            (rms_without_keepdims, "rms_no_keepdims"),
            (rms_gain_offset, "rms_gain_plus_one"),
            (rms_eps_1e5, "rms_default_eps"),
            (rms_without_eps, "rms_eps_ignored"),
            (rms_mean_abs, "rms_mean_absolute"),
            (rms_times_root, "rms_multiplied_not_divided"),
            (rms_over_everything, "rms_mean_over_all_axes"),
            (rms_gain_first, "rms_gain_before_norm"),
        ],
    },
    "swiglu": {
        "right": [swiglu_expit, swiglu_einsum, swiglu_float32],
        "wrong": [
            (swiglu_sigmoid, "swiglu_sigmoid_gate"),
            (swiglu_relu, "swiglu_relu_gate"),
            (swiglu_swapped, "swiglu_gate_up_swapped"),
            (swiglu_no_up, "swiglu_no_up_projection"),
            (swiglu_silu_of_product, "swiglu_silu_after_product"),
            (swiglu_without_down, "swiglu_no_down_projection"),
            (swiglu_down_transposed, "swiglu_down_transposed"),
            (swiglu_gelu, "swiglu_gelu_gate"),
            (swiglu_silu_twice, "swiglu_silu_on_both"),
            (swiglu_added, "swiglu_sum_not_product"),
            (swiglu_silu_last, "swiglu_silu_after_down"),
            (swiglu_exp_sign, "swiglu_silu_sign"),
            (swiglu_with_residual, "swiglu_residual_added"),
        ],
    },
    "grouped_query_attention": {
        "right": [gqa_grouped_rows, gqa_head_loop, gqa_einsum_float32],
        "wrong": [
            (gqa_tiled, "gqa_heads_tiled"),
            (gqa_unscaled, "no_scaling"),
            (gqa_mask_after, "mask_after_softmax"),
            (gqa_nan_rows, "mask_fully_masked_nan"),
            (gqa_minus_1e9, "mask_large_negative"),
            (gqa_over_queries, "softmax_wrong_axis"),
            (gqa_heads_not_repeated, "gqa_heads_not_repeated"),
            (gqa_repeated_along_time, "gqa_repeated_along_time"),
            (gqa_over_dk, "divide_by_dk"),
            (gqa_mask_forgotten, "mask_ignored"),
            (gqa_mask_flipped, "mask_inverted"),
            (gqa_mask_times_scores, "mask_multiplied"),
            (gqa_times_root, "multiply_by_sqrt_dk"),
            (gqa_overflowing, "softmax_unstable"),
            (gqa_over_dv, "scale_by_value_width"),
            (gqa_repeat_axis_1, "gqa_repeated_along_time"),
        ],
    },
}
