"""Claims the lessons' texts make about the libraries and the checks, against the installed
versions and the course's own constants: when one changes, the text must change with it.

Imports TensorFlow, so the file runs on one worker (xdist group "keras").
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from nbgrader_utils import find_cell, solution_notebook

from course_lib.cases.calls import LIMITED_RUN
from course_lib.checks import MEMORY_TEST
from course_lib.data import toy_embeddings
from grader.judging.memory_check import MEMORY_LIMIT_BYTES

pytestmark = pytest.mark.xdist_group("keras")


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
