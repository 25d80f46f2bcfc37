"""The answer key of lesson ``13_modern_block``: the parts that today's decoder-only models put
in place of the 2017 block's.

* **Rotary position embeddings** (RoPE; Su et al., 2021, "RoFormer"): instead of adding lesson
  05's encodings to the input, rotate each pair of features of a query or key by an angle that
  grows with its position, so that ``q_m · k_n`` depends on the offset ``m - n`` alone. Pair
  ``i`` is the features ``(2i, 2i + 1)`` (the RoFormer paper's interleaved pairing, the one this
  lesson grades) and its angle ``p · base^(-2i/d)``:

  .. math:: \\begin{pmatrix} y_{2i} \\\\ y_{2i+1} \\end{pmatrix}
            = \\begin{pmatrix} \\cos p\\omega_i & -\\sin p\\omega_i \\\\
                               \\sin p\\omega_i & \\cos p\\omega_i \\end{pmatrix}
              \\begin{pmatrix} x_{2i} \\\\ x_{2i+1} \\end{pmatrix},
            \\qquad \\omega_i = \\mathrm{base}^{-2i/d} .

* **RMSNorm** (Zhang and Sennrich, 2019): LayerNorm without the mean and without the bias,
  ``x / sqrt(mean(x²) + ε) · g``.
* **SwiGLU** (Shazeer, 2020): a gated feed-forward, ``(SiLU(x W_gate) ⊙ x W_up) W_down``, with
  ``SiLU(z) = z σ(z)``.
* **Grouped-query attention** (Ainslie et al., 2023): ``H`` query heads share ``G`` key–value
  heads, query head ``h`` reading key–value head ``h // (H / G)``; ``G = 1`` is multi-query
  attention (Shazeer, 2019), ``G = H`` ordinary multi-head attention.
"""

from __future__ import annotations

import numpy as np

from grader.reference.numpy_attention import (
    _as_float_array,
    _require_rank,
    scaled_dot_product_attention,
)


def rope_angles(positions, d: int, base=10000.0) -> np.ndarray:
    """``(T, d/2)``: the angle ``p · base^(-2i/d)`` of every position and pair."""
    frequencies = base ** (-np.arange(0, d, 2) / d)  # (d/2,): ω_i = base^(-2i/d)
    return np.asarray(positions, dtype=np.float64)[:, None] * frequencies  # (T, d/2)


def apply_rope(x, positions, base=10000):
    r"""Rotary position embedding: pair ``(2i, 2i + 1)`` of the features at position ``p``
    rotated by the angle ``p · base^(-2i/d)``.

    .. math:: y_{2i} = x_{2i} \cos\theta - x_{2i+1} \sin\theta, \quad
              y_{2i+1} = x_{2i} \sin\theta + x_{2i+1} \cos\theta, \quad
              \theta = p\, \mathrm{base}^{-2i/d}

    Derived in lesson ``13_modern_block`` from lesson 05's rotation ``PE[t + k] = M_k PE[t]``:
    rotated queries and keys give ``q_m · k_n = q · R((n - m)ω) k``, a function of the offset.

    Args:
        x: ``(..., T, d)``, ``d`` even: queries or keys, one row per position.
        positions: ``(T,)``, the position of each row (any numbers: a decoder's cache starts
            at its length).
        base: the base of the frequencies.

    Returns:
        ``(..., T, d)``, every pair rotated; the length of each pair is kept.
    """
    x = _as_float_array(x, "x")
    positions = _as_float_array(positions, "positions")
    _require_rank(x, "x")
    if x.shape[-1] % 2 or positions.shape != x.shape[-2:-1]:
        raise ValueError(
            "Expected x (..., T, d) with d even and positions (T,). "
            f"Received: x.shape={x.shape}, positions.shape={positions.shape}"
        )
    angles = rope_angles(positions, x.shape[-1], base)  # (T, d/2)
    cos, sin = np.cos(angles), np.sin(angles)  # (T, d/2) each
    even, odd = x[..., 0::2], x[..., 1::2]  # (..., T, d/2) each: the pairs' two features
    rotated = np.empty_like(x)  # (..., T, d)
    rotated[..., 0::2] = even * cos - odd * sin
    rotated[..., 1::2] = even * sin + odd * cos
    return rotated


