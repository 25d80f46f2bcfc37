"""notebooks/ is exactly what nbgrader generates from solutions/, and leaks nothing."""

from __future__ import annotations

import json

import pytest

from grader.course import NOTEBOOKS, SOLUTIONS, lessons

LESSONS = lessons()


def _cells(path):
    return json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_student_notebook_matches_generation(course, lesson):
    generated = course.released / lesson / f"{lesson}.ipynb"
    committed = NOTEBOOKS / lesson / f"{lesson}.ipynb"
    assert committed.exists(), f"{committed} is missing: run `make notebooks`"
    assert json.loads(committed.read_text()) == json.loads(generated.read_text()), (
        f"{committed} drifted from solutions/{lesson}: run `make notebooks` and commit"
    )


@pytest.mark.parametrize("lesson", LESSONS)
def test_student_notebook_has_no_solution_or_hidden_test(lesson):
    text = (NOTEBOOKS / lesson / f"{lesson}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "course_lib.probes",
                   "grader.reference"):
        assert marker not in text, f"{lesson}: the student notebook contains {marker!r}"


def test_every_lesson_has_a_student_version():
    assert lessons(NOTEBOOKS) == LESSONS
    assert LESSONS, f"no lessons found in {SOLUTIONS}"
