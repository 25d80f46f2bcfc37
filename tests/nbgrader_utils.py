"""Helpers for tests that autograde real notebooks: build variants, grade them, read scores."""

from __future__ import annotations

import inspect
import itertools
import json
import os
import textwrap
from pathlib import Path

import nbformat

from grader.course import SOLUTIONS, Course
from grader.course import lessons as every_lesson
from grader.reports import cell_text

_student_ids = itertools.count()


def solution_notebook(lesson: str) -> nbformat.NotebookNode:
    return nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", as_version=4)


def find_cell(notebook, grade_id: str):
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def source_of(function) -> str:
    """A function's source, dedented, renamed to nothing: paste-ready for an answer cell."""
    return textwrap.dedent(inspect.getsource(function))


def grade(course, lesson: str, notebook, student: str | None = None) -> dict[str, float]:
    """Autograde ``notebook`` (a NotebookNode or a path) as a fresh student of ``course``.

    Returns ``{grade_id: score}``; the autograded notebook is at ``course.root/autograded``.
    """
    student = student or f"student{next(_student_ids)}"
    if not isinstance(notebook, (str, Path)):
        path = course.root / f"{student}-{lesson}.ipynb"
        nbformat.write(notebook, path)
        notebook = path
    course.add_submission(lesson, student, Path(notebook))
    result = course.autograde(lesson, student)
    assert result["success"], result.get("log", "") + result.get("error", "")
    return {cell.grade_id: cell.score for cell in course.scores(lesson, student)}


def graded_outputs(course, lesson: str, student: str, grade_id: str) -> str:
    """All text a graded cell printed during autograde (where feedback messages appear)."""
    path = course.root / "autograded" / student / lesson / f"{lesson}.ipynb"
    cell = find_cell(nbformat.read(path, as_version=4), grade_id)
    return cell_text(cell)


def grade_batch(course, lesson: str, submissions: dict) -> dict[str, dict[str, float]]:
    """Autograde every submission (``{student: NotebookNode, or None for the released
    notebook untouched}``) in one parallel batch; ``{student: {grade_id: score}}``."""
    saved_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "agg"
    try:
        for student, notebook in submissions.items():
            path = course.released / lesson / f"{lesson}.ipynb"
            if notebook is not None:
                path = course.root / f"{student}-{lesson}.ipynb"
                nbformat.write(notebook, path)
            course.add_submission(lesson, student, path)
        report = course.autograde_all(lesson, list(submissions), jobs=2, force=True,
                                      progress=False)
    finally:
        if saved_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved_backend
    failed = [f"{o.student}: {o.status} {o.messages}" for o in report.outcomes
              if o.status != "graded"]
    assert not failed, failed
    return {student: {cell.grade_id: cell.score for cell in course.scores(lesson, student)}
            for student in submissions}


def autograde_errors(course, lesson: str, student: str) -> list[str]:
    """``"cell N: Error: message"`` for every error output of a student's autograded notebook."""
    path = course.root / "autograded" / student / lesson / f"{lesson}.ipynb"
    return [f"cell {index}: {output['ename']}: {output['evalue']}"
            for index, cell in enumerate(json.loads(path.read_text())["cells"])
            for output in cell.get("outputs", []) if output["output_type"] == "error"]


def new_course(root: Path, lessons: list[str] | None = None):
    """A course in ``root`` with ``lessons`` (default: all) generated, their student versions
    in ``course.released``."""
    course = Course(state_dir=root / "state")
    course.released = root / "released"
    for lesson in lessons or every_lesson():
        course.generate(lesson, destination=course.released)
    return course
