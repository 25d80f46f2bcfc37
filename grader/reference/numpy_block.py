"""The answer key's Transformer block (lesson ``06_transformer_block``) as a NumPy forward pass,
with its known wrong variants (``BLOCK_VARIANTS``, keyed as in
:data:`course_lib.misconceptions.DESCRIPTIONS`); its Keras answer key is
:class:`grader.reference.keras_layers.TransformerBlock`. Built on
:class:`grader.reference.numpy_layers.MultiHeadAttentionForward`, with the same conventions.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from grader.reference.numpy_layers import MultiHeadAttentionForward, _as_float64

__all__ = ["TransformerBlockForward", "Masks", "BLOCKS", "BLOCK_VARIANTS", "block_forward",
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


class BlockNoResidual(TransformerBlockForward):
    """No residual connections: each sublayer's output replaces its input."""

    def residual(self, x, out):
        return out


class BlockNormFirstIgnored(TransformerBlockForward):
    """Always post-LN: ``norm_first=True`` ignored."""

    def sublayer(self, x, norm, f):
        out, weights = f(x)
        return self.layer_norm(x + out, norm), weights


class BlockAlwaysPreNorm(TransformerBlockForward):
    """Always pre-LN: ``norm_first=False`` ignored."""

    def sublayer(self, x, norm, f):
        out, weights = f(self.layer_norm(x, norm))
        return x + out, weights


class BlockResidualNormalised(TransformerBlockForward):
    """Pre-LN with the sum normalised too: ``LN(x + f(LN(x)))``."""

    def sublayer(self, x, norm, f):
        if not self.norm_first:
            return super().sublayer(x, norm, f)
        out, weights = f(self.layer_norm(x, norm))
        return self.layer_norm(x + out, norm), weights


class BlockResidualFromNormalised(TransformerBlockForward):
    """Pre-LN whose residual starts from the normalised input: ``LN(x) + f(LN(x))``."""

    def sublayer(self, x, norm, f):
        if not self.norm_first:
            return super().sublayer(x, norm, f)
        h = self.layer_norm(x, norm)
        out, weights = f(h)
        return h + out, weights


class BlockNormOverPositions(TransformerBlockForward):
    """LayerNorm's mean and variance taken over the positions (axis 1), not the features."""

    def layer_norm(self, x, norm, axis=-1):
        return super().layer_norm(x, norm, axis=-2)


class BlockEpsilonIgnored(TransformerBlockForward):
    """LayerNorms with Keras's default epsilon, 1e-3, whatever ``epsilon`` says."""

    def layer_norm(self, x, norm, axis=-1):
        gamma, beta = self.norms[norm]
        mean, variance = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
        return gamma * (x - mean) / np.sqrt(variance + 1e-3) + beta


class BlockNormShared(TransformerBlockForward):
    """One LayerNorm for every sublayer: the self-attention's ``γ, β`` everywhere."""

    def layer_norm(self, x, norm, axis=-1):
        return super().layer_norm(x, "self_attention", axis)


class BlockEpsilonFixed(TransformerBlockForward):
    """LayerNorms with the default epsilon, 1e-6, whatever ``epsilon`` says."""

    def __init__(self, weights, *args, epsilon=1e-6, **config):
        super().__init__(weights, *args, epsilon=1e-6, **config)


class BlockFinalNormInPreNorm(TransformerBlockForward):
    """Pre-LN whose output is normalised again by ``ff_norm``: ``LN(x + FFN(LN(x)))`` last."""

    def sublayers(self, x, context, masks):
        y, self_weights, cross_weights = super().sublayers(x, context, masks)
        return (self.layer_norm(y, "ff") if self.norm_first else y), self_weights, cross_weights


class BlockNoRelu(TransformerBlockForward):
    """A feed-forward network without its ReLU: two linear maps, one linear map in effect."""

    def activation(self, z):
        return z


class BlockGelu(TransformerBlockForward):
    """A feed-forward network with GELU (exact, Keras's ``"gelu"``) instead of ReLU."""

    def activation(self, z):
        return 0.5 * z * (1.0 + _erf(z / np.sqrt(2.0)))


