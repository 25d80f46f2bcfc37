"""Random inputs for the plans and the public checks: sizes that differ on every axis, queries,
keys and values, attention weights, masks with fully masked rows, extreme logits, a decoding
step's cache, a layer's inputs.

Inputs have every dimension different (batch > 1, heads > 1 as a leading axis, Tq ≠ Tk,
d_k ≠ d_v), extreme logits and masks with fully masked rows, so that transposes, a missing
``keepdims`` or a mask applied the wrong way cannot hide.
"""

from __future__ import annotations

import numpy as np


def case(kwargs=None, **args):
    """One stored call of a public fixture, ``(args, kwargs)``: its positional arguments by
    name, its keyword ones."""
    return args, kwargs or {}


def sizes(rng, n: int, low: int = 2, high: int = 12) -> list[int]:
    """``n`` different sizes in ``[low, high)``, so that no two axes can be confused."""
    return [int(size) for size in rng.choice(np.arange(low, high), n, replace=False)]


def random_qkv(rng, batch, t_q, t_k, d_k, d_v, scale=1.0) -> dict[str, np.ndarray]:
    """``{"q", "k", "v"}`` with leading axes ``batch``; ``scale`` makes the scores larger."""
    return {
        "q": rng.standard_normal((*batch, t_q, d_k)) * scale,
        "k": rng.standard_normal((*batch, t_k, d_k)) * scale,
        "v": rng.standard_normal((*batch, t_k, d_v)),
    }


def random_weights(rng, shape) -> np.ndarray:
    """Attention weights: positive rows that sum to 1."""
    weights = rng.random(shape) + 0.05
    return weights / weights.sum(axis=-1, keepdims=True)


def random_mask(rng, shape, empty_rows=()) -> np.ndarray:
    """A boolean mask in which every row allows a key, except the ``empty_rows`` (index tuples
    of the leading axes and the row), which allow none."""
    mask = rng.random(shape) < 0.5
    rows = np.indices(shape[:-1]).reshape(len(shape) - 1, -1)
    mask[(*rows, rng.integers(shape[-1], size=rows.shape[1]))] = True
    for row in empty_rows:
        mask[row] = False
    return mask


def lengths_mask(lengths, t: int) -> np.ndarray:
    """``(B, 1, 1, t)``: key ``j`` of sequence ``b`` allowed while ``j < lengths[b]``."""
    mask = np.zeros((len(lengths), 1, 1, t), dtype=bool)
    for b, length in enumerate(lengths):
        mask[b, ..., :length] = True
    return mask


def lower_triangle(t_q: int, t_k: int) -> np.ndarray:
    """``(Tq, Tk)``: True where ``j ≤ i``."""
    return np.tri(t_q, t_k, dtype=bool)


def extreme_logits(rng, shape) -> np.ndarray:
    """Logits around ±1000 and ±1e4 in steps of 1/4, exactly representable in float32 too."""
    return rng.choice([-1e4, -1e3, 0.0, 1e3, 1e4], shape) + rng.integers(-8, 9, shape) / 4


def random_step(rng, batch, length, d_k, d_v, extreme=False) -> dict[str, np.ndarray]:
    """One decoding step: ``{"q_t" (*batch, d_k), "k_cache" (*batch, length, d_k), "v_cache"
    (*batch, length, d_v)}``, the newest query and a cache of ``length`` positions.

    ``extreme``: integer-valued queries (steps of 128) and keys, so that the scores
    ``q_t·k / √d_k`` reach thousands and, for ``d_k = 16``, are multiples of 32, exact in float32
    too: a row's weights are one-hot or split between tied positions, never ``1 - 10⁻⁴`` (which
    float32 cannot hold to more than a few digits)."""
    if extreme:
        q_t = rng.integers(-8, 9, (*batch, d_k)) * 128.0
        k_cache = rng.integers(-8, 9, (*batch, length, d_k)).astype(float)
        return {"q_t": q_t, "k_cache": k_cache,
                "v_cache": rng.standard_normal((*batch, length, d_v))}
    q, k, v = random_qkv(rng, batch, 1, length, d_k, d_v).values()
    return {"q_t": q[..., 0, :], "k_cache": k, "v_cache": v}



def layer_inputs(rng, batch, t_q, t_k, d_query, d_value, d_key=None):
    """Random float32 ``query (B, Tq, d_query)``, ``value (B, Tk, d_value)`` and ``key
    (B, Tk, d_key)`` (``key`` is ``None`` when ``d_key`` is)."""
    query = rng.standard_normal((batch, t_q, d_query)).astype("float32")
    value = rng.standard_normal((batch, t_k, d_value)).astype("float32")
    key = None if d_key is None else rng.standard_normal((batch, t_k, d_key)).astype("float32")
    return query, value, key



def two_sided_mask(rng, batch, t_q, t_k):
    """A boolean ``(B, Tq, Tk)`` mask in which every row has a True and a False, so that the mask,
    its inverse and the unmasked case all give different outputs and no row is fully masked."""
    mask = rng.random((batch, t_q, t_k)) < 0.5
    allowed, blocked = rng.integers(t_k, size=(2, batch, t_q))
    blocked = np.where(blocked == allowed, (allowed + 1) % t_k, blocked)
    batch_index, query_index = np.indices((batch, t_q))
    mask[batch_index, query_index, allowed] = True
    mask[batch_index, query_index, blocked] = False
    return mask

