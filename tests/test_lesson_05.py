"""Lesson 05 (positions): its answer key, public check, judge and plots, and one batch of real
nbgrader autogrades.

The batch holds the solution notebook (full marks, no error), the student version (zero, "not
written yet"), one notebook per wrong answer of ``answer_variants`` (each loses points and its
feedback names the mistake) and one per right answer written differently (full marks). A wrong
or right answer only changes the answer cell, so those notebooks are graded with the free demo
cells emptied (the solution runs them all); that keeps the batch short.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from answer_variants import VARIANTS, notebook_source
from judging import full_marks, judged
from nbgrader_utils import (
    autograde_errors,
    find_cell,
    grade_batch,
    graded_outputs,
    solution_notebook,
)

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
GRADED = (f"check_{EXERCISE}", f"hidden_{EXERCISE}")
RIGHT = VARIANTS[EXERCISE]["right"]
WRONG = VARIANTS[EXERCISE]["wrong"]


def _points() -> dict[str, float]:
    cells = (cell.metadata.get("nbgrader", {}) for cell in solution_notebook(LESSON).cells)
    return {meta["grade_id"]: meta["points"] for meta in cells if meta.get("grade")}


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


@pytest.mark.parametrize("answer", RIGHT, ids=[a.__name__ for a in RIGHT])
def test_right_answers_pass_the_check_and_get_full_marks(answer, capsys):
    check_sinusoidal_encoding(answer)
    assert "checks passed" in capsys.readouterr().out
    for cell in ("check", "hidden"):
        for seed in (0, 1, 2):
            credit = judged(EXERCISE, answer, seed, cell)
            assert credit.points == full_marks(EXERCISE, cell), credit.lines


@pytest.mark.parametrize(("answer", "key"), WRONG, ids=[a.__name__ for a, _ in WRONG])
def test_each_wrong_answer_is_named_by_the_check_and_the_judge(answer, key):
    with pytest.raises(CheckFailed) as failure:
        check_sinusoidal_encoding(answer)
    assert DESCRIPTIONS[key] in str(failure.value)
    credit = judged(EXERCISE, answer)
    assert credit.points < full_marks(EXERCISE) and key in credit.misconceptions, credit.lines


def test_the_lessons_wrong_answers_cover_every_mistake():
    from grader.exercises import WRONG_VARIANTS

    assert sorted(key for _, key in WRONG) == sorted(WRONG_VARIANTS[EXERCISE])
    assert len(WRONG) >= 6 and len(RIGHT) >= 2


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


def test_graded_cells_points_and_text():
    notebook = solution_notebook(LESSON)
    assert _points() == {f"check_{EXERCISE}": 1, f"hidden_{EXERCISE}": 3}
    assert find_cell(notebook, f"check_{EXERCISE}").source == f"check_{EXERCISE}({EXERCISE})"
    assert f'probe("{EXERCISE}", {EXERCISE}, seed=0)' in find_cell(notebook,
                                                                   f"hidden_{EXERCISE}").source
    answer = find_cell(notebook, f"answer_{EXERCISE}")
    assert answer.metadata.nbgrader["solution"] and f"def {EXERCISE}(T, d):" in answer.source
    text = "".join(cell.source for cell in notebook.cells)
    assert "(4 points)" in text and "**Your own code.**" in text


def test_the_lesson_uses_the_learners_attention_and_exports_its_encoding():
    code = [c.source for c in solution_notebook(LESSON).cells if c.cell_type == "code"]
    assert any('mine("weighted_sum", "scaled_dot_product_attention",' in c
               and "fallback=keras_attention" in c for c in code)
    assert code[-1] == f'export("positions", {EXERCISE})'


def test_nothing_before_the_exercise_calls_the_encoding():
    cells = solution_notebook(LESSON).cells
    answer_at = cells.index(find_cell(solution_notebook(LESSON), f"answer_{EXERCISE}"))
    assert all(f"{EXERCISE}(" not in c.source for c in cells[:answer_at] if c.cell_type == "code")


def test_every_non_answer_cell_but_the_demos_is_locked():
    for cell in solution_notebook(LESSON).cells:
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "markdown" or (meta and not meta["solution"]):
            assert meta and meta["locked"], cell.source[:60]


# One batch of real autogrades --------------------------------------------------------------------


def _with_answer(answer):
    """The solution notebook with ``answer`` in the answer cell and the demo cells emptied."""
    notebook = solution_notebook(LESSON)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            cell.source = ""
    find_cell(notebook, f"answer_{EXERCISE}").source = (
        "import numpy as np\n\n\n" + notebook_source(answer, EXERCISE))
    return notebook


def _submissions() -> dict:
    submissions = {"solution": solution_notebook(LESSON), "untouched": None}
    submissions.update({f"wrong-{answer.__name__}": _with_answer(answer) for answer, _ in WRONG})
    submissions.update({f"right-{answer.__name__}": _with_answer(answer) for answer in RIGHT})
    return submissions


@pytest.fixture(scope="module")
def graded(course):
    """``{student: {grade_id: score}}`` after one parallel autograde of the whole batch."""
    return grade_batch(course, LESSON, _submissions())


@pytest.mark.slow
def test_solution_gets_full_marks_and_runs_without_error(course, graded):
    assert graded["solution"] == _points()
    assert autograde_errors(course, LESSON, "solution") == []


@pytest.mark.slow
def test_student_version_gets_zero_and_says_what_to_do(course, graded):
    assert graded["untouched"] == dict.fromkeys(GRADED, 0.0)
    assert "is not written yet" in graded_outputs(course, LESSON, "untouched", GRADED[0])


@pytest.mark.slow
@pytest.mark.parametrize(("answer", "key"), WRONG, ids=[a.__name__ for a, _ in WRONG])
def test_wrong_answer_loses_points_and_is_named(course, graded, answer, key):
    student = f"wrong-{answer.__name__}"
    assert sum(graded[student].values()) < sum(_points().values()), graded[student]
    feedback = "\n".join(graded_outputs(course, LESSON, student, cell) for cell in GRADED)
    assert DESCRIPTIONS[key] in feedback, feedback


@pytest.mark.slow
@pytest.mark.parametrize("answer", RIGHT, ids=[a.__name__ for a in RIGHT])
def test_right_answer_written_differently_gets_full_marks(graded, answer):
    assert graded[f"right-{answer.__name__}"] == _points()
