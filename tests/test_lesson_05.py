"""Lesson 05 (positions): its answer key, what its judge makes of positions, its policy, its
plots and helpers. What every lesson promises (structure, points, a batch of real autogrades)
is ``tests/test_lesson_contract.py``'s; its answers are judged in ``test_answer_corpus.py``."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from answer_variants import VARIANTS
from judging import judged
from nbgrader_utils import solution_notebook

import grader.reference as ref
from course_lib.checks import CheckFailed, check_sinusoidal_encoding
from course_lib.misconceptions import DESCRIPTIONS
from course_lib.positions import (
    keras_attention,
    plot_columns,
    plot_encoding,
    plot_pair_on_circle,
    plot_similarity,
)
from grader.judging import policy
from grader.reference.positions import frequencies, rotation, shift_matrix

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LESSON = "05_positions"
EXERCISE = "sinusoidal_encoding"
RIGHT = VARIANTS[EXERCISE]["right"]
WRONG = VARIANTS[EXERCISE]["wrong"]


# The answer key ----------------------------------------------------------------------------------


def test_known_values():
    np.testing.assert_allclose(ref.sinusoidal_encoding(3, 4), [
        [0.0, 1.0, 0.0, 1.0],
        [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)],
        [np.sin(2), np.cos(2), np.sin(0.02), np.cos(0.02)],
    ], rtol=1e-15, atol=1e-15)


def test_odd_d_ends_with_a_sine_and_keeps_the_other_columns():
    odd, even = ref.sinusoidal_encoding(9, 7), ref.sinusoidal_encoding(9, 8)
    assert odd.shape == (9, 7) and odd.dtype == np.float64
    t = np.arange(9)
    np.testing.assert_allclose(odd[:, 6], np.sin(t / 10000 ** (6 / 7)), rtol=1e-14)
    np.testing.assert_allclose(odd[:, 1::2], np.cos(t[:, None] / 10000 ** (np.arange(0, 6, 2) / 7)),
                               rtol=1e-14)
    np.testing.assert_allclose(even[:, 0::2], np.sin(t[:, None] * frequencies(8)), rtol=1e-14)


def test_wavelengths_grow_geometrically_from_2pi_to_almost_10000_2pi():
    wavelengths = 2 * np.pi / frequencies(512)
    assert wavelengths[0] == pytest.approx(2 * np.pi)
    np.testing.assert_allclose(wavelengths[1:] / wavelengths[:-1], 10000 ** (2 / 512))
    assert wavelengths[-1] == pytest.approx(2 * np.pi * 10000 ** (510 / 512))
    assert wavelengths[-1] < 10000 * 2 * np.pi


@pytest.mark.parametrize(("T", "d", "k"), [(30, 8, 1), (50, 16, 7), (12, 2, 11), (40, 64, 3)])
def test_a_shift_is_one_rotation_per_pair(T, d, k):
    encoding = ref.sinusoidal_encoding(T, d)
    matrix = shift_matrix(d, k)
    np.testing.assert_allclose(encoding[k:], encoding[:-k] @ matrix.T, atol=1e-12)
    np.testing.assert_allclose(matrix.T @ matrix, np.eye(d), atol=1e-12)  # a rotation
    for i, omega in enumerate(frequencies(d)):
        block = matrix[2 * i: 2 * i + 2, 2 * i: 2 * i + 2]
        np.testing.assert_array_equal(block, rotation(omega * k))
        assert np.linalg.det(block) == pytest.approx(1.0)


def test_shift_matrix_of_an_odd_size_rotates_the_complete_pairs():
    encoding, matrix = ref.sinusoidal_encoding(20, 5), shift_matrix(5, 3)
    np.testing.assert_allclose(encoding[3:, :4], encoding[:-3] @ matrix[:4].T, atol=1e-12)
    assert not matrix[4].any()


def test_dot_products_depend_on_the_offset_alone():
    encoding = ref.sinusoidal_encoding(40, 16)
    similarity = encoding @ encoding.T
    offsets = np.subtract.outer(np.arange(40), np.arange(40))
    expected = np.cos(offsets[..., None] * frequencies(16)).sum(axis=-1)
    np.testing.assert_allclose(similarity, expected, atol=1e-12)


@pytest.mark.parametrize(("T", "d"), [(0, 4), (3, 0), (2.5, 4), (3, True), ("3", 4)])
def test_bad_sizes_are_refused_with_the_value_received(T, d):
    with pytest.raises(ValueError, match="Received"):
        ref.sinusoidal_encoding(T, d)


def test_numpy_integers_are_sizes():
    assert ref.sinusoidal_encoding(np.int64(3), np.int32(5)).shape == (3, 5)


# The public check, the judge and the policy ------------------------------------------------------


def test_the_lessons_wrong_answers_cover_every_mistake():
    from course_lib.exercises import EXERCISES

    assert {key for _, key in WRONG} == set(EXERCISES[EXERCISE].mistakes)
    assert len(WRONG) >= 6 and len(RIGHT) >= 2


def test_an_odd_d_that_does_not_fit_is_named_not_a_traceback():
    """``np.cos(angles)`` of all ⌈d/2⌉ angles into the ⌊d/2⌋ odd columns: a broadcast error on
    an odd ``d`` only, named by the public check and the judge; the even parts keep their
    points."""
    def odd_d_fails(T, d):
        angles = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
        encoding = np.zeros((T, d))
        encoding[:, 0::2], encoding[:, 1::2] = np.sin(angles), np.cos(angles)
        return encoding

    with pytest.raises(CheckFailed, match="⌊d/2⌋ cosines") as failure:
        check_sinusoidal_encoding(odd_d_fails)
    assert failure.value.misconception == "pe_odd_d_cosines"
    credit = judged(EXERCISE, odd_d_fails)
    assert credit.misconceptions == ["pe_odd_d_cosines"] and 0 < credit.points < 3, credit.lines
    assert "Traceback" not in "\n".join(credit.lines)


@pytest.mark.parametrize("turn", [lambda omega: omega * 1.7, lambda omega: omega + 0.01,
                                  lambda omega: omega * np.linspace(1, 2, omega.size)])
def test_a_sinusoidal_encoding_of_other_frequencies_is_named(turn):
    """Whatever changed the frequencies, an encoding that is still sin and cos of t·θ_i
    (interleaved, from t = 0) is told so, not only "wrong values"."""
    def other_frequencies(T, d):
        angles = np.arange(T)[:, None] * turn(frequencies(d))  # (T, ⌈d/2⌉)
        encoding = np.zeros((T, d))
        encoding[:, 0::2], encoding[:, 1::2] = np.sin(angles), np.cos(angles[:, : d // 2])
        return encoding

    credit = judged(EXERCISE, other_frequencies)
    assert credit.points < 1 and "pe_wrong_frequencies" in credit.misconceptions, credit.lines


def test_the_rotation_part_judges_the_property_not_the_values():
    """Positions counted from 1 are still rotated by a shift: that part earns its points, the
    parts compared with the answer key do not; a swap of sin and cos fails the rotation too."""
    wrong = {key: answer for answer, key in WRONG}
    from_one = judged(EXERCISE, wrong["pe_positions_from_one"])
    assert [line[0] for line in from_one.lines] == ["✗", "✗", "✗", "✓"], from_one.lines
    assert "PE[t + k] = M_k PE[t]" in from_one.lines[-1]
    swapped = judged(EXERCISE, wrong["pe_sin_cos_swapped"])
    assert swapped.points == 0 and DESCRIPTIONS["pe_sin_cos_swapped"] in swapped.lines[-1]


@pytest.mark.parametrize("base", [2.0, 500.0, 1e5])
def test_any_base_other_than_10000_is_named(base):
    def other_base(T, d):
        angles = np.arange(T)[:, None] / base ** (2 * (np.arange(d) // 2) / d)
        return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))

    credit = judged(EXERCISE, other_base)
    assert credit.points == 0 and set(credit.misconceptions) == {"pe_wrong_base"}, credit.lines


def test_an_encoding_of_zeros_fails_the_rotation_part():
    zeros = judged(EXERCISE, lambda T, d: np.zeros((T, d)))
    assert zeros.points == 0
    assert "unit circle" in zeros.lines[-1]


def test_the_check_refuses_a_hard_coded_table():
    table = ref.sinusoidal_encoding(3, 4)
    with pytest.raises(CheckFailed):
        check_sinusoidal_encoding(lambda T, d: table)


def test_library_encodings_are_refused():
    source = ("import keras_hub\n\ndef sinusoidal_encoding(T, d):\n"
              "    return keras_hub.layers.SinePositionEncoding()(np.zeros((1, T, d)))[0]\n")
    assert policy.stand_ins(EXERCISE, source).refused == ["keras_hub.layers.SinePositionEncoding"]
    source = ("import tensorflow_models as tfm\n"
              "layer = tfm.nlp.layers.RelativePositionEmbedding(8)\n")
    assert policy.stand_ins(EXERCISE, source).refused == [
        "tensorflow_models.nlp.layers.RelativePositionEmbedding"]


# The learner-side helpers ------------------------------------------------------------------------


def test_keras_attention_is_scaled_dot_product_attention_without_weights():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((4, 3)), rng.standard_normal((6, 3)), rng.standard_normal((6, 5))
    output, weights = keras_attention(q, k, v)
    assert weights is None and output.shape == (4, 5)
    np.testing.assert_allclose(output, ref.scaled_dot_product_attention(q, k, v)[0], rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match="Received"):
        keras_attention(q[None], k[None], v[None])


def test_the_plots_draw_what_they_are_given():
    encoding = ref.sinusoidal_encoding(20, 8)
    ax = plot_encoding(encoding, title="PE")
    assert ax.get_title() == "PE" and ax.images[0].get_array().shape == (20, 8)
    ax = plot_columns(encoding, [0, 1, 6])
    assert [line.get_label() for line in ax.get_lines()] == [
        "column 0 (sin, pair 0)", "column 1 (cos, pair 0)", "column 6 (sin, pair 3)"]
    pair = encoding[:, 2:4]
    ax = plot_pair_on_circle(pair, shift=2, omega=0.1)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), pair[:, ::-1])
    similarity = encoding @ encoding.T
    fig = plot_similarity(similarity, 10 - np.arange(20), similarity[10])
    assert len(fig.axes) == 3  # two panels and a colorbar
    plt.close("all")


# The lesson's structure --------------------------------------------------------------------------


def test_the_lesson_uses_the_learners_attention_and_exports_its_encoding():
    code = [c.source for c in solution_notebook(LESSON).cells if c.cell_type == "code"]
    assert any('mine("weighted_sum", "scaled_dot_product_attention",' in c
               and "fallback=keras_attention" in c for c in code)
    assert code[-1] == f'export("positions", {EXERCISE})'
