"""Lesson 11 (the KV cache): its answer keys, public checks, judge and policy, and one batch of
real nbgrader autogrades.

The batch holds the solution notebook (full marks, no error), the student version (zero, "not
written yet"), and notebooks that each hold one wrong answer of ``attend_step``, of
``decode_step`` *and* of ``cached_greedy_decode`` (each exercise loses points and its feedback
names the mistake), or one right answer of each written differently (full marks): the first
four wrong and two right answers of each exercise. The demo cells are emptied in those
notebooks, which keeps the batch short. The corpus's other answers are judged in-process.
"""

from __future__ import annotations

import inspect
import textwrap

import decoding_variants
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
from course_lib.cases.decoding import random_translator_weights
from course_lib.cases.inputs import random_qkv, random_step
from course_lib.checks import (
    CheckFailed,
    check_attend_step,
    check_cached_greedy_decode,
    check_decode_step,
)
from course_lib.exercises import plan
from course_lib.misconceptions import DESCRIPTIONS
from grader.exercises import MEASURED
from grader.judging import policy
from grader.reference import decoding

LESSON = "11_kv_cache"

# attend_step -------------------------------------------------------------------------------------

STEP = "attend_step"
STEP_RIGHT = VARIANTS[STEP]["right"]
STEP_WRONG = VARIANTS[STEP]["wrong"]


def _sequence(seed=0, batch=(2, 3), length=6, d_k=4, d_v=5):
    """``q, k, v`` of a whole sequence: ``(*batch, length, d_k | d_v)``."""
    rng = np.random.default_rng(seed)
    return random_qkv(rng, batch, length, length, d_k, d_v).values()


def test_attend_step_by_hand():
    q_t = np.array([2.0, 0, 0, 0])  # scores q_t·k_j / √4 = k_j0 = (0, ln 2, ln 3)
    k_cache = np.array([[0, 1, 0, 0], [np.log(2), 0, 1, 0], [np.log(3), 0, 0, 1]])
    v_cache = np.array([[6.0, 0], [0, 6], [0, 0]])
    np.testing.assert_allclose(ref.attend_step(q_t, k_cache, v_cache), [1.0, 2.0],
                               rtol=1e-15)  # weights 1/6, 2/6, 3/6


def test_each_step_is_a_row_of_causal_attention():
    """Decoding with a cache gives, step by step, the rows of full causal attention."""
    q, k, v = _sequence()
    length = q.shape[-2]
    full, _ = ref.scaled_dot_product_attention(q, k, v, ref.causal_mask(length))
    for t in range(length):
        step = ref.attend_step(q[..., t, :], k[..., : t + 1, :], v[..., : t + 1, :])
        assert step.shape == (2, 3, 5)
        np.testing.assert_allclose(step, full[..., t, :], rtol=1e-12, atol=1e-15)


def test_attend_step_of_one_position_and_of_extreme_logits():
    q, k, v = _sequence(seed=1)
    np.testing.assert_array_equal(ref.attend_step(q[..., 0, :], k[..., :1, :], v[..., :1, :]),
                                  v[..., 0, :])  # t = 0: the only value, weight 1
    step = random_step(np.random.default_rng(2), (2,), 7, 16, 3, extreme=True)
    output = ref.attend_step(*step.values())
    assert np.all(np.isfinite(output))
    full, _ = ref.scaled_dot_product_attention(step["q_t"][:, None, :], step["k_cache"],
                                               step["v_cache"])
    np.testing.assert_allclose(output, full[:, 0], rtol=1e-12)


@pytest.mark.parametrize("answer", STEP_RIGHT, ids=[a.__name__ for a in STEP_RIGHT])
def test_right_attend_steps_pass_the_check_and_get_full_marks(answer, capsys):
    check_attend_step(answer)
    assert "checks passed" in capsys.readouterr().out
    for cell in ("check", "hidden"):
        for seed in (0, 1, 2):
            credit = judged(STEP, answer, seed, cell)
            assert credit.points == full_marks(STEP, cell), credit.lines


@pytest.mark.parametrize(("answer", "key"), STEP_WRONG, ids=[a.__name__ for a, _ in STEP_WRONG])
def test_each_wrong_attend_step_is_named_by_the_check_and_the_judge(answer, key):
    with pytest.raises(CheckFailed) as failure:
        check_attend_step(answer)
    assert DESCRIPTIONS[key] in str(failure.value)
    credit = judged(STEP, answer)
    assert credit.points < full_marks(STEP) and key in credit.misconceptions, credit.lines


def test_the_wrong_attend_steps_cover_every_mistake():
    from grader.exercises import WRONG_VARIANTS

    assert sorted(key for _, key in STEP_WRONG) == sorted(WRONG_VARIANTS[STEP])
    assert len(STEP_WRONG) >= 4 and len(STEP_RIGHT) >= 3


