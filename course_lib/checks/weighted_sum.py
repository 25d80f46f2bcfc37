"""Public checks of lesson 03: the weighted sum and scaled dot-product attention."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import (
    check_cases,
    check_distributions,
    fresh_rng,
    passed,
    random_qkv,
    require,
)
from course_lib.feedback import call_answer, compare


def _check_inside_values(output, v, what: str) -> None:
    """Each output feature lies between the smallest and the largest value of that feature."""
    output = np.asarray(output, dtype=np.float64)
    low, high = v.min(axis=-2, keepdims=True), v.max(axis=-2, keepdims=True)
    require(
        np.all(output >= low - 1e-9) and np.all(output <= high + 1e-9),
        f"{what} leaves the range of the values: with weights ≥ 0 that sum to 1, every output "
        "is a weighted average (a convex combination) of the value rows.",
    )


def check_weighted_sum(weighted_sum) -> None:
    """Public check for lesson 03: ``weighted_sum(weights, v) = weights @ v``."""
    n_cases = check_cases(weighted_sum, "weighted_sum")
    rng = fresh_rng()
    v = rng.standard_normal((4, 3))
    picks = np.array([2, 0, 3])
    compare(
        call_answer(weighted_sum, np.eye(4)[picks], v, name="weighted_sum"),
        v[picks],
        what="weighted_sum(one-hot weights, v)",
        hint="A weight of 1 on key j and 0 elsewhere should copy value row j.",
    )
    weights = rng.random((5, 4))
    weights /= weights.sum(axis=-1, keepdims=True)
    _check_inside_values(
        call_answer(weighted_sum, weights, v, name="weighted_sum"), v,
        what="weighted_sum of new weights",
    )
    passed("weighted_sum", n_cases + 2)


def check_scaled_dot_product_attention(scaled_dot_product_attention) -> None:
    """Public check for lesson 03: ``scaled_dot_product_attention(q, k, v, mask=None)`` returns
    ``(output, weights)``."""
    name = "scaled_dot_product_attention"
    n_cases = check_cases(scaled_dot_product_attention, name)
    rng = fresh_rng()
    q, k, v = random_qkv(rng, 3, 6, 4, 5)
    output, weights = call_answer(scaled_dot_product_attention, q, k, v, name=name)
    check_distributions(weights, what="The weights of a new example")
    _check_inside_values(output, v, what="The output of a new example")
    order = rng.permutation(6)
    moved = call_answer(scaled_dot_product_attention, q, k[order], v[order], name=name)
    compare(
        moved,
        (output, np.asarray(weights)[:, order]),
        what=f"{name}(q, k and v with their keys reordered)",
        parts=("output", "weights"),
        hint="Reordering the key/value pairs should reorder the weights' columns and leave the "
        "output alone.",
    )
    uniform = call_answer(scaled_dot_product_attention, np.zeros((1, 4)), k, v, name=name)
    compare(
        uniform,
        (v.mean(axis=0, keepdims=True), np.full((1, 6), 1 / 6)),
        what=f"{name}(a query of zeros, k, v)",
        parts=("output", "weights"),
        hint="A query of zeros scores every key 0: even weights, and the mean of the values.",
    )
    passed(name, n_cases + 3)
