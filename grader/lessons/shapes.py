"""The axes the wrong variants of several lessons share."""

from __future__ import annotations

import numpy as np


def transpose(x):
    """``x`` with its last two axes swapped: ``kᵀ`` of a batch of keys."""
    return np.swapaxes(x, -1, -2)


def scores_shape(q, k):
    """The shape of the scores of queries ``q`` (..., Tq, d_k) and keys ``k`` (..., Tk, d_k)."""
    return (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])
