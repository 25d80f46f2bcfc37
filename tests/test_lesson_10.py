"""Lesson 10 (other scores): its answer keys, public checks, judge and helpers, and one batch of
real nbgrader autogrades.

The batch holds the solution notebook (full marks, no error), the student version (zero, "not
written yet"), and notebooks that each hold one wrong answer of ``nadaraya_watson`` *and* one of
``additive_scores`` from ``answer_variants`` (each exercise loses points and its feedback names
the mistake), or one right answer of each written differently (full marks). Those notebooks are
graded with the free demo cells emptied (the solution runs them all), which keeps the batch
short.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from answer_variants import VARIANTS, notebook_source
from judging import full_marks, judged
from nbgrader_utils import (
    AnswerRows,
    autograde_errors,
    find_cell,
    grade_batch,
    graded_outputs,
    solution_notebook,
)

import grader.reference as ref
from course_lib.checks import CheckFailed, check_additive_scores, check_nadaraya_watson
from course_lib.exercises import plan
from course_lib.misconceptions import DESCRIPTIONS
from course_lib.other_scores import (
    best_time,
    nw_weights,
    plot_costs,
    plot_fits,
    plot_spread,
    plot_weights,
    toy_curve,
)
from grader.judging import policy

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LESSON = "10_other_scores"
EXERCISES = ("nadaraya_watson", "additive_scores")
CHECKS = {"nadaraya_watson": check_nadaraya_watson, "additive_scores": check_additive_scores}
SIGNATURES = {"nadaraya_watson": "def nadaraya_watson(x_query, x_train, y_train, width):",
              "additive_scores": "def additive_scores(q, k, w_q, w_k, v):"}
RIGHT = [(exercise, answer) for exercise in EXERCISES for answer in VARIANTS[exercise]["right"]]
WRONG = [(exercise, answer, key) for exercise in EXERCISES
         for answer, key in VARIANTS[exercise]["wrong"]]


def _points() -> dict[str, float]:
    cells = (cell.metadata.get("nbgrader", {}) for cell in solution_notebook(LESSON).cells)
    return {meta["grade_id"]: meta["points"] for meta in cells if meta.get("grade")}


def _graded(exercise: str) -> tuple[str, str]:
    return f"check_{exercise}", f"hidden_{exercise}"


# The answer keys ---------------------------------------------------------------------------------


def test_nadaraya_watson_is_a_softmax_weighted_average_by_hand():
    x_train, y_train = np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 4.0])
    kernel = np.exp(-(0.0 - x_train) ** 2 / 2)  # the query x = 0, width 1
    expected = kernel @ y_train / kernel.sum()
    np.testing.assert_allclose(ref.nadaraya_watson(np.array([0.0]), x_train, y_train, 1.0),
                               [expected], rtol=1e-15)


def test_nadaraya_watson_limits_of_the_width():
    rng = np.random.default_rng(0)
    x_train, y_train = rng.uniform(0, 5, 12), rng.standard_normal(12)
    x_query = rng.uniform(0, 5, 5)
    nearest = y_train[np.argmin(np.abs(x_query[:, None] - x_train), axis=-1)]
    np.testing.assert_allclose(ref.nadaraya_watson(x_query, x_train, y_train, 1e-4), nearest)
    np.testing.assert_allclose(ref.nadaraya_watson(x_query, x_train, y_train, 1e4),
                               np.full(5, y_train.mean()), rtol=1e-6)


def test_nadaraya_watson_is_batched_and_refuses_bad_input():
    rng = np.random.default_rng(1)
    x_query, x_train, y_train = (rng.standard_normal((3, n)) for n in (4, 6, 6))
    batched = ref.nadaraya_watson(x_query, x_train, y_train, 0.7)
    assert batched.shape == (3, 4)
    for b in range(3):
        np.testing.assert_allclose(batched[b], ref.nadaraya_watson(x_query[b], x_train[b],
                                                                   y_train[b], 0.7))
    with pytest.raises(ValueError, match="Received"):
        ref.nadaraya_watson(x_query, x_train, y_train[:, :5], 0.7)
    with pytest.raises(ValueError, match="Received"):
        ref.nadaraya_watson(x_query, x_train, y_train, 0.0)


def test_additive_scores_equal_the_formula_pair_by_pair():
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 6))
    w_q, w_k, v = rng.standard_normal((4, 7)), rng.standard_normal((6, 7)), rng.standard_normal(7)
    scores = ref.additive_scores(q, k, w_q, w_k, v)
    assert scores.shape == (2, 3, 5)
    for b, i, j in np.ndindex(2, 3, 5):
        assert scores[b, i, j] == pytest.approx(v @ np.tanh(q[b, i] @ w_q + k[b, j] @ w_k))
    assert np.abs(ref.additive_scores(1e3 * q, 1e3 * k, w_q, w_k, v)).max() <= np.abs(v).sum()
    with pytest.raises(ValueError, match="Received"):
        ref.additive_scores(q, k, w_k, w_q, v)


# The public checks, the judge and the policy -----------------------------------------------------


@pytest.mark.parametrize(("exercise", "answer"), RIGHT, ids=[a.__name__ for _, a in RIGHT])
def test_right_answers_pass_the_check_and_get_full_marks(exercise, answer, capsys):
    CHECKS[exercise](answer)
    assert "checks passed" in capsys.readouterr().out
    for cell in ("check", "hidden"):
        for seed in (0, 1, 2):
            credit = judged(exercise, answer, seed, cell)
            assert credit.points == full_marks(exercise, cell), credit.lines


@pytest.mark.parametrize(("exercise", "answer", "key"), WRONG,
                         ids=[a.__name__ for _, a, _ in WRONG])
def test_each_wrong_answer_is_named_by_the_check_and_the_judge(exercise, answer, key):
    with pytest.raises(CheckFailed) as failure:
        CHECKS[exercise](answer)
    assert DESCRIPTIONS[key] in str(failure.value)
    credit = judged(exercise, answer)
    assert credit.points < full_marks(exercise) and key in credit.misconceptions, credit.lines


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_lessons_wrong_answers_cover_every_mistake(exercise):
    from grader.exercises import WRONG_VARIANTS

    keys = [key for answer, key in VARIANTS[exercise]["wrong"]]
    assert sorted(keys) == sorted(WRONG_VARIANTS[exercise])
    assert len(keys) >= 4 and len(VARIANTS[exercise]["right"]) >= 2


def test_the_additive_plan_has_every_dimension_different_first():
    for seed in (0, 1, 2):
        parts = plan("additive_scores", seed)
        args = parts[0].calls[0].args
        (b, h, t_q, d_q), (t_k, d_k), hidden = args["q"].shape, args["k"].shape[-2:], \
            args["v"].shape[0]
        assert len({b, h, t_q, t_k, d_q, d_k, hidden}) == 7
        q, k = parts[1].calls[0].args["q"], parts[1].calls[0].args["k"]
        assert q.shape[-2] == k.shape[-2]  # Tq = Tk: the position-by-position sum runs
        q, k = parts[2].calls[0].args["q"], parts[2].calls[0].args["k"]
        assert q.shape[-1] == k.shape[-1]  # d_q = d_k: the swapped weights run


def test_the_nadaraya_watson_plan_has_a_tiny_width_that_underflows():
    for seed in (0, 1, 2):
        parts = plan("nadaraya_watson", seed)
        first = parts[0].calls[0].args
        assert first["x_query"].shape != first["x_train"].shape
        assert parts[1].calls[0].args["x_query"].ndim == 2
        for call in parts[2].calls:
            args = call.args
            distance = args["x_query"][..., :, None] - args["x_train"][..., None, :]
            scores = -(distance**2) / (2 * args["width"] ** 2)
            assert scores.max() < -745  # every e^score is 0 without the row max subtracted
            assert np.all(np.isfinite(ref.nadaraya_watson(*args.values())))


def test_library_stand_ins_are_refused():
    for exercise, source, name in [
        ("additive_scores", "import keras\nkeras.layers.AdditiveAttention()([q, k])\n",
         "keras.layers.AdditiveAttention"),
        ("additive_scores", "import tensorflow as tf\ntf.keras.layers.AdditiveAttention()\n",
         "keras.layers.AdditiveAttention"),
        ("additive_scores", "import tensorflow_addons as tfa\n"
         "tfa.seq2seq.BahdanauAttention(8)\n", "tensorflow_addons.seq2seq.BahdanauAttention"),
        ("nadaraya_watson", "from statsmodels.nonparametric.api import KernelReg\n"
         "KernelReg(y, x, 'c')\n", "statsmodels.nonparametric.api.KernelReg"),
    ]:
        assert policy.stand_ins(exercise, source).refused == [name], source
    assert policy.stand_ins("additive_scores", "import numpy as np\nnp.tanh(q @ w_q)\n"
                            ).refused == []


# The learner-side helpers ------------------------------------------------------------------------


def test_nw_weights_reads_the_weights_out_of_the_answer():
    rng = np.random.default_rng(4)
    x_query, x_train = rng.uniform(0, 5, 7), rng.uniform(0, 5, 9)
    weights = nw_weights(ref.nadaraya_watson, x_query, x_train, 0.4)
    expected = ref.softmax(-((x_query[:, None] - x_train) ** 2) / (2 * 0.4**2))
    np.testing.assert_allclose(weights, expected, atol=1e-15)


def test_toy_curve_and_best_time():
    x = np.linspace(0, 5, 11)
    np.testing.assert_allclose(toy_curve(x), 2 * np.sin(x) + x**0.8)
    noisy = toy_curve(x, np.random.default_rng(0), noise=0.5)
    assert 0 < np.std(noisy - toy_curve(x)) < 1
    assert best_time(lambda: None, repeats=3) >= 0


def test_the_lesson_claims_about_the_spread_of_the_scores():
    """Section 7: the unscaled dot product's spread grows as √d_k, the scaled one and the
    additive one stay of order 1."""
    rng = np.random.default_rng(3)
    for d_k in (4, 1024):
        q, k = rng.standard_normal((64, d_k)), rng.standard_normal((64, d_k))
        w_q, w_k = (rng.standard_normal((d_k, 32)) / np.sqrt(d_k) for _ in range(2))
        v = rng.standard_normal(32) / np.sqrt(32)
        assert np.std(q @ k.T) == pytest.approx(np.sqrt(d_k), rel=0.1)
        assert np.std(q @ k.T / np.sqrt(d_k)) == pytest.approx(1, rel=0.1)
        assert 0.3 < np.std(ref.additive_scores(q, k, w_q, w_k, v)) < 1.2


def test_the_plots_draw_what_they_are_given():
    x = np.linspace(0, 1, 5)
    fig = plot_fits(x, x, x, {"a": x, "b": x}, truth=x)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    fig = plot_weights({"a": np.eye(5)}, x, x)
    assert fig.axes[0].get_title() == "a"
    fig = plot_costs([1, 2], {"s": [1.0, 2.0]}, {"m": [1.0, 4.0]})
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["s"]
    ax = plot_spread([4, 16], {"a": [1.0, 2.0]})
    assert ax.get_lines()[0].get_label() == "a"
    plt.close("all")


# The lesson's structure --------------------------------------------------------------------------


def test_graded_cells_points_and_text():
    notebook = solution_notebook(LESSON)
    assert _points() == {grade_id: points for exercise in EXERCISES
                         for grade_id, points in zip(_graded(exercise), (2, 4), strict=True)}
    text = "".join(cell.source for cell in notebook.cells)
    for exercise in EXERCISES:
        check, hidden = _graded(exercise)
        assert find_cell(notebook, check).source == f"{check}({exercise})"
        assert f'probe("{exercise}", {exercise}, seed=0)' in find_cell(notebook, hidden).source
        answer = find_cell(notebook, f"answer_{exercise}")
        assert answer.metadata.nbgrader["solution"] and SIGNATURES[exercise] in answer.source
        assert f"`{exercise}(" in text
    assert text.count("(6 points)") == 2 and text.count("**Your own code.**") == 2


def test_the_softmax_helper_is_locked_and_comes_first():
    """The learner's lesson-02 softmax, with a stable copy as its stand-in."""
    notebook = solution_notebook(LESSON)
    helper = find_cell(notebook, "softmax_helper")
    assert helper.metadata.nbgrader["locked"]
    assert "def stable_softmax(x, axis=-1):" in helper.source
    assert 'softmax = mine("softmax", "softmax", fallback=stable_softmax)' in helper.source
    assert notebook.cells.index(helper) < notebook.cells.index(
        find_cell(notebook, "answer_nadaraya_watson"))


