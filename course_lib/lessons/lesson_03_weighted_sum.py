"""Lesson 03 · The weighted sum: attention, complete: its exercises as the learner's side knows
them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_03_weighted_sum``. The instructor's side of the same
exercises is ``grader.lessons.lesson_03_weighted_sum``.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import Call
from course_lib.cases.inputs import (
    case,
    lengths_mask,
    random_mask,
    random_qkv,
    random_weights,
    sizes,
)
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise
from course_lib.lessons.lesson_02_softmax import MASK_HINT

# The plans: from a random generator, the parts each exercise is judged on ----------


def weighted_sum_plan(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_v = sizes(rng, 5)

    def calls(weights_shape, v_shape):
        return [Call({"weights": random_weights(rng, weights_shape),
                      "v": rng.standard_normal(v_shape)})]

    return [
        Part("batch and head axes, Tq ≠ Tk ≠ d_v",
             calls((batch, heads, t_q, t_k), (batch, heads, t_k, d_v))),
        Part("square shapes, Tq = Tk = d_v", calls((batch, t_k, t_k), (batch, t_k, t_k))),
    ]


def scaled_dot_product_attention_plan(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_k, d_v = sizes(rng, 6)
    lengths = rng.integers(1, t_k, size=batch)
    mask_shape = (batch, 1, t_q, t_k)

    def call(mask=None):
        return Call(random_qkv(rng, (batch, heads), t_q, t_k, d_k, d_v),
                    {} if mask is None else {"mask": mask})

    return [
        Part("no mask: batch and head axes, Tq ≠ Tk, d_k ≠ d_v", [call()]),
        Part("a padding mask (B, 1, 1, Tk) and a random mask",
             [call(lengths_mask(lengths, t_k)), call(random_mask(rng, mask_shape))]),
        Part("fully masked rows: zero weights and zero output",
             [call(random_mask(rng, mask_shape, [(0, 0, 0), (batch - 1, 0, t_q - 1)]))]),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def weighted_sum_fixture(rng):
    return {
        # rows: 0.25·[0, 4] + 0.75·[8, 0] = [6, 1] and 1·[0, 4] = [0, 4]
        "hand_worked": case(
            weights=np.array([[0.25, 0.75], [1.0, 0.0]]), v=np.array([[0.0, 4.0], [8.0, 0.0]])
        ),
        "square_batch": case(
            weights=random_weights(rng, (2, 4, 4)), v=rng.standard_normal((2, 4, 4))
        ),
        "batched": case(weights=random_weights(rng, (2, 3, 5)), v=rng.standard_normal((2, 5, 4))),
    }


def scaled_dot_product_attention_fixture(rng):
    def masked(*empty_rows):
        mask = random_mask(rng, (2, 3, 5), empty_rows)
        return case(**random_qkv(rng, (2,), 3, 5, 4, 6), kwargs={"mask": mask})

    return {
        "unmasked": case(**random_qkv(rng, (), 3, 5, 4, 2)),
        "masked": masked(),
        "fully_masked_rows": masked((0, 1), (1, 0)),
    }


EXERCISES = (
    Exercise("weighted_sum", "03_weighted_sum", "function", weighted_sum_plan,
             "check_weighted_sum",
             ("weights_transposed", "v_times_weights", "weights_elementwise", "values_mean"),
             weighted_sum_fixture,
             compare={"hint": "Output row i is Σ_j weights[i, j] · v[j]."}),
    Exercise("scaled_dot_product_attention", "03_weighted_sum", "function",
             scaled_dot_product_attention_plan, "check_scaled_dot_product_attention",
             ("no_scaling", "softmax_wrong_axis", "returns_weights_first",
              "returns_transposed_weights", "mask_after_softmax", "mask_ignored",
              "mask_fully_masked_nan", "mask_large_negative"),
             scaled_dot_product_attention_fixture,
             compare={
                 "hint": f"scores → masked softmax over the keys → weights @ v. {MASK_HINT}",
                 "parts": ("output", "weights"),
             }),
)
