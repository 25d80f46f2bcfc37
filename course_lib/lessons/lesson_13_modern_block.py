"""Lesson 13 · The modern block: RoPE, RMSNorm, SwiGLU and grouped-query attention: its exercises
as the learner's side knows them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_13_modern_block``. The instructor's side of the same
exercises is ``grader.lessons.lesson_13_modern_block``.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import Call
from course_lib.cases.inputs import (
    extreme_logits,
    random_mask,
    sizes,
)
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise
from course_lib.lessons.lesson_02_softmax import MASK_HINT
from course_lib.misconceptions.lesson_13_modern_block import (
    GROUPED_QUERY_ATTENTION,
    RMS_NORM,
    ROPE,
    SWIGLU,
)

# apply_rope ------------------------------------------------------------------------------------


def apply_rope_plan(rng) -> list[Part]:
    batch, heads, t = sizes(rng, 3, low=2, high=9)
    d, d_small = (2 * s for s in sizes(rng, 2, low=5, high=12))  # even, above T
    t_small = t + 3 if t + 3 != d_small else t + 4

    def call(leading, t, d, positions, **kwargs):
        return Call({"x": rng.standard_normal((*leading, t, d)),
                     "positions": np.asarray(positions)}, kwargs)

    start = int(rng.integers(3, 40))
    shuffled = rng.permutation(int(rng.integers(60, 200)))[:t]
    long = int(rng.integers(80, 120))
    return [
        Part(f"batch and head axes, x (B, H, T, d) with d = {d}, positions {start} … "
             f"{start + t - 1} (a decoder's step after {start} cached tokens)",
             [call((batch, heads), t, d, start + np.arange(t))]),
        Part("x (T, d) without leading axes, positions 0 … T-1",
             [call((), t_small, d_small, np.arange(t_small))]),
        Part("positions in any order, not starting at 0", [call((batch,), t, d, shuffled)]),
        Part("another base, passed by keyword (base=500)",
             [call((heads,), t, d_small, start + np.arange(t), base=500)]),
        Part(f"long positions (up to {4 * long}), d = 64: the slow pairs turn too",
             [call((batch,), long, 64, 4 * np.arange(long))]),
    ]


# rms_norm --------------------------------------------------------------------------------------


def rms_norm_plan(rng) -> list[Part]:
    batch, t, d = sizes(rng, 3, low=3, high=14)

    def call(shape, scale=1.0, offset=0.0, **kwargs):
        x = rng.standard_normal(shape) * scale + offset
        return Call({"x": x, "gain": rng.uniform(0.5, 2.0, shape[-1]) * rng.choice([-1, 1],
                                                                                    shape[-1])},
                    kwargs)

    return [
        Part(f"x (B, T, d) = ({batch}, {t}, {d}), features not centred, the default ε",
             [call((batch, t, d), scale=2.0, offset=1.5)]),
        Part("one vector x (d,)", [call((d,), offset=-0.5)]),
        Part("ε = 0.25 passed by keyword: it belongs inside the square root",
             [call((t, d), eps=0.25)]),
        Part("tiny features (about 10⁻³, mean square close to ε)",
             [call((batch, d), scale=1e-3)]),
        Part("large features (about 10⁴): the result does not grow with them",
             [call((t, batch, d), scale=1e4)]),
    ]


# swiglu ----------------------------------------------------------------------------------------


def swiglu_plan(rng) -> list[Part]:
    batch, t, d, f, d_out = sizes(rng, 5, low=2, high=16)

    def call(leading, scale=1.0):
        return Call({"x": rng.standard_normal((*leading, d)) * scale,
                     "w_gate": rng.standard_normal((d, f)) / np.sqrt(d),
                     "w_up": rng.standard_normal((d, f)) / np.sqrt(d),
                     "w_down": rng.standard_normal((f, d_out)) / np.sqrt(f)})

    return [
        Part(f"x (B, T, d) = ({batch}, {t}, {d}), f = {f} hidden units, d_out = {d_out}",
             [call((batch, t))]),
        Part("one vector x (d,)", [call(())]),
        Part("large inputs (×50): SiLU is about the identity above 0 and about 0 below",
             [call((t,), scale=50.0)]),
    ]


# grouped_query_attention -----------------------------------------------------------------------


def grouped_query_attention_plan(rng) -> list[Part]:
    groups = int(rng.choice([2, 3]))
    per_group = int(rng.choice([2, 3]))  # query heads per key–value head
    heads = groups * per_group
    others = [s for s in sizes(rng, 9, low=2, high=14) if s not in (groups, heads)]
    batch, t_q, t_k, d_k, d_v = others[:5]

    def call(g=groups, h=heads, t_q=t_q, d_k=d_k, mask=None, leading=(batch,)):
        inputs = {"q": rng.standard_normal((*leading, h, t_q, d_k)),
                  "k": rng.standard_normal((*leading, g, t_k, d_k)),
                  "v": rng.standard_normal((*leading, g, t_k, d_v))}
        return Call(inputs, {} if mask is None else {"mask": mask})

    padded = random_mask(rng, (batch, 1, 1, t_k))
    fully_masked = random_mask(rng, (batch, heads, t_q, t_k), [(0, 1, 0), (batch - 1, 0, 1)])
    # d_k = 16: scores q·k / 4 are multiples of 1/128 below 2¹⁷, exact in float32 too
    extreme = call(d_k=16)
    extreme.args["q"] = extreme_logits(rng, extreme.args["q"].shape) / 64
    extreme.args["k"] = rng.choice([-8.0, 0.0, 8.0], extreme.args["k"].shape)
    return [
        Part(f"{heads} query heads, {groups} key–value heads ({per_group} query heads each), "
             "Tq ≠ Tk, d_k ≠ d_v", [call()]),
        Part("multi-query attention: one key–value head", [call(g=1)]),
        Part("multi-head attention: as many key–value heads as query heads", [call(g=heads)]),
        Part("a padding mask (B, 1, 1, Tk) and a causal mask (Tq, Tk)",
             [call(mask=padded), call(t_q=t_k, mask=np.tri(t_k, dtype=bool))]),
        Part("a mask (B, H, Tq, Tk) with fully masked rows: zero weights, a zero output",
             [call(mask=fully_masked)]),
        Part("extreme logits (scores beyond ±1000): a stable softmax", [extreme]),
        Part("q (H, Tq, d_k) without a batch axis: the heads' axis is -3, not 1",
             [call(leading=())]),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---------------


def apply_rope_fixture(rng):
    return {
        # d = 4, base 10000: pair 0 turns by the position, pair 1 by position / 100; the unit
        # vector (1, 0) of pair 0 at position 1 becomes (cos 1, sin 1)
        "hand_worked": ({"x": np.array([[1.0, 0, 1, 0], [1, 0, 1, 0], [0, 1, 0, 1]]),
                         "positions": np.array([0, 1, 2])}, {}),
        "batch_and_heads": ({"x": rng.standard_normal((2, 3, 5, 6)),
                             "positions": np.arange(5) + 7}, {}),
        "any_positions": ({"x": rng.standard_normal((4, 8)),
                           "positions": np.array([40, 3, 17, 0])}, {}),
        "base_500": ({"x": rng.standard_normal((3, 10)), "positions": np.arange(3) + 2},
                     {"base": 500}),
    }


def rms_norm_fixture(rng):
    return {
        # mean square (9 + 16) / 2 = 12.5: the row becomes (3, 4) / √12.5, times the gain
        "hand_worked": ({"x": np.array([[3.0, 4.0], [-1, 1]]), "gain": np.array([1.0, 2.0])},
                        {}),
        "batched": ({"x": rng.standard_normal((2, 3, 5)) + 1,
                     "gain": rng.uniform(0.5, 2, 5)}, {}),
        "large_eps": ({"x": rng.standard_normal((3, 4)), "gain": rng.uniform(0.5, 2, 4)},
                      {"eps": 0.5}),
        "tiny_features": ({"x": 1e-3 * rng.standard_normal((4, 6)), "gain": np.ones(6)}, {}),
    }


def swiglu_fixture(rng):
    def inputs(leading, d, f, d_out):
        return {"x": rng.standard_normal((*leading, d)), "w_gate": rng.standard_normal((d, f)),
                "w_up": rng.standard_normal((d, f)), "w_down": rng.standard_normal((f, d_out))}

    return {
        # SiLU(0) = 0 on the first row; the second row's gate is SiLU(2) = 2σ(2) and SiLU(-1),
        # and the unequal rows of w_down tell a SiLU after it from one on x @ w_up
        "hand_worked": ({"x": np.array([[0.0, 1.0], [1.0, 0.0]]),
                         "w_gate": np.array([[2.0, -1.0], [0.0, 0.0]]),
                         "w_up": np.array([[1.0, 1.0], [1.0, 1.0]]),
                         "w_down": np.array([[2.0], [1.0]])}, {}),
        "batched": (inputs((2, 3), 4, 6, 5), {}),
        "one_vector": (inputs((), 3, 7, 3), {}),
    }


def grouped_query_attention_fixture(rng):
    def qkv(batch, heads, groups, t_q, t_k, d_k, d_v):
        return {"q": rng.standard_normal((*batch, heads, t_q, d_k)),
                "k": rng.standard_normal((*batch, groups, t_k, d_k)),
                "v": rng.standard_normal((*batch, groups, t_k, d_v))}

    fully_masked = random_mask(rng, (2, 1, 4, 5), [(0, 0, 1), (1, 0, 3)])  # (B, 1, Tq, Tk)
    extreme = qkv((), 4, 2, 3, 5, 16, 2)  # d_k = 16: scores q·k / 4 exact in float32 too
    extreme["q"] = extreme_logits(rng, extreme["q"].shape) / 64
    extreme["k"] = rng.choice([-8.0, 0.0, 8.0], extreme["k"].shape)
    return {
        "grouped": (qkv((2,), 4, 2, 3, 5, 4, 3), {}),
        "multi_query": (qkv((), 3, 1, 2, 4, 5, 2), {}),
        "masked": (qkv((2,), 6, 3, 4, 5, 3, 2), {"mask": fully_masked}),
        "extreme_logits": (extreme, {}),
    }


EXERCISES = (
    Exercise("apply_rope", "13_modern_block", "function", apply_rope_plan,
             "check_apply_rope", tuple(ROPE), apply_rope_fixture,
             compare={
                 "hint": "Pair i is x[..., 2i] and x[..., 2i + 1] (x[..., 0::2] and x[..., 1::2]); "
                 "its angle is positions[:, None] · base^(-2i/d), (T, d/2); y_2i = x_2i cos θ - "
                 "x_2i+1 sin θ and y_2i+1 = x_2i sin θ + x_2i+1 cos θ.",
                 # float32 angles of a few hundred radians are off by about 1e-5
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
    Exercise("rms_norm", "13_modern_block", "function", rms_norm_plan, "check_rms_norm",
             tuple(RMS_NORM), rms_norm_fixture,
             compare={
                 "hint": "x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps) * gain: the "
                 "mean square over each vector's features, eps inside the square root, no mean "
                 "subtracted.",
             }),
    Exercise("swiglu", "13_modern_block", "function", swiglu_plan, "check_swiglu",
             tuple(SWIGLU), swiglu_fixture,
             compare={
                 "hint": "SiLU(z) = z · σ(z) of the gate x @ w_gate, times x @ w_up (no "
                 "activation), then @ w_down.",
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
    Exercise("grouped_query_attention", "13_modern_block", "function",
             grouped_query_attention_plan, "check_grouped_query_attention",
             (*GROUPED_QUERY_ATTENTION, "no_scaling", "mask_after_softmax",
              "mask_fully_masked_nan", "mask_large_negative", "softmax_wrong_axis",
              "divide_by_dk", "mask_ignored", "mask_inverted", "mask_multiplied",
              "multiply_by_sqrt_dk", "softmax_unstable", "scale_by_value_width"),
             grouped_query_attention_fixture,
             compare={
                 "hint": "Query head h reads key-value head h // (H // G): np.repeat(k, H // G, "
                 "axis=-3), the same for v; then q kᵀ / √d_k, the masked softmax over the keys, @ "
                 f"v. {MASK_HINT}",
             }),
)
