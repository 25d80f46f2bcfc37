"""The inputs every graded cell is judged on: parts of an exercise, each a list of calls.

A plan is a pure function of the exercise and a seed. The probe in the learner's kernel and the
judge in the grading process (``grader.judging.judge``) both compute it from the same seed: the
kernel
runs the learner's code on these inputs, the judge computes the right results with the answer
key. Nothing here holds an answer. The judge picks the seed for each grading, so the inputs
cannot be known in advance, and a regrade of the same submission gets the same ones.

Inputs have every dimension different (batch > 1, heads > 1 as a leading axis, Tq ≠ Tk,
d_k ≠ d_v), extreme logits and masks with fully masked rows, so that transposes, a missing
``keepdims`` or a mask applied the wrong way cannot hide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from course_lib.other_scores import toy_curve


@dataclass
class Call:
    """One call of the learner's function: positional arguments by name, keyword arguments.
    One result."""

    args: dict
    kwargs: dict = field(default_factory=dict)
    results = 1


#: Lesson 08's memory test, run by the grader outside the kernel (:class:`LimitedCall`): the
#: full ``Tq × Tk`` float64 scores take 256 MiB, one block of them 2 MiB.
LIMITED_RUN = {"t_q": 1024, "t_k": 32768, "d_k": 8, "d_v": 6, "block_size": 256}


@dataclass
class LimitedCall:
    """A call of lesson 08's ``blockwise_attention`` on a long sequence (:data:`LIMITED_RUN`)
    that the grading kernel does not make: the grader makes it in a fresh process of its own
    under a memory limit (``grader.judging.memory_check``), so the kernel hands back nothing for it.
    Its inputs come from ``seed`` alone (:meth:`arguments`), so that process needs nothing
    else of the plan; ``masked``: with a mask over the keys, shape ``(1, Tk)``; ``rows``: the
    seed of the query rows the judge checks, which that process is never told."""

    seed: int
    masked: bool
    rows: int
    results = 0

    def arguments(self) -> tuple[dict, dict]:
        """``(args, kwargs)`` of the call, as for :class:`Call`."""
        sizes = LIMITED_RUN
        rng = np.random.default_rng(self.seed)
        inputs = random_qkv(rng, (), sizes["t_q"], sizes["t_k"], sizes["d_k"], sizes["d_v"])
        if not self.masked:
            return {**inputs, "block_size": sizes["block_size"]}, {}
        mask = rng.random((1, sizes["t_k"])) < 0.7
        mask[:, : 3 * sizes["block_size"]] = False  # the first three blocks fully masked
        mask[:, -1] = True
        return {**inputs, "block_size": sizes["block_size"]}, {"mask": mask}


@dataclass
class ShiftCall(Call):
    """A call of lesson 05's ``sinusoidal_encoding`` judged by a property of its own result
    rather than by its values: a shift by each of ``shifts`` positions is one rotation per
    (sin, cos) pair, ``PE[t + k] = M_k PE[t]`` (``grader.judging.judge.judge_encoding``)."""

    shifts: tuple[int, ...] = (1,)


@dataclass
class StandIn:
    """A stand-in translator the probe builds in the kernel and passes to the learner's
    decoder (``course_lib.keras_harness.chain_model``); the judge knows what it computes."""

    multiplier: int

    def __repr__(self) -> str:
        return f"a stand-in model (multiplier {self.multiplier})"


@dataclass
class LayerCase:
    """The learner's layer built with ``config`` on these inputs, holding ``weights`` (the
    judge's, in the answer key's order), then called once per entry of ``calls`` (options such
    as ``attention_mask``) with ``return_attention_scores=True``. ``extras`` asks for more:
    ``"weight_shapes"`` (before the judge's weights go in), ``"gradients"`` (of
    ``sum(output · cotangent)`` with respect to every weight and input, the judge recomputing
    them), ``"positional_key"`` (``layer(query, value, key)``), ``"config"``
    (``from_config(get_config())``) and ``"keras_file"`` (a model saved and loaded back).
    ``gradient_seed``: the seed of the cotangent, and of the judge's directions."""

    config: dict
    query: np.ndarray
    value: np.ndarray
    key: np.ndarray | None
    weights: list[np.ndarray]
    calls: list[dict] = field(default_factory=lambda: [{}])
    extras: tuple[str, ...] = ()
    gradient_seed: int = 0

    @property
    def results(self) -> int:
        return len(self.calls) + len(self.extras)

    def cotangent(self, shape: tuple) -> np.ndarray:
        """The weights of the outputs in the loss whose gradients ``"gradients"`` asks for."""
        return np.random.default_rng(self.gradient_seed).standard_normal(shape).astype("float32")


