"""Lesson 06_transformer_block: its exercise as the instructor's side knows it: its record
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and its
wrong blocks, as live code. Each wrong block is the answer key's NumPy forward pass
(:class:`~grader.reference.numpy_block.TransformerBlockForward`) with the one step it gets
wrong overridden; the judge runs them on the learner's inputs and weights to name the mistake an
answer makes, by its output or by where it fails. The learner's side of the same exercise is
``course_lib.lessons.lesson_06_transformer_block``.
"""

from __future__ import annotations

import math

import numpy as np

from grader.graded import Graded
from grader.reference.numpy_block import TransformerBlockForward


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


class BlockFeedForwardNoResidual(TransformerBlockForward):
    """The feed-forward network without its residual connection: ``FFN(LN(x))`` (pre-LN),
    ``LN(FFN(x))`` (post-LN)."""

    def sublayer(self, x, norm, f):
        if norm != "ff":
            return super().sublayer(x, norm, f)
        if self.norm_first:
            return f(self.layer_norm(x, norm))
        out, weights = f(x)
        return self.layer_norm(out, norm), weights


class BlockNormInsideResidual(TransformerBlockForward):
    """Post-LN with the LayerNorm on the sublayer's output inside the residual: ``x + LN(f(x))``
    instead of ``LN(x + f(x))``."""

    def sublayer(self, x, norm, f):
        if self.norm_first:
            return super().sublayer(x, norm, f)
        out, weights = f(x)
        return x + self.layer_norm(out, norm), weights


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


class BlockFeedForwardOutputMissing(TransformerBlockForward):
    """A feed-forward network without ``ff_output``: ``max(0, hW_1 + b_1)``, ``ff_dim`` wide,
    which cannot be added back to ``x``."""

    def feed_forward(self, h):
        w1, b1, _, _ = self.ff_params
        return self.activation(h @ w1 + b1)  # (B, T, ff)


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


class BlockAlwaysCausal(TransformerBlockForward):
    """A self-attention that is causal whatever ``use_causal_mask`` says."""

    def self_attend(self, h, masks):
        return super().self_attend(h, masks._replace(causal=True))


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


class BlockQueriesOnlyNormalised(TransformerBlockForward):
    """Pre-LN whose self-attention normalises its queries alone: ``MHA(LN(x), x)``, keys and
    values from the raw ``x``."""

    def sublayer(self, x, norm, f):
        self.raw = x  # (B, T, d): the sublayer's input, before its LayerNorm
        return super().sublayer(x, norm, f)

    def self_attend(self, h, masks):
        return self.self_attention.forward(h, self.raw, attention_mask=masks.attention,
                                           use_causal_mask=masks.causal)


class BlockQueriesNotNormalised(TransformerBlockForward):
    """Pre-LN whose self-attention takes its queries from the raw ``x``: ``MHA(x, LN(x))``,
    keys and values normalised."""

    def sublayer(self, x, norm, f):
        self.raw = x  # (B, T, d): the sublayer's input, before its LayerNorm
        return super().sublayer(x, norm, f)

    def self_attend(self, h, masks):
        return self.self_attention.forward(self.raw, h, attention_mask=masks.attention,
                                           use_causal_mask=masks.causal)


def _causal_with(masks, t: int, combine, causal=np.tril):
    """The self-attention's masks with the causal one built by hand, ``causal`` of ones
    ``(T, T)``, joined to ``attention_mask`` by ``combine``."""
    if not masks.causal:
        return masks
    built = causal(np.ones((t, t), dtype=bool))[None]  # (1, T, T)
    joined = built if masks.attention is None else combine(built, np.asarray(masks.attention,
                                                                              dtype=bool))
    return masks._replace(attention=joined, causal=False)


class BlockCausalOrPadding(TransformerBlockForward):
    """The causal mask joined to ``attention_mask`` by "or": a position sees what either mask
    allows, where both must."""

    def self_attend(self, h, masks):
        return super().self_attend(h, _causal_with(masks, h.shape[1], np.logical_or))


class BlockCausalUpper(TransformerBlockForward):
    """A causal mask built upper-triangular, ``triu``: each position sees itself and the
    future, not the past."""

    def self_attend(self, h, masks):
        return super().self_attend(h, _causal_with(masks, h.shape[1], np.logical_and, np.triu))


