"""Hidden tests: the learner's function against the answer key on fresh random inputs.

A hidden test cell in a lesson is one call, e.g. ``grade_attention_scores(attention_scores)``,
whose value (points earned) is the cell's partial credit; every failed part prints its reason
and, when the answer matches a known wrong variant, names the mistake. The inputs make every
dimension different (batch > 1, Tq ≠ Tk, d_k ≠ d_v) so transposes cannot hide.
"""

from __future__ import annotations

import numpy as np

from course_lib.feedback import PartialCredit, call_answer, compare
from course_lib.misconceptions import DESCRIPTIONS
from grader import reference as ref
from grader.misconceptions import wrong_outputs


def _named(exercise: str, *args, **kwargs) -> dict[str, np.ndarray]:
    return {DESCRIPTIONS[key]: out for key, out in wrong_outputs(exercise, *args, **kwargs).items()}


def _rng(seed=None):
    return np.random.default_rng(seed)


def grade_attention_scores(attention_scores, points: float = 2, seed=None) -> float:
    """Hidden test for lesson 01: batches, heads, Tq ≠ Tk, large and tiny values."""
    rng = _rng(seed)
    credit = PartialCredit("attention_scores")
    cases = {
        "batched input, Tq ≠ Tk": ((3, 5, 8), (3, 7, 8)),
        "batch and head axes": ((2, 4, 6, 16), (2, 4, 9, 16)),
    }
    for label, (q_shape, k_shape) in cases.items():
        with credit.part(points / len(cases), label):
            q, k = rng.standard_normal(q_shape), rng.standard_normal(k_shape)
            compare(
                call_answer(attention_scores, q, k, name="attention_scores"),
                ref.attention_scores(q, k),
                what=f"attention_scores(q {q_shape}, k {k_shape})",
                misconceptions=_named("attention_scores", q, k),
            )
    return credit.points
