"""Lesson 12 (``12_language_model``): its exercises as the instructor's side knows them: their
records (:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls)
and the wrong variants of its functions, as live code. Each variant makes exactly one mistake
and is otherwise right, so that its output tells it apart; the judge runs them on the learner's
inputs to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs
for the public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_12_language_model``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.reference.numpy_attention import softmax

# cosine_schedule -------------------------------------------------------------------------------


def _schedule(step, warmup, total, peak, *, warmup_shift=0, half=0.5, angle=np.pi,
              decay_start=None, stop=True, over_total=False, cosine_sign=1.0,
              integer_warmup=False):
    """The schedule with one switch turned: the mistake it names (``integer_warmup``: the
    warm-up's step // warmup)."""
    step = np.asarray(step, dtype=np.float64)
    start = warmup if decay_start is None else decay_start
    progress = (step - start) / (total if over_total else total - start)
    if stop:
        progress = np.clip(progress, 0.0, 1.0)
    decay = peak * half * (1 + cosine_sign * np.cos(angle * progress))
    after = 0.0 if stop else decay
    rise = (step + warmup_shift) // warmup if integer_warmup else (step + warmup_shift) / warmup
    return np.where(step < warmup, peak * rise,
                    np.where(step > total, after, decay))


def _schedule_with(**switches):
    return lambda step, warmup, total, peak: _schedule(step, warmup, total, peak, **switches)


def _schedule_for_one_step(step, warmup, total, peak):
    """The schedule with Python's ``if``, right for one step and a ValueError for an array."""
    if step < warmup:
        return np.asarray(peak * step / warmup, dtype=np.float64)
    if step > total:
        return np.asarray(0.0)
    return np.asarray(peak * 0.5 * (1 + np.cos(np.pi * (step - warmup) / (total - warmup))))


SCHEDULE = {
    "schedule_warmup_off_by_one": _schedule_with(warmup_shift=1),
    "schedule_no_half": _schedule_with(half=1.0),
    "schedule_never_zero": _schedule_with(angle=1.0),
    "schedule_decay_from_zero": _schedule_with(decay_start=0),
    "schedule_restarts": _schedule_with(stop=False),
    "schedule_progress_over_total": _schedule_with(over_total=True),
    "schedule_cosine_rises": _schedule_with(cosine_sign=-1.0),
    "schedule_full_cosine": _schedule_with(angle=2 * np.pi),
    "schedule_integer_division": _schedule_with(integer_warmup=True),
    "schedule_one_step_only": _schedule_for_one_step,
}

# sampling_distribution -------------------------------------------------------------------------


def _top_p_mask(probs, top_p, *, crossing=True, sorted_first=True):
    """Where the smallest set of the most probable tokens reaching ``top_p`` is (``crossing``)
    or the set that stays below it (without the crossing token, but never empty); without
    ``sorted_first``, the probabilities are summed in the vocabulary's order."""
    if not sorted_first:
        return np.cumsum(probs, axis=-1) - probs < top_p
    order = np.argsort(-probs, axis=-1, kind="stable")
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    cumulative = np.cumsum(sorted_probs, axis=-1)
    keep_sorted = (cumulative - sorted_probs < top_p) if crossing else (cumulative < top_p)
    keep_sorted[..., 0] = True
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return keep


def _top_k(scaled, top_k, extra=0, smallest=False):
    if top_k is None:
        return scaled
    if smallest:  # the k smallest, from an ascending sort
        return np.where(scaled <= np.sort(scaled, axis=-1)[..., top_k - 1, None], scaled, -np.inf)
    kth = np.sort(scaled, axis=-1)[..., -min(top_k + extra, scaled.shape[-1]), None]
    return np.where(scaled >= kth, scaled, -np.inf)


def _sampling(logits, temperature=1.0, top_k=None, top_p=None, *, multiply=False,
              crossing=True, renormalise=True, p_before_k=False, p_before_temperature=False,
              k_extra=0, stable=True, k_smallest=False, p_sorted=True, tempered=True):
    """The sampling distribution with one switch turned: the mistake it names."""
    logits = np.asarray(logits, dtype=np.float64)
    scaled = logits * temperature if multiply else logits / temperature
    if not tempered:  # τ applied to the probabilities, where renormalising cancels it
        scaled = logits

    def probabilities(z):
        if stable:
            return softmax(z, axis=-1)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    keep = np.ones(logits.shape, dtype=bool)
    if top_p is not None and p_before_k:
        keep &= _top_p_mask(probabilities(scaled), top_p, crossing=crossing)
    scaled = _top_k(scaled, top_k, k_extra, k_smallest)
    if top_p is not None and p_before_temperature:
        keep &= _top_p_mask(probabilities(_top_k(logits, top_k, k_extra)), top_p)
    elif top_p is not None and not p_before_k:
        keep &= _top_p_mask(probabilities(scaled), top_p, crossing=crossing,
                            sorted_first=p_sorted)
    probs = np.where(keep, probabilities(scaled), 0.0)
    return probs / probs.sum(axis=-1, keepdims=True) if renormalise else probs


def _sampling_with(**switches):
    def variant(logits, temperature=1.0, top_k=None, top_p=None):
        return _sampling(logits, temperature, top_k, top_p, **switches)

    return variant


SAMPLING = {
    "sampling_temperature_multiplied": _sampling_with(multiply=True),
    "sampling_top_p_excludes_crossing": _sampling_with(crossing=False),
    "sampling_no_renormalise": _sampling_with(renormalise=False),
    "sampling_top_p_before_top_k": _sampling_with(p_before_k=True),
    "sampling_top_p_before_temperature": _sampling_with(p_before_temperature=True),
    "sampling_top_k_off_by_one": _sampling_with(k_extra=1),
    "sampling_unstable": _sampling_with(stable=False),
    "sampling_top_k_smallest": _sampling_with(k_smallest=True),
    "sampling_top_p_unsorted": _sampling_with(p_sorted=False),
    "sampling_temperature_ignored": _sampling_with(tempered=False),
}

# adamw_step ------------------------------------------------------------------------------------


def _adamw(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01,
           max_norm=1.0, *, decoupled=True, bias_correction=True, clip="global",
           clip_moments=True, decay_times_lr=True, eps_inside=False, v_power=2,
           norm_of_norms=False, step_shift=0):
    """One AdamW step with one switch turned: the mistake it names (``step_shift`` 1: the bias
    correction of step + 1)."""
    params, grads, m, v = ([np.asarray(x, dtype=np.float64) for x in group]
                           for group in (params, grads, m, v))
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    if norm_of_norms:  # Σ‖g_i‖ instead of √(Σ‖g_i‖²)
        norm = sum(np.sqrt(np.sum(g**2)) for g in grads)
    clipped = []
    for g in grads:
        if clip == "per_tensor":
            own = np.sqrt(np.sum(g**2))
            clipped.append(g * min(1.0, max_norm / own) if own > 0 else g)
        elif clip == "always":
            clipped.append(g * max_norm / norm)
        else:
            clipped.append(g * min(1.0, max_norm / norm) if norm > 0 else g)
    new_params, new_m, new_v = [], [], []
    for theta, g, g_clipped, m_i, v_i in zip(params, grads, clipped, m, v, strict=True):
        g = g_clipped if clip_moments else g
        if not decoupled:
            g = g + weight_decay * theta
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**v_power
        m_hat, v_hat = m_i, v_i
        if bias_correction:
            t = step + step_shift
            m_hat, v_hat = m_i / (1 - beta1**t), v_i / (1 - beta2**t)
        update = m_hat / (np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps)
        decay = weight_decay * theta if decoupled else 0.0
        new_params.append(theta - lr * (update + decay) if decay_times_lr
                          else theta - lr * update - decay)
        new_m.append(m_i)
        new_v.append(v_i)
    return new_params, new_m, new_v


def _adamw_with(**switches):
    def variant(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.01, max_norm=1.0):
        return _adamw(params, grads, m, v, step, lr, beta1, beta2, eps, weight_decay, max_norm,
                      **switches)

    return variant


ADAMW = {
    "adamw_l2_not_decoupled": _adamw_with(decoupled=False),
    "adamw_no_bias_correction": _adamw_with(bias_correction=False),
    "adamw_clip_per_tensor": _adamw_with(clip="per_tensor"),
    "adamw_clip_after_moments": _adamw_with(clip_moments=False),
    "adamw_clip_always": _adamw_with(clip="always"),
    "adamw_decay_without_lr": _adamw_with(decay_times_lr=False),
    "adamw_eps_inside_sqrt": _adamw_with(eps_inside=True),
    "adamw_v_not_squared": _adamw_with(v_power=1),
    "adamw_norm_sum_of_norms": _adamw_with(norm_of_norms=True),
    "adamw_bias_correction_next_step": _adamw_with(step_shift=1),
}


GRADED = (
    Graded("cosine_schedule", ref.cosine_schedule, SCHEDULE, ("schedules",),
           "np.where and np.cos, as the lesson derives the schedule"),
    Graded("adamw_step", ref.adamw_step, ADAMW, ("optimizers",),
           "the global norm, the moments and their bias correction, with NumPy"),
    Graded("sampling_distribution", ref.sampling_distribution, SAMPLING,
           ("softmax", "sampling"), "np.sort, a stable softmax and np.cumsum, with NumPy"),
)