def test_the_attend_step_plan_has_every_dimension_different_and_extreme_logits():
    for seed in (0, 1, 2):
        parts = plan(STEP, seed)
        first = parts[0].calls[0].args
        (b, h, d_k), (length, d_v) = first["q_t"].shape, first["v_cache"].shape[-2:]
        assert len({b, h, length, d_k, d_v}) == 5
        assert first["k_cache"].shape == (b, h, length, d_k)
        assert parts[1].calls[0].args["k_cache"].shape[-2] == 1  # t = 0
        assert parts[2].calls[0].args["q_t"].shape == (b, d_k)  # no head axis
        extreme = parts[3].calls[0].args
        scores = np.einsum("...d,...td->...t", extreme["q_t"], extreme["k_cache"]) / 4
        assert np.abs(scores).max() > 1000
        np.testing.assert_array_equal(scores.astype(np.float32), scores)  # exact in float32


def test_library_attention_is_refused_as_an_attend_step():
    for source, name in [
        ("import keras\nkeras.ops.dot_product_attention(q, k, v)\n",
         "keras.ops.dot_product_attention"),
        ("import torch.nn.functional as F\nF.scaled_dot_product_attention(q, k, v)\n",
         "torch.nn.functional.scaled_dot_product_attention"),
        ("from scipy.special import softmax\nsoftmax(scores, axis=-1)\n",
         "scipy.special.softmax"),
    ]:
        assert policy.stand_ins(STEP, source).refused == [name], source
    assert policy.stand_ins(STEP, "import numpy as np\nnp.einsum('...d,...td->...t', q, k)\n"
                            ).refused == []


# decode_step and cached_greedy_decode ---------------------------------------------------------

KERAS = ("decode_step", "cached_greedy_decode")
N_WRONG, N_RIGHT = 4, 2  # answers of each exercise through the batch of real autogrades
KERAS_CHECKS = {"decode_step": check_decode_step,
                "cached_greedy_decode": check_cached_greedy_decode}
KERAS_RIGHT = [(e, a) for e in KERAS for a in decoding_variants.VARIANTS[e]["right"]]
KERAS_WRONG = [(e, a, k) for e in KERAS for a, k in decoding_variants.VARIANTS[e]["wrong"]]


def test_the_numpy_twin_decodes_step_by_step_as_the_full_pass():
    rng = np.random.default_rng(0)
    weights = random_translator_weights(rng, 12, 3, 8)
    model = decoding.TranslatorForward(weights, 3)
    source = rng.integers(1, 40, size=(2, 32))
    tokens = rng.integers(1, 12, size=(2, 8))
    logits, cache = decoding.CachedDecoder(model).run(source, tokens)
    np.testing.assert_allclose(logits, model.logits(source, tokens), rtol=1e-12, atol=1e-12)
    assert cache.shape == (2, 2, 8, 3, 4)
    ids = model.greedy(source, 8)
    np.testing.assert_array_equal(model.logits(source, decoding.start_and(ids)).argmax(-1), ids)
    for key, variant in decoding.DECODE_VARIANTS.items():
        wrong, _ = variant(model).run(source, tokens)
        assert np.abs(wrong - logits).max() > 1e-3, key


@pytest.mark.parametrize(("exercise", "answer"), KERAS_RIGHT,
                         ids=[a.__name__ for _, a in KERAS_RIGHT])
def test_right_keras_answers_pass_the_public_check(exercise, answer, capsys):
    KERAS_CHECKS[exercise](answer)
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(("exercise", "answer", "key"), KERAS_WRONG,
                         ids=[a.__name__ for _, a, _ in KERAS_WRONG])
def test_wrong_keras_answers_fail_the_public_check(exercise, answer, key):
    decoding_variants.SEEN.clear()
    with pytest.raises(CheckFailed):
        KERAS_CHECKS[exercise](answer)


UNBATCHED = [(e, a, k) for e in KERAS for a, k in decoding_variants.VARIANTS[e]["wrong"][N_WRONG:]]
UNBATCHED_RIGHT = [(e, a) for e in KERAS for a in decoding_variants.VARIANTS[e]["right"][N_RIGHT:]]


@pytest.mark.parametrize(("exercise", "answer", "key"), UNBATCHED,
                         ids=[a.__name__ for _, a, _ in UNBATCHED])
def test_wrong_keras_answers_past_the_batch_are_named_by_the_judge(exercise, answer, key):
    decoding_variants.SEEN.clear()
    credit = judged(exercise, answer)
    assert credit.points < full_marks(exercise) and key in credit.misconceptions, credit.lines


@pytest.mark.parametrize(("exercise", "answer"), UNBATCHED_RIGHT,
                         ids=[a.__name__ for _, a in UNBATCHED_RIGHT])
