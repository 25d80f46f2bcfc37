"""Claims the lessons' texts make about the libraries and the checks, against the installed
versions and the course's own constants: when one changes, the text must change with it.

Imports TensorFlow, so the file runs on one worker (xdist group "keras").
"""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from nbgrader_utils import find_cell, solution_notebook

from course_lib.blocks import KerasBlock
from course_lib.cases.calls import LIMITED_RUN
from course_lib.checks import MEMORY_TEST
from course_lib.data import random_qkv, toy_embeddings
from course_lib.dates import all_dates, split_dates
from course_lib.gradients import identity_attention, numerical_gradient, tape_gradients
from course_lib.positions import keras_attention
from grader import reference as ref
from grader.judging.memory_check import MEMORY_LIMIT_BYTES

pytestmark = pytest.mark.xdist_group("keras")

REPO = Path(__file__).resolve().parent.parent


def _markdown(lesson: str) -> str:
    return "\n".join(c.source for c in solution_notebook(lesson).cells
                     if c.cell_type == "markdown")


def test_lesson_03_toy_vectors_share_one_length():
    """The diagonal of lesson 03's self-attention wins only because every vector is as long as
    every other (Cauchy–Schwarz); the text says so."""
    words = "the king and the queen saw a cat and a dog".split()
    lengths = np.linalg.norm(toy_embeddings(words, dim=16), axis=-1)
    np.testing.assert_allclose(lengths, 4.0)
    assert "Cauchy–Schwarz" in _markdown("03_weighted_sum")


def test_lesson_04_bug_1_is_what_keras_does():
    """Keras 3 layers have no ``output_shape``; ``output`` needs a node of a functional call."""
    dense = keras.layers.Dense(8)
    dense(np.zeros((2, 3), "float32"))
    with pytest.raises(AttributeError):
        dense.output_shape  # noqa: B018 — the attribute the tutorial reads
    assert "has never been called" in _markdown("04_keras_layer")


def test_lesson_04_mask_by_position_is_thrown_away_in_the_named_keras():
    """The lesson says which Keras version discards a mask passed fourth, by position."""
    major_minor = ".".join(keras.__version__.split(".")[:2])
    assert f"Keras {major_minor}, the version of this course's environment" in _markdown(
        "04_keras_layer")
    rng = np.random.default_rng(0)
    query = rng.standard_normal((2, 6, 10)).astype("float32")  # (B, Tq, d_q)
    value = rng.standard_normal((2, 9, 7)).astype("float32")  # (B, Tk, d_value)
    mask = rng.random((2, 6, 9)) < 0.5  # (B, Tq, Tk)
    mask[..., 0] = True
    layer = keras.layers.MultiHeadAttention(num_heads=3, key_dim=4)
    unmasked = np.asarray(layer(query, value, value))
    assert np.array_equal(np.asarray(layer(query, value, value, mask)), unmasked)
    assert not np.allclose(np.asarray(layer(query, value, value, attention_mask=mask)), unmasked)


def test_lesson_08_states_the_memory_rule_the_checks_enforce():
    """The exercise's text gives the sizes and the limit of the grader's memory-limited run
    (``grader.judging.memory_check``) and of the public check (a quarter of the full float64 scores,
    ``check_blockwise_memory``)."""
    text = find_cell(solution_notebook("08_efficiency"), "text_13").source
    t_q, t_k, block = LIMITED_RUN["t_q"], LIMITED_RUN["t_k"], LIMITED_RUN["block_size"]
    for words in (f"**{MEMORY_LIMIT_BYTES >> 20} MiB**", f"$T_q = {t_q}$", f"$T_k = {t_k}$",
                  f"`block_size={block}`", f"$= {t_q * block * 8 >> 20}$ MiB",
                  f"$= {t_q * t_k * 8 >> 20}$ MiB", "with a mask over the keys"):
        assert words in text, words
    t_q, t_k, block = MEMORY_TEST["t_q"], MEMORY_TEST["t_k"], MEMORY_TEST["block_size"]
    full = t_q * t_k * 8
    for words in (f"$T_q = {t_q}$", f"$T_k = {t_k}$", f"`block_size={block}`",
                  "below a quarter of", f"= {full // 4 // 2**20}$ MiB",
                  f"$= {t_q * block * 8 / 2**20:g}$ MiB", f"({full // 2**20} MiB)", "tracemalloc"):
        assert words in text, words


