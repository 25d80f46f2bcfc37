"""The hidden tests: full marks for right answers, partial credit and a named mistake for wrong
ones, fresh inputs on every run."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from answer_variants import RIGHT_ANSWERS, VARIANTS, WRONG_ANSWERS

import grader.reference as ref
from course_lib.misconceptions import DESCRIPTIONS
from grader import hidden

EXERCISES = list(VARIANTS)
RIGHT = [pytest.param(*case, id=case[1].__name__) for case in RIGHT_ANSWERS]
WRONG = [pytest.param(*case, id=case[1].__name__) for case in WRONG_ANSWERS]


def grade(exercise: str):
    return getattr(hidden, f"grade_{exercise}")


def full_marks(exercise: str) -> float:
    return inspect.signature(grade(exercise)).parameters["points"].default


def test_every_exercise_has_a_hidden_test():
    assert sorted(name.removeprefix("grade_") for name in hidden.__all__) == sorted(EXERCISES)


@pytest.mark.parametrize("seed", [0, 1, None])
@pytest.mark.parametrize("exercise", EXERCISES)
def test_answer_key_gets_full_marks(exercise, seed, capsys):
    assert grade(exercise)(getattr(ref, exercise), seed=seed) == full_marks(exercise)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("exercise, answer", RIGHT)
def test_right_answers_get_full_marks(exercise, answer):
    for seed in (0, 1):
        assert grade(exercise)(answer, seed=seed) == full_marks(exercise)


@pytest.mark.parametrize("exercise, answer, misconception", WRONG)
def test_wrong_answers_lose_points_and_are_named(exercise, answer, misconception, capsys):
    assert grade(exercise)(answer, seed=0) < full_marks(exercise)
    printed = capsys.readouterr()
    assert DESCRIPTIONS[misconception] in printed.out
    assert printed.err == ""  # any text on stderr would fail the whole nbgrader cell


@pytest.mark.parametrize("exercise", EXERCISES)
def test_unwritten_answer_gets_zero(exercise, capsys):
    def unwritten(*args, **kwargs):
        raise NotImplementedError()

    assert grade(exercise)(unwritten) == 0
    assert "is not written yet" in capsys.readouterr().out


@pytest.mark.parametrize("exercise", EXERCISES)
def test_missing_return_gets_zero(exercise, capsys):
    assert grade(exercise)(lambda *args, **kwargs: None) == 0
    assert "forget a `return`" in capsys.readouterr().out


def test_points_are_shared_between_parts():
    """An answer right except on fully masked rows earns every other part."""
    answer = {key: fn for fn, key in VARIANTS["masked_softmax"]["wrong"]}
    assert hidden.grade_masked_softmax(answer["mask_fully_masked_nan"], points=8) == 6


def _recorded_calls(exercise: str, seed) -> list:
    """The inputs a hidden test gives an answer (the answer key, recorded on the way)."""
    calls = []

    def recording(*args, **kwargs):
        calls.append((args, kwargs))
        return getattr(ref, exercise)(*args, **kwargs)

    grade(exercise)(recording, seed=seed)
    return calls


def _same_inputs(calls_a, calls_b) -> bool:
    first_a, first_b = calls_a[0][0][0], calls_b[0][0][0]
    return np.shape(first_a) == np.shape(first_b) and np.array_equal(first_a, first_b)


@pytest.mark.parametrize("exercise", ["softmax", "scaled_dot_product_attention"])
def test_inputs_are_fresh_unless_seeded(exercise):
    assert not _same_inputs(_recorded_calls(exercise, None), _recorded_calls(exercise, None))
    assert _same_inputs(_recorded_calls(exercise, 3), _recorded_calls(exercise, 3))


@pytest.mark.parametrize("seed", range(5))
def test_attention_inputs_make_every_dimension_differ(seed):
    (q, k, v), _ = _recorded_calls("scaled_dot_product_attention", seed)[0]
    batch, heads, t_q, d_k = q.shape
    assert len({batch, heads, t_q, k.shape[-2], d_k, v.shape[-1]}) == 6
    assert batch > 1 and heads > 1


def test_blockwise_memory_part_names_the_full_score_matrix(capsys):
    def full_attention(q, k, v, block_size, mask=None):
        return ref.scaled_dot_product_attention(q, k, v, mask)[0]

    assert hidden.grade_blockwise_attention(full_attention, points=4, seed=0) == 3
    assert DESCRIPTIONS["full_score_matrix"] in capsys.readouterr().out
