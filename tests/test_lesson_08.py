"""Lesson 08 (efficiency) through real nbgrader autogrades, and its learner-side helpers.

The solution notebook gets full marks and runs top to bottom without an error; the student
version gets zero; wrong answers to ``blockwise_attention`` (from ``answer_variants``) lose
points and their feedback names the mistake — including an answer that builds the full
``Tq × Tk`` scores, caught by ``tracemalloc``; right answers written differently (einsum,
log-sum-exp, one query row at a time) get full marks.

A wrong or right answer only changes the answer cell, so its notebook is graded with the free
demo cells emptied (they are not graded, and the full solution test runs them); that keeps
each of those autogrades at a few seconds.
"""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest
from answer_variants import VARIANTS, notebook_source
from nbgrader_utils import find_cell, grade, graded_outputs, solution_notebook

from course_lib.efficiency_plots import (
    GB,
    Cost,
    format_bytes,
    measure_cost,
    plot_cost,
    plot_running_statistics,
    running_statistics,
)
from course_lib.misconceptions import DESCRIPTIONS
from grader import reference as ref

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LESSON = "08_efficiency"
EXERCISE = "blockwise_attention"
GRADED = (f"check_{EXERCISE}", f"hidden_{EXERCISE}")


def blockwise_row_by_row(q, k, v, block_size, mask=None):
    """A right answer: one query row at a time, with scalars m and ℓ as in the derivation."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    t_q, t_k, d_v = q.shape[-2], k.shape[-2], v.shape[-1]
    q = np.broadcast_to(q / np.sqrt(q.shape[-1]), batch + q.shape[-2:])
    k = np.broadcast_to(k, batch + k.shape[-2:])
    v = np.broadcast_to(v, batch + v.shape[-2:])
    allowed = np.broadcast_to(True if mask is None else mask, batch + (t_q, t_k))
    output = np.zeros(batch + (t_q, d_v))
    for *b, i in np.ndindex(*batch, t_q):
        b = tuple(b)
        query, keys, values, allowed_keys = q[b][i], k[b], v[b], allowed[b][i]
        m, total, acc = -np.inf, 0.0, np.zeros(d_v)
        for start in range(0, t_k, block_size):
            block = slice(start, start + block_size)
            s = keys[block] @ query
            if mask is not None:
                s = np.where(allowed_keys[block], s, -np.inf)
            new_m = max(m, s.max())
            if new_m == -np.inf:
                continue  # no allowed key yet: nothing to add
            p = np.exp(s - new_m)
            rescale = np.exp(m - new_m)
            total = rescale * total + p.sum()
            acc = rescale * acc + p @ values[block]
            m = new_m
        if total > 0:
            output[b + (i,)] = acc / total
    return output


RIGHT = [*VARIANTS[EXERCISE]["right"], blockwise_row_by_row]
# The lesson's own mistakes (the corpus has a few more, generic ones, tested in test_checks.py
# and test_hidden.py): each costs an autograde, so only these go through nbgrader here.
LESSON_MISTAKES = (
    "blockwise_no_rescale",
    "blockwise_drops_last_block",
    "blockwise_no_final_division",
    "blockwise_average_of_blocks",
    "blockwise_masked_block_nan",
    "full_score_matrix",
)
WRONG = [(answer, key) for answer, key in VARIANTS[EXERCISE]["wrong"] if key in LESSON_MISTAKES]


def _points() -> dict[str, float]:
    cells = (cell.metadata.get("nbgrader", {}) for cell in solution_notebook(LESSON).cells)
    return {meta["grade_id"]: meta["points"] for meta in cells if meta.get("grade")}


def _with_answer(answer):
    """The solution notebook with ``answer`` in the answer cell and the demo cells emptied."""
    notebook = solution_notebook(LESSON)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            cell.source = ""
    find_cell(notebook, f"answer_{EXERCISE}").source = (
        "import numpy as np\n\n\n" + notebook_source(answer, EXERCISE)
    )
    return notebook


def _errors(course, student: str) -> list[str]:
    path = course.root / "autograded" / student / LESSON / f"{LESSON}.ipynb"
    return [
        f"cell {index}: {output['ename']}: {output['evalue']}"
        for index, cell in enumerate(json.loads(path.read_text())["cells"])
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]


# The lesson's structure ----------------------------------------------------------------------


def test_graded_cells_and_points():
    notebook = solution_notebook(LESSON)
    points = _points()
    assert set(points) == set(GRADED)
    assert find_cell(notebook, f"check_{EXERCISE}").source == f"check_{EXERCISE}({EXERCISE})"
    hidden = find_cell(notebook, f"hidden_{EXERCISE}").source
    assert f'probe("{EXERCISE}", {EXERCISE}' in hidden
    answer = find_cell(notebook, f"answer_{EXERCISE}")
    assert answer.metadata.nbgrader["solution"]
    assert f"def {EXERCISE}(q, k, v, block_size, mask=None):" in answer.source
    assert f"({sum(points.values()):g} points)" in "".join(c.source for c in notebook.cells)


def test_nothing_before_the_exercise_computes_blockwise_results():
    """Demos that need blockwise results come after the exercise and use the learner's code."""
    cells = solution_notebook(LESSON).cells
    answer_at = next(i for i, c in enumerate(cells)
                     if c.metadata.get("nbgrader", {}).get("grade_id") == f"answer_{EXERCISE}")
    for cell in cells[:answer_at]:
        assert cell.cell_type == "markdown" or f"{EXERCISE}(" not in cell.source
    later = "".join(c.source for c in cells[answer_at + 3:] if c.cell_type == "code")
    assert f"{EXERCISE}(" in later and "measure_cost(blockwise_attention" in later