def test_nothing_before_an_exercise_calls_it():
    notebook = solution_notebook(LESSON)
    for exercise in EXERCISES:
        answer_at = notebook.cells.index(find_cell(notebook, f"answer_{exercise}"))
        assert all(f"{exercise}(" not in c.source for c in notebook.cells[:answer_at]
                   if c.cell_type == "code")


def test_every_non_answer_cell_but_the_demos_is_locked():
    for cell in solution_notebook(LESSON).cells:
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "markdown" or (meta and not meta["solution"]):
            assert meta and meta["locked"], cell.source[:60]


# One batch of real autogrades --------------------------------------------------------------------


def _with_answers(answers: dict):
    """The solution notebook with ``answers`` (``{exercise: function}``) in their answer cells
    and the demo cells emptied."""
    notebook = solution_notebook(LESSON)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            cell.source = ""
    for exercise, answer in answers.items():
        find_cell(notebook, f"answer_{exercise}").source = (
            "import numpy as np\n\n\n" + notebook_source(answer, exercise))
    return notebook


BATCH = AnswerRows({exercise: VARIANTS[exercise] for exercise in EXERCISES}, _with_answers)


@pytest.fixture(scope="module")
def graded(course):
    """``{student: {grade_id: score}}`` after one parallel autograde of the whole batch."""
    return grade_batch(course, LESSON, BATCH.submissions(solution_notebook(LESSON)))


