"""The mistakes lesson 12 · A language model of your own is the first to name, by key: what each
one is, in a learner's words, completing "it matches ..." and saying what to do instead.
"""

SCHEDULE = {
    "schedule_warmup_off_by_one": (
        "a warm-up one step ahead, peak·(step + 1)/warmup: step 0 has a learning rate of 0 and "
        "the warm-up reaches the peak at step = warmup, so use peak·step/warmup"
    ),
    "schedule_no_half": (
        "a cosine without the factor ½, peak·(1 + cos(…)): that starts the decay at twice the "
        "peak; multiply by ½ so the decay starts at the peak and ends at 0"
    ),
    "schedule_never_zero": (
        "a decay that never reaches 0, cos((step − warmup)/(total − warmup)) without π: the "
        "angle must run from 0 to π, so that ½(1 + cos π) = 0 at step = total"
    ),
    "schedule_decay_from_zero": (
        "a decay counted from step 0, cos(π·step/total): the cosine starts where the warm-up "
        "ends, so its angle is π·(step − warmup)/(total − warmup)"
    ),
    "schedule_restarts": (
        "a schedule that climbs again after `total`: past total the cosine goes on round its "
        "circle (a restart); the learning rate stays 0 for every step after total"
    ),
    "schedule_progress_over_total": (
        "the decay's progress over total instead of total − warmup: at step = total the "
        "cosine must reach π, so divide step − warmup by total − warmup"
    ),
    "schedule_cosine_rises": (
        "½(1 − cos(…)), a rate that rises after the warmup: the decay falls from peak to 0, "
        "peak·½(1 + cos(π·progress))"
    ),
    "schedule_full_cosine": (
        "a whole turn of the cosine, cos(2π·progress): that comes back up to the peak at "
        "total; half a turn goes from peak to 0, cos(π·(step − warmup)/(total − warmup))"
    ),
    "schedule_integer_division": (
        "a warm-up in whole numbers, peak·(step // warmup): // rounds down, so the rate stays 0 "
        "until the warm-up ends; divide with /, peak·step/warmup"
    ),
    "schedule_one_step_only": (
        "a schedule for one step at a time, with Python's if: `if step < warmup` cannot decide "
        "for an array of steps; choose per step with np.where(step < warmup, …, …)"
    ),
}

SAMPLING = {
    "sampling_temperature_multiplied": (
        "the logits multiplied by the temperature: divide them by it, so that a temperature "
        "below 1 sharpens the distribution and one above 1 flattens it"
    ),
    "sampling_top_p_excludes_crossing": (
        "top-p without the token that crosses p: keep the most probable tokens until their "
        "probabilities add up to at least top_p, the token that crosses it included (a token "
        "is kept when the probabilities above it add up to less than top_p)"
    ),
    "sampling_no_renormalise": (
        "probabilities that no longer sum to 1: after setting the dropped tokens to 0, divide "
        "what is kept by its sum"
    ),
    "sampling_top_p_before_top_k": (
        "top-p applied before top-k (on the probabilities of every token): keep the top_k "
        "largest first, then choose the top-p set among the probabilities of those alone"
    ),
    "sampling_top_p_before_temperature": (
        "the top-p set chosen at temperature 1: divide the logits by the temperature first; "
        "the temperature changes the probabilities, and so which tokens make up top_p"
    ),
    "sampling_top_k_off_by_one": (
        "one token too many kept by top-k: keep the k largest logits, the k-th largest "
        "included and no other (np.sort(…)[..., -top_k] is the k-th largest)"
    ),
    "sampling_unstable": (
        "a softmax without the max subtracted: logits of 1000 divided by a temperature "
        "overflow np.exp; subtract each row's largest logit before exp"
    ),
    "sampling_top_k_smallest": (
        "the k smallest logits kept: np.sort is ascending, so the k largest are the last k, "
        "np.sort(z, axis=-1)[..., -top_k]"
    ),
    "sampling_top_p_unsorted": (
        "top_p summed in the vocabulary's order: sort the probabilities from the largest "
        "down before np.cumsum, and keep the most probable tokens"
    ),
    "sampling_temperature_ignored": (
        "a temperature that changes nothing (applied to the probabilities, where renormalising "
        "cancels it): divide the logits by the temperature before the softmax"
    ),
}

ADAMW = {
    "adamw_l2_not_decoupled": (
        "weight decay added to the gradient (L2 regularisation, Adam's way): AdamW decouples "
        "it, θ ← θ − lr·(m̂/(√v̂ + ε) + λθ), and the moments never see λθ"
    ),
    "adamw_no_bias_correction": (
        "moments without bias correction: early on m and v are biased towards 0; divide them "
        "by (1 − β₁ᵗ) and (1 − β₂ᵗ) with t = step"
    ),
    "adamw_clip_per_tensor": (
        "each tensor clipped on its own: clip by the global norm, the square root of the sum "
        "of the squares of every gradient together, and scale all of them by the same factor"
    ),
    "adamw_clip_after_moments": (
        "moments updated with the unclipped gradients: clip the gradients first, then update "
        "m and v with the clipped ones"
    ),
    "adamw_clip_always": (
        "gradients always scaled to the norm max_norm, even when their norm is below it: "
        "scale by min(1, max_norm/‖g‖), which leaves small gradients as they are"
    ),
    "adamw_decay_without_lr": (
        "weight decay not multiplied by the learning rate, θ − lr·update − λθ: the decay is "
        "part of the step, θ ← θ − lr·(m̂/(√v̂ + ε) + λθ)"
    ),
    "adamw_eps_inside_sqrt": (
        "ε inside the square root, √(v̂ + ε): AdamW adds it after, m̂/(√v̂ + ε)"
    ),
    "adamw_v_not_squared": (
        "v from the gradients, not their squares: v ← β₂v + (1 − β₂)g², the second moment"
    ),
    "adamw_norm_sum_of_norms": (
        "the norms of the tensors added up: the global norm is √(Σ_i ‖g_i‖²), the norm of "
        "all the gradients as one vector"
    ),
    "adamw_bias_correction_next_step": (
        "the bias correction of the next step, 1 − β^(step + 1): step already counts from 1, "
        "so divide m by 1 − β₁^step and v by 1 − β₂^step"
    ),
}

DESCRIPTIONS = {**SCHEDULE, **SAMPLING, **ADAMW}