def test_every_non_answer_cell_but_the_demos_is_locked():
    for cell in solution_notebook(LESSON).cells:
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "markdown" or (meta and not meta["solution"]):
            assert meta and meta["locked"], cell.source[:60]


# Autogrades ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_solution_gets_full_marks_and_runs_without_error(course):
    student = "solution-06"
    assert grade(course, LESSON, solution_notebook(LESSON), student=student) == _points()
    assert _errors(course, student) == []
    printed = graded_outputs(course, LESSON, student, f"check_{EXERCISE}")
    assert f"{EXERCISE}: {_points()[f'check_{EXERCISE}']:g}/" in printed, printed


@pytest.mark.slow
def test_student_version_gets_zero_and_says_what_to_do(course):
    student = "untouched-06"
    notebook = course.released / LESSON / f"{LESSON}.ipynb"
    assert grade(course, LESSON, notebook, student=student) == dict.fromkeys(GRADED, 0.0)
    assert "is not written yet" in graded_outputs(course, LESSON, student, f"check_{EXERCISE}")


@pytest.mark.slow
@pytest.mark.parametrize(("answer", "misconception"), WRONG, ids=[w.__name__ for w, _ in WRONG])
def test_wrong_answer_loses_points_and_is_named(course, answer, misconception):
    student = f"wrong-{answer.__name__}"
    scores = grade(course, LESSON, _with_answer(answer), student=student)
    assert sum(scores.values()) < sum(_points().values()), scores
    feedback = "\n".join(graded_outputs(course, LESSON, student, cell) for cell in GRADED)
    assert DESCRIPTIONS[misconception] in feedback, feedback


@pytest.mark.slow
@pytest.mark.parametrize("answer", RIGHT, ids=[r.__name__ for r in RIGHT])
def test_right_answer_written_differently_gets_full_marks(course, answer):
    scores = grade(course, LESSON, _with_answer(answer), student=f"right-{answer.__name__}")
    assert scores == _points()


def test_every_mistake_of_the_lesson_has_a_wrong_answer_and_enough_right_answers():
    assert sorted(key for _, key in WRONG) == sorted(LESSON_MISTAKES)
    assert len(RIGHT) >= 2


# The lesson's helpers --------------------------------------------------------------------------


