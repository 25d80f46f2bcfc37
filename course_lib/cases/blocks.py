"""Lesson 06's Transformer block: the case of the block exercise (:class:`BlockCase`), how the
probe runs the learner's block on it in the kernel (as a layer, :func:`run_keras_case`), the
shapes and random values of a block's weights and the mistakes wrong shapes show, and the plan
of ``TransformerBlock``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from course_lib.cases.inputs import lengths_mask, two_sided_mask
from course_lib.cases.layers import keras_slots, run_keras_case, weight_shapes
from course_lib.cases.records import Part, Slot
from course_lib.keras_harness import checking


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

    def slots(self, start: int) -> tuple[Slot, ...]:
        return keras_slots(start, self.calls, self.extras)

    def run(self, cls, slots: tuple[Slot, ...], arrays: dict) -> list[dict]:
        """Build the learner's block on ``x`` (and ``context``), give it the judge's weights,
        run every call (options by keyword) and extra."""
        context = {} if self.context is None else {"context": self.context}
        with checking():  # quiet, and exact float32 (no TF32) on GPUs
            return run_keras_case(cls, self, slots, arrays, (self.x,), context,
                                  {"config": lambda block: self._from_config(cls, block)})[1]

    def _from_config(self, cls, block) -> tuple[object, dict]:
        """The output of ``cls.from_config(block.get_config())``, and a record of the config's
        values."""
        context = {} if self.context is None else {"context": self.context}
        config = block.get_config()
        values = {name: config.get(name) for name in self.config
                  if isinstance(config.get(name), int | float | bool | type(None))}
        copy = cls.from_config(config)
        copy(self.x, **context)
        copy.set_weights(self.weights)
        return copy(self.x, **context), {"status": "ok", "config": values}


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


def shape_mistake(config: dict, d_model: int, d_context: int | None,
                  held: list[tuple] | None) -> str | None:
    """The key of the mistake that gives a block built with ``config`` on ``d_model`` (and
    ``d_context``) the weights' shapes ``held``, if it is a known one: keys and values of the
    cross-attention from ``x``, the cross-attention never called, ``num_heads`` and ``key_dim``
    swapped, ``ff_dim`` unused, or a LayerNorm shared or left out (a sublayer never called is
    never built and holds no weights)."""
    expected = block_weight_shapes(config, d_model, d_context)
    if held is None or held == expected:
        return None
    if d_context is not None and held == block_weight_shapes(config, d_model, d_model):
        return "block_cross_keys_from_x"
    if d_context is not None and held == block_weight_shapes(
            {**config, "cross_attention": False}, d_model):
        return "block_cross_attention_skipped"
    swapped = {**config, "num_heads": config["key_dim"], "key_dim": config["num_heads"]}
    if held == block_weight_shapes(swapped, d_model, d_context):
        return "block_heads_key_dim_swapped"
    w1 = held[len(held) - 6] if len(held) == len(expected) else ()  # W_1 (d_model, width)
    if len(w1) == 2 and held == block_weight_shapes({**config, "ff_dim": w1[1]}, d_model,
                                                    d_context):
        return "block_ff_dim_unused"
    norms = [(8, 9), (len(expected) - 2, len(expected) - 1)] + ([(18, 19)] if d_context else [])
    for unused in itertools.chain.from_iterable(
            itertools.combinations(norms, n) for n in range(1, len(norms))):
        dropped = {index for pair in unused for index in pair}
        if held == [shape for index, shape in enumerate(expected) if index not in dropped]:
            return "block_norm_shared"
    return None


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


def transformer_block(rng) -> list[Part]:
    """Every option the contract allows, alone and combined: pre-LN and post-LN, the causal
    mask, a padding mask, the two together, cross-attention with a context mask (and the
    self-attention's masks beside it), a non-default epsilon on inputs small enough for it to
    matter, and ``get_config``. Every case also reports its weights' shapes (a wrong shape
    names its mistake before any call fails on it), and one call is made twice (an output that
    changes between the two is random at inference)."""
    batch, t, t_c, d_model, d_context = 3, 5, 7, 6, 9  # every size different
    base = {"num_heads": 2, "key_dim": 4, "ff_dim": 10}

    def case(cross, norm_first, calls=({},), extras=(), scale=1.0, **config) -> BlockCase:
        config = {**base, "cross_attention": cross, "norm_first": norm_first, **config}
        x = (rng.standard_normal((batch, t, d_model)) * scale).astype("float32")
        context = rng.standard_normal((batch, t_c, d_context)).astype("float32") if cross \
            else None
        return BlockCase(config, x, context, random_block_weights(rng, config, d_model,
                                                                   d_context),
                         list(calls), ("weight_shapes", *extras))

    mask = two_sided_mask(rng, batch, t, t)  # (B, T, T)
    empty = two_sided_mask(rng, batch, t, t)
    empty[0, -1, :] = False  # position T-1 of the first sequence may attend to nothing
    padding = lengths_mask(rng.integers(2, t_c, size=batch), t_c)[:, 0]  # (B, 1, Tc)
    own_padding = lengths_mask(rng.integers(2, t, size=batch), t)[:, 0]  # (B, 1, T)
    context_mask = two_sided_mask(rng, batch, t, t_c)  # (B, T, Tc)
    context_mask[-1, 0, :] = False  # a fully masked row of the cross-attention
    causal_padded = {"use_causal_mask": True, "attention_mask": own_padding}
    sizes_text = f"B={batch}, T={t}, d_model={d_model}, 2 heads, key_dim=4, ff_dim=10"
    return [
        Part(f"pre-LN (norm_first=True), {sizes_text}", [case(False, True)], 2),
        Part("post-LN (norm_first=False), called twice alike", [case(False, False, [{}, {}])],
             1.5),
        Part("use_causal_mask=True, pre-LN and post-LN",
             [case(False, True, [{"use_causal_mask": True}]),
              case(False, False, [{"use_causal_mask": True}])], 1),
        Part("attention_mask by keyword, and a fully masked row",
             [case(False, True, [{"attention_mask": mask}, {"attention_mask": empty}])], 1),
        Part("use_causal_mask=True and a padding attention_mask together: both apply",
             [case(False, True, [causal_padded]), case(False, False, [causal_padded])], 1),
        Part(f"cross-attention (Tc={t_c}, d_context={d_context}), pre-LN, causal "
             "self-attention", [case(True, True, [{"use_causal_mask": True}])], 2),
        Part("cross-attention, post-LN, context_mask by keyword (padding, a fully masked row)",
             [case(True, False, [{"context_mask": padding},
                                 {"context_mask": context_mask, "attention_mask": mask}])], 2),
        Part("cross-attention, pre-LN: a causal self-attention with its padding mask, and a "
             "context_mask", [case(True, True, [{**causal_padded, "context_mask": padding}])], 1),
        Part("epsilon=1e-2 on inputs of small scale, pre-LN and post-LN",
             [case(False, True, scale=0.05, epsilon=1e-2),
              case(False, False, scale=0.05, epsilon=1e-2)], 1),
        Part("get_config() and from_config()",
             [case(True, False, [], ("config",), epsilon=1e-5)], 1),
    ]
