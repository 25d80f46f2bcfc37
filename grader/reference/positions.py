"""The answer key of lesson ``05_positions``: sinusoidal position encodings.

Vaswani et al. (2017), section 3.5: position ``t`` of a sequence gets the vector ``PE[t]`` of
size ``d``, whose columns come in pairs ``(2i, 2i+1)``, a sine and a cosine of one frequency

.. math::
    PE[t, 2i] = \\sin(\\omega_i t), \\quad PE[t, 2i+1] = \\cos(\\omega_i t),
    \\quad \\omega_i = 10000^{-2i/d},

so the wavelengths ``2π / ω_i`` grow geometrically from ``2π`` to almost ``10000 · 2π``. A shift
by ``k`` positions is one rotation by the angle ``ω_i k`` per pair: ``PE[t + k] = M_k PE[t]``,
with ``M_k`` block-diagonal and the same for every ``t`` (:func:`shift_matrix`).
"""

from __future__ import annotations

import numbers

import numpy as np

BASE = 10000.0


def _size(value, name: str, smallest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < smallest:
        raise ValueError(f"`{name}` must be an integer ≥ {smallest}. Received: {name}={value!r}")
    return int(value)


def frequencies(d: int) -> np.ndarray:
    r"""The angular frequency of each pair of columns: ``ω_i = 10000^(-2i/d)``.

    Args:
        d: the size of the encoding (odd allowed: its last column is a sine of its own).

    Returns:
        ``(⌈d/2⌉,)``: ``ω_0 = 1`` down to ``10000^(-2⌊(d-1)/2⌋/d)``.
    """
    d = _size(d, "d", 1)
    first_columns = np.arange(0, d, 2)  # (⌈d/2⌉,): 2i, the first column of pair i
    return BASE ** (-first_columns / d)  # (⌈d/2⌉,)


def sinusoidal_encoding(T, d):
    r"""Sinusoidal position encodings of positions ``t = 0 … T-1``, in ``d`` dimensions.

    .. math::
        PE[t, 2i] = \sin\!\left(\frac{t}{10000^{2i/d}}\right), \qquad
        PE[t, 2i+1] = \cos\!\left(\frac{t}{10000^{2i/d}}\right)

    Derived in lesson ``05_positions``: sin on the even columns, cos on the odd ones, the two
    columns of a pair sharing one frequency; for an odd ``d`` the last column is a sine.

    Args:
        T: the number of positions (≥ 1).
        d: the size of each position's vector (≥ 1).

    Returns:
        float64 array ``(T, d)``; row ``t`` is the encoding of position ``t``.
    """
    T, d = _size(T, "T", 1), _size(d, "d", 1)
    positions = np.arange(T, dtype=np.float64)[:, None]  # (T, 1)
    angles = positions * frequencies(d)[None, :]  # (T, ⌈d/2⌉): ω_i t
    encoding = np.empty((T, d))  # (T, d)
    encoding[:, 0::2] = np.sin(angles)  # (T, ⌈d/2⌉): columns 0, 2, 4, …
    encoding[:, 1::2] = np.cos(angles[:, : d // 2])  # (T, ⌊d/2⌋): columns 1, 3, 5, …
    return encoding


def rotation(angle: float) -> np.ndarray:
    r"""``R(θ)``, ``(2, 2)``: ``R(θ) (sin a, cos a) = (sin(a + θ), cos(a + θ))``.

    .. math:: R(\theta) = \begin{pmatrix} \cos\theta & \sin\theta \\
                                          -\sin\theta & \cos\theta \end{pmatrix}
    """
    cos, sin = np.cos(angle), np.sin(angle)
    return np.array([[cos, sin], [-sin, cos]])  # (2, 2)


def shift_matrix(d: int, k: int) -> np.ndarray:
    r"""``M_k``, ``(d, d)``: ``PE[t + k] = M_k PE[t]`` for every ``t``.

    Block-diagonal: one :func:`rotation` ``R(ω_i k)`` per pair of columns ``(2i, 2i+1)``. For an
    odd ``d`` the last column, a sine without its cosine, is not a rotation of itself: its entry
    is left at 0, and only the first ``d - 1`` columns follow the rule.
    """
    d = _size(d, "d", 1)
    matrix = np.zeros((d, d))  # (d, d)
    for i, omega in enumerate(frequencies(d)[: d // 2]):
        pair = slice(2 * i, 2 * i + 2)
        matrix[pair, pair] = rotation(omega * k)  # (2, 2)
    return matrix
