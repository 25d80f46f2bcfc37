"""Lesson 00 · Welcome to *Attention, step by step*: its exercises as the learner's side knows
them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_00_welcome``. The instructor's side of the same exercises is
``grader.lessons.lesson_00_welcome``.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import Call
from course_lib.cases.inputs import case
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise

# The plans: from a random generator, the parts each exercise is judged on ----------


def dot_product_plan(rng) -> list[Part]:
    n = int(rng.integers(5, 20))
    return [
        Part(f"random vectors of length {n}",
             [Call({"a": rng.standard_normal(n), "b": rng.standard_normal(n)})]),
        Part("long vectors (n = 1000) with large entries",
             [Call({"a": rng.standard_normal(1000) * 1e3, "b": rng.standard_normal(1000) * 1e3})]),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def dot_product_fixture(rng):
    return {
        "hand_worked": case(a=np.array([1.0, 2.0, 3.0]), b=np.array([4.0, 5.0, 6.0])),  # 32
        "random": case(a=rng.standard_normal(7), b=rng.standard_normal(7)),
    }


EXERCISES = (
    Exercise("dot_product", "00_welcome", "function", dot_product_plan, "check_dot_product",
             ("dot_elementwise", "dot_sum_times_sum", "dot_sum_of_sums", "dot_norm_product",
              "dot_cosine"), dot_product_fixture,
             compare={"hint": "A dot product is one number: the sum of a[i] * b[i]."}),
)