@dataclass
class TranslatorCase:
    """The learner's ``build_translator(block=<a recording Transformer block>,
    positions=learned_positions, d_model, num_heads)`` with random weights, run on a batch of
    real source dates (seeded by ``batch_seed``): its logits, the cross-attention weights and
    every weight it holds, or, with ``train``, its logits, weights and the gradients of the
    loss."""

    d_model: int
    num_heads: int
    batch_seed: int
    train: bool = False
    results = 1


@dataclass
class Part:
    """A separately scored part of an exercise: ``share`` of the cell's points, relative to the
    other parts' shares. ``calls``: :class:`Call`, or :class:`LayerCase` for a Keras layer."""

    label: str
    calls: list
    share: float = 1.0


# Random inputs -----------------------------------------------------------------------------


def sizes(rng, n: int, low: int = 2, high: int = 12) -> list[int]:
    """``n`` different sizes in ``[low, high)``, so that no two axes can be confused."""
    return [int(size) for size in rng.choice(np.arange(low, high), n, replace=False)]


def random_qkv(rng, batch, t_q, t_k, d_k, d_v, scale=1.0) -> dict[str, np.ndarray]:
    """``{"q", "k", "v"}`` with leading axes ``batch``; ``scale`` makes the scores larger."""
    return {
        "q": rng.standard_normal((*batch, t_q, d_k)) * scale,
        "k": rng.standard_normal((*batch, t_k, d_k)) * scale,
        "v": rng.standard_normal((*batch, t_k, d_v)),
    }


def random_weights(rng, shape) -> np.ndarray:
    """Attention weights: positive rows that sum to 1."""
    weights = rng.random(shape) + 0.05
    return weights / weights.sum(axis=-1, keepdims=True)


def random_mask(rng, shape, empty_rows=()) -> np.ndarray:
    """A boolean mask in which every row allows a key, except the ``empty_rows`` (index tuples
    of the leading axes and the row), which allow none."""
    mask = rng.random(shape) < 0.5
    rows = np.indices(shape[:-1]).reshape(len(shape) - 1, -1)
    mask[(*rows, rng.integers(shape[-1], size=rows.shape[1]))] = True
    for row in empty_rows:
        mask[row] = False
    return mask


def lengths_mask(lengths, t: int) -> np.ndarray:
    """``(B, 1, 1, t)``: key ``j`` of sequence ``b`` allowed while ``j < lengths[b]``."""
    mask = np.zeros((len(lengths), 1, 1, t), dtype=bool)
    for b, length in enumerate(lengths):
        mask[b, ..., :length] = True
    return mask


def lower_triangle(t_q: int, t_k: int) -> np.ndarray:
    """``(Tq, Tk)``: True where ``j ≤ i``."""
    return np.tri(t_q, t_k, dtype=bool)


def extreme_logits(rng, shape) -> np.ndarray:
    """Logits around ±1000 and ±1e4 in steps of 1/4, exactly representable in float32 too."""
    return rng.choice([-1e4, -1e3, 0.0, 1e3, 1e4], shape) + rng.integers(-8, 9, shape) / 4


