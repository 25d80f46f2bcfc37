"""Lesson 12 · A language model of your own: its exercises as the learner's side knows them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_12_language_model``. The instructor's side of the same
exercises is ``grader.lessons.lesson_12_language_model``.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import Call
from course_lib.cases.inputs import sizes
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise
from course_lib.misconceptions.lesson_12_language_model import ADAMW, SAMPLING, SCHEDULE

# cosine_schedule -------------------------------------------------------------------------------


def _settings(rng, warmup=None, length=None):
    warmup = int(rng.integers(3, 20)) if warmup is None else warmup
    total = warmup + (int(rng.integers(10, 60)) if length is None else length)
    return {"warmup": warmup, "total": total, "peak": float(rng.uniform(1e-4, 1e-2))}


def cosine_schedule_plan(rng) -> list[Part]:
    first, single, grid = (_settings(rng) for _ in range(3))
    long = _settings(rng, warmup=1, length=int(rng.integers(500, 2000)))
    w, s = single["warmup"], single["total"]
    return [
        Part(f"the whole schedule at once: steps = np.arange({first['total'] + 6}), "
             f"warmup {first['warmup']}, total {first['total']}",
             [Call({"step": np.arange(first["total"] + 6), **first})]),
        Part("one step at a time, a Python int: 0, warmup - 1, warmup, the middle of the decay, "
             "total, after total",
             [Call({"step": step, **single}) for step in (0, w - 1, w, (w + s) // 2, s, s + 3)]),
        Part("a (3, 4) array of steps in any order, some after total",
             [Call({"step": rng.integers(0, grid["total"] + 10, (3, 4)), **grid})]),
        Part(f"warmup = 1 and a long decay (total = {long['total']}), by keyword",
             [Call({"step": np.sort(rng.integers(0, long["total"] + 50, 40))},
                   {"warmup": 1, "total": long["total"], "peak": long["peak"]})]),
    ]


# sampling_distribution -------------------------------------------------------------------------


def _logits(rng, shape, scale) -> np.ndarray:
    """Logits without ties along the last axis (``scale``: their spread)."""
    spread = rng.permutation(shape[-1]) / shape[-1]  # distinct ranks per row
    return scale * rng.standard_normal(shape) + spread + rng.uniform(-0.5, 0.5, shape) * 1e-3


def sampling_distribution_plan(rng) -> list[Part]:
    batch, t, vocab, vocab_small = sizes(rng, 4, low=3, high=9)
    vocab, vocab_small = vocab + 20, vocab_small + 8  # vocabularies of their own sizes
    top_k = int(rng.integers(vocab // 3, vocab // 2))
    extreme = 1000 + 37.0 * np.stack([rng.permutation(vocab_small) for _ in range(batch)])

    def call(shape, scale=3.0, **kwargs):
        return Call({"logits": _logits(rng, shape, scale)}, kwargs)

    return [
        Part(f"logits (B, V) = ({batch}, {vocab}): temperature 0.7, top_k = {top_k}, top_p 0.8",
             [call((batch, vocab), scale=1.0, temperature=0.7, top_k=top_k, top_p=0.8)]),
        Part("temperature alone (2.5 and 0.4), logits (B, T, V)",
             [call((batch, t, vocab_small), temperature=2.5),
              call((batch, t, vocab_small), temperature=0.4)]),
        Part("top_k alone (and top_k = 1, greedy), top_p alone (0.5 and 1.0)",
             [call((batch, vocab), top_k=top_k), call((batch, vocab), top_k=1),
              call((batch, vocab), top_p=0.5), call((batch, vocab), top_p=1.0)]),
        Part("top_p at a temperature: the temperature comes first (τ = 1.8, top_p 0.6)",
             [call((batch, vocab), temperature=1.8, top_p=0.6)]),
        Part("logits of a thousand and more at temperature 0.5: a stable softmax",
             [Call({"logits": extreme}, {"temperature": 0.5}),
              Call({"logits": extreme}, {"temperature": 0.5, "top_p": 0.9})]),
    ]


# adamw_step ------------------------------------------------------------------------------------


def _state(rng, n, shape, grad_scale, first=False):
    """``{"params", "grads", "m", "v"}``: ``n`` tensors of ``shape`` each; the moments of a
    few earlier steps, or zeros on the ``first`` step."""
    state = {"params": [rng.standard_normal(shape) for _ in range(n)],
             "grads": [rng.standard_normal(shape) * grad_scale * rng.uniform(0.3, 3)
                       for _ in range(n)]}
    state["m"] = [np.zeros(shape) if first else 0.05 * rng.standard_normal(shape)
                  for _ in range(n)]
    state["v"] = [np.zeros(shape) if first else 0.01 * rng.random(shape) + 1e-4
                  for _ in range(n)]
    return state


def adamw_step_plan(rng) -> list[Part]:
    n, rows, cols = sizes(rng, 3, low=2, high=8)

    def call(grad_scale, step, first=False, **kwargs):
        return Call({**_state(rng, n, (rows, cols), grad_scale, first), "step": step,
                     "lr": float(rng.uniform(1e-3, 1e-2))}, kwargs)

    return [
        Part(f"{n} tensors of shape ({rows}, {cols}), gradients whose global norm is above 1 "
             "(clipped), step 7 with moments of earlier steps",
             [call(1.0, 7, weight_decay=0.05)]),
        Part("the first step: step = 1, moments of zeros", [call(1.0, 1, first=True)]),
        Part("small gradients (global norm below max_norm): no clipping, step 30",
             [call(0.01, 30, weight_decay=0.1)]),
        Part("the other settings by keyword: beta1 0.8, beta2 0.99, eps 1e-6, "
             "weight_decay 0.2, max_norm 3, step 3",
             [call(2.0, 3, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.2, max_norm=3.0)]),
        Part("tiny gradients (about 10⁻⁶) on a first step: v̂ far below ε",
             [call(1e-6, 1, first=True)]),
    ]


# The public checks' fixtures (``grader.make_fixtures``): fixed inputs, hand-worked ones first;
# every known mistake is told apart by at least one case. A case is ``(args, kwargs)``.


def cosine_schedule_fixture(rng):
    return {
        # warmup 4, total 12, peak 1: 0, ¼, ½, ¾, then 1 at step 4, ½ at step 8 (cos π/2 = 0),
        # 0 at step 12 and after
        "hand_worked": ({"step": np.arange(15), "warmup": 4, "total": 12, "peak": 1.0}, {}),
        "one_step": ({"step": 37, "warmup": 10, "total": 50, "peak": 3e-3}, {}),
        "grid": ({"step": rng.integers(0, 40, (2, 3)), "warmup": 5, "total": 30, "peak": 0.01},
                 {}),
    }


def sampling_distribution_fixture(rng):
    return {
        # probabilities ½, 0.3, 0.15, 0.05 and top_p 0.7: ½ is below 0.7, so 0.3 crosses it
        # and stays: (½, 0.3) / 0.8 = (0.625, 0.375, 0, 0)
        "hand_worked": ({"logits": np.log([[0.5, 0.3, 0.15, 0.05]])}, {"top_p": 0.7}),
        "temperature": ({"logits": _logits(rng, (2, 3, 6), 2.0)}, {"temperature": 0.5}),
        "top_k": ({"logits": _logits(rng, (2, 8), 2.0)}, {"top_k": 3}),
        "top_k_and_top_p": ({"logits": _logits(rng, (3, 10), 1.0)},
                            {"temperature": 0.8, "top_k": 4, "top_p": 0.6}),
        "top_p_at_a_temperature": ({"logits": _logits(rng, (3, 10), 3.0)},
                                   {"temperature": 2.0, "top_p": 0.5}),
        "extreme_logits": ({"logits": 1000 + 37.0 * rng.permutation(6)[None]},
                           {"temperature": 0.5}),
    }


def adamw_step_fixture(rng):
    def state(grad_scale, first=False):
        return _state(rng, 3, (2, 4), grad_scale, first)

    return {
        "first_step": ({**state(1.0, first=True), "step": 1, "lr": 0.01}, {}),
        "later_step": ({**state(1.0), "step": 5, "lr": 0.003}, {"weight_decay": 0.1}),
        "small_gradients": ({**state(0.01), "step": 20, "lr": 0.01}, {}),
        # v̂ = g² of about 10⁻¹² on the first step, far below ε: where ε stands shows
        "tiny_gradients": ({**state(1e-6, first=True), "step": 1, "lr": 0.01}, {}),
    }


EXERCISES = (
    Exercise("cosine_schedule", "12_language_model", "function",
             cosine_schedule_plan, "check_cosine_schedule", tuple(SCHEDULE),
             cosine_schedule_fixture,
             compare={
                 "hint": "Below warmup: peak·step/warmup; from warmup to total: peak·½(1 + "
                 "cos(π(step − warmup)/(total − warmup))); after total: 0. np.where picks, entry "
                 "by entry.",
             }),
    Exercise("adamw_step", "12_language_model", "function", adamw_step_plan,
             "check_adamw_step", tuple(ADAMW), adamw_step_fixture,
             compare={
                 "hint": "Scale every gradient by min(1, max_norm/‖g‖), ‖g‖ over all of them; m "
                 "and v from the clipped gradients; m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); θ − "
                 "lr·(m̂/(√v̂ + ε) + λθ).",
                 "parts": ("params", "m", "v"),
             }),
    Exercise("sampling_distribution", "12_language_model", "function",
             sampling_distribution_plan, "check_sampling_distribution",
             tuple(SAMPLING), sampling_distribution_fixture,
             compare={
                 "hint": "Divide by the temperature; keep the top_k largest logits (the others "
                 "−inf); a stable softmax; keep each token whose more probable tokens add up to "
                 "less than top_p; divide by the sum of what is kept.",
             }),
)
