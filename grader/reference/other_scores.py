"""The answer key of lesson ``10_other_scores``: two other ways to score a query against keys.

Nadaraya–Watson kernel regression is attention with a **negative squared distance** as the
score: the query is a point ``x``, the keys are the training inputs ``x_i``, the values the
training targets ``y_i``, and the width ``w`` plays the role of a temperature,

.. math::
    \\hat y(x) = \\sum_i \\mathrm{softmax}_i\\Big(-\\frac{(x - x_i)^2}{2 w^2}\\Big)\\, y_i .

Additive (Bahdanau) scores project the query and the key to a common width ``h``, add them, and
read one number out of ``tanh`` with a vector ``v``; in the course's row-vector convention

.. math:: s_{ij} = \\tanh(q_i W_q + k_j W_k)\\, v ,
          \\quad W_q\\ (d_q, h),\\ W_k\\ (d_k, h),\\ v\\ (h,),

so that ``d_q`` and ``d_k`` may differ.
"""

from __future__ import annotations

import numpy as np

from grader.reference.numpy_attention import _as_float_array, _require_rank, softmax


def nadaraya_watson(x_query, x_train, y_train, width):
    r"""Nadaraya–Watson kernel regression: attention with negative squared distances.

    .. math:: \hat y_q = \sum_i \mathrm{softmax}_i\big(-(x_q - x_i)^2 / (2 w^2)\big)\, y_i

    Derived in lesson ``10_other_scores``. The softmax is the stable one (row max subtracted),
    so a tiny width gives the nearest training point's target, never NaN.

    Args:
        x_query: ``(..., n_query)``, the queries.
        x_train: ``(..., n_train)``, the keys.
        y_train: ``(..., n_train)``, the values.
        width: ``w > 0``, a number.

    Returns:
        ``ŷ``, ``(..., n_query)``.
    """
    x_query = _as_float_array(x_query, "x_query")
    x_train = _as_float_array(x_train, "x_train")
    y_train = _as_float_array(y_train, "y_train")
    if x_train.shape[-1:] != y_train.shape[-1:] or x_query.ndim < 1:
        raise ValueError(
            "Expected x_query (..., n_query), x_train (..., n_train) and y_train "
            f"(..., n_train). Received: x_query.shape={x_query.shape}, "
            f"x_train.shape={x_train.shape}, y_train.shape={y_train.shape}"
        )
    if not width > 0:
        raise ValueError(f"The width must be positive. Received: width={width}")
    distance = x_query[..., :, None] - x_train[..., None, :]  # (..., n_query, n_train)
    weights = softmax(-(distance**2) / (2 * width**2), axis=-1)  # (..., n_query, n_train)
    return (weights @ y_train[..., :, None])[..., 0]  # (..., n_query)


def additive_scores(q, k, w_q, w_k, v):
    r"""Additive (Bahdanau) attention scores of every query against every key.

    .. math:: s_{ij} = \tanh(q_i W_q + k_j W_k)\, v

    Derived in lesson ``10_other_scores``. Each query and key is projected once; the pairs meet
    in a ``(..., Tq, Tk, h)`` array, the reason additive scores cost ``h`` times the memory of
    ``q kᵀ``.

    Args:
        q: ``(..., Tq, d_q)``.
        k: ``(..., Tk, d_k)``.
        w_q: ``(d_q, h)``.
        w_k: ``(d_k, h)``.
        v: ``(h,)``.

    Returns:
        scores ``(..., Tq, Tk)``.
    """
    q, k = _as_float_array(q, "q"), _as_float_array(k, "k")
    w_q, w_k, v = (_as_float_array(x, name) for x, name in ((w_q, "w_q"), (w_k, "w_k"), (v, "v")))
    _require_rank(q, "q")
    _require_rank(k, "k")
    if (w_q.ndim != 2 or w_k.ndim != 2 or v.ndim != 1 or w_q.shape[0] != q.shape[-1]
            or w_k.shape[0] != k.shape[-1] or not w_q.shape[1] == w_k.shape[1] == v.shape[0]):
        raise ValueError(
            "Expected q (..., Tq, d_q), k (..., Tk, d_k), w_q (d_q, h), w_k (d_k, h), v (h,). "
            f"Received: q.shape={q.shape}, k.shape={k.shape}, w_q.shape={w_q.shape}, "
            f"w_k.shape={w_k.shape}, v.shape={v.shape}"
        )
    projected_q = (q @ w_q)[..., :, None, :]  # (..., Tq, 1, h)
    projected_k = (k @ w_k)[..., None, :, :]  # (..., 1, Tk, h)
    return np.tanh(projected_q + projected_k) @ v  # (..., Tq, Tk)