@pytest.mark.slow
def test_solution_gets_full_marks_and_runs_without_error(course, graded):
    assert graded["solution"] == _points()
    assert autograde_errors(course, LESSON, "solution") == []


@pytest.mark.slow
def test_student_version_gets_zero_and_says_what_to_do(course, graded):
    assert graded["untouched"] == dict.fromkeys(_points(), 0.0)
    for exercise in EXERCISES:
        assert "is not written yet" in graded_outputs(course, LESSON, "untouched",
                                                      f"check_{exercise}")


@pytest.mark.slow
@pytest.mark.parametrize(("exercise", "answer", "key"), WRONG,
                         ids=[a.__name__ for _, a, _ in WRONG])
def test_wrong_answer_loses_points_and_is_named(course, graded, exercise, answer, key):
    student = BATCH.student_of(answer)
    scores = graded[student]
    assert sum(scores[cell] for cell in _graded(exercise)) < 6, scores
    feedback = "\n".join(graded_outputs(course, LESSON, student, cell)
                         for cell in _graded(exercise))
    assert DESCRIPTIONS[key] in feedback, feedback


@pytest.mark.slow
@pytest.mark.parametrize(("exercise", "answer"), RIGHT, ids=[a.__name__ for _, a in RIGHT])
def test_right_answer_written_differently_gets_full_marks(graded, exercise, answer):
    assert graded[BATCH.student_of(answer)] == _points()