def _cell(lesson: str, cell_id: str) -> str:
    """One cell's source with its whitespace collapsed (the lessons wrap lines anywhere)."""
    cells = {cell.id: cell for cell in solution_notebook(lesson).cells}
    return " ".join(cells[cell_id].source.split())


def test_lesson_00_says_that_lesson_05_imports_tensorflow():
    """Lesson 05's stand-in for lesson 03's attention is Keras's: TensorFlow comes in until the
    learner exports lesson 03, and always while lesson 05 is graded (``mine`` then returns the
    stand-in)."""
    assert "fallback=keras_attention" in _cell("05_positions", "demo-01")
    assert "from keras import ops" in inspect.getsource(keras_attention)
    text = _cell("00_welcome", "text-01")
    assert "Lessons 00–03 use only NumPy; lesson 05 is NumPy too" in text
    assert "always while lesson 05 is graded) Keras's stands in, which imports TensorFlow" in text


def test_lesson_06_layer_norm_forgets_one_shift_not_one_per_feature():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8)).astype("float32")  # (B, T, d)
    norm = keras.layers.LayerNormalization(epsilon=1e-6)
    plain = np.asarray(norm(x))
    assert np.allclose(np.asarray(norm(10 * x - 3)), plain, atol=1e-5)
    per_feature = rng.standard_normal(8).astype("float32")  # (d,)
    assert not np.allclose(np.asarray(norm(x + per_feature)), plain, atol=1e-2)
    assert "for any $a > 0$ and any number $c$" in _cell("06_transformer_block", "text-03")
    assert "LN(x + shift per feature) equals LN(x)" in _cell("06_transformer_block", "demo-02")


def test_lesson_07_puts_a_seeded_random_tenth_of_the_dates_aside():
    dates = all_dates()
    training, held_out = split_dates()
    assert len(held_out) == round(0.1 * len(dates)) and not set(training) & set(held_out)
    assert held_out != dates[::10]  # drawn at random, not every tenth in order
    assert split_dates() == (training, held_out)  # seeded
    assert "One date in ten, drawn by a seeded shuffle (`split_dates`)" in _cell(
        "07_application", "text-03")


def test_lesson_07_names_the_keras_release_that_zeroes_a_fully_masked_row():
    """keras-team/keras#21149 (Keras 3.10) zeroes the masked positions after ``Softmax``; the
    course accepts older Keras, where such a row gets uniform weights on both paths."""
    scores = np.zeros((1, 4), "float32")
    weights = np.asarray(keras.layers.Softmax()(scores, mask=np.zeros((1, 4), bool)))
    installed = tuple(int(part) for part in keras.__version__.split(".")[:2])
    assert np.allclose(weights, 0.0 if installed >= (3, 10) else 0.25)
    floor = re.search(r'"keras>=([0-9.]+)"', (REPO / "pyproject.toml").read_text()).group(1)
    text = _cell("07_application", "text-08")
    for words in ("since Keras 3.10, keras-team/keras#21149", f"(`keras>={floor}`)",
                  "does the same when it returns its weights"):
        assert words in text, words
    assert tuple(int(part) for part in floor.split(".")) < (3, 10) and "Keras 3.7 to 3.9" in text
    assert "since Keras 3.10 (keras-team/keras#21149)" in " ".join(
        inspect.getdoc(KerasBlock).split())


def test_lesson_07_separates_direct_effects_from_knock_on_ones():
    """Greedy decoding feeds each output back: the intervention also reads every variant with
    the original translation as its decoder input, where only direct effects can show."""
    source = _cell("07_application", "demo-41")
    assert "model.predict_on_batch([blanked, same_prefix])" in source
    assert "np.repeat(decoder_in[:1]" in source
    assert "*knock-on* effect" in _cell("07_application", "text-16")


