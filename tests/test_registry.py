"""The exercise registry: the learner's records (``course_lib.exercises``) and the instructor's
(``grader.exercises``) agree, every name the judge grades is a graded cell of its lesson, and a
new exercise of a known kind needs one record on each side and its answer key, nothing in the
probe or the judge."""

from __future__ import annotations

import numpy as np
import pytest
from nbformat.v4 import new_output
from nbgrader_utils import solution_notebook

import course_lib.checks
from course_lib.cases.calls import Call
from course_lib.cases.records import Part
from course_lib.exercises import EXERCISES, KINDS, Exercise
from course_lib.misconceptions import DESCRIPTIONS
from course_lib.probes import run_plan
from grader.exercises import GRADED, Graded
from grader.judging import autograde
from grader.judging.entry_points import FAMILIES
from grader.judging.judges import JUDGES


def test_both_sides_hold_the_same_exercises():
    assert list(EXERCISES) == list(GRADED)
    assert all(record.name == name for name, record in EXERCISES.items())
    assert all(record.name == name for name, record in GRADED.items())


def test_every_kind_is_judged():
    assert set(JUDGES) == set(KINDS)
    assert {record.kind for record in EXERCISES.values()} == set(KINDS)


@pytest.mark.parametrize("name", EXERCISES)
def test_every_mistake_is_described_and_every_variant_known(name):
    mistakes = EXERCISES[name].mistakes
    assert len(set(mistakes)) == len(mistakes), mistakes
    assert set(mistakes) <= set(DESCRIPTIONS), set(mistakes) - set(DESCRIPTIONS)
    assert set(GRADED[name].variants) <= set(mistakes), set(GRADED[name].variants) - set(mistakes)


@pytest.mark.parametrize("name", EXERCISES)
def test_every_public_check_and_refused_family_exists(name):
    assert callable(getattr(course_lib.checks, EXERCISES[name].check))
    assert set(GRADED[name].refused) <= {family.name for family in FAMILIES}
    assert bool(GRADED[name].refused) == bool(GRADED[name].instead)


@pytest.mark.parametrize("name", EXERCISES)
def test_every_exercise_is_graded_in_its_lesson(name):
    grade_ids = {cell.metadata.get("nbgrader", {}).get("grade_id")
                 for cell in solution_notebook(EXERCISES[name].lesson).cells}
    assert {f"check_{name}", f"hidden_{name}"} <= grade_ids


# -- adding an exercise: a toy NumPy one, registered and judged in this process ---------------
def _twice(x):
    """The toy's answer key: ``2x``."""
    return 2 * x


def _twice_plan(rng) -> list[Part]:
    return [Part("a vector", [Call({"x": rng.standard_normal(5)})]),
            Part("a matrix", [Call({"x": rng.standard_normal((3, 4))})], share=2)]


@pytest.fixture
def toy(monkeypatch):
    """The toy exercise ``twice`` on both sides, as a real addition to lesson 00 writes it in
    three modules (the fourth file is the lesson's notebook): its learner's record and plan in
    ``course_lib/lessons/lesson_00_welcome.py``, the description of its one mistake in
    ``course_lib/misconceptions/lesson_00_welcome.py``, and its instructor's record, answer key
    and wrong variant in ``grader/lessons/lesson_00_welcome.py``. Its public check is the
    fixture's (``check_fixture``); the registries gather the records from those modules."""
    monkeypatch.setitem(EXERCISES, "twice", Exercise(
        "twice", "00_welcome", "function", _twice_plan, "check_fixture", ("twice_squared",)))
    monkeypatch.setitem(GRADED, "twice", Graded("twice", _twice, {"twice_squared": np.square}))
    monkeypatch.setitem(DESCRIPTIONS, "twice_squared", "x², the square: double x instead")
    return "twice"


def test_a_public_check_of_its_fixture_alone_names_the_mistake(capsys):
    """``check_fixture``: the public check of an exercise with no property of its own."""
    course_lib.checks.check_fixture("dot_product", lambda a, b: float(np.sum(a * b)))
    assert "dot_product: all" in capsys.readouterr().out
    with pytest.raises(course_lib.checks.CheckFailed, match="elementwise product"):
        course_lib.checks.check_fixture("dot_product", lambda a, b: a * b)


def _judged(answer, seed: int = 3):
    outputs = [new_output("display_data", data=run_plan("twice", answer, seed))]
    return autograde.verdict("twice", "hidden", seed, outputs, 3.0)


def test_a_new_exercise_needs_a_record_on_each_side(toy):
    assert autograde.graded_exercise("hidden_twice") == ("twice", "hidden")
    assert _judged(lambda x: x + x).points == 3.0
    squared = _judged(lambda x: x**2)
    assert squared.points == 0 and set(squared.misconceptions) == {"twice_squared"}
    assert "x², the square" in "\n".join(squared.lines)
    matrix_only = _judged(lambda x: x * 2 if x.ndim == 1 else x)
    assert matrix_only.points == 1.0, matrix_only.lines
