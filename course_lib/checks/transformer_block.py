"""Public check of lesson 06's ``TransformerBlock``: properties only (no other block is its
yardstick)."""

from __future__ import annotations

import inspect

import numpy as np

from course_lib.cases.blocks import block_weight_shapes, shape_mistake
from course_lib.cases.inputs import two_sided_mask
from course_lib.checks.shared import passed
from course_lib.feedback import CheckFailed, compare, to_numpy
from course_lib.keras_harness import (
    KERAS_ATOL,
    KERAS_RTOL,
    check_weight_shapes,
    check_weights_sum_to_one,
    checking,
    compare_keras,
    learner_weights,
    make_layer,
    mistake,
    run_answer,
)

BLOCK_PARAMETERS = ("x", "context", "attention_mask", "context_mask", "use_causal_mask",
                    "return_attention_scores")


#: What to look at when a run of the block fails, by what the run tests.
FAILING_HINTS = {
    "the block on x": "Each sublayer's output is added back to x, so it has d_model features: "
                      "the FFN is ff_output(ff_hidden(h)), back from ff_dim to d_model.",
    "the cross-attention": "The cross-attention's queries come from the block's own positions "
                           "(h), its keys and values from `context`, of another width: "
                           "cross_attention_layer(h, context, attention_mask=context_mask).",
}


def _run_block(block, x, scores: bool = False, failing: str | None = None, **options):
    """The block's output (NumPy), or ``(output, weights)`` when ``scores``; options by keyword.
    ``failing``: what this run tests, whose hint (:data:`FAILING_HINTS`) a failure gets."""
    name = "TransformerBlock"
    if scores:
        options["return_attention_scores"] = True
    try:
        result = run_answer(block, x, name=f"{name}.call", **options)
    except CheckFailed as failure:
        if failing is None:
            raise
        raise CheckFailed(f"{failure}\n  {FAILING_HINTS[failing]}") from None
    if not scores:
        return to_numpy(result, f"the output of {name}")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise CheckFailed(f"With return_attention_scores=True, {name} should return (y, "
                          f"weights). Received: {type(result).__name__}")
    return to_numpy(result[0], f"the output of {name}"), to_numpy(result[1], "the weights")


def _check_known_shapes(block, config: dict, d_model: int, d_context: int | None) -> None:
    """The block's weights' shapes do not show a known mistake (``ff_dim`` unused, keys from
    ``x``, a LayerNorm shared, ...)."""
    held = [tuple(np.shape(w)) for w in learner_weights(block, "TransformerBlock")]
    key = shape_mistake(config, d_model, d_context, held)
    if key is not None:
        raise mistake(f"TransformerBlock holding weights of shapes {held}", key)


def _standardised(x, epsilon):
    """Each position's features with mean 0 and variance 1: a LayerNorm with γ = 1, β = 0."""
    mean, variance = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon)


def _silenced(weights):
    """A block's weights (in the order of ``block_weight_shapes``) with every sublayer's output
    zeroed (the attention output kernels and biases, and the feed-forward network's W_2, b_2),
    and every LayerNorm's γ = 1, β = 0."""
    n = len(weights)  # 16, or 26 with cross-attention
    cross = n == 26
    zeroed = {6, 7, n - 4, n - 3} | ({16, 17} if cross else set())
    gammas = {8, n - 2} | ({18} if cross else set())
    silenced = [np.array(w, dtype="float32") for w in weights]
    for index in range(n):
        if index in gammas:
            silenced[index] = np.ones_like(silenced[index])
        elif index in zeroed or index - 1 in gammas:
            silenced[index] = np.zeros_like(silenced[index])
    return silenced