class BlockFeedForwardResidualFromInput(TransformerBlockForward):
    """The feed-forward network's residual from the block's input ``x``, not from the
    attention's output: ``x + FFN(LN(h))`` (pre-LN), ``LN(x + FFN(h))`` (post-LN)."""

    def sublayers(self, x, context, masks):
        self.block_input = x  # (B, T, d)
        return super().sublayers(x, context, masks)

    def sublayer(self, x, norm, f):
        if norm != "ff":
            return super().sublayer(x, norm, f)
        if self.norm_first:
            out, weights = f(self.layer_norm(x, norm))  # (B, T, d)
            return self.block_input + out, weights
        out, weights = f(x)  # (B, T, d)
        return self.layer_norm(self.block_input + out, norm), weights


class BlockWeightsAveragedOverHeads(TransformerBlockForward):
    """The attention weights averaged over the heads, ``(B, T, T)``: the block returns every
    head's, ``(B, H, T, T)`` (or ``(B, H, T, Tc)``)."""

    def returned(self, y, self_weights, cross_weights):
        y, weights = super().returned(y, self_weights, cross_weights)
        return y, weights.mean(axis=1)  # (B, T, Tk)


def _erf(z):
    """The error function, elementwise (Abramowitz and Stegun 7.1.26 is too coarse here)."""
    return np.vectorize(math.erf, otypes=[np.float64])(z)


#: The known wrong blocks, in the order in which a match is named: where two give the same
#: output on a call, the one that differs from the right block on fewer calls comes first.
BLOCK_VARIANTS: dict[str, type[TransformerBlockForward]] = {
    "block_no_residual": BlockNoResidual,
    "block_norm_first_ignored": BlockNormFirstIgnored,
    "block_always_pre_norm": BlockAlwaysPreNorm,
    "block_residual_normalised": BlockResidualNormalised,
    "block_ff_no_residual": BlockFeedForwardNoResidual,
    "block_norm_inside_residual": BlockNormInsideResidual,
    "block_final_norm_in_pre_norm": BlockFinalNormInPreNorm,
    "block_residual_from_normalised": BlockResidualFromNormalised,
    "block_norm_over_positions": BlockNormOverPositions,
    "block_norm_shared": BlockNormShared,
    "block_epsilon_ignored": BlockEpsilonIgnored,
    "block_epsilon_fixed": BlockEpsilonFixed,
    "block_no_relu": BlockNoRelu,
    "block_gelu": BlockGelu,
    "block_relu_after_output": BlockReluAfterOutput,
    "block_ff_output_missing": BlockFeedForwardOutputMissing,
    "block_feed_forward_first": BlockFeedForwardFirst,
    "block_cross_first": BlockCrossFirst,
    "block_masks_not_combined": BlockMasksNotCombined,
    "block_mask_ignored": BlockMaskIgnored,
    "block_mask_inverted": BlockMaskInverted,
    "block_causal_ignored": BlockCausalIgnored,
    "block_always_causal": BlockAlwaysCausal,
    "block_cross_attention_causal": BlockCrossAttentionCausal,
    "block_context_mask_ignored": BlockContextMaskIgnored,
    "block_context_mask_inverted": BlockContextMaskInverted,
    "block_self_attention_scores": BlockSelfAttentionScores,
    "block_masks_swapped": BlockMasksSwapped,
    "block_cross_keys_from_x": BlockCrossKeysFromX,
    "block_cross_query_from_context": BlockCrossQueryFromContext,
    "block_queries_only_normalised": BlockQueriesOnlyNormalised,
    "block_queries_not_normalised": BlockQueriesNotNormalised,
    "block_causal_or_padding": BlockCausalOrPadding,
    "block_causal_upper": BlockCausalUpper,
    "block_ff_residual_from_input": BlockFeedForwardResidualFromInput,
    "block_weights_averaged_over_heads": BlockWeightsAveragedOverHeads,
}


GRADED = (
    Graded("TransformerBlock", TransformerBlockForward, BLOCK_VARIANTS,
           ("blocks",), "MultiHeadAttention, LayerNormalization and Dense layers, as the lesson "
           "derives the block"),
)
