"""Answers of lesson 12's exercises, right and wrong, as a learner might write them.

``VARIANTS[exercise]``: ``{"right": [answer], "wrong": [(answer, misconception key)]}``. The
right ones are written differently from the answer key (loops, ``np.select``, ``np.vectorize``,
Keras's form of Adam's step size) and must get full marks; each wrong one makes the one mistake
its key names and must lose points with that key named. Every answer is self-contained (it only
uses ``np``), so ``answer_variants.notebook_source`` can paste it into a notebook cell under the
exercise's name; ``answer_variants.VARIANTS`` holds this corpus too.
"""

from __future__ import annotations

import numpy as np

# cosine_schedule -------------------------------------------------------------------------------


def schedule_select(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    angle = np.pi * (s - warmup) / (total - warmup)
    return np.select([s < warmup, s <= total],
                     [peak * s / warmup, peak / 2 * (1 + np.cos(angle))], default=0.0)


def schedule_vectorized(step, warmup, total, peak):
    def one(s):
        if s < warmup:
            return peak * s / warmup
        if s > total:
            return 0.0
        return 0.5 * peak * (1.0 + np.cos(np.pi * (s - warmup) / (total - warmup)))

    return np.vectorize(one, otypes=[float])(step)


def schedule_float32(step, warmup, total, peak):
    s = np.asarray(step).astype(np.float32)
    warm = np.float32(peak) * s / np.float32(warmup)
    progress = np.minimum(np.maximum((s - warmup) / np.float32(total - warmup), 0), 1)
    cosine = np.float32(peak) * np.float32(0.5) * (1 + np.cos(np.float32(np.pi) * progress))
    return np.where(s < warmup, warm, np.where(s > total, np.float32(0), cosine))


def schedule_warmup_ahead(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    angle = np.pi * np.clip((s - warmup) / (total - warmup), 0, 1)
    decay = peak * 0.5 * (1 + np.cos(angle))
    return np.where(s < warmup, peak * (s + 1) / warmup, np.where(s > total, 0.0, decay))


def schedule_without_half(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    angle = np.pi * np.clip((s - warmup) / (total - warmup), 0, 1)
    return np.where(s < warmup, peak * s / warmup,
                    np.where(s > total, 0.0, peak * (1 + np.cos(angle))))


def schedule_without_pi(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    angle = np.clip((s - warmup) / (total - warmup), 0, 1)
    decay = peak * 0.5 * (1 + np.cos(angle))
    return np.where(s < warmup, peak * s / warmup, np.where(s > total, 0.0, decay))


def schedule_from_step_zero(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    decay = peak * 0.5 * (1 + np.cos(np.pi * np.clip(s / total, 0, 1)))
    return np.where(s < warmup, peak * s / warmup, np.where(s > total, 0.0, decay))


def schedule_restarting(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    decay = peak * 0.5 * (1 + np.cos(np.pi * (s - warmup) / (total - warmup)))
    return np.where(s < warmup, peak * s / warmup, decay)


def schedule_over_total(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    angle = np.pi * np.clip((s - warmup) / total, 0, 1)  # over total, not total - warmup
    return np.where(s < warmup, peak * s / warmup,
                    np.where(s > total, 0.0, peak * 0.5 * (1 + np.cos(angle))))


def schedule_rising(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    angle = np.pi * np.clip((s - warmup) / (total - warmup), 0, 1)
    return np.where(s < warmup, peak * s / warmup,
                    np.where(s > total, 0.0, peak * 0.5 * (1 - np.cos(angle))))

def schedule_full_turn(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    progress = np.clip((s - warmup) / (total - warmup), 0, 1)
    decay = peak * 0.5 * (1 + np.cos(2 * np.pi * progress))  # a whole turn: back up at total
    return np.where(s < warmup, peak * s / warmup, np.where(s > total, 0.0, decay))


def schedule_floor_division(step, warmup, total, peak):
    s = np.asarray(step, dtype=float)
    progress = np.clip((s - warmup) / (total - warmup), 0, 1)
    decay = peak * 0.5 * (1 + np.cos(np.pi * progress))
    return np.where(s < warmup, peak * (s // warmup), np.where(s > total, 0.0, decay))

def schedule_with_if(step, warmup, total, peak):
    if step < warmup:  # one step at a time
        return peak * step / warmup
    if step > total:
        return 0.0
    return peak * 0.5 * (1 + np.cos(np.pi * (step - warmup) / (total - warmup)))


# sampling_distribution -------------------------------------------------------------------------


def sampling_row_by_row(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    out = np.zeros_like(z)
    for index in np.ndindex(z.shape[:-1]):
        row = z[index]
        kept = list(np.argsort(row)[::-1])  # most probable first
        if top_k is not None:
            kept = kept[:top_k]
        weights = np.exp(row[kept] - row[kept].max())
        weights = weights / weights.sum()
        if top_p is not None:
            total, n = 0.0, 0
            while n < len(kept) and total < top_p:
                total += weights[n]
                n += 1
            kept, weights = kept[:n], weights[:n]
        out[index][kept] = weights / weights.sum()
    return out


def sampling_partition(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        smallest = np.argpartition(z, -top_k, axis=-1)[..., :-top_k]  # all but the top k
        z = z.copy()
        np.put_along_axis(z, smallest, -np.inf, axis=-1)
    p = np.exp(z - np.max(z, axis=-1, keepdims=True))
    p = p / np.sum(p, axis=-1, keepdims=True)
    if top_p is not None:
        ranks = np.argsort(np.argsort(-p, axis=-1), axis=-1)  # 0 = the most probable
        sorted_p = -np.sort(-p, axis=-1)
        needed = np.sum(np.cumsum(sorted_p, axis=-1) < top_p, axis=-1, keepdims=True) + 1
        p = np.where(ranks < needed, p, 0)
    return p / p.sum(axis=-1, keepdims=True)


def sampling_times_temperature(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) * temperature
    if top_k is not None:
        z = np.where(z >= np.sort(z, axis=-1)[..., -top_k, None], z, -np.inf)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, np.cumsum(sorted_p, axis=-1) - sorted_p < top_p, axis=-1)
        p = np.where(keep, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def sampling_without_crossing_token(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        z = np.where(z >= np.sort(z, axis=-1)[..., -top_k, None], z, -np.inf)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        below = np.cumsum(sorted_p, axis=-1) < top_p  # stops before the crossing token
        below[..., 0] = True
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, below, axis=-1)
        p = np.where(keep, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def sampling_not_renormalised(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        z = np.where(z >= np.sort(z, axis=-1)[..., -top_k, None], z, -np.inf)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, np.cumsum(sorted_p, axis=-1) - sorted_p < top_p, axis=-1)
        p = np.where(keep, p, 0.0)
    return p  # the dropped tokens' share is missing


def sampling_top_p_first(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:  # on every token's probability, before top-k
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, np.cumsum(sorted_p, axis=-1) - sorted_p < top_p, axis=-1)
        p = np.where(keep, p, 0.0)
    if top_k is not None:
        p = np.where(z >= np.sort(z, axis=-1)[..., -top_k, None], p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def sampling_top_p_untempered(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float)
    if top_k is not None:
        z = np.where(z >= np.sort(z, axis=-1)[..., -top_k, None], z, -np.inf)
    if top_p is not None:  # the set chosen at temperature 1
        plain = np.exp(z - z.max(axis=-1, keepdims=True))
        plain = plain / plain.sum(axis=-1, keepdims=True)
        order = np.argsort(-plain, axis=-1)
        sorted_p = np.take_along_axis(plain, order, axis=-1)
        keep = np.zeros(z.shape, dtype=bool)
        np.put_along_axis(keep, order, np.cumsum(sorted_p, axis=-1) - sorted_p < top_p, axis=-1)
        z = np.where(keep, z, -np.inf)
    z = z / temperature
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def sampling_k_plus_one(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None and top_k < z.shape[-1]:
        z = np.where(z >= np.sort(z, axis=-1)[..., -(top_k + 1), None], z, -np.inf)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, np.cumsum(sorted_p, axis=-1) - sorted_p < top_p, axis=-1)
        p = np.where(keep, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def sampling_exp_of_logits(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        z = np.where(z >= np.sort(z, axis=-1)[..., -top_k, None], z, -np.inf)
    p = np.exp(z)  # overflows for logits of a thousand
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, np.cumsum(sorted_p, axis=-1) - sorted_p < top_p, axis=-1)
        p = np.where(keep, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def sampling_k_smallest(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        z = np.where(z <= np.sort(z, axis=-1)[..., top_k - 1, None], z, -np.inf)  # ascending
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, np.cumsum(sorted_p, axis=-1) - sorted_p < top_p, axis=-1)
        p = np.where(keep, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def sampling_top_p_in_vocabulary_order(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        z = np.where(z >= np.sort(z, axis=-1)[..., -top_k, None], z, -np.inf)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        p = np.where(np.cumsum(p, axis=-1) - p < top_p, p, 0.0)  # never sorted
    return p / p.sum(axis=-1, keepdims=True)


def sampling_temperature_on_probabilities(logits, temperature=1.0, top_k=None, top_p=None):
    z = np.asarray(logits, dtype=float)
    if top_k is not None:
        z = np.where(z >= np.sort(z, axis=-1)[..., -top_k, None], z, -np.inf)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / temperature  # after the softmax: the renormalisation cancels it
    p = p / p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, np.cumsum(sorted_p, axis=-1) - sorted_p < top_p, axis=-1)
        p = np.where(keep, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)

def sampling_transformers_top_p(logits, temperature=1.0, top_k=None, top_p=None):
    """Hugging Face's way: sort ascending and drop the tokens whose cumulative probability
    stays at most 1 - top_p, the most probable one always kept."""
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        z = np.where(z < np.sort(z, axis=-1)[..., -top_k, None], -np.inf, z)
    if top_p is not None:
        order = np.argsort(z, axis=-1)
        ascending = np.take_along_axis(z, order, axis=-1)
        p = np.exp(ascending - ascending[..., -1:])
        p /= p.sum(axis=-1, keepdims=True)
        drop = np.cumsum(p, axis=-1) <= 1 - top_p
        drop[..., -1] = False
        dropped = np.zeros(z.shape, dtype=bool)
        np.put_along_axis(dropped, order, drop, axis=-1)
        z = np.where(dropped, -np.inf, z)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


# adamw_step ------------------------------------------------------------------------------------


def adamw_comprehensions(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                         weight_decay=0.01, max_norm=1.0):
    norm = np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]))
    g = [x * min(1.0, max_norm / norm) for x in grads]
    m = [beta1 * a + (1 - beta1) * b for a, b in zip(m, g, strict=True)]
    v = [beta2 * a + (1 - beta2) * b * b for a, b in zip(v, g, strict=True)]
    c1, c2 = 1 - beta1**step, 1 - beta2**step
    params = [p - lr * (a / c1 / (np.sqrt(b / c2) + eps) + weight_decay * p)
              for p, a, b in zip(params, m, v, strict=True)]
    return params, m, v


def adamw_keras_step_size(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                          weight_decay=0.01, max_norm=1.0):
    total = 0.0
    for g in grads:
        total += float((g**2).sum())
    factor = max_norm / max(np.sqrt(total), max_norm)
    alpha = lr * np.sqrt(1 - beta2**step) / (1 - beta1**step)  # bias corrections in one factor
    out_p, out_m, out_v = [], [], []
    for p, g, m_i, v_i in zip(params, grads, m, v, strict=True):
        g = factor * g
        m_i = m_i + (1 - beta1) * (g - m_i)
        v_i = v_i + (1 - beta2) * (g**2 - v_i)
        p = p * (1 - lr * weight_decay)
        out_p.append(p - alpha * m_i / (np.sqrt(v_i) + eps * np.sqrt(1 - beta2**step)))
        out_m.append(m_i)
        out_v.append(v_i)
    return out_p, out_m, out_v


def adamw_as_l2(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.01, max_norm=1.0):
    scale = min(1.0, max_norm / np.sqrt(sum((g**2).sum() for g in grads)))
    out = [], [], []
    for p, g, m_i, v_i in zip(params, [g * scale for g in grads], m, v, strict=True):
        g = g + weight_decay * p  # L2: the decay goes through the moments
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        update = (m_i / (1 - beta1**step)) / (np.sqrt(v_i / (1 - beta2**step)) + eps)
        for kept, value in zip(out, (p - lr * update, m_i, v_i), strict=True):
            kept.append(value)
    return out


def adamw_uncorrected(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                      weight_decay=0.01, max_norm=1.0):
    scale = min(1.0, max_norm / np.sqrt(sum((g**2).sum() for g in grads)))
    out = [], [], []
    for p, g, m_i, v_i in zip(params, [g * scale for g in grads], m, v, strict=True):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        p = p - lr * (m_i / (np.sqrt(v_i) + eps) + weight_decay * p)
        for kept, value in zip(out, (p, m_i, v_i), strict=True):
            kept.append(value)
    return out


def adamw_clip_each(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                    weight_decay=0.01, max_norm=1.0):
    out = [], [], []
    for p, g, m_i, v_i in zip(params, grads, m, v, strict=True):
        g = g * min(1.0, max_norm / np.linalg.norm(g))  # each tensor on its own
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        update = (m_i / (1 - beta1**step)) / (np.sqrt(v_i / (1 - beta2**step)) + eps)
        for kept, value in zip(out, (p - lr * (update + weight_decay * p), m_i, v_i), strict=True):
            kept.append(value)
    return out


def adamw_clip_too_late(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                        weight_decay=0.01, max_norm=1.0):
    new_m = [beta1 * a + (1 - beta1) * g for a, g in zip(m, grads, strict=True)]
    new_v = [beta2 * a + (1 - beta2) * g**2 for a, g in zip(v, grads, strict=True)]
    scale = min(1.0, max_norm / np.sqrt(sum((g**2).sum() for g in grads)))
    grads = [g * scale for g in grads]  # noqa: F841 (clipped after the moments took them)
    new_p = [p - lr * ((a / (1 - beta1**step)) / (np.sqrt(b / (1 - beta2**step)) + eps)
                       + weight_decay * p) for p, a, b in zip(params, new_m, new_v, strict=True)]
    return new_p, new_m, new_v


def adamw_always_rescaled(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                          weight_decay=0.01, max_norm=1.0):
    norm = np.sqrt(sum((g**2).sum() for g in grads))
    out = [], [], []
    for p, g, m_i, v_i in zip(params, grads, m, v, strict=True):
        g = g * max_norm / norm
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        update = (m_i / (1 - beta1**step)) / (np.sqrt(v_i / (1 - beta2**step)) + eps)
        for kept, value in zip(out, (p - lr * (update + weight_decay * p), m_i, v_i), strict=True):
            kept.append(value)
    return out


def adamw_decay_outside_lr(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                           weight_decay=0.01, max_norm=1.0):
    scale = min(1.0, max_norm / np.sqrt(sum((g**2).sum() for g in grads)))
    out = [], [], []
    for p, g, m_i, v_i in zip(params, [g * scale for g in grads], m, v, strict=True):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        update = (m_i / (1 - beta1**step)) / (np.sqrt(v_i / (1 - beta2**step)) + eps)
        for kept, value in zip(out, (p - lr * update - weight_decay * p, m_i, v_i), strict=True):
            kept.append(value)
    return out


def adamw_decay_first(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                      weight_decay=0.01, max_norm=1.0):
    """The decoupled decay as PyTorch writes it: θ ← θ(1 − lr·λ), then the Adam step."""
    norm = np.sqrt(sum(np.vdot(g, g) for g in grads))
    scale = max_norm / norm if norm > max_norm else 1.0
    new = [], [], []
    for p, g, m_i, v_i in zip(params, grads, m, v, strict=True):
        g = g * scale
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * np.square(g)
        p = p * (1 - lr * weight_decay)
        p = p - lr * (m_i / (1 - beta1**step)) / (np.sqrt(v_i / (1 - beta2**step)) + eps)
        for kept, value in zip(new, (p, m_i, v_i), strict=True):
            kept.append(value)
    return new


def adamw_eps_in_root(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                      weight_decay=0.01, max_norm=1.0):
    scale = min(1.0, max_norm / np.sqrt(sum((g**2).sum() for g in grads)))
    out = [], [], []
    for p, g, m_i, v_i in zip(params, [g * scale for g in grads], m, v, strict=True):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        update = (m_i / (1 - beta1**step)) / np.sqrt(v_i / (1 - beta2**step) + eps)
        for kept, value in zip(out, (p - lr * (update + weight_decay * p), m_i, v_i), strict=True):
            kept.append(value)
    return out


def adamw_v_of_gradients(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                         weight_decay=0.01, max_norm=1.0):
    scale = min(1.0, max_norm / np.sqrt(sum((g**2).sum() for g in grads)))
    out = [], [], []
    for p, g, m_i, v_i in zip(params, [g * scale for g in grads], m, v, strict=True):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g  # g, not g²
        update = (m_i / (1 - beta1**step)) / (np.sqrt(v_i / (1 - beta2**step)) + eps)
        for kept, value in zip(out, (p - lr * (update + weight_decay * p), m_i, v_i), strict=True):
            kept.append(value)
    return out


def adamw_sum_of_norms(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.01, max_norm=1.0):
    norm = sum(np.linalg.norm(g) for g in grads)  # Σ‖g_i‖, not √(Σ‖g_i‖²)
    scale = min(1.0, max_norm / norm)
    out = [], [], []
    for p, g, m_i, v_i in zip(params, [g * scale for g in grads], m, v, strict=True):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        update = (m_i / (1 - beta1**step)) / (np.sqrt(v_i / (1 - beta2**step)) + eps)
        for kept, value in zip(out, (p - lr * (update + weight_decay * p), m_i, v_i), strict=True):
            kept.append(value)
    return out

def adamw_correction_of_next_step(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999,
                                  eps=1e-8, weight_decay=0.01, max_norm=1.0):
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    t = step + 1  # as if step counted from 0
    out = [], [], []
    for p, g, m_i, v_i in zip(params, [g * scale for g in grads], m, v, strict=True):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        update = (m_i / (1 - beta1**t)) / (np.sqrt(v_i / (1 - beta2**t)) + eps)
        for kept, value in zip(out, (p - lr * (update + weight_decay * p), m_i, v_i), strict=True):
            kept.append(value)
    return out


VARIANTS = {
    "cosine_schedule": {
        "right": [schedule_select, schedule_vectorized, schedule_float32],
        "wrong": [(schedule_warmup_ahead, "schedule_warmup_off_by_one"),
                  (schedule_without_half, "schedule_no_half"),
                  (schedule_without_pi, "schedule_never_zero"),
                  (schedule_from_step_zero, "schedule_decay_from_zero"),
                  (schedule_restarting, "schedule_restarts"),
                  (schedule_over_total, "schedule_progress_over_total"),
                  (schedule_rising, "schedule_cosine_rises"),
                  (schedule_full_turn, "schedule_full_cosine"),
                  (schedule_floor_division, "schedule_integer_division"),
                  (schedule_with_if, "schedule_one_step_only")],
    },
    "sampling_distribution": {
        "right": [sampling_row_by_row, sampling_partition, sampling_transformers_top_p],
        "wrong": [(sampling_times_temperature, "sampling_temperature_multiplied"),
                  (sampling_without_crossing_token, "sampling_top_p_excludes_crossing"),
                  (sampling_not_renormalised, "sampling_no_renormalise"),
                  (sampling_top_p_first, "sampling_top_p_before_top_k"),
                  (sampling_top_p_untempered, "sampling_top_p_before_temperature"),
                  (sampling_k_plus_one, "sampling_top_k_off_by_one"),
                  (sampling_exp_of_logits, "sampling_unstable"),
                  (sampling_k_smallest, "sampling_top_k_smallest"),
                  (sampling_top_p_in_vocabulary_order, "sampling_top_p_unsorted"),
                  (sampling_temperature_on_probabilities, "sampling_temperature_ignored")],
    },
    "adamw_step": {
        "right": [adamw_comprehensions, adamw_keras_step_size, adamw_decay_first],
        "wrong": [(adamw_as_l2, "adamw_l2_not_decoupled"),
                  (adamw_uncorrected, "adamw_no_bias_correction"),
                  (adamw_clip_each, "adamw_clip_per_tensor"),
                  (adamw_clip_too_late, "adamw_clip_after_moments"),
                  (adamw_always_rescaled, "adamw_clip_always"),
                  (adamw_decay_outside_lr, "adamw_decay_without_lr"),
                  (adamw_eps_in_root, "adamw_eps_inside_sqrt"),
                  (adamw_v_of_gradients, "adamw_v_not_squared"),
                  (adamw_sum_of_norms, "adamw_norm_sum_of_norms"),
                  (adamw_correction_of_next_step, "adamw_bias_correction_next_step")],
    },
}