def test_row_by_row_answer_equals_the_answer_key():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((3, 7, 4)), \
        rng.standard_normal((3, 7, 6))
    mask = rng.random((2, 1, 5, 7)) < 0.5
    mask[0, 0, 0] = False  # a fully masked row
    for block_size in (1, 3, 7, 9):
        np.testing.assert_allclose(blockwise_row_by_row(q, k, v, block_size, mask),
                                   ref.scaled_dot_product_attention(q, k, v, mask)[0],
                                   rtol=1e-10, atol=1e-12)


def test_running_statistics_follow_their_definitions():
    scores = np.array([1.0, 2.0, 4.0, 0.0, 3.0])
    stops, running_max, running_sum = running_statistics(scores, block_size=2)
    np.testing.assert_array_equal(stops, [2, 4, 5])
    np.testing.assert_array_equal(running_max, [2.0, 4.0, 4.0])
    np.testing.assert_allclose(running_sum, [
        np.exp(-1) + 1, np.exp(-3) + np.exp(-2) + 1 + np.exp(-4),
        np.exp(-3) + np.exp(-2) + 1 + np.exp(-4) + np.exp(-1),
    ])


def _full_attention(q, k, v):
    return ref.scaled_dot_product_attention(q, k, v)[0]  # (..., Tq, d_v)


def test_measure_cost_sees_quadratic_memory_for_full_and_linear_for_blockwise_attention():
    full = measure_cost(_full_attention, [256, 512, 1024], d=4, repeats=1)
    blockwise = measure_cost(ref.blockwise_attention, [256, 512, 1024], d=4, repeats=1,
                             block_size=16, name="blockwise")
    assert full.name == "_full_attention" and blockwise.name == "blockwise"
    assert full.lengths == [256, 512, 1024] and all(s > 0 for s in full.seconds)
    assert 1.9 < full.fit("peak_bytes")[0] < 2.05
    assert 0.75 < blockwise.fit("peak_bytes")[0] < 1.15  # linear, plus a fixed part
    assert blockwise.peak_bytes[-1] < full.peak_bytes[-1] / 8
    assert "peak memory" in str(blockwise) and "1024" in str(blockwise)


def test_measure_cost_names_an_unwritten_function():
    def blockwise_attention(q, k, v, block_size, mask=None):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="`blockwise_attention` is not written yet"):
        measure_cost(blockwise_attention, [16], block_size=4)


def test_length_for_extrapolates_the_fitted_memory():
    one_matrix = Cost("8 T² bytes", [1000, 2000], [1.0, 4.0], [8_000_000, 32_000_000])
    assert one_matrix.length_for(16 * GB) == pytest.approx(np.sqrt(2e9), rel=1e-9)  # 44 721


def test_plot_cost_draws_time_and_memory_with_the_budget():
    costs = [Cost("full", [256, 512], [1e-3, 4e-3], [1_600_000, 6_300_000]),
             Cost("blockwise", [256, 512], [1e-3, 4e-3], [900_000, 1_700_000])]
    fig = plot_cost(costs, budget=16 * GB)
    time_ax, memory_ax = fig.axes
    assert time_ax.get_xscale() == memory_ax.get_yscale() == "log"
    labels = [line.get_label() for line in memory_ax.get_lines()]
    assert {"full", "blockwise", "∝ T²", "∝ T", "16.0 GB budget"} <= set(labels)
    assert len(memory_ax.texts) == 2  # where each fitted curve reaches the budget
    plt.close(fig)


def test_plot_running_statistics_draws_three_panels():
    fig = plot_running_statistics([1.0, 2.0, 4.0, 0.0], 2, running_output=[17.3, 28.2],
                                  final_output=28.2)
    assert len(fig.axes) == 3
    assert len(plot_running_statistics([1.0, 2.0, 4.0, 0.0], 2).axes) == 2
    plt.close("all")


def test_format_bytes():
    assert format_bytes(999) == "999 B"
    assert format_bytes(134_217_728) == "134.2 MB"
    assert format_bytes(16 * GB) == "16.0 GB"