def test_lesson_08_quotes_the_installed_dot_product_attention_and_its_own_timing():
    signature = inspect.signature(keras.ops.dot_product_attention)
    assert f"`keras.ops.dot_product_attention{signature}`" in _cell("08_efficiency", "text-18")
    assert "× the time of full attention" in _cell("08_efficiency", "demo-26")
    text = _cell("08_efficiency", "text-17")
    assert "The time is not the same" in text and "the ratio printed above" in text


def test_lesson_09_rounding_not_truncation_is_the_1e_10():
    """With ε = 1e-6 the central difference's error on the lesson's example is rounding (about
    1e-10); its truncation error, which shrinks as ε², is about 1e-14."""
    q, k, v = random_qkv((2,), 3, 5, 4, 2, seed=9)  # the inputs of the lesson's check 1
    g = np.random.default_rng(9).standard_normal((2, 3, 2))  # (B, Tq, d_v)
    mask = np.random.default_rng(10).random((2, 3, 5)) < 0.6  # (B, Tq, Tk)
    mask[:, :, 0] = True
    mask[1, 2] = False

    def error(eps: float) -> float:
        def loss(x):
            return np.sum(ref.scaled_dot_product_attention(x, k, v, mask)[0] * g)

        exact = ref.attention_backward(q, k, v, g, mask=mask)[0]
        return float(np.abs(numerical_gradient(loss, q, eps) - exact).max())

    truncation = error(1e-2) * (1e-6 / 1e-2) ** 2  # ε² scaling from where truncation dominates
    assert 1e-15 < truncation < 1e-13
    assert 1e-11 < error(1e-6) < 1e-9
    assert error(1e-5) < error(1e-6) / 3  # the balance lies near 1e-5
    text = _cell("09_gradients", "text-07")
    assert "the rounding error is around $10^{-10}$" in text and "around $10^{-14}$" in text


def test_lesson_09_builds_a_learners_layer_without_a_keras_warning():
    """``identity_attention`` builds the layer on two positions: on one, the lesson-04 layer's
    softmax over a single key made Keras warn in the lesson's output."""
    rng = np.random.default_rng(0)
    query = rng.standard_normal((2, 3, 4))  # (B, T, d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for layer_class in (ref.MultiHeadAttention, keras.layers.MultiHeadAttention):
            tape_gradients(identity_attention(layer_class, 4), query, query, query, query)


def test_lesson_10_keras_additive_attention_has_no_projections():
    """``keras.layers.AdditiveAttention`` scores Σ scale · tanh(q + k): one weight, and query and
    key of one width."""
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 4)).astype("float32")  # (B, Tq, d)
    k = rng.standard_normal((2, 5, 4)).astype("float32")  # (B, Tk, d)
    layer = keras.layers.AdditiveAttention()
    _, weights = layer([q, k, k], return_attention_scores=True)  # (B, Tq, Tk)
    assert [tuple(w.shape) for w in layer.weights] == [(4,)]
    scale = np.asarray(layer.weights[0])
    scores = (scale * np.tanh(q[:, :, None] + k[:, None])).sum(-1)  # (B, Tq, Tk)
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    np.testing.assert_allclose(weights, expected / expected.sum(-1, keepdims=True), atol=1e-6)
    with pytest.raises(Exception, match="Incompatible shapes|incompatible|broadcast"):
        keras.layers.AdditiveAttention()([q, rng.standard_normal((2, 5, 6)).astype("float32")])
    assert "has no $W_q$ or $W_k$" in _cell("10_other_scores", "text-12")


def test_lesson_11_baseline_encodes_once_unlike_lesson_07():
    """Lesson 07's ``greedy_decode`` runs the whole model (the encoder too) at every step; lesson
    11's uncached baseline encodes once, and its text says so."""
    greedy = _cell("07_application", "answer-greedy-decode")
    assert "model.predict_on_batch([source, decoder_input])" in greedy
    baseline = _cell("11_kv_cache", "demo-28")
    assert baseline.index("translator.encode(source)") < baseline.index("for _ in range(length)")
    assert "the encoder included" in _cell("11_kv_cache", "text-12")
    assert "np.median(samples[name])" in _cell("11_kv_cache", "demo-30")