def rms_norm(x, gain, eps=1e-6):
    r"""RMSNorm: each vector divided by its root mean square, then scaled feature by feature.

    .. math:: y = \frac{x}{\sqrt{\frac1d \sum_j x_j^2 + \varepsilon}} \odot g

    Derived in lesson ``13_modern_block``, against lesson 06's LayerNorm (no mean subtracted, no
    bias).

    Args:
        x: ``(..., d)``.
        gain: ``(d,)``, the learned scale ``g``.
        eps: ``ε``, added inside the square root.

    Returns:
        ``(..., d)``.
    """
    x, gain = _as_float_array(x, "x"), _as_float_array(gain, "gain")
    if x.ndim < 1 or gain.shape != x.shape[-1:]:
        raise ValueError(
            f"Expected x (..., d) and gain (d,). Received: x.shape={x.shape}, "
            f"gain.shape={gain.shape}"
        )
    mean_square = np.mean(x**2, axis=-1, keepdims=True)  # (..., 1)
    return x / np.sqrt(mean_square + eps) * gain  # (..., d)


def silu(z):
    """``z σ(z)``, without overflow for any ``z``: ``σ(z) = (1 + tanh(z/2)) / 2``."""
    return z * 0.5 * (1 + np.tanh(z / 2))


def swiglu(x, w_gate, w_up, w_down):
    r"""The SwiGLU feed-forward network: a SiLU gate times a linear "up" projection, projected
    back down.

    .. math:: \mathrm{FFN}(x) = \big(\mathrm{SiLU}(x W_{gate}) \odot x W_{up}\big) W_{down},
              \qquad \mathrm{SiLU}(z) = z\,\sigma(z) = \frac{z}{1 + e^{-z}}

    Derived in lesson ``13_modern_block``, against lesson 06's ``ReLU(x W_1 + b_1) W_2 + b_2``.
    No biases, as in the models that use it.

    Args:
        x: ``(..., d)``.
        w_gate: ``(d, f)``.
        w_up: ``(d, f)``.
        w_down: ``(f, d_out)`` (``d_out = d`` in a block).

    Returns:
        ``(..., d_out)``.
    """
    x = _as_float_array(x, "x")
    w_gate, w_up, w_down = (_as_float_array(w, name) for w, name in
                            ((w_gate, "w_gate"), (w_up, "w_up"), (w_down, "w_down")))
    if (w_gate.ndim != 2 or w_gate.shape != w_up.shape or w_down.ndim != 2
            or x.shape[-1:] != w_gate.shape[:1] or w_down.shape[0] != w_gate.shape[1]):
        raise ValueError(
            "Expected x (..., d), w_gate (d, f), w_up (d, f) and w_down (f, d_out). "
            f"Received: x.shape={x.shape}, w_gate.shape={w_gate.shape}, "
            f"w_up.shape={w_up.shape}, w_down.shape={w_down.shape}"
        )
    hidden = silu(x @ w_gate) * (x @ w_up)  # (..., f)
    return hidden @ w_down  # (..., d_out)


def grouped_query_attention(q, k, v, mask=None):
    r"""Grouped-query attention: ``H`` query heads over ``G`` key–value heads, query head ``h``
    attending with key–value head ``h // (H / G)``.

    .. math:: o_h = \mathrm{softmax}\Big(\frac{Q_h K_{g(h)}^\top}{\sqrt{d_k}} + \log M\Big)
              V_{g(h)}, \qquad g(h) = \lfloor h / (H / G) \rfloor

    Derived in lesson ``13_modern_block``. ``G = 1`` is multi-query attention, ``G = H``
    lesson 04's multi-head attention. A query row that may attend to no key gets zero weights
    and a zero output.

    Args:
        q: ``(..., H, Tq, d_k)``.
        k: ``(..., G, Tk, d_k)``, ``G`` dividing ``H``.
        v: ``(..., G, Tk, d_v)``.
        mask: optional boolean, broadcastable to ``(..., H, Tq, Tk)``; ``True`` = may attend.

    Returns:
        ``(..., H, Tq, d_v)``.
    """
    q, k, v = _as_float_array(q, "q"), _as_float_array(k, "k"), _as_float_array(v, "v")
    for array, name in ((q, "q"), (k, "k"), (v, "v")):
        _require_rank(array, name, 3)
    heads, groups = q.shape[-3], k.shape[-3]
    if v.shape[-3] != groups or groups == 0 or heads % groups:
        raise ValueError(
            "Expected q (..., H, Tq, d_k), k (..., G, Tk, d_k) and v (..., G, Tk, d_v), with G "
            f"dividing H. Received: q.shape={q.shape}, k.shape={k.shape}, v.shape={v.shape}"
        )
    k = np.repeat(k, heads // groups, axis=-3)  # (..., H, Tk, d_k): head h gets group h // (H/G)
    v = np.repeat(v, heads // groups, axis=-3)  # (..., H, Tk, d_v)
    return scaled_dot_product_attention(q, k, v, mask)[0]  # (..., H, Tq, d_v)
