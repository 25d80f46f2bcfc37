"""Lesson 13 (``13_modern_block``): its exercises as the instructor's side knows them: their
records (:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls)
and the wrong variants of its functions, as live code. Each variant makes exactly one mistake
and is otherwise right, so that its output tells it apart; the judge runs them on the learner's
inputs to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs
for the public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_13_modern_block``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.reference import modern_block as key
from grader.reference.numpy_attention import masked_softmax, softmax

# 13 apply_rope --------------------------------------------------------------------------------


def _rope(x, positions, base=10000, *, exponent=2, sign=1.0, pairs="interleaved",
          frequencies=True):
    """RoPE with one switch turned: ``exponent`` 1 (``base^(-i/d)``), ``sign`` -1 (the other
    way round), ``pairs="halves"`` (features ``i`` and ``i + d/2``), ``frequencies=False`` (one
    angle, the position, for every pair)."""
    d = x.shape[-1]
    angles = np.asarray(positions, dtype=np.float64)[:, None] * (
        base ** (-exponent * np.arange(d // 2) / d) if frequencies else np.ones(d // 2))
    cos, sin = np.cos(angles), sign * np.sin(angles)  # (T, d/2) each
    first, second = (x[..., 0::2], x[..., 1::2]) if pairs == "interleaved" else \
        (x[..., : d // 2], x[..., d // 2:])  # (..., T, d/2) each
    rotated = np.empty_like(x, dtype=np.float64)  # (..., T, d)
    into = (slice(0, None, 2), slice(1, None, 2)) if pairs == "interleaved" else \
        (slice(0, d // 2), slice(d // 2, None))
    rotated[..., into[0]] = first * cos - second * sin
    rotated[..., into[1]] = first * sin + second * cos
    return rotated


def _rope_with(**switch):
    return lambda x, positions, base=10000: _rope(x, positions, base, **switch)


def _rope_added(x, positions, base=10000):
    """Lesson 05's way: the sinusoidal encodings of the positions added to ``x``."""
    angles = key.rope_angles(positions, x.shape[-1], base)  # (T, d/2)
    encoding = np.empty(x.shape[-2:])  # (T, d)
    encoding[:, 0::2], encoding[:, 1::2] = np.sin(angles), np.cos(angles)
    return x + encoding


