"""Lessons 00–03 through real nbgrader autogrades: what a learner's answers score.

For every NumPy lesson: the solution notebook gets full marks and runs without an error; the
student version gets zero; wrong answers (from ``answer_variants``) lose points and their
feedback names the mistake; right answers written differently (einsum, loops, float32…) get full
marks; and warnings on stderr never cost a point.

Each autograde runs a whole notebook, so the variants are batched: notebook ``i`` of a lesson
holds the ``i``-th wrong (or right) answer of every exercise of that lesson.
"""

from __future__ import annotations

import itertools
import json
import textwrap

import numpy as np
import pytest
from answer_variants import VARIANTS, notebook_source
from nbgrader_utils import find_cell, grade, graded_outputs, solution_notebook, with_answers

from course_lib.misconceptions import DESCRIPTIONS

pytestmark = pytest.mark.slow

EXERCISES = {
    "00_welcome": ("dot_product",),
    "01_scores": ("attention_scores",),
    "02_softmax": ("softmax", "masked_softmax", "causal_mask", "padding_mask"),
    "03_weighted_sum": ("weighted_sum", "scaled_dot_product_attention"),
}
N_WRONG = 4  # wrong-answer notebooks per lesson: every exercise gets this many wrong answers
N_RIGHT = 2  # right-answer notebooks per lesson

_students = itertools.count()


def _student(label: str) -> str:
    return f"{label}-{next(_students)}"


def _answer_cell(exercise: str, answer) -> str:
    """A learner's answer cell: ``answer``'s source under the exercise's name."""
    return "import numpy as np\n\n\n" + notebook_source(answer, exercise)


def _points(lesson: str) -> dict[str, float]:
    """``{grade_id: points}`` of every graded cell of a lesson's source notebook."""
    cells = (cell.metadata.get("nbgrader", {}) for cell in solution_notebook(lesson).cells)
    return {meta["grade_id"]: meta["points"] for meta in cells if meta.get("grade")}


def _exercise_points(lesson: str, exercise: str) -> float:
    points = _points(lesson)
    return points[f"check_{exercise}"] + points[f"hidden_{exercise}"]


def _earned(scores: dict[str, float], exercise: str) -> float:
    return scores[f"check_{exercise}"] + scores[f"hidden_{exercise}"]


def _feedback(course, lesson: str, student: str, exercise: str) -> str:
    """What the check and the hidden test of an exercise printed while being graded."""
    return "\n".join(
        graded_outputs(course, lesson, student, f"{kind}_{exercise}")
        for kind in ("check", "hidden")
    )


def _autograded_errors(course, lesson: str, student: str) -> list[str]:
    """The error outputs of every cell of a student's autograded notebook."""
    path = course.root / "autograded" / student / lesson / f"{lesson}.ipynb"
    notebook = json.loads(path.read_text())
    return [
        f"cell {index}: {output['ename']}: {output['evalue']}"
        for index, cell in enumerate(notebook["cells"])
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]


# The lessons' structure ----------------------------------------------------------------------


@pytest.mark.parametrize("lesson", EXERCISES)
def test_every_exercise_has_answer_check_and_hidden_cells_with_points(lesson):
    notebook = solution_notebook(lesson)
    points = _points(lesson)
    for exercise in EXERCISES[lesson]:
        answer = find_cell(notebook, f"answer_{exercise}")
        assert answer.metadata.nbgrader["solution"] and f"def {exercise}(" in answer.source
        assert find_cell(notebook, f"check_{exercise}").source == f"check_{exercise}({exercise})"
        hidden = find_cell(notebook, f"hidden_{exercise}").source
        assert f'probe("{exercise}", {exercise}' in hidden
        assert points[f"check_{exercise}"] > 0 and points[f"hidden_{exercise}"] > 0
    assert set(points) == {f"{kind}_{e}" for e in EXERCISES[lesson] for kind in ("check", "hidden")}


@pytest.mark.parametrize("lesson", EXERCISES)
def test_the_corpus_has_enough_answers_for_every_exercise(lesson):
    for exercise in EXERCISES[lesson]:
        assert len(VARIANTS[exercise]["wrong"]) >= N_WRONG, exercise
        assert len(VARIANTS[exercise]["right"]) >= N_RIGHT, exercise