def random_step(rng, batch, length, d_k, d_v, extreme=False) -> dict[str, np.ndarray]:
    """One decoding step: ``{"q_t" (*batch, d_k), "k_cache" (*batch, length, d_k), "v_cache"
    (*batch, length, d_v)}``, the newest query and a cache of ``length`` positions.

    ``extreme``: integer-valued queries (steps of 128) and keys, so that the scores
    ``q_t·k / √d_k`` reach thousands and, for ``d_k = 16``, are multiples of 32, exact in float32
    too: a row's weights are one-hot or split between tied positions, never ``1 - 10⁻⁴`` (which
    float32 cannot hold to more than a few digits)."""
    if extreme:
        q_t = rng.integers(-8, 9, (*batch, d_k)) * 128.0
        k_cache = rng.integers(-8, 9, (*batch, length, d_k)).astype(float)
        return {"q_t": q_t, "k_cache": k_cache,
                "v_cache": rng.standard_normal((*batch, length, d_v))}
    q, k, v = random_qkv(rng, batch, 1, length, d_k, d_v).values()
    return {"q_t": q[..., 0, :], "k_cache": k, "v_cache": v}


# One plan per exercise ---------------------------------------------------------------------


def _dot_product(rng) -> list[Part]:
    n = int(rng.integers(5, 20))
    return [
        Part(f"random vectors of length {n}",
             [Call({"a": rng.standard_normal(n), "b": rng.standard_normal(n)})]),
        Part("long vectors (n = 1000) with large entries",
             [Call({"a": rng.standard_normal(1000) * 1e3, "b": rng.standard_normal(1000) * 1e3})]),
    ]


