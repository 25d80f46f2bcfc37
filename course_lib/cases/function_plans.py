"""The plans of the exercises whose cases are calls of a function (:mod:`course_lib.cases.calls`):
lessons 00–03, 05 and 08–11's NumPy functions, and lesson 07's functions on dates.

A plan is a pure function of a random generator: the parts of an exercise, each a list of
calls and a share of the points. Nothing here holds an answer.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import Call, LimitedCall, ShiftCall, StandIn
from course_lib.cases.inputs import (
    extreme_logits,
    lengths_mask,
    lower_triangle,
    random_mask,
    random_qkv,
    random_step,
    random_weights,
    sizes,
)
from course_lib.cases.records import Part
from course_lib.dates import TARGET_LEN, TARGET_VOCAB
from course_lib.other_scores import toy_curve


def dot_product(rng) -> list[Part]:
    n = int(rng.integers(5, 20))
    return [
        Part(f"random vectors of length {n}",
             [Call({"a": rng.standard_normal(n), "b": rng.standard_normal(n)})]),
        Part("long vectors (n = 1000) with large entries",
             [Call({"a": rng.standard_normal(1000) * 1e3, "b": rng.standard_normal(1000) * 1e3})]),
    ]


def attention_scores(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_k = sizes(rng, 5)

    def calls(leading):
        return [Call({"q": rng.standard_normal((*leading, t_q, d_k)),
                      "k": rng.standard_normal((*leading, t_k, d_k))})]

    return [Part("batched input, Tq ≠ Tk", calls([batch])),
            Part("batch and head axes", calls([batch, heads]))]


def softmax(rng) -> list[Part]:
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


def masked_softmax(rng) -> list[Part]:
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


def causal_mask(rng) -> list[Part]:
    t = int(rng.integers(5, 13))
    return [Part(f"t = {t}", [Call({"t": t})]), Part("t = 1", [Call({"t": 1})])]


def padding_mask(rng) -> list[Part]:
    batch, t = sizes(rng, 2, low=3)
    lengths = rng.integers(0, t + 1, size=batch)
    lengths[:2] = 0, t  # an empty and a full sequence
    return [
        Part(f"{batch} sequences (an empty one and a full one) padded to t = {t}",
             [Call({"lengths": lengths, "t": t})]),
        Part("one sequence without padding", [Call({"lengths": np.array([t]), "t": t})]),
    ]


def weighted_sum(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_v = sizes(rng, 5)

    def calls(weights_shape, v_shape):
        return [Call({"weights": random_weights(rng, weights_shape),
                      "v": rng.standard_normal(v_shape)})]

    return [
        Part("batch and head axes, Tq ≠ Tk ≠ d_v",
             calls((batch, heads, t_q, t_k), (batch, heads, t_k, d_v))),
        Part("square shapes, Tq = Tk = d_v", calls((batch, t_k, t_k), (batch, t_k, t_k))),
    ]


def scaled_dot_product_attention(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_k, d_v = sizes(rng, 6)
    lengths = rng.integers(1, t_k, size=batch)
    mask_shape = (batch, 1, t_q, t_k)

    def call(mask=None):
        return Call(random_qkv(rng, (batch, heads), t_q, t_k, d_k, d_v),
                    {} if mask is None else {"mask": mask})

    return [
        Part("no mask: batch and head axes, Tq ≠ Tk, d_k ≠ d_v", [call()]),
        Part("a padding mask (B, 1, 1, Tk) and a random mask",
             [call(lengths_mask(lengths, t_k)), call(random_mask(rng, mask_shape))]),
        Part("fully masked rows: zero weights and zero output",
             [call(random_mask(rng, mask_shape, [(0, 0, 0), (batch - 1, 0, t_q - 1)]))]),
    ]


def blockwise_attention(rng) -> list[Part]:
    batch, heads, t_q, d_k, d_v = sizes(rng, 5, high=9)
    t_k = int(rng.integers(10, 20))
    uneven = next(b for b in range(3, t_k) if t_k % b)  # a block size that does not divide Tk
    mask = random_mask(rng, (batch, 1, t_q, t_k), [(0, 0, 0)])
    mask[-1, 0, -1, : 2 * uneven] = False  # a row whose first two blocks are fully masked…
    mask[-1, 0, -1, -1] = True  # …and that may attend to the last key
    padding = lengths_mask(rng.integers(1, t_k, size=batch), t_k)

    def calls(block_sizes, masks=(None,), scale=1.0):
        inputs = random_qkv(rng, (batch, heads), t_q, t_k, d_k, d_v, scale)
        return [Call({**inputs, "block_size": b}, {} if m is None else {"mask": m})
                for m in masks for b in block_sizes]

    return [
        Part(f"block sizes {uneven} (not dividing Tk = {t_k}), 1, Tk and more than Tk",
             calls([uneven, 1, t_k, t_k + 5])),
        Part("masks: fully masked blocks and rows, padding",
             calls([uneven], masks=(mask, padding))),
        Part("extreme logits (scores beyond ±1000)", calls([uneven, 1], scale=40.0)),
        Part("memory: never holds the full Tq × Tk scores (a run under a memory limit)",
             [LimitedCall(int(rng.integers(2**63)), masked, int(rng.integers(2**63)))
              for masked in (False, True)]),
    ]


# Lesson 09's backward pass -----------------------------------------------------------------


def attention_backward(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_k, d_v = sizes(rng, 6)
    lengths = rng.integers(1, t_k, size=batch)
    mask_shape = (batch, 1, t_q, t_k)

    def call(t_q=t_q, mask=None, extreme=False):
        if extreme:  # scores q kᵀ/√16 in steps of 32, about ±3000, exact in float32 too: a
            # row's weights are one-hot or split between tied keys, never 1 - 10⁻⁴ (which
            # float32 cannot hold to more than a few digits)
            inputs = {"q": rng.integers(-8, 9, (batch, heads, t_q, 16)) * 128.0,
                      "k": rng.integers(-8, 9, (batch, heads, t_k, 16)).astype(float),
                      "v": rng.standard_normal((batch, heads, t_k, d_v))}
        else:
            inputs = random_qkv(rng, (batch, heads), t_q, t_k, d_k, d_v)
        d_out = rng.standard_normal((batch, heads, t_q, d_v))  # ∂L/∂O, (B, H, Tq, d_v)
        return Call({**inputs, "d_out": d_out}, {} if mask is None else {"mask": mask})

    return [
        Part("no mask: batch and head axes, Tq ≠ Tk, d_k ≠ d_v", [call()]),
        Part("self-attention (Tq = Tk) with and without a causal mask",
             [call(t_q=t_k), call(t_q=t_k, mask=lower_triangle(t_k, t_k))]),
        Part("a padding mask (B, 1, 1, Tk) and a random mask: no gradient through masked keys",
             [call(mask=lengths_mask(lengths, t_k)), call(mask=random_mask(rng, mask_shape))]),
        Part("fully masked rows: zero gradients, not NaN",
             [call(mask=random_mask(rng, mask_shape, [(0, 0, 0), (batch - 1, 0, t_q - 1)]))]),
        Part("extreme logits (scores of ±1000 and beyond, d_k = 16): a saturated softmax",
             [call(extreme=True), call(extreme=True, mask=random_mask(rng, mask_shape))]),
    ]


# Lesson 10's other scores ------------------------------------------------------------------


def nadaraya_watson(rng) -> list[Part]:
    n_query, n_train, batch = sizes(rng, 3, low=3, high=30)

    def call(shape=(), width=None, grid=False):
        if grid:  # training points on the integers, queries a quarter off: distances ≥ 1/4
            x_train = rng.permutation(n_train).astype(float) + np.zeros((*shape, 1))
            x_query = rng.integers(0, n_train, (*shape, n_query)) + rng.choice([0.25, -0.25],
                                                                             (*shape, n_query))
        else:
            x_train = rng.uniform(0, 5, (*shape, n_train))
            x_query = rng.uniform(-0.5, 5.5, (*shape, n_query))
        y_train = toy_curve(np.abs(x_train), rng)
        width = float(rng.uniform(0.3, 1.5)) if width is None else width
        return Call({"x_query": x_query, "x_train": x_train, "y_train": y_train,
                     "width": width})

    return [
        Part(f"one curve: {n_query} queries, {n_train} training points", [call()]),
        Part(f"a batch of {batch} curves: (B, n_query) and (B, n_train)", [call((batch,))]),
        Part("a tiny width (2⁻⁸): the nearest training point's target, never NaN",
             [call(width=2.0**-8, grid=True), call((batch,), width=2.0**-8, grid=True)]),
        Part("a wide width (50): close to the mean of the targets", [call(width=50.0)]),
    ]


def additive_scores(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_q, d_k, hidden = sizes(rng, 7)

    def call(t_q=t_q, d_q=d_q, scale=1.0):
        return Call({"q": rng.standard_normal((batch, heads, t_q, d_q)) * scale,
                     "k": rng.standard_normal((batch, heads, t_k, d_k)) * scale,
                     "w_q": rng.standard_normal((d_q, hidden)) / np.sqrt(d_q),
                     "w_k": rng.standard_normal((d_k, hidden)) / np.sqrt(d_k),
                     "v": rng.standard_normal(hidden)})

    return [
        Part("batch and head axes, Tq ≠ Tk, d_q ≠ d_k ≠ h", [call()]),
        Part("self-attention, Tq = Tk", [call(t_q=t_k)]),
        Part("queries and keys of the same width, d_q = d_k", [call(d_q=d_k)]),
        Part("large inputs: tanh saturates, each score stays within Σ|v|", [call(scale=30.0)]),
    ]


# Lesson 11's step of attention over a KV cache ---------------------------------------------


def attend_step(rng) -> list[Part]:
    batch, heads, length, d_k, d_v = sizes(rng, 5)

    def calls(leading=(batch, heads), length=length, d_k=d_k, extreme=False):
        return [Call(random_step(rng, leading, length, d_k, d_v, extreme))]

    return [
        Part(f"batch and head axes: q_t (B, H, d_k), a cache of t + 1 = {length} positions, "
             "d_k ≠ d_v", calls()),
        Part("a cache of one position (t = 0): the output is v_0", calls(length=1)),
        Part("no head axis: q_t (B, d_k), caches (B, t + 1, d)", calls(leading=(batch,))),
        Part("extreme logits (scores beyond ±1000, d_k = 16): a stable softmax",
             calls(d_k=16, extreme=True)),
    ]


# Lesson 05's positions ---------------------------------------------------------------------


def sinusoidal_encoding(rng) -> list[Part]:
    def sizes_t_d(t_range, d_range, parity):
        d = 2 * int(rng.integers(*d_range)) + parity
        t = int(rng.integers(*t_range))
        return {"T": t + (t == d), "d": d}  # T ≠ d, so that a transpose cannot hide

    even, odd = sizes_t_d((10, 60), (4, 17), 0), sizes_t_d((3, 30), (2, 8), 1)
    long, shifted = sizes_t_d((80, 121), (24, 33), 0), sizes_t_d((20, 50), (3, 12), 0)
    shifts = (1, int(rng.integers(2, 10)))
    return [
        Part(f"T = {even['T']}, d = {even['d']}", [Call(even)]),
        Part(f"odd d = {odd['d']}: the last column is a sin", [Call(odd)]),
        Part(f"a long sequence, T = {long['T']}, d = {long['d']}", [Call(long)]),
        Part(f"a shift by k = {shifts[0]} and {shifts[1]} positions rotates each (sin, cos) pair: "
             "PE[t + k] = M_k PE[t]", [ShiftCall(shifted, shifts=shifts)]),
    ]


# Lesson 07's functions ---------------------------------------------------------------------


def teacher_forcing(rng) -> list[Part]:
    def targets(n):
        return rng.integers(1, len(TARGET_VOCAB), size=(n, TARGET_LEN)).astype("int32")

    return [Part("a batch of 7 dates", [Call({"targets": targets(7)})]),
            Part("a single date", [Call({"targets": targets(1)})])]


def greedy_decode(rng) -> list[Part]:
    return [Part(f"a stand-in model (multiplier {m}), {n} source(s)",
                 [Call({"model": StandIn(m), "source": rng.integers(1, 40, size=(n, 32))})])
            for m, n in ((5, 6), (7, 1))]


def alignment(rng) -> list[Part]:
    def weights(batch, heads):
        return random_weights(rng, (batch, heads, TARGET_LEN, 32))

    return [Part(f"B={b}, H={h}, Tt=10, Ts=32", [Call({"weights": weights(b, h)})])
            for b, h in ((3, 4), (1, 1))]

