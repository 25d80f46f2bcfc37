"""The answer key's Transformer block (lesson ``06_transformer_block``) as a NumPy forward pass,
with one method per step, so that a wrong block (``grader.lessons.lesson_06_transformer_block``)
overrides the one step it gets wrong; and the outputs of a table of wrong blocks on given
inputs, or where they fail. Its Keras answer key is
:class:`grader.reference.keras_layers.TransformerBlock`. Built on
:class:`grader.reference.numpy_layers.MultiHeadAttentionForward`, with the same conventions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from grader.reference.numpy_layers import MultiHeadAttentionForward, _as_float64

__all__ = ["TransformerBlockForward", "Masks", "BLOCKS", "block_forward",
           "block_variant_outputs", "failing_variants"]


class Masks(NamedTuple):
    """The masks of one call: ``attention_mask`` (the self-attention's), ``context_mask`` (the
    cross-attention's), and ``use_causal_mask`` (the self-attention's alone)."""

    attention: np.ndarray | None
    context: np.ndarray | None
    causal: bool


class TransformerBlockForward:
    r"""``grader.reference.keras_layers.TransformerBlock`` in NumPy.

    .. math::
        \text{pre-LN:}\ x \leftarrow x + \mathrm{Attn}(\mathrm{LN}(x)),\ \dots,\
        y = x + \mathrm{FFN}(\mathrm{LN}(x));\qquad
        \text{post-LN:}\ x \leftarrow \mathrm{LN}(x + \mathrm{Attn}(x)),\ \dots,\
        y = \mathrm{LN}(x + \mathrm{FFN}(x))

    .. math:: \mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta,
              \qquad \mathrm{FFN}(x) = \max(0, xW_1 + b_1)W_2 + b_2

    with :math:`\mu, \sigma^2` the mean and variance of each position's features.

    Args:
        weights: ``get_weights()`` in the block's order: self-attention (8), its LayerNorm
            (γ, β), with cross-attention the cross-attention (8) and its LayerNorm (2), then
            ``W_1 (d, ff)``, ``b_1``, ``W_2 (ff, d)``, ``b_2`` and the last LayerNorm (2).
        num_heads, key_dim, ff_dim, cross_attention, norm_first, epsilon: the block's config.
        keras_config: the rest of a Keras config (``name``, ``dtype``, …), ignored.
    """

    def __init__(self, weights, num_heads, key_dim, ff_dim, cross_attention=False,
                 norm_first=True, epsilon=1e-6, **keras_config):
        weights = [np.asarray(w, dtype=np.float64) for w in weights]
        expected = 26 if cross_attention else 16
        if len(weights) != expected:
            raise ValueError(f"TransformerBlock(cross_attention={cross_attention}) expects "
                             f"{expected} weight arrays. Received: {len(weights)}")
        self.cross_attention, self.norm_first = bool(cross_attention), bool(norm_first)
        self.epsilon = float(epsilon)
        config = {"num_heads": num_heads, "key_dim": key_dim}
        self.self_attention = MultiHeadAttentionForward(weights[:8], **config)
        self.norms = {"self_attention": weights[8:10]}
        rest = weights[10:]
        if self.cross_attention:
            self.cross_attention_layer = MultiHeadAttentionForward(rest[:8], **config)
            self.norms["cross_attention"] = rest[8:10]
            rest = rest[10:]
        self.ff_params = rest[:4]  # W_1 (d, ff), b_1 (ff,), W_2 (ff, d), b_2 (d,)
        self.norms["ff"] = rest[4:6]
        if self.ff_params[0].shape != (self.ff_params[0].shape[0], int(ff_dim)):
            raise ValueError(f"TransformerBlock: W_1 should be (d_model, {ff_dim}). Received: "
                             f"{self.ff_params[0].shape}")

    # -- the forward pass ---------------------------------------------------------------------
    def forward(self, x, context=None, attention_mask=None, context_mask=None,
                use_causal_mask=False):
        """``(y, attention_weights)``: ``y (B, T, d_model)``; the weights are the
        cross-attention's ``(B, H, T, Tc)`` with ``cross_attention``, else the self-attention's
        ``(B, H, T, T)``."""
        x = _as_float64(x, "x")
        if self.cross_attention:
            context = _as_float64(context, "context")
        masks = Masks(attention_mask, context_mask, bool(use_causal_mask))
        return self.returned(*self.sublayers(x, context, masks))

    # -- the steps ------------------------------------------------------------------------------
    def sublayers(self, x, context, masks):
        """``(y, self-attention weights, cross-attention weights or None)``: the sublayers in
        their order, self-attention, cross-attention, feed-forward network."""
        x, self_weights = self.sublayer(x, "self_attention",
                                        lambda h: self.self_attend(h, masks))  # (B, T, d)
        cross_weights = None
        if self.cross_attention:
            x, cross_weights = self.sublayer(
                x, "cross_attention", lambda h: self.cross_attend(h, context, masks))  # (B, T, d)
        y, _ = self.sublayer(x, "ff", lambda h: (self.feed_forward(h), None))  # (B, T, d)
        return y, self_weights, cross_weights

    def returned(self, y, self_weights, cross_weights):
        """``(y, weights)``: the cross-attention's weights when there is one."""
        return y, self_weights if cross_weights is None else cross_weights

    def sublayer(self, x, norm, f):
        r"""A residual sublayer: :math:`x + f(\mathrm{LN}(x))` (pre-LN) or
        :math:`\mathrm{LN}(x + f(x))` (post-LN). ``f`` returns ``(out, weights)``."""
        if self.norm_first:
            out, weights = f(self.layer_norm(x, norm))  # (B, T, d)
            return self.residual(x, out), weights
        out, weights = f(x)  # (B, T, d)
        return self.layer_norm(self.residual(x, out), norm), weights

    def residual(self, x, out):
        """The residual connection ``x + out``, ``(B, T, d)``."""
        return x + out

    def layer_norm(self, x, norm, axis=-1):
        r"""LayerNorm of each position's features: :math:`\gamma (x - \mu) /
        \sqrt{\sigma^2 + \epsilon} + \beta`, ``(B, T, d)`` → ``(B, T, d)``."""
        gamma, beta = self.norms[norm]
        mean = x.mean(axis=axis, keepdims=True)  # (B, T, 1)
        variance = x.var(axis=axis, keepdims=True)  # (B, T, 1)
        return gamma * (x - mean) / np.sqrt(variance + self.epsilon) + beta  # (B, T, d)

    def self_attend(self, h, masks):
        """Self-attention of ``h (B, T, d)``, under ``attention_mask`` and the causal mask:
        ``((B, T, d), (B, H, T, T))``."""
        return self.self_attention.forward(h, h, attention_mask=masks.attention,
                                           use_causal_mask=masks.causal)

    def cross_attend(self, h, context, masks):
        """``h (B, T, d)`` attends to ``context (B, Tc, dc)`` under ``context_mask``, never
        causally: ``((B, T, d), (B, H, T, Tc))``."""
        return self.cross_attention_layer.forward(h, context, attention_mask=masks.context)

    def activation(self, z):
        """ReLU, :math:`\\max(0, z)`."""
        return np.maximum(z, 0.0)

    def feed_forward(self, h):
        r""":math:`\max(0, hW_1 + b_1)W_2 + b_2`, the same at every position:
        ``(B, T, d)`` → ``(B, T, ff)`` → ``(B, T, d)``."""
        w1, b1, w2, b2 = self.ff_params
        return self.activation(h @ w1 + b1) @ w2 + b2  # (B, T, d)


