"""``course check`` on the real course: every lesson healthy, and a leak still found.

The leak search (``grader.health.leaks``) runs on every lesson in-process; the whole check
(solutions full marks, student versions zero, an attack zero, through real autogrades) runs on
every lesson in the lesson's batch (``tests/test_lesson_contract.py``), and the command itself
on one lesson here.
"""

from __future__ import annotations

import nbformat
import pytest

from grader.cli import main
from grader.course import NOTEBOOKS, SOLUTIONS, lessons
from grader.health import leaks

RELEASED = [lesson for lesson in lessons() if (NOTEBOOKS / lesson / f"{lesson}.ipynb").is_file()]


def _notebooks(lesson: str):
    return SOLUTIONS / lesson / f"{lesson}.ipynb", NOTEBOOKS / lesson / f"{lesson}.ipynb"


@pytest.mark.parametrize("lesson", RELEASED)
def test_no_student_version_hands_out_a_solution(lesson):
    assert leaks(*_notebooks(lesson)) == []


def test_a_solution_handed_out_is_found_and_given_code_is_not(tmp_path):
    source, released = _notebooks("09_gradients")
    student = nbformat.read(released, as_version=4)
    answer = next(c for c in student.cells if c.metadata.get("nbgrader", {}).get("solution"))
    given = next(c for c in student.cells if "def attention_forward" in c.source)
    solution = next(c for c in nbformat.read(source, as_version=4).cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == answer.metadata.nbgrader
                    .grade_id)
    region = solution.source.split("### BEGIN SOLUTION\n")[1].split("### END SOLUTION")[0]
    path = tmp_path / released.name

    # Lesson 09 gives the forward pass, whose lines the answer repeats: given code.
    assert "row_max = scores.max(axis=-1, keepdims=True)" in given.source
    assert leaks(source, released) == []

    # A line of the solution in the answer cell, in place of the stub: handed out.
    backup = answer.source
    answer.source = answer.source.replace("raise NotImplementedError()",
                                          region.strip().splitlines()[-1].strip())
    nbformat.write(student, path)
    assert any("solution line in the student version" in p for p in leaks(source, path))

    # The whole solution in a cell the lesson gives: handed out too.
    answer.source = backup
    given.source += "\n" + region
    nbformat.write(student, path)
    assert any("whole solution of answer_attention_backward" in p for p in leaks(source, path))


@pytest.mark.slow
@pytest.mark.xdist_group("course_check")
def test_course_check_reports_a_healthy_lesson(isolated_jupyter, tmp_path, capsys):
    """The command itself, on one lesson; every lesson's check runs in its lesson's batch
    (``tests/test_lesson_contract.py``: ``test_course_check_finds_the_lesson_healthy``)."""
    status = main(["--state-dir", str(tmp_path / "state"), "check", "00_welcome", "--jobs", "2"])
    out = capsys.readouterr().out
    assert status == 0 and "1 of 1 lessons healthy" in out, out
