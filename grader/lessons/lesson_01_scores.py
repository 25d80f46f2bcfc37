"""Lesson 01 (``01_scores``): its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_01_scores``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.lessons.shapes import transpose

ATTENTION_SCORES = {
    "no_scaling": lambda q, k: q @ transpose(k),
    "divide_by_dk": lambda q, k: q @ transpose(k) / q.shape[-1],
    "scale_by_tk": lambda q, k: q @ transpose(k) / np.sqrt(k.shape[-2]),
    "k_times_q": lambda q, k: k @ transpose(q) / np.sqrt(q.shape[-1]),
    "multiply_by_sqrt_dk": lambda q, k: q @ transpose(k) * np.sqrt(q.shape[-1]),
}


GRADED = (
    Graded("attention_scores", ref.attention_scores, ATTENTION_SCORES),
)
