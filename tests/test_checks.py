"""The public checks: the answer key passes; unwritten, unreturned, hard-coded, mutating and
crashing answers are reported, and wrong answers raise no warnings (every answer of the corpora
meets its check in ``test_answer_corpus.py``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from answer_variants import RIGHT_ANSWERS, VARIANTS, WRONG_ANSWERS, notebook_source

import grader.reference as ref
from course_lib import checks
from course_lib.checks import CheckFailed, load_fixture
from course_lib.feedback import call_answer

EXERCISES = list(VARIANTS)
RIGHT = [pytest.param(*case, id=case[1].__name__) for case in RIGHT_ANSWERS]
WRONG = [pytest.param(*case, id=case[1].__name__) for case in WRONG_ANSWERS]


def check(exercise: str):
    return getattr(checks, f"check_{exercise}")


def failure_of(exercise: str, answer) -> str:
    with pytest.raises(CheckFailed) as failure:
        check(exercise)(answer)
    return str(failure.value)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_answer_key_passes(exercise, capsys):
    check(exercise)(getattr(ref, exercise))
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("exercise", EXERCISES)
def test_unwritten_answer_is_reported(exercise):
    def unwritten(*args, **kwargs):
        raise NotImplementedError()

    assert "is not written yet" in failure_of(exercise, unwritten)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_missing_return_is_reported(exercise):
    assert "forget a `return`" in failure_of(exercise, lambda *args, **kwargs: None)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_hard_coded_answer_fails(exercise):
    """Returning a stored expected result for any input cannot pass."""
    for case in load_fixture(exercise).values():
        with pytest.raises(CheckFailed):
            check(exercise)(lambda *args, _result=case["expected"], **kwargs: _result)


def test_answer_that_changes_its_input_fails():
    def masked_softmax(scores, mask):
        scores[~np.broadcast_to(mask, scores.shape)] = -np.inf  # the caller's scores change
        return ref.softmax(scores)

    assert "in place" in failure_of("masked_softmax", masked_softmax)


def test_crash_says_what_to_look_at():
    with pytest.raises(CheckFailed) as failure:
        call_answer(lambda x: x - x.max(axis=-1), np.ones((2, 3)), name="softmax")
    message = str(failure.value)
    assert "`softmax` raised ValueError" in message and "keepdims=True" in message


def test_wrong_answers_raise_no_warnings():
    """Overflowing answers are judged by their results; nothing reaches stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for exercise, answer, _ in (p.values for p in WRONG):
            with pytest.raises(CheckFailed):
                check(exercise)(answer)


def test_pair_must_be_returned():
    message = failure_of(
        "scaled_dot_product_attention", lambda q, k, v, mask=None: ref.attention_scores(q, k)
    )
    assert "should return 2 things, (output, weights), as a tuple" in message


@pytest.mark.parametrize("exercise, answer", RIGHT)
def test_corpus_sources_paste_into_a_notebook(exercise, answer):
    namespace = {"np": np}
    exec(notebook_source(answer, exercise), namespace)
    assert namespace[exercise].__name__ == exercise
    check(exercise)(namespace[exercise])
