"""More wrong answers of lesson 06's ``TransformerBlock``, each on the skeleton of
``block_variants.SkeletonBlock`` (Keras's attention) with one step changed: what the
self-attention reads, a causal mask built by hand, where the feed-forward network's residual
starts, the weights it returns, a mask passed by position, and ``get_config``. Each names its
mistake's key in :data:`WRONG`; ``tests/lesson_table.py`` adds them to the corpus.
"""

from __future__ import annotations

from block_variants import SkeletonBlock
from keras import ops


class QueriesOnlyNormalisedBlock(SkeletonBlock):
    """Wrong: pre-LN self-attention of LN(x) as the query, the raw x as keys and values."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)
    normalised = "query"

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        def self_attend(h):
            query, value = (h, x) if self.normalised == "query" else (x, h)
            return self.self_attention(query, value if self.norm_first else h,
                                       attention_mask=attention_mask,
                                       use_causal_mask=use_causal_mask,
                                       return_attention_scores=True)

        x, weights = self.sublayer(x, self.self_attention_norm, self_attend)
        if self.cross_attention:
            x, weights = self.sublayer(x, self.cross_attention_norm,
                                       lambda h: self.cross_attention_layer(
                                           h, context, attention_mask=context_mask,
                                           return_attention_scores=True))
        y, _ = self.sublayer(x, self.ff_norm,
                             lambda h: (self.ff_output(self.ff_hidden(h)), None))
        return (y, weights) if return_attention_scores else y


class QueriesNotNormalisedBlock(QueriesOnlyNormalisedBlock):
    """Wrong: pre-LN self-attention of the raw x as the query, LN(x) as keys and values."""

    needs = (*QueriesOnlyNormalisedBlock.needs, QueriesOnlyNormalisedBlock)
    normalised = "keys"


class CausalOrPaddingBlock(SkeletonBlock):
    """Wrong: the causal mask built by hand and joined to attention_mask by logical_or."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)
    triangle, join = staticmethod(ops.tril), staticmethod(ops.logical_or)

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        if use_causal_mask:
            t = ops.shape(x)[1]
            causal = self.triangle(ops.ones((t, t), dtype="bool"))[None]  # (1, T, T)
            attention_mask = (causal if attention_mask is None else
                              self.join(causal, ops.cast(attention_mask, "bool")))
        return super().call(x, context, attention_mask=attention_mask, context_mask=context_mask,
                            return_attention_scores=return_attention_scores)


class UpperCausalBlock(CausalOrPaddingBlock):
    """Wrong: the causal mask built with triu (the future visible, the past hidden)."""

    needs = (*CausalOrPaddingBlock.needs, CausalOrPaddingBlock)
    triangle, join = staticmethod(ops.triu), staticmethod(ops.logical_and)


class HeadsAveragedBlock(SkeletonBlock):
    """Wrong: the attention weights averaged over the heads, (B, T, Tk)."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        y, weights = super().call(x, context, attention_mask=attention_mask,
                                  context_mask=context_mask, use_causal_mask=use_causal_mask,
                                  return_attention_scores=True)
        return (y, ops.mean(weights, axis=1)) if return_attention_scores else y


class PositionalMaskBlock(SkeletonBlock):
    """Wrong: self_attention(h, h, h, attention_mask): the mask as the fourth positional
    argument, Keras's query_mask."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        x, weights = self.sublayer(x, self.self_attention_norm, lambda h: self.self_attention(
            h, h, h, attention_mask, use_causal_mask=use_causal_mask,
            return_attention_scores=True))
        if self.cross_attention:
            x, weights = self.sublayer(x, self.cross_attention_norm,
                                       lambda h: self.cross_attention_layer(
                                           h, context, attention_mask=context_mask,
                                           return_attention_scores=True))
        y, _ = self.sublayer(x, self.ff_norm,
                             lambda h: (self.ff_output(self.ff_hidden(h)), None))
        return (y, weights) if return_attention_scores else y


class FeedForwardResidualFromInputBlock(SkeletonBlock):
    """Wrong: the feed-forward network's residual from the block's input x."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        block_input = x
        h, weights = self.sublayer(x, self.self_attention_norm, lambda h: self.self_attention(
            h, h, attention_mask=attention_mask, use_causal_mask=use_causal_mask,
            return_attention_scores=True))
        if self.cross_attention:
            h, weights = self.sublayer(h, self.cross_attention_norm,
                                       lambda h: self.cross_attention_layer(
                                           h, context, attention_mask=context_mask,
                                           return_attention_scores=True))
        if self.norm_first:
            y = block_input + self.ff_output(self.ff_hidden(self.ff_norm(h)))
        else:
            y = self.ff_norm(block_input + self.ff_output(self.ff_hidden(h)))
        return (y, weights) if return_attention_scores else y


class ConfigWithoutEpsilonBlock(SkeletonBlock):
    """Wrong: get_config() without epsilon."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)
    dropped = ("epsilon",)

    def get_config(self):
        config = super().get_config()
        return {key: value for key, value in config.items() if key not in self.dropped}


class ConfigWithoutCrossAttentionBlock(ConfigWithoutEpsilonBlock):
    """Wrong: get_config() without cross_attention (from_config builds no cross-attention)."""

    needs = (*ConfigWithoutEpsilonBlock.needs, ConfigWithoutEpsilonBlock)
    dropped = ("cross_attention",)


WRONG = [
    (QueriesOnlyNormalisedBlock, "block_queries_only_normalised"),
    (QueriesNotNormalisedBlock, "block_queries_not_normalised"),
    (CausalOrPaddingBlock, "block_causal_or_padding"),
    (UpperCausalBlock, "block_causal_upper"),
    (HeadsAveragedBlock, "block_weights_averaged_over_heads"),
    (PositionalMaskBlock, "block_mask_by_position"),
    (FeedForwardResidualFromInputBlock, "block_ff_residual_from_input"),
    (ConfigWithoutEpsilonBlock, "block_config_incomplete"),
    (ConfigWithoutCrossAttentionBlock, "block_config_incomplete"),
]