def test_right_keras_answers_past_the_batch_get_full_marks(exercise, answer):
    assert judged(exercise, answer).points == full_marks(exercise)


@pytest.mark.parametrize("exercise", KERAS)
def test_the_keras_wrong_answers_cover_every_mistake(exercise):
    keys = [key for _, key in decoding_variants.VARIANTS[exercise]["wrong"]]
    named = decoding.DECODE_VARIANTS if exercise == "decode_step" else decoding.GREEDY_VARIANTS
    assert sorted(keys) == sorted([*named, *MEASURED[exercise]])
    assert len(keys) >= 4 and len(decoding_variants.VARIANTS[exercise]["right"]) >= 2


def test_the_decoding_plans_differ_in_every_size():
    for seed in (0, 1):
        case = plan("decode_step", seed)[0].calls[0]
        batch, steps = case.tokens.shape
        key_dim = case.d_model // case.num_heads
        assert len({batch, steps, case.d_model, case.num_heads, key_dim}) == 5
        assert case.weights[-1].any() and all(w.any() for w in case.weights)  # biases ≠ 0
        greedy = plan("cached_greedy_decode", seed)
        assert [part.calls[0].length for part in greedy] == [12]


# The lesson's structure --------------------------------------------------------------------------

EXERCISES = (STEP, *KERAS)


def _points() -> dict[str, float]:
    cells = (cell.metadata.get("nbgrader", {}) for cell in solution_notebook(LESSON).cells)
    return {meta["grade_id"]: meta["points"] for meta in cells if meta.get("grade")}


def _graded(exercise: str) -> tuple[str, str]:
    return f"check_{exercise}", f"hidden_{exercise}"


def test_graded_cells_points_and_text():
    notebook = solution_notebook(LESSON)
    # the cache's points are decode_step's, whose cache the judge checks; the work that
    # cached_greedy_decode saves is counted in the kernel, so it earns nothing
    points = {"attend_step": (2, 4), "decode_step": (2, 7), "cached_greedy_decode": (1, 2)}
    assert _points() == {grade_id: value for exercise in EXERCISES
                         for grade_id, value in zip(_graded(exercise), points[exercise],
                                                    strict=True)}
    text = "".join(cell.source for cell in notebook.cells)
    for exercise in EXERCISES:
        check, hidden = _graded(exercise)
        assert find_cell(notebook, check).source == f"{check}({exercise})"
        assert f'probe("{exercise}", {exercise}, seed=0)' in find_cell(notebook, hidden).source
        assert find_cell(notebook, f"answer_{exercise}").metadata.nbgrader["solution"]
        assert f"`{exercise}(" in text and f"({sum(points[exercise])} points)" in text


def test_every_non_answer_cell_but_the_demos_is_locked():
    for cell in solution_notebook(LESSON).cells:
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "markdown" or (meta and not meta["solution"]):
            assert meta and meta["locked"], cell.source[:60]


# One batch of real autogrades --------------------------------------------------------------------

ALL = {STEP: VARIANTS[STEP], **decoding_variants.VARIANTS}
BATCHED = {e: {"wrong": ALL[e]["wrong"][:N_WRONG], "right": ALL[e]["right"][:N_RIGHT]}
           for e in EXERCISES}
RIGHT = [(e, a) for e in EXERCISES for a in BATCHED[e]["right"]]
WRONG = [(e, a, k) for e in EXERCISES for a, k in BATCHED[e]["wrong"]]
KERAS_PREAMBLE = "import math\n\n" + textwrap.dedent(inspect.getsource(decoding_variants._step)) \
    + "\n\nSEEN = []\n\n\n"


def _cell(exercise: str, answer) -> str:
    """An answer cell's code. A greedy decoder's cell brings a right ``decode_step`` of its own
    (run after the notebook's ``decode_step`` is graded), so that it is judged on its own
    mistake, not on the wrong step of the same notebook."""
    if exercise == STEP:
        return "import numpy as np\n\n\n" + notebook_source(answer, exercise)
    if exercise == "cached_greedy_decode":
        right_step = notebook_source(decoding_variants.step_einsum, "decode_step")
        return KERAS_PREAMBLE + right_step + "\n\n" + notebook_source(answer, exercise)
    return KERAS_PREAMBLE + notebook_source(answer, exercise)


def _with_answers(answers: dict):
    """The solution notebook with ``answers`` (``{exercise: function}``) in their answer cells
    and the demo cells emptied."""
    notebook = solution_notebook(LESSON)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            cell.source = ""
    for exercise, answer in answers.items():
        find_cell(notebook, f"answer_{exercise}").source = _cell(exercise, answer)
    return notebook


BATCH = AnswerRows(BATCHED, _with_answers)


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
                                                      f"hidden_{exercise}")


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