class BlockReluAfterOutput(TransformerBlockForward):
    """A ReLU after ``ff_output`` too: ``max(0, max(0, hW_1 + b_1)W_2 + b_2)``."""

    def feed_forward(self, h):
        return np.maximum(super().feed_forward(h), 0.0)


class BlockFeedForwardFirst(TransformerBlockForward):
    """The sublayers in the wrong order: the feed-forward network before the attention."""

    def sublayers(self, x, context, masks):
        x, _ = self.sublayer(x, "ff", lambda h: (self.feed_forward(h), None))  # (B, T, d)
        x, self_weights = self.sublayer(x, "self_attention",
                                        lambda h: self.self_attend(h, masks))
        cross_weights = None
        if self.cross_attention:
            x, cross_weights = self.sublayer(x, "cross_attention",
                                             lambda h: self.cross_attend(h, context, masks))
        return x, self_weights, cross_weights


class BlockCrossFirst(TransformerBlockForward):
    """The sublayers in the wrong order: the cross-attention before the self-attention."""

    def sublayers(self, x, context, masks):
        if not self.cross_attention:
            return super().sublayers(x, context, masks)
        x, cross_weights = self.sublayer(x, "cross_attention",
                                         lambda h: self.cross_attend(h, context, masks))
        x, self_weights = self.sublayer(x, "self_attention",
                                        lambda h: self.self_attend(h, masks))
        y, _ = self.sublayer(x, "ff", lambda h: (self.feed_forward(h), None))
        return y, self_weights, cross_weights


class BlockMaskIgnored(TransformerBlockForward):
    """``attention_mask`` never passed to the self-attention."""

    def self_attend(self, h, masks):
        return super().self_attend(h, masks._replace(attention=None))


class BlockCausalIgnored(TransformerBlockForward):
    """``use_causal_mask`` never passed to the self-attention."""

    def self_attend(self, h, masks):
        return super().self_attend(h, masks._replace(causal=False))


class BlockMasksNotCombined(TransformerBlockForward):
    """``attention_mask`` dropped whenever the self-attention is causal: the padding mask and
    the causal mask not both applied."""

    def self_attend(self, h, masks):
        return super().self_attend(h, masks._replace(attention=None) if masks.causal else masks)


class BlockMaskInverted(TransformerBlockForward):
    """``attention_mask`` inverted: True taken as "hidden"."""

    def self_attend(self, h, masks):
        inverted = None if masks.attention is None else ~np.asarray(masks.attention, dtype=bool)
        return super().self_attend(h, masks._replace(attention=inverted))


class BlockContextMaskIgnored(TransformerBlockForward):
    """``context_mask`` never passed to the cross-attention."""

    def cross_attend(self, h, context, masks):
        return super().cross_attend(h, context, masks._replace(context=None))


class BlockContextMaskInverted(TransformerBlockForward):
    """``context_mask`` inverted: True taken as "hidden"."""

    def cross_attend(self, h, context, masks):
        inverted = None if masks.context is None else ~np.asarray(masks.context, dtype=bool)
        return super().cross_attend(h, context, masks._replace(context=inverted))


class BlockCrossAttentionCausal(TransformerBlockForward):
    """The causal mask applied to the cross-attention too (the context is known in full)."""

    def cross_attend(self, h, context, masks):
        return self.cross_attention_layer.forward(h, context, attention_mask=masks.context,
                                                  use_causal_mask=masks.causal)


class BlockMasksSwapped(TransformerBlockForward):
    """``context_mask`` given to the self-attention and ``attention_mask`` to the
    cross-attention: a shape error wherever ``T ≠ Tc``."""

    def self_attend(self, h, masks):
        return super().self_attend(h, masks._replace(attention=masks.context))

    def cross_attend(self, h, context, masks):
        return super().cross_attend(h, context, masks._replace(context=masks.attention))


class BlockCrossKeysFromX(TransformerBlockForward):
    """The cross-attention's keys and values taken from the block's own positions, not from
    ``context``: wrong weights' shapes wherever ``d_context ≠ d_model``."""

    def cross_attend(self, h, context, masks):
        return self.cross_attention_layer.forward(h, h, attention_mask=masks.context)


