"""The course's exercises as the learner's side knows them: one :class:`Exercise` per graded name,
in :data:`EXERCISES`, gathered from each lesson's module of :mod:`course_lib.lessons`. Nothing
here holds an answer or a wrong variant: those are the instructor's (``grader.exercises``, whose
records carry the same names).

A record says in which lesson the exercise is, which kind of case it is judged on (the kind
picks the probe's runner, ``course_lib.cases``, and the judge, ``grader.judging.judges``), the
plan of its inputs, its public check, the inputs of that check's fixture (NumPy exercises) and
the keys of the mistakes its feedback can name (``course_lib.misconceptions``).
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.records import Part
from course_lib.exercise_record import KINDS, Exercise
from course_lib.lessons import LESSONS

__all__ = ["EXERCISES", "KINDS", "WITH_FIXTURES", "Exercise", "plan"]

EXERCISES: dict[str, Exercise] = {exercise.name: exercise
                                  for lesson in LESSONS for exercise in lesson.EXERCISES}
#: The exercises that have a public fixture, ``course_lib/fixtures/<name>.npz``.
WITH_FIXTURES = tuple(name for name, exercise in EXERCISES.items() if exercise.fixture)


def plan(exercise: str, seed: int, cell: str = "hidden") -> list[Part]:
    """The parts a graded cell of ``exercise`` is judged on: all of them for the hidden test,
    the first for the public check cell (``cell="check"``)."""
    parts = EXERCISES[exercise].plan(np.random.default_rng(seed))
    return parts[:1] if cell == "check" else parts
