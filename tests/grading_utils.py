"""A tiny nbgrader lesson for grading-workflow tests, and submissions built from it.

The lesson ``tiny`` has two exercises, ``add`` and ``mul``, each with a public check and a
hidden test (5 points in all); its hidden test of ``add`` names a misconception the way the
course's checks do ("... it matches subtraction ..."). It autogrades in about a second, so the
workflow tests do not depend on the real lessons' content.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

LESSON = "tiny"
FULL_MARKS = 5.0
ANSWERS = {
    "add": "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
    "mul": "def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION",
}
HIDDEN_ADD = ("### BEGIN HIDDEN TESTS\nresult = add(2, 5)\n"
              "assert result != 2 - 5, 'add(2, 5) is wrong: it matches subtraction (a - b).'\n"
              "assert result == 7, f'add(2, 5) returned {result}, expected 7'\n"
              "### END HIDDEN TESTS")
HIDDEN_MUL = "### BEGIN HIDDEN TESTS\nassert mul(3, 4) == 12, 'mul(3, 4) is wrong'\n" \
             "### END HIDDEN TESTS"


def _meta(grade_id: str, *, grade=False, solution=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def tiny_lesson(solutions: Path) -> Path:
    """Write ``solutions/tiny/tiny.ipynb`` (an nbgrader source notebook); return the folder."""
    cells = [
        new_markdown_cell("# A tiny lesson", metadata=_meta("intro")),
        new_code_cell("import math", metadata=_meta("setup")),
        new_code_cell(ANSWERS["add"], metadata=_meta("add", solution=True)),
        new_code_cell("assert add(1, 2) == 3, 'add(1, 2) should be 3'",
                      metadata=_meta("check_add", grade=True, points=1)),
        new_code_cell(HIDDEN_ADD, metadata=_meta("hidden_add", grade=True, points=2)),
        new_code_cell(ANSWERS["mul"], metadata=_meta("mul", solution=True)),
        new_code_cell("assert mul(2, 2) == 4, 'mul(2, 2) should be 4'",
                      metadata=_meta("check_mul", grade=True, points=1)),
        new_code_cell(HIDDEN_MUL, metadata=_meta("hidden_mul", grade=True, points=1)),
    ]
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    folder = Path(solutions) / LESSON
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{LESSON}.ipynb")
    return folder


def answer_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    """The answer cells (nbgrader ``solution: true`` code cells) by grade_id."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")}


def submission(course, lesson: str, answers: dict[str, str] | None = None,
               edit=None) -> nbformat.NotebookNode:
    """The student version of ``lesson`` with some answer cells (by grade_id) filled in;
    ``edit(notebook)`` may tamper with it further."""
    notebook = nbformat.read(course.root / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    for grade_id, code in (answers or {}).items():
        answer_cells(notebook)[grade_id].source = code
    if edit:
        edit(notebook)
    return notebook


def submit(course, lesson: str, student: str, notebook, tmp: Path) -> None:
    """Place a notebook (NotebookNode, or raw text for broken files) as a submission."""
    path = Path(tmp) / f"{student.encode().hex()}.ipynb"
    if isinstance(notebook, str):
        path.write_text(notebook)
    else:
        nbformat.write(notebook, path)
    course.add_submission(lesson, student, path)


def totals(course, lesson: str, student: str) -> tuple[float, float]:
    scores = course.scores(lesson, student)
    return sum(s.score for s in scores), sum(s.max_score for s in scores)


def by_cell(course, lesson: str, student: str) -> dict[str, float]:
    return {s.grade_id: s.score for s in course.scores(lesson, student)}


def messages_of(course, student: str) -> str:
    """Every message the last batch (``course.report``, set by the test) gave ``student``."""
    return "\n".join(m for out in course.report.outcomes if out.student == student
                     for m in out.messages)
