"""The learner's record of one graded exercise (:class:`Exercise`): each lesson's module of
:mod:`course_lib.lessons` holds its exercises' records, and :mod:`course_lib.exercises` gathers
them. Nothing in a record holds an answer or a wrong variant: those are the instructor's
(``grader.graded``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course_lib.cases.records import Part

#: The kinds of exercise: each has its runner in the kernel and its judge.
KINDS = ("function", "encoding", "blockwise", "layer", "block", "translator", "decoding")


@dataclass(frozen=True)
class Exercise:
    """One graded exercise, learner side. ``plan``: from a random generator, the parts it is
    judged on (inputs only); ``check``: the name of its public check in ``course_lib.checks``;
    ``fixture``: from a random generator, ``{case: (args, kwargs)}``, the inputs of its public
    check's fixture (``grader.make_fixtures``), None for an exercise without one;
    ``mistakes``: the keys of the known mistakes its feedback can name; ``compare``: how its
    results are compared, by the public check and the judge alike (``hint``: shown when no known
    mistake matches; ``parts``: the names of the returned arrays; ``rtol``, ``atol``: the
    tolerance, :func:`course_lib.feedback.compare`'s when not given)."""

    name: str
    lesson: str
    kind: str
    plan: Callable[[np.random.Generator], list[Part]]
    check: str
    mistakes: tuple[str, ...]
    fixture: Callable[[np.random.Generator], dict] | None = None
    compare: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"an exercise's kind is one of {KINDS}. Received: kind={self.kind!r}")
