"""Lesson 10 · Other scores: kernel regression and additive attention: its exercises as the
learner's side knows them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_10_other_scores``. The instructor's side of the same
exercises is ``grader.lessons.lesson_10_other_scores``.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import Call
from course_lib.cases.inputs import (
    case,
    sizes,
)
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise
from course_lib.other_scores import toy_curve

# The plans: from a random generator, the parts each exercise is judged on ----------


def nadaraya_watson_plan(rng) -> list[Part]:
    n_query, n_train, batch = sizes(rng, 3, low=3, high=30)

    def call(shape=(), width=None, grid=False):
        if grid:  # training points on the integers, queries 1/4, 5/16 or 3/8 off the nearest:
            # the rows' largest scores differ by more than 745, so each row needs its own max
            x_train = rng.permutation(n_train).astype(float) + np.zeros((*shape, 1))
            offsets = rng.choice([-0.375, -0.3125, -0.25, 0.25, 0.3125, 0.375], (*shape, n_query))
            offsets[..., :2] = 0.25, -0.375  # best scores -2048 and -4608 in every curve
            x_query = rng.integers(0, n_train, (*shape, n_query)) + offsets
        else:
            x_train = rng.uniform(0, 5, (*shape, n_train))
            x_query = rng.uniform(-0.5, 5.5, (*shape, n_query))
        y_train = toy_curve(np.abs(x_train), rng)
        width = float(rng.uniform(0.3, 1.5)) if width is None else width
        return Call({"x_query": x_query, "x_train": x_train, "y_train": y_train,
                     "width": width})

    return [
        Part(f"one curve: {n_query} queries, {n_train} training points", [call()]),
        Part(f"a batch of {batch} curves: (B, n_query) and (B, n_train)", [call((batch,))]),
        Part("a tiny width (2⁻⁸): the nearest training point's target, never NaN",
             [call(width=2.0**-8, grid=True), call((batch,), width=2.0**-8, grid=True)]),
        Part("a wide width (50): close to the mean of the targets", [call(width=50.0)]),
    ]


def additive_scores_plan(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_q, d_k, hidden = sizes(rng, 7)

    def call(t_q=t_q, d_q=d_q, scale=1.0):
        return Call({"q": rng.standard_normal((batch, heads, t_q, d_q)) * scale,
                     "k": rng.standard_normal((batch, heads, t_k, d_k)) * scale,
                     "w_q": rng.standard_normal((d_q, hidden)) / np.sqrt(d_q),
                     "w_k": rng.standard_normal((d_k, hidden)) / np.sqrt(d_k),
                     "v": rng.standard_normal(hidden)})

    return [
        Part("batch and head axes, Tq ≠ Tk, d_q ≠ d_k ≠ h", [call()]),
        Part("self-attention, Tq = Tk", [call(t_q=t_k)]),
        Part("queries and keys of the same width, d_q = d_k", [call(d_q=d_k)]),
        Part("large inputs: tanh saturates, each score stays within Σ|v|", [call(scale=30.0)]),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def nadaraya_watson_fixture(rng):
    grid = np.arange(6.0)  # training points on the integers, queries 1/4 to 3/8 off
    return {
        # three training points, width 1: weights e^{-d²/2} small enough to check by hand
        "hand_worked": case(x_query=np.array([0.0, 1.0, 2.5]), x_train=np.array([0.0, 1.0, 3.0]),
                            y_train=np.array([1.0, 2.0, 4.0]), width=1.0),
        "curve": case(x_query=np.linspace(0, 5, 7), x_train=np.sort(rng.uniform(0, 5, 11)),
                      y_train=toy_curve(np.linspace(0, 5, 11), rng), width=0.5),
        "batched": case(x_query=rng.uniform(0, 5, (2, 4)), x_train=rng.uniform(0, 5, (2, 6)),
                        y_train=rng.standard_normal((2, 6)), width=0.8),
        "tiny_width": case(x_query=np.array([0.25, 2.6875, 4.375, 1.75]), x_train=grid,
                           y_train=rng.standard_normal(6), width=2.0**-8),
    }


def additive_scores_fixture(rng):
    def weights(d_q, d_k, hidden):
        return {"w_q": rng.standard_normal((d_q, hidden)) / np.sqrt(d_q),
                "w_k": rng.standard_normal((d_k, hidden)) / np.sqrt(d_k),
                "v": rng.standard_normal(hidden)}

    cases = {
        "self_attention": case(q=rng.standard_normal((2, 4, 3)), k=rng.standard_normal((2, 4, 3)),
                               **weights(3, 3, 5)),
        "batched": case(q=rng.standard_normal((2, 3, 4)), k=rng.standard_normal((2, 5, 6)),
                        **weights(4, 6, 7)),
        "single_query": case(q=rng.standard_normal((1, 2)), k=rng.standard_normal((6, 3)),
                             **weights(2, 3, 4)),
    }
    # every size different first: a mistake that fails with a shape error fails there with
    # sizes of its own (Tq = Tk = 4 and h = 5 make v @ tanh(…) and w_q @ q fail alike); then
    # Tq = Tk and d_q = d_k, where the mistakes that need them run and are named by their values
    return {label: cases[label] for label in ("batched", "self_attention", "single_query")}


EXERCISES = (
    Exercise("nadaraya_watson", "10_other_scores", "function", nadaraya_watson_plan,
             "check_nadaraya_watson",
             ("nw_softmax_over_queries", "nw_width_not_squared", "nw_width_without_two",
              "nw_farthest_point", "nw_unnormalised", "nw_unstable_softmax",
              "nw_absolute_distance", "nw_distance_not_squared", "nw_width_multiplied",
              "nw_returns_weights", "nw_averages_x_train", "nw_matmul_targets",
              "softmax_no_keepdims", "global_max", "nw_width_doubled_squared",
              "nw_pairs_not_broadcast", "nw_one_curve_only"),
             nadaraya_watson_fixture,
             compare={
                 "hint": "Scores −(x_query − x_train)² / (2 w²) for every (query, training point) "
                 "pair, (..., n_query, n_train); a stable softmax over the training points "
                 "(axis=-1); then the weighted sum of y_train.",
                 # float32 answers: exp of scores of a few hundred is off by about 1e-5
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
    Exercise("additive_scores", "10_other_scores", "function", additive_scores_plan,
             "check_additive_scores",
             ("add_tanh_after_v", "add_no_tanh", "add_transposed", "add_pairs_not_broadcast",
              "add_weights_swapped", "add_tanh_each_projection", "add_v_ignored",
              "add_scaled_by_sqrt_h", "add_projections_multiplied", "add_weights_transposed",
              "add_v_on_the_left", "add_column_convention", "add_keys_projected_with_w_q",
              "add_softmax_applied", "add_relu_not_tanh"),
             additive_scores_fixture,
             compare={
                 "hint": "Project once, q @ w_q (..., Tq, h) and k @ w_k (..., Tk, h); add them "
                 "for every pair as (..., Tq, 1, h) + (..., 1, Tk, h); tanh; then @ v.",
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
)
