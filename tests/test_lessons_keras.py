"""Lessons 04 and 07 (Keras) through real nbgrader autogrades: what a learner's answers score.

For each lesson, one batch of submissions is autograded in parallel (``autograde_all``, two
processes): the solution (full marks, no error), the student version (zero, "not written yet"),
four notebooks of wrong answers (notebook ``i`` holds the ``i``-th wrong answer of every
exercise: each loses points and its feedback names the mistake) and two of right answers
written differently (full marks). One right-answer notebook also writes TensorFlow-style log
lines to stderr from inside graded cells: they must cost nothing.

The corpus's other wrong answers (``keras_variants``, past the four per exercise that go
through nbgrader) run in-process against the public check and the hidden test.
"""

from __future__ import annotations

import contextlib
import io
import json
import os

import pytest
from judging import judged
from keras_variants import HELPERS, VARIANTS, answer_code, helpers_cell
from nbgrader_utils import find_cell, graded_outputs, solution_notebook, with_answers

from course_lib.feedback import CheckFailed
from course_lib.misconceptions import DESCRIPTIONS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("keras_lessons")]

EXERCISES = {
    "04_keras_layer": ("AttentionLayer", "MultiHeadAttention"),
    "07_application": ("teacher_forcing", "build_translator", "greedy_decode", "alignment"),
}
LESSON_OF = {exercise: lesson for lesson, names in EXERCISES.items() for exercise in names}
N_WRONG = 4
N_RIGHT = 2
# Printed to stderr by a right answer while graded cells run (a TensorFlow C++ log line).
TF_LOG_LINE = ("I0000 00:00:1700000000.000000   123 cpu_feature_guard.cc:210] This TensorFlow "
               "binary is optimized to use available CPU instructions.")


def _points(lesson: str) -> dict[str, float]:
    """``{grade_id: points}`` of every graded cell of a lesson's source notebook."""
    cells = (cell.metadata.get("nbgrader", {}) for cell in solution_notebook(lesson).cells)
    return {meta["grade_id"]: meta["points"] for meta in cells if meta.get("grade")}


def _earned(scores: dict[str, float], exercise: str) -> float:
    return scores[f"check_{exercise}"] + scores[f"hidden_{exercise}"]


def _possible(lesson: str, exercise: str) -> float:
    return _earned(_points(lesson), exercise)


def _solution_cell(lesson: str, exercise: str) -> str:
    return find_cell(solution_notebook(lesson), f"answer_{exercise}").source


def _answers(lesson: str, kind: str, index: int) -> dict[str, str]:
    """``{grade_id: code}``: the ``index``-th ``kind`` answer of every exercise of ``lesson``."""
    answers = {}
    for exercise in EXERCISES[lesson]:
        variants = VARIANTS[exercise][kind]
        answer = variants[index % len(variants)]
        answer = answer[0] if kind == "wrong" else answer
        answers[f"answer_{exercise}"] = answer_code(exercise, answer,
                                                    _solution_cell(lesson, exercise))
    return answers


def _noisy_helpers(pair) -> str:
    """Right helpers whose masked_softmax writes a TensorFlow log line to stderr at every call."""
    return helpers_cell(pair) + f"""


import sys

_masked_softmax = masked_softmax


def masked_softmax(scores, mask=None):
    print({TF_LOG_LINE!r}, file=sys.stderr)
    return _masked_softmax(scores, mask)
"""


def _submissions(lesson: str) -> dict[str, object]:
    """``{student: notebook}``: every submission of the lesson's batch."""
    submissions = {"solution": solution_notebook(lesson), "untouched": None}
    for index in range(N_WRONG):
        submissions[f"wrong{index}"] = with_answers(lesson, _answers(lesson, "wrong", index))
    for index in range(N_RIGHT):
        answers = _answers(lesson, "right", index)
        if lesson == "04_keras_layer":
            pair = HELPERS[index % len(HELPERS)]
            answers["answer_helpers"] = _noisy_helpers(pair) if index == 0 else helpers_cell(pair)
        submissions[f"right{index}"] = with_answers(lesson, answers)
    return submissions


@pytest.fixture(scope="module")
def graded(course):
    """``{lesson: {student: {grade_id: score}}}`` after one parallel autograde per lesson.

    The kernels draw figures without rendering them (``MPLBACKEND=agg``): the lessons' plots are
    not graded, and rendering them would double the time of these autogrades.
    """
    import nbformat

    saved_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "agg"
    try:
        yield _grade_batches(course, nbformat)
    finally:
        if saved_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved_backend


def _grade_batches(course, nbformat) -> dict:
    results = {}
    for lesson in EXERCISES:
        students = []
        for student, notebook in _submissions(lesson).items():
            path = course.released / lesson / f"{lesson}.ipynb"
            if notebook is not None:
                path = course.root / f"{student}-{lesson}.ipynb"
                nbformat.write(notebook, path)
            course.add_submission(lesson, student, path)
            students.append(student)
        report = course.autograde_all(lesson, students, jobs=2, force=True, progress=False)
        failed = [f"{o.student}: {o.status} {o.messages}" for o in report.outcomes
                  if o.status != "graded"]
        assert not failed, failed
        results[lesson] = {
            student: {cell.grade_id: cell.score for cell in course.scores(lesson, student)}
            for student in students
        }
    return results


def _feedback(course, lesson: str, student: str, exercise: str) -> str:
    return "\n".join(graded_outputs(course, lesson, student, f"{kind}_{exercise}")
                     for kind in ("check", "hidden"))


