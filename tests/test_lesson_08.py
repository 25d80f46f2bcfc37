"""Lesson 08 (efficiency): its memory rule, its learner-side helpers, and what its batch of
real autogrades shows beyond every lesson's contract (``tests/test_lesson_contract.py``).

The batch (``tests/lesson_table.py``) also holds answers that hold the full ``Tq × Tk`` scores
where a measurement in the kernel would not see them (``tests/memory_attacks.py``: TensorFlow's
memory, ``np.empty``, a child process, ``/dev/shm``, a patched ``tracemalloc``): they lose the
memory point, the limit named, as the grader's memory-limited run
(``grader.judging.memory_check``) measures. Where that limit cannot be enforced (no cgroup or no
bubblewrap), the memory point goes to the instructor's review.
"""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest
from answer_variants import blockwise_row_by_row
from lesson_table import LESSONS, MEMORY_POINTS
from memory_attacks import MEMORY_ATTACKS
from nbgrader_utils import graded_outputs, solution_notebook

from course_lib.cases.calls import LIMITED_RUN, LimitedCall
from course_lib.cases.records import layout, record_count
from course_lib.efficiency_plots import (
    GB,
    Cost,
    format_bytes,
    measure_cost,
    plot_cost,
    plot_running_statistics,
    running_statistics,
)
from course_lib.exercises import plan
from course_lib.feedback import PartialCredit
from course_lib.misconceptions import DESCRIPTIONS
from course_lib.probes import MIME, run_plan
from grader import reference as ref
from grader.judging import memory_check
from grader.judging.judges.functions import judge_blockwise, limited_run
from grader.judging.probe_data import ProbeData

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LESSON = "08_efficiency"
EXERCISE = "blockwise_attention"
# The lesson's own mistakes, first in the corpus, go through the lesson's batch of autogrades
# (``tests/lesson_table.py``); its generic ones are judged in-process only.
LESSON_MISTAKES = (
    "blockwise_no_rescale",
    "blockwise_drops_last_block",
    "blockwise_no_final_division",
    "blockwise_average_of_blocks",
    "blockwise_masked_block_nan",
    "full_score_matrix",
)
#: Whether this machine's grader can enforce lesson 08's memory limit (a cgroup and bubblewrap);
#: where it cannot, the memory part's point goes to the instructor's review, for every answer.
MEMORY_ENFORCED = memory_check.unavailable_reason() is None
#: the tests that read the lesson's batch of autogrades run where it is graded
BATCH = pytest.mark.xdist_group("batch-08_efficiency")


# The lesson's structure ----------------------------------------------------------------------


def test_nothing_before_the_exercise_computes_blockwise_results():
    """Demos that need blockwise results come after the exercise and use the learner's code."""
    cells = solution_notebook(LESSON).cells
    answer_at = next(i for i, c in enumerate(cells)
                     if c.metadata.get("nbgrader", {}).get("grade_id") == f"answer_{EXERCISE}")
    for cell in cells[:answer_at]:
        assert cell.cell_type == "markdown" or f"{EXERCISE}(" not in cell.source
    later = "".join(c.source for c in cells[answer_at + 3:] if c.cell_type == "code")
    assert f"{EXERCISE}(" in later and "measure_cost(blockwise_attention" in later


# Autogrades ----------------------------------------------------------------------------------


@pytest.mark.slow
@BATCH
def test_the_solutions_feedback_gives_its_score_and_names_what_goes_to_review(course,
                                                                              lesson_batches):
    """Where the memory limit cannot be enforced, the memory part's point goes to the
    instructor's review, and the feedback says so."""
    lesson_batches(LESSON)
    if not MEMORY_ENFORCED:
        hidden = graded_outputs(course, LESSON, "solution", f"hidden_{EXERCISE}")
        assert "left to your instructor's review" in hidden, hidden
    printed = graded_outputs(course, LESSON, "solution", f"check_{EXERCISE}")
    points = LESSONS[LESSON].points()
    assert f"{EXERCISE}: {points[f'check_{EXERCISE}']:g}/" in printed, printed


@pytest.mark.slow
@pytest.mark.skipif(not MEMORY_ENFORCED, reason="the memory limit cannot be enforced here: "
                    f"{memory_check.unavailable_reason()}")
