"""Public checks, called by the check cell under each exercise.

Each ``check_<name>(fn)`` calls the learner's function on fixed inputs, compares the result with
the stored fixture, tests properties the right answer must have, and prints what passed. On a
mistake it raises :class:`~course_lib.feedback.CheckFailed` saying what was expected, what came,
and — when the answer matches a known wrong variant — which mistake it is.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from course_lib.feedback import CheckFailed, call_answer, compare
from course_lib.misconceptions import DESCRIPTIONS

FIXTURES = Path(__file__).parent / "fixtures"

__all__ = ["CheckFailed", "check_attention_scores"]


@cache
def load_fixture(exercise: str) -> dict[str, np.ndarray]:
    """The stored inputs, expected outputs and wrong-variant outputs of one exercise."""
    with np.load(FIXTURES / f"{exercise}.npz") as data:
        return {key: data[key] for key in data.files}


def _wrong_outputs(fixture: dict, prefix: str = "wrong__") -> dict[str, np.ndarray]:
    """``{description: output}`` for every misconception stored in a fixture."""
    return {
        DESCRIPTIONS[key[len(prefix):]]: value
        for key, value in fixture.items()
        if key.startswith(prefix)
    }


def _passed(name: str, n_checks: int) -> None:
    print(f"✓ {name}: all {n_checks} checks passed.")


def check_attention_scores(attention_scores) -> None:
    """Public check for lesson 01: ``attention_scores(q, k) = q kᵀ / √d_k``."""
    fixture = load_fixture("attention_scores")
    q, k = fixture["input__q"], fixture["input__k"]
    scores = call_answer(attention_scores, q, k, name="attention_scores")
    compare(
        scores,
        fixture["expected"],
        what="attention_scores(q, k)",
        misconceptions=_wrong_outputs(fixture),
        hint="Each entry (i, j) is the dot product of query i with key j, divided by √d_k.",
    )
    one_query = call_answer(attention_scores, q[:1, :1], k[:1], name="attention_scores")
    compare(
        one_query,
        fixture["expected"][:1, :1],
        what="attention_scores for a single query",
        hint="A single query (Tq = 1) should give one row of scores.",
    )
    _passed("attention_scores", 2)
