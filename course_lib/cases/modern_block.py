"""The inputs of lesson ``13_modern_block``'s exercises (see ``course_lib.exercises``): the plan
each graded cell is judged on, a pure function of a random generator, and the fixed cases of
each public check's fixture (``grader.make_fixtures`` adds the answer key's outputs and the wrong
variants'). Inputs only, no answer.

Every dimension differs (batch, heads, key–value heads, Tq, Tk, d_k, d_v, the widths of the
feed-forward), so that a transpose or a wrong axis cannot hide; the positions of RoPE do not
start at 0; RMSNorm meets an ``ε`` that matters; grouped-query attention has more than one
query head per key–value head *and* more than one key–value head, so that repeating and
tiling the heads differ, and masks with fully masked rows.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import Call
from course_lib.cases.inputs import extreme_logits, random_mask, sizes
from course_lib.cases.records import Part

# apply_rope ------------------------------------------------------------------------------------


def apply_rope(rng) -> list[Part]:
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


def rms_norm(rng) -> list[Part]:
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


def swiglu(rng) -> list[Part]:
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


def grouped_query_attention(rng) -> list[Part]:
    groups = int(rng.choice([2, 3]))
    per_group = int(rng.choice([2, 3]))  # query heads per key–value head
    heads = groups * per_group
    others = [s for s in sizes(rng, 9, low=2, high=14) if s not in (groups, heads)]
    batch, t_q, t_k, d_k, d_v = others[:5]

    def call(g=groups, h=heads, t_q=t_q, d_k=d_k, mask=None):
        inputs = {"q": rng.standard_normal((batch, h, t_q, d_k)),
                  "k": rng.standard_normal((batch, g, t_k, d_k)),
                  "v": rng.standard_normal((batch, g, t_k, d_v))}
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
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---------------


def _apply_rope_fixture(rng):
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


def _rms_norm_fixture(rng):
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


def _swiglu_fixture(rng):
    def inputs(leading, d, f, d_out):
        return {"x": rng.standard_normal((*leading, d)), "w_gate": rng.standard_normal((d, f)),
                "w_up": rng.standard_normal((d, f)), "w_down": rng.standard_normal((f, d_out))}

    return {
        # SiLU(0) = 0 on the first row; the second row's gate is SiLU(2) = 2σ(2) and SiLU(-1)
        "hand_worked": ({"x": np.array([[0.0, 1.0], [1.0, 0.0]]),
                         "w_gate": np.array([[2.0, -1.0], [0.0, 0.0]]),
                         "w_up": np.array([[1.0, 1.0], [1.0, 1.0]]),
                         "w_down": np.array([[1.0], [1.0]])}, {}),
        "batched": (inputs((2, 3), 4, 6, 5), {}),
        "one_vector": (inputs((), 3, 7, 3), {}),
    }


def _grouped_query_attention_fixture(rng):
    def qkv(batch, heads, groups, t_q, t_k, d_k, d_v):
        return {"q": rng.standard_normal((*batch, heads, t_q, d_k)),
                "k": rng.standard_normal((*batch, groups, t_k, d_k)),
                "v": rng.standard_normal((*batch, groups, t_k, d_v))}

    fully_masked = random_mask(rng, (2, 1, 4, 5), [(0, 0, 1), (1, 0, 3)])  # (B, 1, Tq, Tk)
    return {
        "grouped": (qkv((2,), 4, 2, 3, 5, 4, 3), {}),
        "multi_query": (qkv((), 3, 1, 2, 4, 5, 2), {}),
        "masked": (qkv((2,), 6, 3, 4, 5, 3, 2), {"mask": fully_masked}),
    }


FIXTURES = {"apply_rope": _apply_rope_fixture, "rms_norm": _rms_norm_fixture,
            "swiglu": _swiglu_fixture, "grouped_query_attention": _grouped_query_attention_fixture}