def _attention_scores(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_k = sizes(rng, 5)

    def calls(leading):
        return [Call({"q": rng.standard_normal((*leading, t_q, d_k)),
                      "k": rng.standard_normal((*leading, t_k, d_k))})]

    return [Part("batched input, Tq ≠ Tk", calls([batch])),
            Part("batch and head axes", calls([batch, heads]))]


def _softmax(rng) -> list[Part]:
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


def _masked_softmax(rng) -> list[Part]:
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


def _causal_mask(rng) -> list[Part]:
    t = int(rng.integers(5, 13))
    return [Part(f"t = {t}", [Call({"t": t})]), Part("t = 1", [Call({"t": 1})])]


def _padding_mask(rng) -> list[Part]:
    batch, t = sizes(rng, 2, low=3)
    lengths = rng.integers(0, t + 1, size=batch)
    lengths[:2] = 0, t  # an empty and a full sequence
    return [
        Part(f"{batch} sequences (an empty one and a full one) padded to t = {t}",
             [Call({"lengths": lengths, "t": t})]),
        Part("one sequence without padding", [Call({"lengths": np.array([t]), "t": t})]),
    ]


def _weighted_sum(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_v = sizes(rng, 5)

    def calls(weights_shape, v_shape):
        return [Call({"weights": random_weights(rng, weights_shape),
                      "v": rng.standard_normal(v_shape)})]

    return [
        Part("batch and head axes, Tq ≠ Tk ≠ d_v",
             calls((batch, heads, t_q, t_k), (batch, heads, t_k, d_v))),
        Part("square shapes, Tq = Tk = d_v", calls((batch, t_k, t_k), (batch, t_k, t_k))),
    ]


def _scaled_dot_product_attention(rng) -> list[Part]:
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


def _blockwise_attention(rng) -> list[Part]:
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


def _attention_backward(rng) -> list[Part]:
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


def _nadaraya_watson(rng) -> list[Part]:
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


def _additive_scores(rng) -> list[Part]:
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


def _attend_step(rng) -> list[Part]:
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


def _sinusoidal_encoding(rng) -> list[Part]:
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


# The Keras layers of lesson 04 --------------------------------------------------------------


def layer_inputs(rng, batch, t_q, t_k, d_query, d_value, d_key=None):
    """Random float32 ``query (B, Tq, d_query)``, ``value (B, Tk, d_value)`` and ``key
    (B, Tk, d_key)`` (``key`` is ``None`` when ``d_key`` is)."""
    query = rng.standard_normal((batch, t_q, d_query)).astype("float32")
    value = rng.standard_normal((batch, t_k, d_value)).astype("float32")
    key = None if d_key is None else rng.standard_normal((batch, t_k, d_key)).astype("float32")
    return query, value, key


def weight_shapes(layer: str, config: dict, d_query: int, d_value: int, d_key: int) -> list:
    """The shapes of a layer's weights, in the order of ``get_weights()`` (for
    ``MultiHeadAttention``, that of ``keras.layers.MultiHeadAttention``)."""
    if layer == "AttentionLayer":
        units = config["units"]
        return [(d_query, units), (units,), (d_key, units), (units,), (d_value, units), (units,),
                (units, units), (units,)]
    heads, key_dim = config["num_heads"], config["key_dim"]
    value_dim = config.get("value_dim") or key_dim
    shapes = [((d_query, heads, key_dim), (heads, key_dim)),
              ((d_key, heads, key_dim), (heads, key_dim)),
              ((d_value, heads, value_dim), (heads, value_dim)),
              ((heads, value_dim, d_query), (d_query,))]
    if not config.get("use_bias", True):
        return [kernel for kernel, _ in shapes]
    return [shape for pair in shapes for shape in pair]


def random_layer_weights(rng, shapes) -> list[np.ndarray]:
    """Non-zero kernels of unit-variance outputs, and non-zero biases: every weight matters."""
    weights = []
    for shape in shapes:
        scale = 0.5 if len(shape) == 1 or shape == shapes[-1] else 1 / np.sqrt(shape[0])
        weights.append((rng.standard_normal(shape) * scale).astype("float32"))
    return weights


def two_sided_mask(rng, batch, t_q, t_k):
    """A boolean ``(B, Tq, Tk)`` mask in which every row has a True and a False, so that the mask,
    its inverse and the unmasked case all give different outputs and no row is fully masked."""
    mask = rng.random((batch, t_q, t_k)) < 0.5
    allowed, blocked = rng.integers(t_k, size=(2, batch, t_q))
    blocked = np.where(blocked == allowed, (allowed + 1) % t_k, blocked)
    batch_index, query_index = np.indices((batch, t_q))
    mask[batch_index, query_index, allowed] = True
    mask[batch_index, query_index, blocked] = False
    return mask


def _layer_case(rng, layer, config, dims, calls=({},), extras=()) -> LayerCase:
    """``dims``: ``(B, Tq, Tk, d_query, d_value, d_key or None)``."""
    batch, t_q, t_k, d_query, d_value, d_key = dims
    query, value, key = layer_inputs(rng, batch, t_q, t_k, d_query, d_value, d_key)
    shapes = weight_shapes(layer, config, d_query, d_value, d_key or d_value)
    return LayerCase(config, query, value, key, random_layer_weights(rng, shapes), list(calls),
                     tuple(extras), int(rng.integers(1 << 30)))


def _mask_parts(rng, layer, config, dims, shares) -> list[Part]:
    """attention_mask by keyword, use_causal_mask (Tq ≠ Tk), both, and a fully masked row."""
    batch, t_q, t_k = dims[:3]
    mask = two_sided_mask(rng, batch, t_q, t_k)  # (B, Tq, Tk)
    padding = lengths_mask(rng.integers(2, t_k + 1, size=batch), t_k)[:, 0]  # (B, 1, Tk)
    empty = two_sided_mask(rng, batch, t_q, t_k)
    empty[0, -1, :] = False  # query Tq-1 of the first sequence may attend to nothing
    options = [
        (f"attention_mask= (B={batch}, Tq={t_q}, Tk={t_k})", {"attention_mask": mask}),
        ("use_causal_mask=True, Tq ≠ Tk", {"use_causal_mask": True}),
        ("a padding mask and the causal mask together",
         {"attention_mask": padding, "use_causal_mask": True}),
        ("a fully masked row: zero weights, never NaN", {"attention_mask": empty}),
    ]
    case = _layer_case(rng, layer, config, dims, calls=[o for _, o in options])
    return [Part(label, [LayerCase(case.config, case.query, case.value, case.key, case.weights,
                                   [o])], share)
            for (label, o), share in zip(options, shares, strict=True)]


def _attention_layer(rng) -> list[Part]:
    layer = "AttentionLayer"
    return [
        Part("every size different (B=3, Tq=4, Tk=6), a separate key", [_layer_case(
            rng, layer, {"units": 5}, (3, 4, 6, 7, 5, 9), extras=("weight_shapes", "gradients"))],
             3),
        Part("key omitted (= value)",
             [_layer_case(rng, layer, {"units": 6}, (2, 5, 3, 4, 7, None))], 3),
        *_mask_parts(rng, layer, {"units": 4}, (2, 5, 7, 3, 6, 8), (3.5, 1.75, 1.75, 3)),
        Part("get_config() and from_config()", [_layer_case(
            rng, layer, {"units": 3}, (2, 3, 4, 5, 6, 7), calls=[], extras=("config",))], 2),
        Part("saved to a .keras file and loaded back", [_layer_case(
            rng, layer, {"units": 3}, (2, 3, 4, 5, 6, 7), calls=[], extras=("keras_file",))], 2),
    ]


def _multi_head_attention(rng) -> list[Part]:
    layer = "MultiHeadAttention"
    config = {"num_heads": 3, "key_dim": 4, "value_dim": 5}
    return [
        Part("3 heads, key_dim 4 ≠ value_dim 5, Tq 5 ≠ Tk 7", [_layer_case(
            rng, layer, config, (2, 5, 7, 6, 5, 8), extras=("gradients",))], 3),
        Part("key given by position, as layer(q, v, k)", [_layer_case(
            rng, layer, config, (2, 4, 6, 5, 7, 3), calls=[], extras=("positional_key",))], 2),
        Part("weights in the shapes and order of keras.layers.MultiHeadAttention", [_layer_case(
            rng, layer, {"num_heads": 2, "key_dim": 3, "value_dim": 6}, (3, 2, 5, 4, 7, 8),
            extras=("weight_shapes",))], 2),
        Part("use_bias=False, key omitted (= value)", [_layer_case(
            rng, layer, {"num_heads": 2, "key_dim": 6, "value_dim": 3, "use_bias": False},
            (3, 4, 2, 5, 7, None), extras=("weight_shapes",))], 2),
        *_mask_parts(rng, layer, {"num_heads": 2, "key_dim": 3, "value_dim": 4},
                     (2, 5, 6, 4, 7, 5), (2.5, 1.25, 1.25, 2)),
        Part("get_config() and from_config()", [_layer_case(
            rng, layer, {"num_heads": 2, "key_dim": 3, "value_dim": 4, "use_bias": True},
            (2, 3, 4, 5, 6, 7), calls=[], extras=("config",))], 2),
        Part("saved to a .keras file and loaded back", [_layer_case(
            rng, layer, {"num_heads": 2, "key_dim": 3}, (2, 3, 4, 5, 6, 7), calls=[],
            extras=("keras_file",))], 2),
    ]


# The Transformer block of lesson 06 --------------------------------------------------------


@dataclass
class BlockCase:
    """The learner's ``TransformerBlock`` built with ``config`` on ``x`` (and ``context`` when
    it has cross-attention), holding ``weights`` (the judge's, in the block's order), then
    called once per entry of ``calls`` (``attention_mask``, ``context_mask``,
    ``use_causal_mask``, by keyword) with ``return_attention_scores=True``. ``extras``:
    ``"weight_shapes"`` (before the judge's weights go in) and ``"config"``
    (``from_config(get_config())``)."""

    config: dict
    x: np.ndarray
    context: np.ndarray | None
    weights: list[np.ndarray]
    calls: list[dict] = field(default_factory=lambda: [{}])
    extras: tuple[str, ...] = ()

    @property
    def results(self) -> int:
        return len(self.calls) + len(self.extras)


def block_weight_shapes(config: dict, d_model: int, d_context: int | None = None) -> list:
    """The shapes of a ``TransformerBlock``'s weights, in the order of ``get_weights()``:
    self-attention (as ``keras.layers.MultiHeadAttention``), LayerNorm (γ, β), with
    cross-attention the same two again (keys and values from ``d_context``), then the
    feed-forward network (``W_1, b_1, W_2, b_2``) and its LayerNorm."""
    attention = {"num_heads": config["num_heads"], "key_dim": config["key_dim"]}
    norm = [(d_model,), (d_model,)]
    shapes = weight_shapes("MultiHeadAttention", attention, d_model, d_model, d_model) + norm
    if config.get("cross_attention"):
        shapes += weight_shapes("MultiHeadAttention", attention, d_model, d_context,
                                d_context) + norm
    ff = config["ff_dim"]
    return shapes + [(d_model, ff), (ff,), (ff, d_model), (d_model,)] + norm


def random_block_weights(rng, config: dict, d_model: int, d_context: int | None = None):
    """Non-zero weights for every sublayer: kernels of unit-variance outputs, biases around
    ±0.5, LayerNorm scales γ in [0.5, 1.5] and shifts β ≠ 0."""
    shapes = block_weight_shapes(config, d_model, d_context)
    heads = (config["num_heads"], config["key_dim"])
    gammas = {8, len(shapes) - 2} | ({18} if config.get("cross_attention") else set())
    weights = []
    for index, shape in enumerate(shapes):
        if index in gammas:
            weights.append(rng.uniform(0.5, 1.5, shape))
        elif len(shape) == 1 or shape == heads:  # a bias, or a LayerNorm's β
            weights.append(rng.standard_normal(shape) * 0.5)
        else:  # a kernel (d_in, …), or an attention output's (H, key_dim, d_model)
            fan_in = shape[0] * shape[1] if shape[:2] == heads else shape[0]
            weights.append(rng.standard_normal(shape) / np.sqrt(fan_in))
    return [w.astype("float32") for w in weights]


def _transformer_block(rng) -> list[Part]:
    batch, t, t_c, d_model, d_context = 3, 5, 7, 6, 9  # every size different
    base = {"num_heads": 2, "key_dim": 4, "ff_dim": 10}

    def case(cross, norm_first, calls=({},), extras=(), **config) -> BlockCase:
        config = {**base, "cross_attention": cross, "norm_first": norm_first, **config}
        x = rng.standard_normal((batch, t, d_model)).astype("float32")
        context = rng.standard_normal((batch, t_c, d_context)).astype("float32") if cross \
            else None
        return BlockCase(config, x, context, random_block_weights(rng, config, d_model,
                                                                   d_context),
                         list(calls), tuple(extras))

    mask = two_sided_mask(rng, batch, t, t)  # (B, T, T)
    empty = two_sided_mask(rng, batch, t, t)
    empty[0, -1, :] = False  # position T-1 of the first sequence may attend to nothing
    padding = lengths_mask(rng.integers(2, t_c, size=batch), t_c)[:, 0]  # (B, 1, Tc)
    context_mask = two_sided_mask(rng, batch, t, t_c)  # (B, T, Tc)
    context_mask[-1, 0, :] = False  # a fully masked row of the cross-attention
    sizes_text = f"B={batch}, T={t}, d_model={d_model}, 2 heads, key_dim=4, ff_dim=10"
    return [
        Part(f"pre-LN (norm_first=True), {sizes_text}",
             [case(False, True, extras=("weight_shapes",))], 2),
        Part("post-LN (norm_first=False)", [case(False, False)], 1.5),
        Part("use_causal_mask=True, pre-LN and post-LN",
             [case(False, True, [{"use_causal_mask": True}]),
              case(False, False, [{"use_causal_mask": True}])], 1),
        Part("attention_mask by keyword, and a fully masked row",
             [case(False, True, [{"attention_mask": mask}, {"attention_mask": empty}])], 1),
        Part(f"cross-attention (Tc={t_c}, d_context={d_context}), pre-LN, causal "
             "self-attention", [case(True, True, [{"use_causal_mask": True}],
                                     extras=("weight_shapes",))], 2),
        Part("cross-attention, post-LN, context_mask by keyword (padding, a fully masked row)",
             [case(True, False, [{"context_mask": padding},
                                 {"context_mask": context_mask, "attention_mask": mask}])], 2),
        Part("get_config() and from_config()",
             [case(True, False, [], ("config",), epsilon=1e-5)], 1),
    ]


# Lesson 07's functions -------------------------------------------------------------------


def _teacher_forcing(rng) -> list[Part]:
    from course_lib.dates import TARGET_LEN, TARGET_VOCAB

    def targets(n):
        return rng.integers(1, len(TARGET_VOCAB), size=(n, TARGET_LEN)).astype("int32")

    return [Part("a batch of 7 dates", [Call({"targets": targets(7)})]),
            Part("a single date", [Call({"targets": targets(1)})])]


def _greedy_decode(rng) -> list[Part]:
    return [Part(f"a stand-in model (multiplier {m}), {n} source(s)",
                 [Call({"model": StandIn(m), "source": rng.integers(1, 40, size=(n, 32))})])
            for m, n in ((5, 6), (7, 1))]


def _alignment(rng) -> list[Part]:
    from course_lib.dates import TARGET_LEN

    def weights(batch, heads):
        return random_weights(rng, (batch, heads, TARGET_LEN, 32))

    return [Part(f"B={b}, H={h}, Tt=10, Ts=32", [Call({"weights": weights(b, h)})])
            for b, h in ((3, 4), (1, 1))]


def _build_translator(rng) -> list[Part]:
    batch_seed = int(rng.integers(1 << 30))
    return [
        Part("d_model=32, num_heads=2: the logits and cross-attention weights of the diagram's "
             "model on the weights yours holds (causal, masked, reading the source)",
             [TranslatorCase(32, 2, batch_seed)]),
        Part("training: the gradient of the loss reaches every weight, and a step lowers it",
             [TranslatorCase(32, 2, batch_seed + 1, True)]),
    ]


# Lesson 11's decoding with a KV cache ---------------------------------------------------


@dataclass
class DecodeCase:
    """The judge's translator (``course_lib.decoding.Translator`` of ``KerasBlock``s, learned
    positions) holding ``weights``, and a batch of ``source`` dates. With ``tokens`` (B, T), the
    learner's ``decode_step`` is fed them one at a time inside ``tf.function``: its logits
    (B, T, V), its last cache and how many times it was traced come back. With ``length``, the
    learner's ``cached_greedy_decode(translator, source, length)``: its ids, and how many
    target positions were embedded and sources encoded on the way."""

    d_model: int
    num_heads: int
    max_length: int
    weights: list[np.ndarray]
    source: np.ndarray
    tokens: np.ndarray | None = None
    length: int | None = None
    results = 1


def random_translator_weights(rng, d_model: int, num_heads: int, max_length: int) -> list:
    """Every weight of a ``Translator`` (in ``get_weights()`` order), non-zero and of unit-size
    outputs: embeddings and positions N(0, 1), the blocks' as :func:`random_block_weights`,
    the logits' kernel N(0, 1/d) times 3 (clear winners for greedy decoding)."""
    from course_lib.dates import SOURCE_LEN, SOURCE_VOCAB, TARGET_VOCAB

    block = {"num_heads": num_heads, "key_dim": d_model // num_heads, "ff_dim": 2 * d_model,
             "norm_first": False}
    vocab = len(TARGET_VOCAB)
    weights = [rng.standard_normal((len(SOURCE_VOCAB), d_model)),
               rng.standard_normal((SOURCE_LEN, d_model)),
               *random_block_weights(rng, block, d_model),
               rng.standard_normal((vocab, d_model)), rng.standard_normal((max_length, d_model)),
               *random_block_weights(rng, {**block, "cross_attention": True}, d_model, d_model),
               3 * rng.standard_normal((d_model, vocab)) / np.sqrt(d_model),
               0.5 * rng.standard_normal(vocab)]
    return [np.asarray(w, dtype="float32") for w in weights]


def _decode_case(rng, batch, d_model=24, num_heads=3, max_length=12, **run) -> DecodeCase:
    from course_lib.dates import date_dataset

    source = date_dataset(batch, seed=int(rng.integers(1 << 30)))["source"]  # (B, Ts)
    return DecodeCase(d_model, num_heads, max_length,
                      random_translator_weights(rng, d_model, num_heads, max_length), source,
                      **run)


def _decode_step(rng) -> list[Part]:
    from course_lib.dates import START_ID, TARGET_VOCAB

    def tokens(batch, length):  # START, then any target symbols
        ids = rng.integers(1, len(TARGET_VOCAB), size=(batch, length)).astype("int32")
        ids[:, 0] = START_ID
        return ids

    return [
        Part("5 sources, 12 steps (every position up to max_length=12), d_model=24, 3 heads "
             "of 8: the logits at every step, and the keys and values in the cache",
             [_decode_case(rng, 5, tokens=tokens(5, 12))], 2),
        Part("d_model=20, 2 heads of 10, 4 sources, 9 steps",
             [_decode_case(rng, 4, d_model=20, num_heads=2, tokens=tokens(4, 9))], 1),
    ]


def _cached_greedy_decode(rng) -> list[Part]:
    return [Part("6 sources, 12 tokens (every position up to max_length=12): the greedy choice "
                 "at every step (the work your kernel counts can only cost points)",
                 [_decode_case(rng, 6, length=12)])]


PLANS = {
    "dot_product": _dot_product,
    "attention_scores": _attention_scores,
    "softmax": _softmax,
    "masked_softmax": _masked_softmax,
    "causal_mask": _causal_mask,
    "padding_mask": _padding_mask,
    "weighted_sum": _weighted_sum,
    "scaled_dot_product_attention": _scaled_dot_product_attention,
    "blockwise_attention": _blockwise_attention,
    "sinusoidal_encoding": _sinusoidal_encoding,
    "attention_backward": _attention_backward,
    "nadaraya_watson": _nadaraya_watson,
    "additive_scores": _additive_scores,
    "attend_step": _attend_step,
    "AttentionLayer": _attention_layer,
    "MultiHeadAttention": _multi_head_attention,
    "TransformerBlock": _transformer_block,
    "teacher_forcing": _teacher_forcing,
    "build_translator": _build_translator,
    "greedy_decode": _greedy_decode,
    "alignment": _alignment,
    "decode_step": _decode_step,
    "cached_greedy_decode": _cached_greedy_decode,
}


def plan(exercise: str, seed: int, cell: str = "hidden") -> list[Part]:
    """The parts a graded cell of ``exercise`` is judged on: all of them for the hidden test,
    the first for the public check cell (``cell="check"``)."""
    parts = PLANS[exercise](np.random.default_rng(seed))
    return parts[:1] if cell == "check" else parts