def _rope_positions_as_a_row(x, positions, base=10000):
    """``positions * frequencies`` without the outer product: ``(T,) * (d/2,)`` fails unless
    T = d/2, and then pairs position ``i`` with frequency ``i`` only."""
    d = x.shape[-1]
    angles = np.asarray(positions, dtype=np.float64) * base ** (-2 * np.arange(d // 2) / d)
    rotated = np.empty_like(x, dtype=np.float64)  # (..., T, d)
    rotated[..., 0::2] = x[..., 0::2] * np.cos(angles) - x[..., 1::2] * np.sin(angles)
    rotated[..., 1::2] = x[..., 0::2] * np.sin(angles) + x[..., 1::2] * np.cos(angles)
    return rotated


APPLY_ROPE = {
    "rope_halves_pairing": _rope_with(pairs="halves"),
    "rope_exponent_i_over_d": _rope_with(exponent=1),
    "rope_rotation_reversed": _rope_with(sign=-1.0),
    "rope_positions_ignored": lambda x, positions, base=10000: key.apply_rope(
        x, np.arange(x.shape[-2]), base),
    "rope_one_angle": _rope_with(frequencies=False),
    "rope_encoding_added": _rope_added,
    "rope_exponent_positive": _rope_with(exponent=-2),
    "rope_positions_not_a_column": _rope_positions_as_a_row,
    "rope_base_ignored": lambda x, positions, base=10000: key.apply_rope(x, positions, 10000),
    "rope_frequencies_end_at_base": lambda x, positions, base=10000: _rope(
        x, positions, base, exponent=2 * x.shape[-1] / (x.shape[-1] - 2)),
}

# 13 rms_norm ----------------------------------------------------------------------------------


def _rms_norm(x, gain, eps=1e-6, *, axis=-1, centred=False, eps_inside=True, sqrt=True,
              mean=True, scaled=True, variance=False, keepdims=True, power=2, divide=True):
    """RMSNorm with one switch turned off: the mistake it names (``power`` 1: the mean of
    |x|; ``divide`` False: x times its root mean square)."""
    if power == 1:
        return x / (np.mean(np.abs(x), axis=-1, keepdims=True) + eps) * gain
    if not divide:
        return x * np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps) * gain
    if centred:  # LayerNorm without its bias
        x = x - np.mean(x, axis=-1, keepdims=True)
    square = (np.mean if mean else np.sum)(x**2, axis=axis, keepdims=keepdims)
    if variance:  # np.var: the mean square of x − mean(x), x itself left as it is
        square = np.var(x, axis=axis, keepdims=True)
    root = np.sqrt(square) if sqrt else square
    denominator = np.sqrt(square + eps) if eps_inside and sqrt else root + eps
    return x / denominator * (gain if scaled else 1.0)


def _rms_norm_with(**switch):
    return lambda x, gain, eps=1e-6: _rms_norm(x, gain, eps, **switch)


RMS_NORM = {
    "rms_mean_subtracted": _rms_norm_with(centred=True),
    "rms_eps_outside_sqrt": _rms_norm_with(eps_inside=False),
    "rms_wrong_axis": _rms_norm_with(axis=0),
    "rms_gain_forgotten": _rms_norm_with(scaled=False),
    "rms_no_sqrt": _rms_norm_with(sqrt=False),
    "rms_norm_not_rms": _rms_norm_with(mean=False),
    "rms_variance_not_mean_square": _rms_norm_with(variance=True),
    "rms_no_keepdims": _rms_norm_with(keepdims=False),
    "rms_gain_plus_one": lambda x, gain, eps=1e-6: key.rms_norm(x, 1 + gain, eps),
    "rms_default_eps": lambda x, gain, eps=1e-5: key.rms_norm(x, gain, eps),
    "rms_eps_ignored": lambda x, gain, eps=1e-6: key.rms_norm(x, gain, 0.0),
    "rms_mean_absolute": _rms_norm_with(power=1),
    "rms_multiplied_not_divided": _rms_norm_with(divide=False),
    "rms_mean_over_all_axes": _rms_norm_with(axis=None),
    "rms_gain_before_norm": lambda x, gain, eps=1e-6: key.rms_norm(
        x * gain, np.ones_like(gain), eps),
}

# 13 swiglu ------------------------------------------------------------------------------------


def _relu(z):
    return np.maximum(z, 0.0)


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))  # σ(z), without overflow


def _gelu(z):
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))


def _swiglu(x, w_gate, w_up, w_down, *, gate=key.silu, swapped=False, up=True, down="w_down"):
    """SwiGLU with one part replaced: the ``gate`` function, the two projections ``swapped``,
    no ``up`` projection at all (a plain feed-forward with the gate's activation), or the
    ``down`` projection left out (``"none"``) or transposed (``"transposed"``)."""
    if swapped:
        w_gate, w_up = w_up, w_gate
    hidden = gate(x @ w_gate) * (x @ w_up if up else 1.0)  # (..., f)
    if down == "none":
        return hidden
    return hidden @ (w_down.T if down == "transposed" else w_down)  # (..., d_out)


def _swiglu_with(**switch):
    return lambda x, w_gate, w_up, w_down: _swiglu(x, w_gate, w_up, w_down, **switch)


SWIGLU = {
    "swiglu_sigmoid_gate": _swiglu_with(gate=_sigmoid),
    "swiglu_relu_gate": _swiglu_with(gate=_relu),
    "swiglu_gate_up_swapped": _swiglu_with(swapped=True),
    "swiglu_no_up_projection": _swiglu_with(up=False),
    "swiglu_silu_after_product": lambda x, w_gate, w_up, w_down: (
        key.silu((x @ w_gate) * (x @ w_up)) @ w_down),
    "swiglu_no_down_projection": _swiglu_with(down="none"),
    "swiglu_down_transposed": _swiglu_with(down="transposed"),
    "swiglu_gelu_gate": _swiglu_with(gate=_gelu),
    "swiglu_silu_on_both": lambda x, w_gate, w_up, w_down: (
        key.silu(x @ w_gate) * key.silu(x @ w_up)) @ w_down,
    "swiglu_sum_not_product": lambda x, w_gate, w_up, w_down: (
        key.silu(x @ w_gate) + x @ w_up) @ w_down,
    "swiglu_silu_after_down": lambda x, w_gate, w_up, w_down: key.silu(
        ((x @ w_gate) * (x @ w_up)) @ w_down),
    "swiglu_silu_sign": _swiglu_with(gate=lambda z: -key.silu(-z)),
    "swiglu_residual_added": lambda x, w_gate, w_up, w_down: x + key.swiglu(
        x, w_gate, w_up, w_down),
}

