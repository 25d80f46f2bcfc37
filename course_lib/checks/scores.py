"""Public checks of lesson 00's dot product and lesson 01's attention scores."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import check_cases, load_fixture, passed
from course_lib.feedback import call_answer, compare


def check_dot_product(dot_product) -> None:
    """Public check for lesson 00: ``dot_product(a, b) = Σ a_i b_i``, a single number."""
    n_cases = check_cases(dot_product, "dot_product")
    case = load_fixture("dot_product")["random"]
    a, b = case["args"]["a"], case["args"]["b"]
    compare(
        call_answer(dot_product, 3 * a, b, name="dot_product"),
        3 * case["expected"],
        what="dot_product(3a, b)",
        hint="Scaling a vector scales its dot products: (3a)·b = 3 (a·b).",
    )
    passed("dot_product", n_cases + 1)


def check_attention_scores(attention_scores) -> None:
    """Public check for lesson 01: ``attention_scores(q, k) = q kᵀ / √d_k``."""
    n_cases = check_cases(attention_scores, "attention_scores")
    case = load_fixture("attention_scores")["batched"]
    q, k = case["args"]["q"], case["args"]["k"]
    order = np.array([3, 0, 4, 1, 2])
    compare(
        call_answer(attention_scores, q, k[:, order], name="attention_scores"),
        case["expected"][..., order],
        what="attention_scores(q, k with its keys reordered)",
        hint="Reordering the keys should reorder the columns of the scores, nothing else.",
    )
    passed("attention_scores", n_cases + 1)