BLOCKS: dict[str, type[TransformerBlockForward]] = {"TransformerBlock": TransformerBlockForward}

def block_forward(config, weights, x, context=None, **options):
    """``(y, attention_weights)`` of the answer key's ``TransformerBlock`` built with
    ``config`` and holding ``weights``; ``options``: ``attention_mask``, ``context_mask``,
    ``use_causal_mask``."""
    return TransformerBlockForward(weights, **config).forward(x, context, **options)


def _variant_results(variants, config, weights, x, context, options):
    """``{key: (y, attention_weights) or None}`` of the wrong blocks ``variants`` (``{key:
    class}``): None where one cannot run on these inputs (a product of axes that do not
    match)."""
    results = {}
    for name, cls in variants.items():
        try:
            with np.errstate(all="ignore"):
                results[name] = cls(weights, **config).forward(x, context, **options)
        except ValueError:
            results[name] = None
    return results


def block_variant_outputs(variants, config, weights, x, context=None,
                          **options) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{key: (y, attention_weights)}`` of every wrong block of ``variants`` (``{key:
    class}``, the instructor record's) that runs on these inputs."""
    results = _variant_results(variants, config, weights, x, context, options)
    return {name: result for name, result in results.items() if result is not None}


def failing_variants(variants, config, weights, x, context=None, **options) -> list[str]:
    """The keys of the wrong blocks of ``variants`` that cannot run on these inputs, where the
    right block does (a mistake that shows as a shape error): a block that fails there may
    make it."""
    block_forward(config, weights, x, context, **options)
    results = _variant_results(variants, config, weights, x, context, options)
    return [name for name, result in results.items() if result is None]