def _errors(course, lesson: str, student: str) -> list[str]:
    path = course.root / "autograded" / student / lesson / f"{lesson}.ipynb"
    return [
        f"cell {index}: {output['ename']}: {output['evalue']}"
        for index, cell in enumerate(json.loads(path.read_text())["cells"])
        for output in cell.get("outputs", []) if output["output_type"] == "error"
    ]


# == the lessons' structure ======================================================================
@pytest.mark.parametrize("lesson", EXERCISES)
def test_every_exercise_has_answer_check_and_hidden_cells(lesson):
    notebook, points = solution_notebook(lesson), _points(lesson)
    for exercise in EXERCISES[lesson]:
        answer = find_cell(notebook, f"answer_{exercise}")
        assert answer.metadata.nbgrader["solution"] and "### BEGIN SOLUTION" in answer.source
        hidden = find_cell(notebook, f"hidden_{exercise}").source
        assert "BEGIN HIDDEN TESTS" in hidden and f'probe("{exercise}", {exercise}' in hidden
        assert points[f"check_{exercise}"] > 0 and points[f"hidden_{exercise}"] > 0
    assert set(points) == {f"{kind}_{e}" for e in EXERCISES[lesson] for kind in ("check", "hidden")}


def test_the_corpus_has_enough_answers_for_every_exercise():
    for exercises in EXERCISES.values():
        for exercise in exercises:
            assert len(VARIANTS[exercise]["wrong"]) >= N_WRONG, exercise
            assert len(VARIANTS[exercise]["right"]) >= N_RIGHT, exercise
            keys = [key for _, key in VARIANTS[exercise]["wrong"]]
            assert len(set(keys)) == len(keys) and set(keys) <= set(DESCRIPTIONS)


# == autogrades ==================================================================================
@pytest.mark.parametrize("lesson", EXERCISES)
def test_solution_gets_full_marks_and_runs_without_error(course, graded, lesson):
    assert graded[lesson]["solution"] == _points(lesson)
    assert _errors(course, lesson, "solution") == []


@pytest.mark.parametrize("lesson", EXERCISES)
def test_student_version_gets_zero_and_says_what_to_do(course, graded, lesson):
    assert graded[lesson]["untouched"] == dict.fromkeys(_points(lesson), 0.0)
    for exercise in EXERCISES[lesson]:
        assert "is not written yet" in graded_outputs(course, lesson, "untouched",
                                                      f"check_{exercise}")


@pytest.mark.parametrize("index", range(N_WRONG))
@pytest.mark.parametrize("lesson", EXERCISES)
def test_wrong_answers_lose_points_and_the_feedback_names_the_mistake(course, graded, lesson,
                                                                     index):
    scores = graded[lesson][f"wrong{index}"]
    for exercise in EXERCISES[lesson]:
        answer, mistake = VARIANTS[exercise]["wrong"][index]
        assert _earned(scores, exercise) < _possible(lesson, exercise), answer.__name__
        feedback = _feedback(course, lesson, f"wrong{index}", exercise)
        assert DESCRIPTIONS[mistake] in feedback, (
            f"the feedback on {answer.__name__} does not name {mistake!r}:\n{feedback}")


@pytest.mark.parametrize("index", range(N_RIGHT))
@pytest.mark.parametrize("lesson", EXERCISES)
def test_right_answers_written_differently_get_full_marks(graded, lesson, index):
    """Right answer 0 of lesson 04 also prints TensorFlow log lines to stderr in graded cells."""
    assert graded[lesson][f"right{index}"] == _points(lesson)


# == the other wrong answers, in-process =========================================================
def _lesson_namespace(lesson: str) -> dict:
    """What the lesson's notebook defines before its exercises: imports, helpers, model parts."""
    namespace: dict = {}
    notebook = solution_notebook(lesson)
    for grade_id in ("setup", "answer_helpers", "model_parts"):
        with contextlib.suppress(KeyError):
            code = find_cell(notebook, grade_id).source.replace("device_info = report()", "")
            exec(code, namespace)
    return namespace


def _graded_cell(lesson: str, grade_id: str, namespace: dict):
    """Run a check or hidden-test cell as nbgrader would: its last line's value is the result."""
    code = find_cell(solution_notebook(lesson), grade_id).source
    lines = [line for line in code.splitlines() if "HIDDEN TESTS" not in line]
    exec("\n".join(lines[:-1]), namespace)
    return eval(lines[-1], namespace)


def _run_answer(exercise: str, answer):
    """``(check passed, hidden points, printed text)`` of one answer: its public check in
    this process, and the judge's verdict on the probe of its hidden test."""
    lesson = LESSON_OF[exercise]
    namespace = _lesson_namespace(lesson)
    exec(answer_code(exercise, answer, _solution_cell(lesson, exercise)), namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            _graded_cell(lesson, f"check_{exercise}", namespace)
            check_passed = True
        except CheckFailed as failure:
            check_passed = False
            print(failure)
    credit = judged(exercise, namespace[exercise])
    return check_passed, credit.points, printed.getvalue() + "\n".join(credit.lines)


# The answers no autograde above runs: wrong answers past the first N_WRONG of an exercise.
BEYOND = [(exercise, answer, mistake) for exercise in LESSON_OF
          for answer, mistake in VARIANTS[exercise]["wrong"][N_WRONG:]]


@pytest.mark.parametrize(("exercise", "answer", "mistake"), BEYOND,
                         ids=[answer.__name__ for _, answer, _ in BEYOND])
def test_the_other_wrong_answers_are_named_too(exercise, answer, mistake):
    check_passed, hidden, printed = _run_answer(exercise, answer)
    assert not check_passed, printed
    assert hidden < _points(LESSON_OF[exercise])[f"hidden_{exercise}"], printed
    assert DESCRIPTIONS[mistake] in printed, printed
