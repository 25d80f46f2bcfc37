"""Public checks of lesson 02: the softmax, the masked softmax and the two masks."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import (
    check_cases,
    check_distributions,
    fresh_rng,
    load_fixture,
    passed,
    require,
)
from course_lib.feedback import call_answer, compare


def check_softmax(softmax) -> None:
    """Public check for lesson 02: a numerically stable ``softmax(x, axis=-1)``."""
    n_cases = check_cases(softmax, "softmax")
    case = load_fixture("softmax")["hand_worked"]
    x = case["args"]["x"]
    compare(
        call_answer(softmax, x + 100.0, name="softmax"),
        case["expected"],
        what="softmax(x + 100)",
        hint="Adding the same number to a whole row must not change its softmax.",
    )
    fresh = fresh_rng().standard_normal((4, 6)) * 5
    check_distributions(
        call_answer(softmax, fresh, name="softmax"), what="softmax of a new (4, 6) array"
    )
    passed("softmax", n_cases + 2)


def check_masked_softmax(masked_softmax) -> None:
    """Public check for lesson 02: ``masked_softmax(scores, mask)``, masking before the softmax."""
    n_cases = check_cases(masked_softmax, "masked_softmax")
    case = load_fixture("masked_softmax")["padding"]
    scores, mask = case["args"]["scores"], case["args"]["mask"]
    compare(
        call_answer(masked_softmax, scores - 50.0, mask, name="masked_softmax"),
        case["expected"],
        what="masked_softmax(scores - 50, mask)",
        hint="Adding the same number to a whole row must not change its softmax.",
    )
    rng = fresh_rng()
    fresh_mask = rng.random((5, 6)) < 0.5
    fresh_mask[2] = False  # a row with no allowed key
    weights = call_answer(
        masked_softmax, rng.standard_normal((5, 6)), fresh_mask, name="masked_softmax"
    )
    what = "masked_softmax of a new (5, 6) array"
    weights = np.asarray(weights)
    require(weights.shape == (5, 6), f"{what} has shape {weights.shape}, expected (5, 6).")
    check_distributions(weights, what=what, allowed=fresh_mask)
    require(
        np.all(weights[~fresh_mask] == 0), f"{what} gives weight to keys the mask hides (False)."
    )
    passed("masked_softmax", n_cases + 2)


def _check_mask_type(mask, shape, what: str) -> np.ndarray:
    mask = np.asarray(mask)
    require(mask.shape == shape, f"{what} has shape {mask.shape}, expected {shape}.")
    require(mask.dtype == np.bool_, f"{what} should be boolean, not {mask.dtype}.")
    return mask


def check_causal_mask(causal_mask) -> None:
    """Public check for lesson 02: ``causal_mask(t)``, boolean ``(t, t)``, True where j ≤ i."""
    n_cases = check_cases(causal_mask, "causal_mask")
    t = 6
    what = f"causal_mask({t})"
    mask = _check_mask_type(call_answer(causal_mask, t, name="causal_mask"), (t, t), what)
    require(
        np.array_equal(mask.sum(axis=1), np.arange(1, t + 1)) and np.all(np.diag(mask)),
        f"{what}: row i should allow exactly the i + 1 keys 0 … i. "
        f"Allowed per row: {mask.sum(axis=1).tolist()}",
    )
    passed("causal_mask", n_cases + 1)


def check_padding_mask(padding_mask) -> None:
    """Public check for lesson 02: ``padding_mask(lengths, t)``, boolean ``(B, 1, t)``."""
    n_cases = check_cases(padding_mask, "padding_mask")
    lengths, t = np.array([2, 0, 6, 5]), 6
    what = f"padding_mask({lengths.tolist()}, {t})"
    mask = call_answer(padding_mask, lengths, t, name="padding_mask")
    mask = _check_mask_type(mask, (len(lengths), 1, t), what)
    require(
        np.array_equal(mask.sum(axis=-1)[:, 0], lengths)
        and np.all(np.diff(mask.astype(int), axis=-1) <= 0),  # True first, then False
        f"{what}: sequence b should allow exactly its first lengths[b] keys. "
        f"Allowed per sequence: {mask.sum(axis=-1)[:, 0].tolist()}",
    )
    passed("padding_mask", n_cases + 1)