def check_transformer_block(TransformerBlock) -> None:  # noqa: N803 — the learner's class
    """Public check of lesson 06's ``TransformerBlock``: shapes, the weights' order, the
    identity path of pre-LN and the normalised output of post-LN, the feed-forward network,
    masks by keyword, cross-attention, and ``get_config``. Properties only: no other block is
    its yardstick."""
    name, n_checks = "TransformerBlock", 0
    rng = np.random.default_rng(6)
    batch, t, t_c, d_model, d_context = 2, 5, 7, 8, 6
    config = {"num_heads": 2, "key_dim": 4, "ff_dim": 12}
    x = rng.standard_normal((batch, t, d_model)).astype("float32") * 2 + 1  # (B, T, d)
    context = rng.standard_normal((batch, t_c, d_context)).astype("float32")  # (B, Tc, dc)
    with checking():
        try:
            parameters = [p for p in inspect.signature(TransformerBlock.call).parameters
                          if p != "self"]
        except (TypeError, ValueError) as error:
            raise CheckFailed(f"`{name}.call` cannot be inspected: {error}") from None
        if parameters[:len(BLOCK_PARAMETERS)] != list(BLOCK_PARAMETERS):
            raise CheckFailed(f"`{name}.call` should be call(self, {', '.join(BLOCK_PARAMETERS)})"
                              f". Received: call(self, {', '.join(parameters)})")
        block = make_layer(TransformerBlock, name, **config)
        y, weights = _run_block(block, x, scores=True, failing="the block on x")
        _check_known_shapes(block, config, d_model, None)
        if y.shape != x.shape or weights.shape != (batch, 2, t, t):
            raise CheckFailed(f"{name}(**{config}) on x {x.shape} should return y {x.shape} and "
                              f"self-attention weights (B, H, T, T) = {(batch, 2, t, t)}. "
                              f"Received: {y.shape} and {weights.shape}")
        shapes = block_weight_shapes(config, d_model)
        check_weight_shapes(learner_weights(block, name), shapes, name)
        n_checks += 2

        # Every sublayer silenced: pre-LN keeps x itself (the identity path), post-LN
        # normalises it twice (LN of LN is LN).
        params = learner_weights(block, name)
        block.set_weights(_silenced(params))
        y = _run_block(block, x)
        if np.allclose(y, 0.0, atol=KERAS_ATOL):
            raise mistake(f"{name}(norm_first=True)", "block_no_residual")
        if not np.allclose(y, x, rtol=KERAS_RTOL, atol=KERAS_ATOL):
            raise CheckFailed(
                f"{name}(norm_first=True) with every sublayer's output set to zero should return "
                "x unchanged: x + 0 at each residual connection. It does not: is x itself (not "
                "LN(x)) added back, and is the sum left unnormalised in pre-LN?")
        post = make_layer(TransformerBlock, name, **config, norm_first=False)
        _run_block(post, x)
        post.set_weights(_silenced(learner_weights(post, name)))
        if np.allclose(_run_block(post, x), x, rtol=KERAS_RTOL, atol=KERAS_ATOL):
            raise mistake(f"{name}(norm_first=False)", "block_always_pre_norm")
        compare(_run_block(post, x), _standardised(x, 1e-6), what=f"{name}(norm_first=False) "
                "with every sublayer's output zero (LN(x + 0), three times)", rtol=KERAS_RTOL,
                atol=KERAS_ATOL, misconceptions={"block_epsilon_ignored": _standardised(x, 1e-3)})
        n_checks += 2

        # The feed-forward network alone (attention silenced): y = x + FFN(LN(x)).
        w1, b1, w2, b2 = (rng.standard_normal(s).astype("float32") * 0.5 for s in shapes[10:14])
        alone = _silenced(params)
        alone[10:14] = w1, b1, w2, b2
        block.set_weights(alone)
        h = _standardised(x.astype(np.float64), 1e-6)
        compare(_run_block(block, x) - x, np.maximum(h @ w1 + b1, 0) @ w2 + b2,
                what=f"y - x of {name} with its attention silenced: FFN(LN(x))",
                misconceptions={"block_no_relu": (h @ w1 + b1) @ w2 + b2},
                rtol=KERAS_RTOL, atol=KERAS_ATOL)
        block.set_weights(params)
        n_checks += 1

        # Masks, by keyword.
        y = _run_block(block, x, use_causal_mask=True)
        later = x.copy()
        later[:, 3:] += 1.0  # positions 3 and after change
        if not np.allclose(_run_block(block, later, use_causal_mask=True)[:, :3], y[:, :3],
                           atol=KERAS_ATOL):
            raise mistake(f"{name}(x, use_causal_mask=True)", "block_causal_ignored")
        mask = two_sided_mask(rng, batch, t, t)  # (B, T, T)
        if np.allclose(_run_block(block, x, attention_mask=mask), _run_block(block, x),
                       atol=KERAS_ATOL):
            raise mistake(f"{name}(x, attention_mask=mask)", "block_mask_ignored")
        n_checks += 2

        # Cross-attention: the weights over the context; context_mask blocks context positions.
        cross = make_layer(TransformerBlock, name, **config, cross_attention=True)
        y, weights = _run_block(cross, x, scores=True, context=context,
                                failing="the cross-attention")
        _check_known_shapes(cross, {**config, "cross_attention": True}, d_model, d_context)
        check_weight_shapes(learner_weights(cross, name),
                            block_weight_shapes({**config, "cross_attention": True}, d_model,
                                                d_context), name)
        if weights.shape == (batch, 2, t, t):
            raise mistake(f"{name}(cross_attention=True)", "block_self_attention_scores")
        if weights.shape != (batch, 2, t, t_c):
            raise CheckFailed(f"With cross_attention=True, {name} should return the "
                              f"cross-attention's weights (B, H, T, Tc) = {(batch, 2, t, t_c)}. "
                              f"Received: {weights.shape}")
        check_weights_sum_to_one(weights, f"the cross-attention weights of {name}")
        changed = context.copy()
        changed[:, -2:] += 1.0  # the last two context positions change
        if np.allclose(_run_block(cross, x, context=changed), y, atol=KERAS_ATOL):
            raise CheckFailed(f"{name}(cross_attention=True)'s output does not depend on its "
                              "context: the cross-attention's keys and values come from it.")
        context_mask = np.ones((batch, 1, t_c), dtype=bool)
        context_mask[..., -2:] = False  # those two positions may not be attended to
        kept = _run_block(cross, x, context=context, context_mask=context_mask)
        if not np.allclose(_run_block(cross, x, context=changed, context_mask=context_mask),
                           kept, atol=KERAS_ATOL):
            raise mistake(f"{name}(x, context, context_mask=...)", "block_context_mask_ignored")
        n_checks += 3

        # get_config and from_config: a copy with the same weights computes the same.
        full = {**config, "cross_attention": True, "norm_first": True, "epsilon": 1e-6}
        layer_config = run_answer(cross.get_config, name=f"{name}.get_config")
        wrong = {k: layer_config.get(k, "missing") for k, v in full.items()
                 if layer_config.get(k, "missing") != v}
        if wrong:
            raise CheckFailed(f"{name}.get_config() should hold the constructor's arguments "
                              f"{full}; these differ: {wrong}. Return "
                              "{**super().get_config(), ...} with every argument.")
        copy = run_answer(TransformerBlock.from_config, layer_config, name=f"{name}.from_config")
        _run_block(copy, x, context=context)
        copy.set_weights(learner_weights(cross, name))
        compare_keras(_run_block(copy, x, context=context), y,
                      what=f"{name}.from_config(get_config()) holding the same weights")
        n_checks += 1
    passed(name, n_checks)
