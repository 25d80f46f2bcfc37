"""Lesson 02 · Softmax and masks: from scores to weights: its exercises as the learner's side knows
them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_02_softmax``. The instructor's side of the same exercises is
``grader.lessons.lesson_02_softmax``.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.cases.calls import Call
from course_lib.cases.inputs import (
    case,
    extreme_logits,
    lengths_mask,
    lower_triangle,
    random_mask,
    sizes,
)
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise

SOFTMAX_HINT = (
    "np.exp(1000) overflows to inf: subtract the max along the axis (keepdims=True) before exp."
)
MASK_HINT = "True = may attend: set the other scores to -np.inf before the softmax."


# The plans: from a random generator, the parts each exercise is judged on ----------


def softmax_plan(rng) -> list[Part]:
    batch, heads, t_q, t_k = sizes(rng, 4, low=3)
    x = rng.standard_normal((batch, t_q, t_k)) * 3
    return [
        Part("rows of a square (T, T) array, then of (B, H, Tq, Tk) scores", [
            Call({"x": rng.standard_normal((t_q, t_q)) * 3}),
            Call({"x": rng.standard_normal((batch, heads, t_q, t_k)) * 3}),
        ]),
        Part("axis=0 and axis=1 of a 3-D array",
             [Call({"x": x}, {"axis": 0}), Call({"x": x}, {"axis": 1})]),
        Part("extreme logits (±1000, ±1e4)", [Call({"x": extreme_logits(rng, (batch, t_q, t_k))})]),
    ]


def masked_softmax_plan(rng) -> list[Part]:
    batch, heads, t_q, t_k = sizes(rng, 4, low=3)
    shape = (batch, heads, t_q, t_k)
    lengths = rng.integers(1, t_k, size=batch)  # every sequence padded, none empty
    empty_rows = [(0, 0, t_q - 1), (batch - 1, 0, 0)]

    def part(label, scores, mask):
        return Part(label, [Call({"scores": scores, "mask": mask})])

    return [
        part("no key masked (an all-True mask)",
             rng.standard_normal(shape) * 3, np.ones((t_q, t_k), dtype=bool)),
        part("padding mask (B, 1, 1, Tk)", rng.standard_normal(shape) * 3,
             lengths_mask(lengths, t_k)),
        part("causal mask (Tq = Tk) with logits of ±1000 and ±1e4",
             extreme_logits(rng, (batch, heads, t_q, t_q)), lower_triangle(t_q, t_q)),
        part("fully masked rows give zeros, not NaN", rng.standard_normal(shape) * 3,
             random_mask(rng, (batch, 1, t_q, t_k), empty_rows)),
    ]


def causal_mask_plan(rng) -> list[Part]:
    t = int(rng.integers(5, 13))
    return [Part(f"t = {t}", [Call({"t": t})]), Part("t = 1", [Call({"t": 1})])]


def padding_mask_plan(rng) -> list[Part]:
    batch, t = sizes(rng, 2, low=3)
    lengths = rng.integers(0, t + 1, size=batch)
    lengths[:2] = 0, t  # an empty and a full sequence
    return [
        Part(f"{batch} sequences (an empty one and a full one) padded to t = {t}",
             [Call({"lengths": lengths, "t": t})]),
        Part("one sequence without padding", [Call({"lengths": np.array([t]), "t": t})]),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def softmax_fixture(rng):
    ln2, ln3 = math.log(2), math.log(3)
    hand_worked = np.array([[0, ln2, ln3], [1, 1, 1], [ln3, ln2, 0]])  # rows: 1:2:3, even, 3:2:1
    extreme = np.array([[1000.0, 0, -1000], [-1000, -1000, -999], [1e4, -1e4, 1e4]])
    return {
        "hand_worked": case(x=hand_worked),
        "batch": case(x=rng.standard_normal((2, 3, 5)) * 3),
        "axis_0": case(x=rng.standard_normal((3, 4, 5)), kwargs={"axis": 0}),
        "axis_1": case(x=rng.standard_normal((3, 4, 5)), kwargs={"axis": 1}),
        "extreme_logits": case(x=extreme),
    }


def masked_softmax_fixture(rng):
    fully_masked = rng.random((2, 3, 4)) < 0.6
    fully_masked[..., 0] = True  # every row may attend to a key…
    fully_masked[0, 1] = fully_masked[1, 2] = False  # …but these two, which may attend to none
    return {
        "hand_worked": case(scores=np.array([[1.0, 2, 3]]), mask=np.array([[True, True, False]])),
        "padding": case(
            scores=rng.standard_normal((2, 3, 4)), mask=lengths_mask(np.array([4, 2]), 4)[:, 0]
        ),
        "causal": case(scores=rng.standard_normal((4, 4)), mask=lower_triangle(4, 4)),
        "fully_masked_rows": case(scores=rng.standard_normal((2, 3, 4)), mask=fully_masked),
        "extreme_logits": case(
            scores=np.array([[1000.0, -1000, 999], [-1e4, 1e4, 0]]),
            mask=np.array([[True, False, True], [True, False, True]]),
        ),
    }


def causal_mask_fixture(rng):
    return {f"length_{t}": case(t=t) for t in (4, 1, 7)}


def padding_mask_fixture(rng):
    return {
        "hand_worked": case(lengths=np.array([3, 1, 4]), t=4),
        "empty_and_full": case(lengths=np.array([0, 5, 2]), t=5),
    }


EXERCISES = (
    Exercise("softmax", "02_softmax", "function", softmax_plan, "check_softmax",
             ("softmax_wrong_axis", "softmax_ignores_axis", "softmax_global",
              "softmax_no_keepdims", "softmax_unstable", "softmax_no_normalise",
              "softmax_no_exp"), softmax_fixture,
             compare={"hint": SOFTMAX_HINT}),
    Exercise("masked_softmax", "02_softmax", "function", masked_softmax_plan,
             "check_masked_softmax",
             ("mask_after_softmax", "mask_inverted", "mask_multiplied", "mask_ignored",
              "mask_fully_masked_nan", "mask_large_negative"), masked_softmax_fixture,
             compare={"hint": f"{MASK_HINT} {SOFTMAX_HINT}"}),
    Exercise("causal_mask", "02_softmax", "function", causal_mask_plan, "check_causal_mask",
             ("causal_upper", "causal_inverted", "causal_strict", "causal_all_true",
              "mask_not_bool"), causal_mask_fixture,
             compare={"hint": "Entry (i, j) is True when key j is not in the future: j ≤ i."}),
    Exercise("padding_mask", "02_softmax", "function", padding_mask_plan, "check_padding_mask",
             ("padding_inverted", "padding_off_by_one", "padding_no_query_axis",
              "padding_wrong_axis", "mask_not_bool"), padding_mask_fixture,
             compare={"hint": "Entry (b, 0, j) is True when j < lengths[b]; shape (B, 1, t)."}),
)
