"""Gradients the judge computes itself, by central differences on a NumPy forward pass.

A learner's model hands back the gradients its framework computed; the judge checks each
weight's (and input's) gradient along a random direction ``D``: the inner product ``⟨G, D⟩``
must equal the derivative of the loss along ``D``, measured here in float64,
``(L(w + εD) − L(w − εD)) / 2ε``. A weight the framework gives no gradient (a stop_gradient, a
frozen layer) fails wherever the loss depends on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

STEP = 1e-5  # ε, on directions of unit-variance entries: float64 keeps ~10 digits of the slope


def directional_derivatives(loss: Callable[[list], float], arrays: Sequence[np.ndarray],
                            seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(slopes, directions)``: for each of ``arrays``, a random direction ``D_i`` of its shape
    and the derivative of ``loss(arrays)`` along it (the other arrays held fixed)."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    directions = [rng.standard_normal(a.shape) for a in arrays]
    slopes = []
    for i, direction in enumerate(directions):
        moved = []
        for sign in (1.0, -1.0):
            shifted = list(arrays)
            shifted[i] = arrays[i] + sign * STEP * direction
            moved.append(loss(shifted))
        slopes.append((moved[0] - moved[1]) / (2 * STEP))
    return np.array(slopes), directions


def wrong_gradients(gradients: Sequence[np.ndarray], slopes: np.ndarray,
                    directions: Sequence[np.ndarray], rtol: float = 1e-2,
                    atol: float = 1e-3) -> list[int]:
    """The indices whose gradient disagrees with the measured slope:
    ``|⟨G_i, D_i⟩ − slope_i| > rtol·|slope_i| + atol·max|slope|`` (or a gradient of the wrong
    shape, or not finite)."""
    scale = float(np.max(np.abs(slopes))) if len(slopes) else 0.0
    wrong = []
    for i, (gradient, slope, direction) in enumerate(zip(gradients, slopes, directions,
                                                         strict=True)):
        gradient = np.asarray(gradient, dtype=np.float64)
        if gradient.shape != direction.shape or not np.all(np.isfinite(gradient)):
            wrong.append(i)
            continue
        along = float(np.sum(gradient * direction))
        if abs(along - slope) > rtol * abs(slope) + atol * scale:
            wrong.append(i)
    return wrong
