"""The instructor's record of one graded exercise (:class:`Graded`): each lesson's module of
:mod:`grader.lessons` holds its exercises' records, and :mod:`grader.exercises` gathers them.
A record holds what the learner's side must never see; the learner's record of the same name
is ``course_lib.exercise_record.Exercise``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Graded:
    """One graded exercise, instructor side. ``answer``: the answer key (a NumPy function, or
    the NumPy forward pass of a Keras exercise); ``variants``: ``{mistake key: wrong
    variant}``, each making that one mistake; ``refused``: the families of entry points that do
    the exercise for the learner (``grader.judging.entry_points``), refused in an answer, and
    ``instead``: what to write in their place."""

    name: str
    answer: Callable
    variants: Mapping[str, Callable] = field(default_factory=dict)
    refused: tuple[str, ...] = ()
    instead: str = ""