# 13 grouped_query_attention -------------------------------------------------------------------


def _gqa(q, k, v, mask=None, *, tiled=False, scale=True, weights=masked_softmax,
         repeat_axis=-3, divide_by=None):
    """Grouped-query attention with one mistake: key–value heads ``tiled`` (head ``h`` reads
    group ``h % G``) or repeated along another axis (``repeat_axis``; None: not at all), no
    ``scale`` or another one (``divide_by``), or a wrong masked softmax ``weights``."""
    repeats = q.shape[-3] // k.shape[-3]
    spread = (lambda a: np.tile(a, (repeats, 1, 1))) if tiled else \
        (lambda a: a if repeat_axis is None else np.repeat(a, repeats, axis=repeat_axis))
    k, v = spread(k), spread(v)  # (..., H, Tk, d)
    root = np.sqrt(q.shape[-1]) if divide_by is None else divide_by(q.shape[-1])
    scores = q @ np.swapaxes(k, -1, -2) / (root if scale else 1.0)
    return weights(scores, mask) @ v  # (..., H, Tq, d_v)


def _gqa_with(**switch):
    return lambda q, k, v, mask=None: _gqa(q, k, v, mask, **switch)


def _when_masked(wrong):
    """A wrong masked softmax that goes wrong only when there is a mask."""
    return lambda scores, mask: softmax(scores) if mask is None else wrong(scores, mask)


def _unstable_masked_softmax(scores, mask):
    """The masked softmax without the row max subtracted: np.exp overflows past 709."""
    with np.errstate(over="ignore", invalid="ignore"):
        exp = np.exp(scores)  # (..., Tq, Tk)
        if mask is not None:
            exp = np.where(mask, exp, 0.0)
        total = exp.sum(axis=-1, keepdims=True)  # (..., Tq, 1)
        return np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)


GROUPED_QUERY_ATTENTION = {
    "gqa_heads_tiled": _gqa_with(tiled=True),
    "no_scaling": _gqa_with(scale=False),
    "mask_after_softmax": _gqa_with(weights=_when_masked(lambda s, m: softmax(s) * m)),
    "mask_fully_masked_nan": _gqa_with(weights=_when_masked(
        lambda s, m: softmax(np.where(m, s, -np.inf)))),
    "mask_large_negative": _gqa_with(weights=_when_masked(
        lambda s, m: softmax(np.where(m, s, -1e9)))),
    "softmax_wrong_axis": _gqa_with(weights=lambda s, m: np.swapaxes(masked_softmax(
        np.swapaxes(s, -1, -2), None if m is None else np.swapaxes(
            np.broadcast_to(m, s.shape), -1, -2)), -1, -2)),
    "gqa_heads_not_repeated": _gqa_with(repeat_axis=None),
    "gqa_repeated_along_time": _gqa_with(repeat_axis=-2),
    "divide_by_dk": _gqa_with(divide_by=float),
    "mask_ignored": _gqa_with(weights=lambda s, m: softmax(s)),
    "mask_inverted": _gqa_with(weights=_when_masked(lambda s, m: masked_softmax(s, ~m))),
    "mask_multiplied": _gqa_with(weights=_when_masked(
        lambda s, m: softmax(np.where(m, s, 0.0)))),
    "multiply_by_sqrt_dk": _gqa_with(divide_by=lambda d_k: 1 / np.sqrt(d_k)),
    "softmax_unstable": _gqa_with(weights=_unstable_masked_softmax),
    "scale_by_value_width": lambda q, k, v, mask=None: _gqa(
        q, k, v, mask, divide_by=lambda d_k: np.sqrt(v.shape[-1])),
}


GRADED = (
    Graded("apply_rope", ref.apply_rope, APPLY_ROPE, ("rotary", "positions"),
           "np.cos and np.sin of the angles position · base^(-2i/d), on x[..., 0::2] and "
           "x[..., 1::2]"),
    Graded("rms_norm", ref.rms_norm, RMS_NORM, ("rms_norm",),
           "np.mean of x² over the last axis and np.sqrt, as the lesson derives RMSNorm"),
    Graded("swiglu", ref.swiglu, SWIGLU),
    Graded("grouped_query_attention", ref.grouped_query_attention,
           GROUPED_QUERY_ATTENTION, ("attention",),
           "np.repeat of the key-value heads, the scaled scores, the lesson's masked_softmax "
           "and @ v"),
)