# Autogrades ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lesson", EXERCISES)
def test_solution_gets_full_marks_and_runs_without_error(course, lesson):
    student = _student("solution")
    scores = grade(course, lesson, solution_notebook(lesson), student=student)
    assert scores == _points(lesson)
    assert _autograded_errors(course, lesson, student) == []


@pytest.mark.parametrize("lesson", EXERCISES)
def test_student_version_gets_zero_and_says_what_to_do(course, lesson):
    student = _student("untouched")
    scores = grade(course, lesson, course.released / lesson / f"{lesson}.ipynb", student=student)
    assert scores == dict.fromkeys(_points(lesson), 0.0)
    for exercise in EXERCISES[lesson]:
        assert "is not written yet" in graded_outputs(course, lesson, student, f"check_{exercise}")


@pytest.mark.parametrize("index", range(N_WRONG))
@pytest.mark.parametrize("lesson", EXERCISES)
def test_wrong_answers_lose_points_and_the_feedback_names_the_mistake(course, lesson, index):
    chosen = {exercise: VARIANTS[exercise]["wrong"][index] for exercise in EXERCISES[lesson]}
    notebook = with_answers(lesson, {
        f"answer_{exercise}": _answer_cell(exercise, answer)
        for exercise, (answer, _) in chosen.items()
    })
    student = _student(f"wrong{index}")
    scores = grade(course, lesson, notebook, student=student)
    for exercise, (answer, misconception) in chosen.items():
        earned, possible = _earned(scores, exercise), _exercise_points(lesson, exercise)
        assert earned < possible, f"{answer.__name__} got full marks ({earned}/{possible})"
        feedback = _feedback(course, lesson, student, exercise)
        assert DESCRIPTIONS[misconception] in feedback, (
            f"the feedback on {answer.__name__} does not name {misconception!r}:\n{feedback}"
        )


@pytest.mark.parametrize("index", range(N_RIGHT))
@pytest.mark.parametrize("lesson", EXERCISES)
def test_right_answers_written_differently_get_full_marks(course, lesson, index):
    answers = {
        f"answer_{exercise}": _answer_cell(exercise, VARIANTS[exercise]["right"][index])
        for exercise in EXERCISES[lesson]
    }
    scores = grade(course, lesson, with_answers(lesson, answers), student=_student(f"right{index}"))
    assert scores == _points(lesson)


# Warnings on stderr --------------------------------------------------------------------------

# Right answers that print to stderr while they are graded: a NumPy RuntimeWarning (fully masked
# rows make -inf - (-inf) = nan before nan_to_num cleans it up) and a TensorFlow-style log line.
# The first answer cell turns warnings on, whatever the environment says.
NOISY_ANSWERS = {
    "answer_softmax": '''
        import sys
        import warnings

        import numpy as np

        warnings.simplefilter("always")


        def softmax(x, axis=-1):
            print("I0000 00:00:1700000000.000000   123 cpu_feature_guard.cc:210] This TensorFlow "
                  "binary is optimized to use available CPU instructions.", file=sys.stderr)
            e = np.exp(x - np.max(x, axis=axis, keepdims=True))
            return e / np.sum(e, axis=axis, keepdims=True)
    ''',
    "answer_masked_softmax": '''
        def masked_softmax(scores, mask):
            scores = np.where(mask, scores, -np.inf)
            e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))  # nan in empty rows
            weights = e / np.sum(e, axis=-1, keepdims=True)
            return np.nan_to_num(weights, nan=0.0)
    ''',
}


def test_the_noisy_answers_really_write_to_stderr(capfd):
    namespace: dict = {}
    for source in NOISY_ANSWERS.values():
        exec(textwrap.dedent(source), namespace)
    with pytest.warns(RuntimeWarning):
        namespace["masked_softmax"](np.zeros((2, 3)), np.array([[True], [False]]))
    namespace["softmax"](np.zeros(3))
    assert "TensorFlow" in capfd.readouterr().err


def test_warnings_and_logs_on_stderr_cost_no_points(course):
    lesson = "02_softmax"
    answers = {grade_id: textwrap.dedent(code) for grade_id, code in NOISY_ANSWERS.items()}
    scores = grade(course, lesson, with_answers(lesson, answers), student=_student("noisy"))
    assert scores == _points(lesson)
