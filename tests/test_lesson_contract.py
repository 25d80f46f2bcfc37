"""What every lesson promises, held to the table of ``tests/lesson_table.py``.

Structure: each exercise has its answer, public-check and hidden-test cells, with the table's
points, and its points and "**Your own code.**" paragraph in the text; nothing before an
exercise calls it; every cell but the answers and the free demos is locked.

One batch of real nbgrader autogrades per lesson (``autograde_all``, two processes), which also
holds what ``course check`` grades: the solution gets full marks and runs without an error, the
student version gets zero and says what to do, an attack gets zero, each wrong answer of the
batch loses points on its exercise and its feedback names the mistake, and each right answer
written differently gets full marks.
"""

from __future__ import annotations

import ast
import inspect
import re

import pytest
from lesson_table import EXERCISES, LESSONS
from nbgrader_utils import autograde_errors, find_cell, graded_outputs, solution_notebook

import grader.reference as ref
from course_lib.exercises import EXERCISES as RECORDS
from course_lib.misconceptions import DESCRIPTIONS
from grader.course import SOLUTIONS
from grader.health import LessonHealth, assess_lesson, leaks
from grader.judging import policy


def _batch(lesson: str):
    """The lesson's batch tests run in one process, which autogrades the batch once."""
    return pytest.mark.xdist_group(f"batch-{lesson}")


def _batched(kind: str) -> list:
    return [pytest.param(lesson.name, exercise.name, answer, key, marks=_batch(lesson.name),
                         id=f"{lesson.name}-{answer.__name__}")
            for lesson in LESSONS.values()
            for exercise, answer, key in lesson.batched_answers(kind)]


def _points(lesson: str) -> dict[str, float]:
    """``{grade_id: points}`` of every graded cell of a lesson's source notebook."""
    cells = (cell.metadata.get("nbgrader", {}) for cell in solution_notebook(lesson).cells)
    return {meta["grade_id"]: meta["points"] for meta in cells if meta.get("grade")}


def _signature(answer_cell: str, name: str) -> str | None:
    """``(arguments)`` of the function ``name`` that an answer cell defines, or None."""
    for node in ast.parse(answer_cell).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return f"({ast.unparse(node.args)})"
    return None


def _check_function(exercise: str) -> str:
    """The public check's name: ``check_<exercise>``, in snake case for a layer class."""
    return "check_" + re.sub(r"(?<=[a-z])(?=[A-Z])", "_", exercise).lower()


# == structure =====================================================================================
def test_the_table_holds_every_exercise_of_the_registry():
    """The table adds points and corpora to the registry's exercises, in the same lessons."""
    assert {name: lesson.name for name, (lesson, _) in EXERCISES.items()} == {
        name: record.lesson for name, record in RECORDS.items()}


@pytest.mark.parametrize("lesson", LESSONS)
def test_graded_cells_and_points(lesson):
    notebook, table = solution_notebook(lesson), LESSONS[lesson]
    assert _points(lesson) == table.points()
    text = "".join(cell.source for cell in notebook.cells)
    for exercise in table.exercises:
        name = exercise.name
        check, hidden = exercise.graded
        assert find_cell(notebook, check).source == f"{_check_function(name)}({name})"
        hidden_source = find_cell(notebook, hidden).source
        assert "### BEGIN HIDDEN TESTS" in hidden_source
        assert f'probe("{name}", {name}, seed=0)' in hidden_source
        answer = find_cell(notebook, f"answer_{name}")
        assert answer.metadata.nbgrader["solution"] and "### BEGIN SOLUTION" in answer.source
        assert re.search(rf"^(def|class) {name}\(", answer.source, re.MULTILINE), name
        key = getattr(ref, name, None)
        if inspect.isfunction(key):  # the learner's function has the answer key's signature
            assert _signature(answer.source, name) == str(inspect.signature(key)), name
        assert f"({sum(exercise.points):g} points)" in text, name
    refusing = [exercise for exercise in table.exercises if exercise.name in policy.REFUSED]
    assert text.count("**Your own code.**") == len(refusing)


