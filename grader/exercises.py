"""The course's exercises as the instructor's side knows them: one :class:`Graded` per graded name,
in :data:`GRADED`, gathered from each lesson's module of :mod:`grader.lessons`; the same names
as the learner's records (``course_lib.exercises``), which say each exercise's kind, plan and
mistake keys.

A record holds what the learner's side must never see: the answer key the judge compares with
(for a Keras exercise, its NumPy twin), the wrong variants whose outputs name a mistake, and the
library calls refused in an answer (``grader.judging.policy``), with what to write instead. The
judge of an exercise is its kind's (``grader.judging.judges.JUDGES``).
"""

from __future__ import annotations

from course_lib.exercises import EXERCISES
from grader.graded import Graded
from grader.lessons import LESSONS

__all__ = ["GRADED", "MEASURED", "WRONG_VARIANTS", "Graded", "measured"]

GRADED: dict[str, Graded] = {graded.name: graded
                             for lesson in LESSONS for graded in lesson.GRADED}


def measured(exercise: str) -> tuple[str, ...]:
    """The mistakes of ``exercise`` that no wrong variant names: the judge and the checks
    measure them directly (memory, a call's signature, the model's properties, the work
    counted)."""
    return tuple(key for key in EXERCISES[exercise].mistakes
                 if key not in GRADED[exercise].variants)


#: Views of the records: the wrong variants of the function exercises, and the mistakes
#: measured rather than named by a variant, per exercise.
WRONG_VARIANTS = {name: dict(graded.variants) for name, graded in GRADED.items()
                  if EXERCISES[name].kind in ("function", "encoding", "blockwise")}
MEASURED = {name: keys for name in GRADED if (keys := measured(name))}
