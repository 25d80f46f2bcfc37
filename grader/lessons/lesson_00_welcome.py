"""Lesson 00 (``00_welcome``): its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_00_welcome``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded

DOT_PRODUCT = {
    "dot_elementwise": lambda a, b: a * b,
    "dot_sum_times_sum": lambda a, b: np.sum(a) * np.sum(b),
    "dot_sum_of_sums": lambda a, b: np.sum(a + b),
    "dot_norm_product": lambda a, b: np.linalg.norm(a) * np.linalg.norm(b),
    "dot_cosine": lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b)),
}


GRADED = (
    Graded("dot_product", ref.dot_product, DOT_PRODUCT),
)