@pytest.mark.parametrize("lesson", LESSONS)
def test_nothing_before_an_exercise_calls_it(lesson):
    cells = solution_notebook(lesson).cells
    for exercise in LESSONS[lesson].exercises:
        answer_at = cells.index(find_cell(solution_notebook(lesson), f"answer_{exercise.name}"))
        called = re.compile(rf"(?<![\w.]){exercise.name}\(")
        assert not [c.source for c in cells[:answer_at]
                    if c.cell_type == "code" and called.search(c.source)], exercise.name


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_non_answer_cell_but_the_demos_is_locked(lesson):
    for cell in solution_notebook(lesson).cells:
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "markdown" or (meta and not meta["solution"]):
            assert meta and meta["locked"], cell.source[:60]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_corpus_has_enough_answers_naming_at_least_four_mistakes(exercise):
    """A wrong answer names one mistake of the catalogue, or None for one the feedback cannot
    name (``tests/test_answer_corpus.py`` counts those)."""
    lesson, table = EXERCISES[exercise]
    wrong, right = table.corpus["wrong"], table.corpus["right"]
    assert len(wrong) >= max(4, lesson.batched[0]) and len(right) >= max(2, lesson.batched[1])
    keys = {key for _, key in wrong if key is not None}
    assert len(keys) >= 4 and keys <= set(DESCRIPTIONS), keys - set(DESCRIPTIONS)


# == one batch of real autogrades per lesson =======================================================
@pytest.fixture
def graded(lesson_batches, request):
    return lesson_batches(request.node.callspec.params["lesson"])


@pytest.mark.slow
@pytest.mark.parametrize("lesson", [pytest.param(name, marks=_batch(name)) for name in LESSONS])
def test_solution_gets_full_marks_and_runs_without_error(course, graded, lesson):
    assert graded["solution"] == LESSONS[lesson].full_marks()
    assert autograde_errors(course, lesson, "solution") == []


@pytest.mark.slow
@pytest.mark.parametrize("lesson", [pytest.param(name, marks=_batch(name)) for name in LESSONS])
def test_student_version_gets_zero_and_says_what_to_do(course, graded, lesson):
    assert graded["blank"] == dict.fromkeys(LESSONS[lesson].points(), 0.0)
    for exercise in LESSONS[lesson].exercises:
        feedback = "\n".join(graded_outputs(course, lesson, "blank", cell)
                             for cell in exercise.graded)
        assert "is not written yet" in feedback, feedback


@pytest.mark.slow
@pytest.mark.parametrize("lesson", [pytest.param(name, marks=_batch(name)) for name in LESSONS])
def test_course_check_finds_the_lesson_healthy(course, graded, lesson):
    """``course check`` on this batch (``grader.health``): the student version hands out no
    solution, the solution gets full marks, the student version and an attack zero."""
    health = LessonHealth(lesson, leaks(SOLUTIONS / lesson / f"{lesson}.ipynb",
                                        course.released / lesson / f"{lesson}.ipynb"))
    assert assess_lesson(health, course, []).problems == [], health.line()


@pytest.mark.slow
@pytest.mark.parametrize(("lesson", "exercise", "answer", "key"), _batched("wrong"))
def test_wrong_answer_loses_points_and_is_named(course, graded, lesson, exercise, answer, key):
    student = LESSONS[lesson].student_of("wrong", answer)
    cells = EXERCISES[exercise][1].graded
    earned = sum(graded[student][cell] for cell in cells)
    assert earned < sum(EXERCISES[exercise][1].points), (answer.__name__, graded[student])
    feedback = "\n".join(graded_outputs(course, lesson, student, cell) for cell in cells)
    assert key is None or DESCRIPTIONS[key] in feedback, (
        f"the feedback on {answer.__name__} does not name {key!r}:\n{feedback}")


@pytest.mark.slow
@pytest.mark.parametrize(("lesson", "exercise", "answer", "key"), _batched("right"))
def test_right_answer_written_differently_gets_full_marks(graded, lesson, exercise, answer, key):
    student = LESSONS[lesson].student_of("right", answer)
    assert graded[student] == LESSONS[lesson].full_marks(), answer.__name__


@pytest.mark.slow
@pytest.mark.parametrize(("lesson", "student"), [
    pytest.param(lesson.name, student, marks=_batch(lesson.name), id=f"{lesson.name}-{student}")
    for lesson in LESSONS.values() for student in lesson.extras() if student.startswith("right-")])
def test_the_lessons_own_right_submissions_get_full_marks(graded, lesson, student):
    assert graded[student] == LESSONS[lesson].full_marks()
