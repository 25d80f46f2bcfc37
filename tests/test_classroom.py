"""The whole classroom on one machine, with a temporary exchange and a real lesson.

release → three students fetch with ``nbgrader fetch_assignment``, answer (right, partly
wrong, blank) and ``nbgrader submit --student`` → collect → parallel autograde → feedback →
grades. Answers come from the lesson's solution notebook (its ``solution: true`` cells), so
the test holds whatever the lesson's content.
"""

from __future__ import annotations

import csv
import html
import inspect
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from grading_utils import answer_cells

from grader.cli import main
from grader.course import SOLUTIONS, lessons
from grader.reports import graded_cells

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def pick_lesson() -> str:
    """A NumPy lesson with at least two exercises (so "partly wrong" differs from blank)."""
    candidates = [lesson for lesson in lessons() if lesson[:2] in {"00", "01", "02", "03"}]
    if not candidates:
        pytest.skip("no NumPy lesson in solutions/ yet")
    notebook = {lesson: nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", as_version=4)
                for lesson in candidates}
    return max(candidates, key=lambda lesson: (min(len(answer_cells(notebook[lesson])), 2),
                                               -len(notebook[lesson].cells)))


def nbgrader(*args: str, cwd: Path) -> None:
    command = [str(Path(sys.executable).parent / "nbgrader"), *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def expected_scores(lesson: str) -> dict[str, float]:
    """Points each student should get: all, all but the last exercise's, none."""
    points = {}
    for exercise, _, cell in graded_cells(SOLUTIONS / lesson / f"{lesson}.ipynb"):
        points[exercise] = points.get(exercise, 0) + cell.metadata["nbgrader"]["points"]
    last = list(answer_cells(nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", 4)))[-1]
    total = sum(points.values())
    return {"ana": total, "ben": total - points.get(last, 0), "cleo": 0.0}


def answer(notebook_path: Path, lesson: str, student: str) -> None:
    """Fill in the fetched notebook as ``student`` would."""
    solutions = answer_cells(nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", 4))
    keep = {"ana": list(solutions), "ben": list(solutions)[:-1], "cleo": []}[student]
    notebook = nbformat.read(notebook_path, as_version=4)
    for grade_id, cell in answer_cells(notebook).items():
        if grade_id in keep:
            cell.source = SOLUTION_MARKERS.sub("", solutions[grade_id].source)
    nbformat.write(notebook, notebook_path)


def answer_key_lines() -> set[str]:
    """Code lines of the NumPy answer key, long enough to be unmistakable."""
    from grader.reference import numpy_attention

    source = inspect.getsource(numpy_attention)
    return {line.strip() for line in source.splitlines()
            if len(line.strip()) > 30 and not line.strip().startswith(("#", '"', "def "))}


@pytest.mark.slow
def test_classroom_end_to_end(tmp_path, isolated_jupyter, capsys):
    lesson = pick_lesson()
    state, exchange = tmp_path / "state", tmp_path / "exchange"
    base = ["--state-dir", str(state), "--exchange", str(exchange)]
    course_id = "attention-step-by-step"

    assert main([*base, "release", lesson]) == 0
    for student in ("ana", "ben", "cleo"):
        home = tmp_path / student
        home.mkdir()
        exchange_root = f"--Exchange.root={exchange}"
        nbgrader("fetch_assignment", lesson, "--course", course_id, exchange_root, cwd=home)
        answer(home / lesson / f"{lesson}.ipynb", lesson, student)
        nbgrader("submit", lesson, "--course", course_id, exchange_root, f"--student={student}",
                 cwd=home)

    assert main([*base, "collect", lesson]) == 0
    assert "3 submissions" in capsys.readouterr().out
    assert main([*base, "autograde", lesson, "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 graded" in out, out
    assert main([*base, "feedback", lesson]) == 0
    assert main([*base, "grades"]) == 0
    out = capsys.readouterr().out

    rows = list(csv.DictReader((state / "reports" / "grades.csv").open()))
    got = {s: sum(float(r["score"]) for r in rows if r["student"] == s)
           for s in ("ana", "ben", "cleo")}
    assert got == pytest.approx(expected_scores(lesson)), out
    for picture in ("score_distribution.png", "pass_rate.png", "misconceptions.png"):
        assert (state / "reports" / picture).stat().st_size > 1000
    assert lesson in (state / "reports" / "report.md").read_text()

    released = list((exchange / course_id / "feedback").glob("*.html"))
    assert len(released) == 3, "feedback was not released to the exchange"
    page = html.unescape((state / "feedback" / "cleo" / lesson / f"{lesson}.html").read_text())
    for secret in ("BEGIN HIDDEN TESTS", "from course_lib.probes import", "BEGIN SOLUTION"):
        assert secret not in page
    leaked = [line for line in answer_key_lines() if line in page]
    assert not leaked, f"feedback shows answer-key code: {leaked[:3]}"
