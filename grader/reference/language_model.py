"""The answer key of lesson ``12_language_model``: the learning-rate schedule, the distribution
sampling draws from, and one step of AdamW with global-norm clipping.

Derived in lesson ``12_language_model``: the schedule ``η(s)`` warms up linearly to ``η_max``
over ``W`` steps, then decays as half a cosine to 0 at step ``S``; the sampling distribution
is the softmax of the logits over the temperature, cut to the ``top_k`` largest, then to the
``top_p`` most probable mass, and renormalised; AdamW clips the gradients to one global norm,
updates the moments, corrects their bias and subtracts ``η (m̂ / (√v̂ + ε) + λθ)``.
"""

from __future__ import annotations

import numpy as np

from grader.reference.numpy_attention import softmax


def cosine_schedule(step, warmup, total, peak):
    r"""The learning rate of step ``step``: a linear warm-up, then a cosine decay to 0.

    .. math:: \eta(s) = \eta_{\max}\, s / W\ (s < W);\quad
              \eta_{\max}\,\tfrac12\big(1 + \cos(\pi (s - W)/(S - W))\big)\ (W \le s \le S);
              \quad 0\ (s > S)

    Derived in lesson ``12_language_model``, which promises that ``step`` may be an array of
    steps (the whole schedule at once). Step 0 has a rate of 0, step ``warmup`` the ``peak``,
    step ``total`` 0 again.

    Args:
        step: a step number, or an array of them (integers ≥ 0).
        warmup: ``W``, the steps of the warm-up, ``1 ≤ W < S``.
        total: ``S``, the step at which the rate reaches 0.
        peak: ``η_max``, the rate at the end of the warm-up.

    Returns:
        the rate, a float64 array of the shape of ``step``.
    """
    if not 1 <= warmup < total:
        raise ValueError(f"Expected 1 ≤ warmup < total. Received: warmup={warmup}, "
                         f"total={total}")
    step = np.asarray(step, dtype=np.float64)
    progress = np.clip((step - warmup) / (total - warmup), 0.0, 1.0)  # 0 … 1 over the decay
    decay = peak * 0.5 * (1 + np.cos(np.pi * progress))
    return np.where(step < warmup, peak * step / warmup, np.where(step > total, 0.0, decay))


def sampling_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    r"""The probabilities sampling draws the next token from.

    .. math:: p = \mathrm{renormalise}\big(\mathrm{top\text{-}p}(\mathrm{top\text{-}k}(
              \mathrm{softmax}(z / \tau)))\big)

    Derived in lesson ``12_language_model``: divide the logits by the temperature; keep the
    ``top_k`` largest (the others get probability 0); of the softmax of what is kept, keep the
    smallest set of the most probable tokens whose probabilities add up to at least ``top_p``
    (the token that crosses ``top_p`` stays); renormalise what is kept to sum to 1.

    Args:
        logits: ``(..., V)``.
        temperature: ``τ > 0``.
        top_k: ``None`` (keep all) or ``1 ≤ k ≤ V``.
        top_p: ``None`` (keep all) or ``0 < p ≤ 1``.

    Returns:
        probabilities ``(..., V)``, each row summing to 1.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if not temperature > 0:
        raise ValueError(f"The temperature must be positive. Received: temperature={temperature}")
    scaled = logits / temperature  # (..., V)
    if top_k is not None:
        kth = np.sort(scaled, axis=-1)[..., -top_k, None]  # (..., 1): the k-th largest
        scaled = np.where(scaled >= kth, scaled, -np.inf)  # (..., V)
    probs = softmax(scaled, axis=-1)  # (..., V)
    if top_p is not None:
        order = np.argsort(-probs, axis=-1, kind="stable")  # (..., V): most probable first
        sorted_probs = np.take_along_axis(probs, order, axis=-1)  # (..., V)
        before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # (..., V): mass above each
        keep_sorted = before < top_p  # (..., V): the crossing token has less than top_p before
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        probs = np.where(keep, probs, 0.0)  # (..., V)
    return probs / probs.sum(axis=-1, keepdims=True)  # (..., V)


def adamw_step(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
               weight_decay=0.01, max_norm=1.0):
    r"""One step of AdamW, the gradients first clipped to a global norm of ``max_norm``.

    .. math:: g \leftarrow g \min(1, c/\lVert g\rVert);\ m \leftarrow \beta_1 m + (1-\beta_1) g;\
              v \leftarrow \beta_2 v + (1-\beta_2) g^2;\
              \theta \leftarrow \theta - \eta\big(\hat m/(\sqrt{\hat v} + \epsilon)
              + \lambda\theta\big)

    with ``m̂ = m / (1 - β₁ᵗ)``, ``v̂ = v / (1 - β₂ᵗ)`` and ``‖g‖`` the norm of all the gradients
    together. Derived in lesson ``12_language_model``; the weight decay is decoupled: it shrinks
    the parameters directly and never enters the moments.

    Args:
        params, grads, m, v: lists of arrays, the ``i``-th of each of the same shape.
        step: ``t``, the number of this step, counted from 1.
        lr: ``η``; ``beta1``, ``beta2``, ``eps``, ``weight_decay`` (``λ``), ``max_norm`` (``c``).

    Returns:
        ``(params, m, v)``: three new lists of float64 arrays.
    """
    params, grads, m, v = ([np.asarray(x, dtype=np.float64) for x in group]
                           for group in (params, grads, m, v))
    if not len(params) == len(grads) == len(m) == len(v):
        raise ValueError("Expected as many gradients and moments as parameters. Received: "
                         f"{len(params)} params, {len(grads)} grads, {len(m)} m, {len(v)} v")
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))  # one norm of all the gradients
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    new_params, new_m, new_v = [], [], []
    for theta, g, m_i, v_i in zip(params, grads, m, v, strict=True):
        g = g * scale
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        m_hat, v_hat = m_i / (1 - beta1**step), v_i / (1 - beta2**step)
        new_params.append(theta - lr * (m_hat / (np.sqrt(v_hat) + eps) + weight_decay * theta))
        new_m.append(m_i)
        new_v.append(v_i)
    return new_params, new_m, new_v