class BlockCrossQueryFromContext(TransformerBlockForward):
    """The cross-attention's queries taken from ``context`` and its keys and values from the
    block's positions: ``MHA(context, h)``, of the wrong shapes."""

    def cross_attend(self, h, context, masks):
        return self.cross_attention_layer.forward(context, h, attention_mask=masks.context)


class BlockSelfAttentionScores(TransformerBlockForward):
    """With cross-attention, the self-attention's weights returned instead of the
    cross-attention's."""

    def returned(self, y, self_weights, cross_weights):
        return y, self_weights


def _erf(z):
    """The error function, elementwise (Abramowitz and Stegun 7.1.26 is too coarse here)."""
    return np.vectorize(math.erf, otypes=[np.float64])(z)


BLOCKS: dict[str, type[TransformerBlockForward]] = {"TransformerBlock": TransformerBlockForward}

#: The known wrong blocks, in the order in which a match is named: where two give the same
#: output on a call, the one that differs from the right block on fewer calls comes first.
BLOCK_VARIANTS: dict[str, type[TransformerBlockForward]] = {
    "block_no_residual": BlockNoResidual,
    "block_norm_first_ignored": BlockNormFirstIgnored,
    "block_always_pre_norm": BlockAlwaysPreNorm,
    "block_residual_normalised": BlockResidualNormalised,
    "block_final_norm_in_pre_norm": BlockFinalNormInPreNorm,
    "block_residual_from_normalised": BlockResidualFromNormalised,
    "block_norm_over_positions": BlockNormOverPositions,
    "block_norm_shared": BlockNormShared,
    "block_epsilon_ignored": BlockEpsilonIgnored,
    "block_epsilon_fixed": BlockEpsilonFixed,
    "block_no_relu": BlockNoRelu,
    "block_gelu": BlockGelu,
    "block_relu_after_output": BlockReluAfterOutput,
    "block_feed_forward_first": BlockFeedForwardFirst,
    "block_cross_first": BlockCrossFirst,
    "block_masks_not_combined": BlockMasksNotCombined,
    "block_mask_ignored": BlockMaskIgnored,
    "block_mask_inverted": BlockMaskInverted,
    "block_causal_ignored": BlockCausalIgnored,
    "block_cross_attention_causal": BlockCrossAttentionCausal,
    "block_context_mask_ignored": BlockContextMaskIgnored,
    "block_context_mask_inverted": BlockContextMaskInverted,
    "block_self_attention_scores": BlockSelfAttentionScores,
    "block_masks_swapped": BlockMasksSwapped,
    "block_cross_keys_from_x": BlockCrossKeysFromX,
    "block_cross_query_from_context": BlockCrossQueryFromContext,
}


def block_forward(config, weights, x, context=None, **options):
    """``(y, attention_weights)`` of the answer key's ``TransformerBlock`` built with
    ``config`` and holding ``weights``; ``options``: ``attention_mask``, ``context_mask``,
    ``use_causal_mask``."""
    return TransformerBlockForward(weights, **config).forward(x, context, **options)


def _variant_results(config, weights, x, context, options):
    """``{key: (y, attention_weights) or None}``: None where the wrong block cannot run on
    these inputs (a product of axes that do not match)."""
    results = {}
    for name, cls in BLOCK_VARIANTS.items():
        try:
            with np.errstate(all="ignore"):
                results[name] = cls(weights, **config).forward(x, context, **options)
        except ValueError:
            results[name] = None
    return results


def block_variant_outputs(config, weights, x, context=None,
                          **options) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{key: (y, attention_weights)}`` of every wrong block that runs on these inputs."""
    results = _variant_results(config, weights, x, context, options)
    return {name: result for name, result in results.items() if result is not None}


def failing_variants(config, weights, x, context=None, **options) -> list[str]:
    """The keys of the wrong blocks that cannot run on these inputs, where the right block
    does (a mistake that shows as a shape error): a block that fails there may make it."""
    block_forward(config, weights, x, context, **options)
    results = _variant_results(config, weights, x, context, options)
    return [name for name, result in results.items() if result is None]
