"""Lesson 10 (other scores): its answer keys, its plans, its policy and its learner-side helpers.
What every lesson promises (structure, points, a batch of real autogrades) is
``tests/test_lesson_contract.py``'s; its answers are judged in ``test_answer_corpus.py``."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from answer_variants import VARIANTS
from nbgrader_utils import find_cell, solution_notebook

import grader.reference as ref
from course_lib.exercises import plan
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
            row_max = scores.max(axis=-1)  # (..., n_query)
            assert row_max.max() - row_max.min() > 745  # one max for every row underflows some
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


def test_the_softmax_helper_is_locked_and_comes_first():
    """The learner's lesson-02 softmax, with a stable copy as its stand-in."""
    notebook = solution_notebook(LESSON)
    helper = find_cell(notebook, "softmax_helper")
    assert helper.metadata.nbgrader["locked"]
    assert "def stable_softmax(x, axis=-1):" in helper.source
    assert 'softmax = mine("softmax", "softmax", fallback=stable_softmax)' in helper.source
    assert notebook.cells.index(helper) < notebook.cells.index(
        find_cell(notebook, "answer_nadaraya_watson"))
