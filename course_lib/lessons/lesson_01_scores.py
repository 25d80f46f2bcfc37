"""Lesson 01 · Scores: how well does each key match each query?: its exercises as the learner's
side knows them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_01_scores``. The instructor's side of the same exercises is
``grader.lessons.lesson_01_scores``.
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

# The plans: from a random generator, the parts each exercise is judged on ----------


def attention_scores_plan(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_k = sizes(rng, 5)

    def calls(leading):
        return [Call({"q": rng.standard_normal((*leading, t_q, d_k)),
                      "k": rng.standard_normal((*leading, t_k, d_k))})]

    return [Part("batched input, Tq ≠ Tk", calls([batch])),
            Part("batch and head axes", calls([batch, heads]))]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def attention_scores_fixture(rng):
    return {
        # scores [[1/2, 4]]: d_k = 4, so √d_k = 2
        "hand_worked": case(q=np.ones((1, 4)), k=np.array([[1.0, 0, 0, 0], [2, 2, 2, 2]])),
        "batched": case(q=rng.standard_normal((2, 3, 4)), k=rng.standard_normal((2, 5, 4))),
        "single_query": case(q=rng.standard_normal((1, 1, 4)), k=rng.standard_normal((1, 5, 4))),
    }


EXERCISES = (
    Exercise("attention_scores", "01_scores", "function", attention_scores_plan,
             "check_attention_scores",
             ("no_scaling", "divide_by_dk", "scale_by_tk", "k_times_q", "multiply_by_sqrt_dk"),
             attention_scores_fixture,
             compare={
                 "hint": "Each entry (i, j) is the dot product of query i with key j, divided by "
                 "√d_k.",
             }),
)
