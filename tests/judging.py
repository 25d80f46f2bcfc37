"""Judge an answer in this process, as grading does across the kernel's boundary: the probe
(``course_lib.probes``) runs the answer and builds its display data, the judge
(``grader.judging``) scores that data alone."""

from __future__ import annotations

from functools import cache

from nbformat.v4 import new_output
from nbgrader_utils import find_cell, solution_notebook

from course_lib.cases.calls import LimitedCall
from course_lib.exercises import plan
from course_lib.probes import run_plan
from grader.course import lessons
from grader.judging.autograde import graded_exercise, verdict


@cache
def cell_points() -> dict[str, float]:
    """``{grade_id: points}`` of every graded cell the judge scores, in every lesson."""
    points = {}
    for lesson in lessons():
        for cell in solution_notebook(lesson).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and graded_exercise(meta["grade_id"]):
                points[meta["grade_id"]] = float(meta["points"])
    return points


@cache
def probed(exercise: str, answer, seed: int = 0, cell: str = "hidden") -> dict:
    """The probe's display data for ``answer`` on one graded cell, run once per answer."""
    return run_plan(exercise, answer, seed, cell)


@cache
def solution_namespace(lesson: str, *grade_ids: str) -> dict:
    """The names a lesson's setup cell and the given cells of its solution define."""
    notebook, namespace = solution_notebook(lesson), {}
    for grade_id in ("setup", *grade_ids):
        exec(find_cell(notebook, grade_id).source, namespace)
    return namespace


def judged(exercise: str, answer, seed: int = 0, cell: str = "hidden"):
    """The judge's verdict (a ``PartialCredit``) on ``answer`` for one graded cell."""
    outputs = [new_output("display_data", data=run_plan(exercise, answer, seed, cell))]
    return verdict(exercise, cell, seed, outputs, cell_points()[f"{cell}_{exercise}"])


def full_marks(exercise: str, cell: str = "hidden") -> float:
    """What a right answer earns here: the cell's points, less the parts whose calls the grader
    makes in a memory-limited process of its own (``LimitedCall``: lesson 08's memory rule,
    ``grader.judging.memory_check``), which no in-process judging can earn;
    ``tests/test_lesson_08.py`` grades those through real autogrades."""
    parts = plan(exercise, 0, cell)
    limited = sum(part.share for part in parts
                  if any(isinstance(call, LimitedCall) for call in part.calls))
    return cell_points()[f"{cell}_{exercise}"] * (1 - limited / sum(p.share for p in parts))
