"""Public checks of lesson 12: the learning-rate schedule, the sampling distribution and one
AdamW step.

Each compares the learner's function with the stored cases of its fixture, then tests
properties the right answer must have on inputs no fixture holds: the schedule starts at 0,
peaks at the end of the warm-up, rises then falls and stays at 0 after ``total``; the sampling
distribution is a distribution, ignores a shift of the logits, keeps the log-ratios ``(z_i −
z_j)/τ`` and at most ``top_k`` tokens; AdamW takes lists of tensors of any shapes and its first
step moves each parameter by the learning rate.
"""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import check_cases, check_distributions, fresh_rng, passed, require
from course_lib.feedback import call_answer, compare, describe_array, to_numpy


def _result(fn, name: str, what: str, *args, **kwargs) -> np.ndarray:
    return to_numpy(call_answer(fn, *args, name=name, **kwargs),
                    what=f"The result of {name} on {what}")


def check_cosine_schedule(cosine_schedule) -> None:
    """Public check for lesson 12: ``cosine_schedule(step, warmup, total, peak)``, for a step or
    an array of steps: a linear warm-up to ``peak``, half a cosine down to 0 at ``total``, 0
    after."""
    name = "cosine_schedule"
    n_cases = check_cases(cosine_schedule, name)
    warmup, total, peak = 7, 40, 0.02
    steps = np.arange(50)
    rates = _result(cosine_schedule, name, "steps = np.arange(50), warmup 7, total 40",
                    steps, warmup, total, peak)
    require(rates.shape == (50,), f"{name} of an array of 50 steps should return 50 rates, one "
            f"per step (np.where works on arrays). Received: {describe_array(rates)}")
    compare(rates[[0, warmup, total]], np.array([0.0, peak, 0.0]),
            what=f"{name} at steps 0, warmup and total",
            hint="The rate is 0 at step 0, reaches the peak at step = warmup and is 0 at total.")
    rising, falling = np.diff(rates[: warmup + 1]), np.diff(rates[warmup: total + 1])
    require(np.all(rising > 0) and np.all(falling < 0),
            f"{name} should rise at every step of the warm-up and fall at every step of the "
            "decay. Received the rates " + np.array2string(rates[: total + 1], precision=4))
    compare(rates[total:], np.zeros(50 - total), what=f"{name} after step total",
            hint="After total, the rate stays 0: no restart.")
    passed(name, n_cases + 4)


def check_sampling_distribution(sampling_distribution) -> None:
    """Public check for lesson 12: ``sampling_distribution(logits, temperature=1.0, top_k=None,
    top_p=None)`` returns the probabilities ``(..., V)`` that sampling draws from."""
    name = "sampling_distribution"
    n_cases = check_cases(sampling_distribution, name)
    rng = fresh_rng()
    logits = 2 * rng.standard_normal((4, 9))  # (B, V)
    cut = _result(sampling_distribution, name, "new logits, temperature 0.7, top_k 5, top_p 0.9",
                  logits, temperature=0.7, top_k=5, top_p=0.9)
    require(cut.shape == logits.shape, f"{name} should return one probability per logit, "
            f"(4, 9). Received: {describe_array(cut)}")
    check_distributions(cut, what=f"{name}(logits, temperature=0.7, top_k=5, top_p=0.9)")
    require(np.all((cut > 0).sum(axis=-1) <= 5),
            f"{name} with top_k=5 keeps more than 5 tokens in a row: every token outside the "
            "5 largest logits gets probability 0.")
    compare(call_answer(sampling_distribution, logits + 100.0, temperature=0.7, top_k=5,
                        top_p=0.9, name=name), cut,
            what=f"{name}(logits + 100, …)",
            hint="Adding one number to every logit of a row changes no probability.")
    plain = _result(sampling_distribution, name, "new logits at temperature 2.5", logits,
                    temperature=2.5)
    with np.errstate(divide="ignore"):
        compare(np.log(plain) - np.log(plain).max(axis=-1, keepdims=True),
                (logits - logits.max(axis=-1, keepdims=True)) / 2.5,
                what=f"the log-probabilities of {name}(logits, temperature=2.5)",
                hint="Without top_k or top_p, p_i / p_j = exp((z_i − z_j) / τ): divide the "
                "logits by the temperature.")
    greedy = _result(sampling_distribution, name, "top_k = 1", logits, top_k=1)
    compare(greedy, np.eye(9)[logits.argmax(axis=-1)], what=f"{name}(logits, top_k=1)",
            hint="top_k = 1 keeps the largest logit alone: probability 1, greedy decoding.")
    passed(name, n_cases + 5)


def check_adamw_step(adamw_step) -> None:
    """Public check for lesson 12: ``adamw_step(params, grads, m, v, step, lr, beta1=0.9,
    beta2=0.999, eps=1e-8, weight_decay=0.01, max_norm=1.0)`` returns ``(params, m, v)``, three
    lists of new arrays."""
    name = "adamw_step"
    n_cases = check_cases(adamw_step, name)
    rng = fresh_rng()
    shapes = [(3,), (2, 4), (5, 1, 2)]  # tensors of any shapes
    params = [rng.standard_normal(shape) for shape in shapes]
    grads = [0.05 * rng.standard_normal(shape) for shape in shapes]  # global norm below 1
    zeros = [np.zeros(shape) for shape in shapes]
    result = call_answer(adamw_step, params, grads, zeros, zeros, 1, 0.01, name=name)
    require(isinstance(result, tuple | list) and len(result) == 3,
            f"{name} should return (params, m, v), three lists. Received: "
            f"{type(result).__name__}")
    for label, tensors in zip(("params", "m", "v"), result, strict=True):
        got = [to_numpy(x, what=f"an array of the {label} {name} returned") for x in tensors]
        require([x.shape for x in got] == shapes,
                f"{name} on tensors of shapes {shapes} should return {label} of the same "
                f"shapes. Received: {[x.shape for x in got]}")
    # The first step from zero moments: m̂ = g and v̂ = g², so each parameter moves by
    # lr · g / (|g| + ε), almost ±lr, plus the decay lr · λθ.
    moved = [np.asarray(new, dtype=np.float64) - old for new, old in zip(result[0], params,
                                                                           strict=True)]
    expected = [-0.01 * (g / (np.abs(g) + 1e-8) + 0.01 * p)
                for g, p in zip(grads, params, strict=True)]
    compare(np.concatenate([x.ravel() for x in moved]),
            np.concatenate([x.ravel() for x in expected]),
            what=f"the change of the parameters in the first step of {name} (step = 1)",
            hint="At step 1 the bias-corrected moments are m̂ = g and v̂ = g², so m̂/√v̂ = ±1: "
            "each parameter moves by the learning rate, plus the decay lr·λθ.")
    passed(name, n_cases + 2)