@pytest.mark.parametrize("name", MEMORY_ATTACKS)
@BATCH
def test_full_scores_held_anywhere_lose_the_memory_point_with_the_limit_named(course,
                                                                              lesson_batches,
                                                                              name):
    """Right results, with the full scores in TensorFlow's memory, an np.empty array, a child
    process or /dev/shm (or tracemalloc patched): everything but the memory point."""
    student = f"memory-{name}"
    points = LESSONS[LESSON].points()
    assert lesson_batches(LESSON)[student] == {
        **points, f"hidden_{EXERCISE}": points[f"hidden_{EXERCISE}"] - MEMORY_POINTS}
    feedback = graded_outputs(course, LESSON, student, f"hidden_{EXERCISE}")
    memory = next(line for line in feedback.splitlines() if "✗ memory" in line)
    assert f"limited to {memory_check.MEMORY_LIMIT_BYTES >> 20} MiB" in memory, feedback
    assert DESCRIPTIONS["full_score_matrix"] in memory, feedback


def _limited_calls(seed: int) -> list[LimitedCall]:
    return [call for part in plan(EXERCISE, seed) for call in part.calls
            if isinstance(call, LimitedCall)]


def _answer_cells_before_the_hidden_test(notebook) -> list:
    at = next(i for i, cell in enumerate(notebook.cells)
              if cell.metadata.get("nbgrader", {}).get("grade_id") == f"hidden_{EXERCISE}")
    return notebook.cells[:at]


def test_the_memory_run_is_sized_with_a_clear_margin():
    """Measured in the limited process itself: the lesson's imports and the solution stay far
    below the limit, and the full float64 scores are several times what the limit leaves."""
    reason = memory_check.unavailable_reason()
    if reason is not None:
        pytest.skip(f"the memory limit cannot be enforced here: {reason}")
    cells = memory_check.answer_cells(_answer_cells_before_the_hidden_test(
        solution_notebook(LESSON)))
    baseline = memory_check.run(EXERCISE, cells, [])
    solution = memory_check.run(EXERCISE, cells, _limited_calls(1))
    limit = memory_check.MEMORY_LIMIT_BYTES
    full_scores = LIMITED_RUN["t_q"] * LIMITED_RUN["t_k"] * 8
    assert not solution.out_of_memory and solution.problem is None, solution
    assert baseline.peak_bytes < limit / 3, baseline.peak_bytes
    assert solution.peak_bytes < limit / 2, solution.peak_bytes
    assert full_scores > 3 * (limit - baseline.peak_bytes)
    assert full_scores / 2 > limit  # a float32 copy does not fit either


def test_without_the_sandbox_the_memory_point_goes_to_review(monkeypatch):
    """Where the limit cannot be enforced, the memory point is not awarded, the feedback says
    why, and the cell is listed for the instructor's review; no process is started."""
    monkeypatch.setenv("COURSE_SANDBOX", "off")
    seed = 5
    run = limited_run(EXERCISE, "hidden", seed, solution_notebook(LESSON).cells)
    assert run.unverified == "bubblewrap is not available" and run.data is None
    assert memory_check.review(run) == [memory_check.UNVERIFIED.format(run.unverified)]
    assert limited_run(EXERCISE, "check", seed, []) is None  # the public check has no such call
    credit = PartialCredit(EXERCISE, echo=False)
    memory_part = [part for part in plan(EXERCISE, seed) if _limited_calls_in(part)]
    judge_blockwise(EXERCISE, memory_part, ProbeData([], {}, run), credit, 1.0)
    assert credit.points == 0
    assert "left to your instructor's review" in credit.lines[0], credit.lines


def _limited_calls_in(part) -> bool:
    return any(isinstance(call, LimitedCall) for call in part.calls)


def test_the_kernel_probe_leaves_the_limited_calls_to_the_grader():
    parts = plan(EXERCISE, 3)
    data = run_plan(EXERCISE, ref.blockwise_attention, 3)
    records = json.loads(data[MIME])["records"]
    assert len(records) == record_count(layout(parts))
    assert len(_limited_calls(3)) == 2 and all(call.slots(0) == () for call in _limited_calls(3))


def test_the_memory_run_keeps_imports_and_definitions_only():
    cell = ("%matplotlib inline\nimport math\nfrom numpy import linalg as la\nLENGTHS = [256, 512]"
            "\nBLOCK: int = 64\ncost = measure_cost(full_attention, LENGTHS)\nprint(cost)\n"
            "@staticmethod\ndef helper(x=LENGTHS):\n    return x\nclass Running:\n    pass\n")
    kept = memory_check.definitions(cell)
    for line in ("import math", "from numpy import linalg as la", "LENGTHS = [256, 512]",
                 "BLOCK: int = 64", "@staticmethod", "def helper(x=LENGTHS):", "class Running:"):
        assert line in kept, kept
    assert "measure_cost" not in kept and "print" not in kept and "matplotlib" not in kept
    assert memory_check.definitions("def broken(:\n") == ""


def test_the_batch_of_autogrades_holds_every_mistake_of_the_lesson():
    batched = LESSONS[LESSON].batched_answers("wrong")
    assert sorted(key for _, _, key in batched) == sorted(LESSON_MISTAKES)


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
