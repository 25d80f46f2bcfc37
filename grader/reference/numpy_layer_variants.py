"""The known wrong variants of the answer key's attention layers (lesson ``04_keras_layer``), in
NumPy: each a subclass of :class:`grader.reference.numpy_layers.AttentionForward`'s layers that
overrides exactly one step, keyed as in :data:`course_lib.misconceptions.DESCRIPTIONS`, so that
the judge can name the mistake a wrong output matches.

Example::

    wrong = variant_outputs("MultiHeadAttention", {"num_heads": 2, "key_dim": 3},
                            layer.get_weights(), query, value, use_causal_mask=True)
"""

from __future__ import annotations

import numpy as np

from grader.reference.numpy_attention import softmax as stable_softmax
from grader.reference.numpy_layers import (
    LARGE_NEGATIVE,
    AttentionForward,
    AttentionLayerForward,
    MultiHeadAttentionForward,
)

__all__ = ["VARIANTS", "variant_outputs"]


# == the known wrong variants: one overridden step each ========================================
def _causal(t_q: int, t_k: int, diagonal: int = 0) -> np.ndarray:
    """The lower triangle of ``(Tq, Tk)`` from ``diagonal`` (0: key j <= query i)."""
    return np.tril(np.ones((t_q, t_k), dtype=bool), diagonal)  # (Tq, Tk)


def _shared_variants(layer: type[AttentionForward], prefix: str) -> dict[str, type]:
    """The mistakes both layers can make, as subclasses of ``layer`` named ``prefix...``."""

    class NoScaling(layer):
        """The scores are not divided by √d."""

        depth = 1

    class ScaleByInputDim(layer):
        """The scores divided by √(the query's feature size d_q) instead of √d."""

        @property
        def depth(self):
            return self.params["query"][0].shape[0]  # d_q, the query kernel's rows

    class ScaleByLength(layer):
        """The scores divided by √Tk (``k.shape[1]`` read as the keys' size)."""

        def scores(self, q, k):
            return q @ np.swapaxes(k, -1, -2) / np.sqrt(k.shape[-2])  # (B, [H,] Tq, Tk)

    class ScaledAfterSoftmax(layer):
        """The softmax of the unscaled scores, then the weights divided by √d."""

        def softmax(self, scores, mask):
            root = np.sqrt(self.depth)
            return super().softmax(scores * root, mask) / root  # (B, [H,] Tq, Tk)

    class SoftmaxWrongAxis(layer):
        """The softmax normalises over the queries (axis -2) instead of the keys."""

        softmax_axis = -2

    class ScoresAsWeights(layer):
        """The right output, but the scaled scores (before the softmax) returned as the
        weights."""

        def forward(self, query, value, key=None, attention_mask=None, use_causal_mask=False):
            output, _ = super().forward(query, value, key, attention_mask, use_causal_mask)
            query, value = np.asarray(query, np.float64), np.asarray(value, np.float64)
            key = self.default_key(query, value) if key is None else np.asarray(key, np.float64)
            return output, self.scores(self.heads(query, "query"), self.heads(key, "key"))

    class MaskIgnored(layer):
        """``attention_mask`` is never used (the causal mask still is)."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            return super().mask(None, use_causal_mask, t_q, t_k)

    class MaskInverted(layer):
        """``attention_mask`` read as True = blocked."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            inverted = None if attention_mask is None else ~np.asarray(attention_mask, bool)
            return super().mask(inverted, use_causal_mask, t_q, t_k)

    class CausalIgnored(layer):
        """``use_causal_mask`` is never used."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            return super().mask(attention_mask, False, t_q, t_k)

    class CausalReplacesMask(layer):
        """With ``use_causal_mask``, the causal mask replaces ``attention_mask``."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            kept = None if use_causal_mask else attention_mask
            return super().mask(kept, use_causal_mask, t_q, t_k)

    class MasksCombinedWithOr(layer):
        """``attention_mask`` or the causal mask: a key allowed by either is attended."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            mask = super().mask(attention_mask, False, t_q, t_k)  # the layer's layout
            if not use_causal_mask or mask is None:
                return super().mask(attention_mask, use_causal_mask, t_q, t_k)
            return np.logical_or(mask, _causal(t_q, t_k))  # (B|1, [1,] Tq, Tk)

    def with_causal(variant, attention_mask, use_causal_mask, causal):
        """``attention_mask`` in the layer's layout, and-ed with a wrong ``causal`` mask."""
        t_q, t_k = causal.shape
        mask = layer.mask(variant, attention_mask, False, t_q, t_k)  # (B|1, [1,] Tq, Tk)
        if not use_causal_mask:
            return mask
        return causal if mask is None else np.logical_and(mask, causal)

    class CausalStrict(layer):
        """The causal mask without its diagonal: query i sees keys j < i."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            return with_causal(self, attention_mask, use_causal_mask, _causal(t_q, t_k, -1))

    class CausalOneAhead(layer):
        """The causal mask one diagonal too high: query i sees keys j <= i + 1."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            return with_causal(self, attention_mask, use_causal_mask, _causal(t_q, t_k, 1))

    class CausalUpper(layer):
        """The upper triangle (``triu``): query i sees keys j >= i."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            upper = np.triu(np.ones((t_q, t_k), dtype=bool))  # (Tq, Tk)
            return with_causal(self, attention_mask, use_causal_mask, upper)

    class CausalAlignedToTheEnd(layer):
        """The causal mask aligned to the last key (``tril`` with k = Tk − Tq): query i sees
        keys j <= i + Tk − Tq."""

        def mask(self, attention_mask, use_causal_mask, t_q, t_k):
            causal = _causal(t_q, t_k, t_k - t_q)  # (Tq, Tk)
            return with_causal(self, attention_mask, use_causal_mask, causal)

    class MaskMultiplied(layer):
        """The mask multiplied into the scores: a masked score becomes 0, not -1e9."""

        def softmax(self, scores, mask):
            scores = scores if mask is None else scores * mask  # (B, [H,] Tq, Tk)
            return stable_softmax(scores, axis=self.softmax_axis)

    class MaskAfterSoftmax(layer):
        """Softmax of the unmasked scores, then masked weights zeroed (not renormalised)."""

        def softmax(self, scores, mask):
            weights = stable_softmax(scores, axis=self.softmax_axis)  # (B, [H,] Tq, Tk)
            return weights if mask is None else np.where(mask, weights, 0.0)

    class FullyMaskedUniform(layer):
        """Masked scores set to -1e9 and nothing more: a fully masked row comes out uniform."""

        def softmax(self, scores, mask):
            scores = scores if mask is None else np.where(mask, scores, LARGE_NEGATIVE)
            return stable_softmax(scores, axis=self.softmax_axis)  # (B, [H,] Tq, Tk)

    class FullyMaskedNaN(layer):
        """Masked scores set to -inf: a fully masked row comes out NaN."""

        def softmax(self, scores, mask):
            scores = scores if mask is None else np.where(mask, scores, -np.inf)
            return stable_softmax(scores, axis=self.softmax_axis)  # (B, [H,] Tq, Tk)

    class KeyFromQuery(layer):
        """With ``key`` omitted, the keys come from the query instead of the value."""

        def default_key(self, query, value):
            return query

    class BiasesIgnored(layer):
        """Every projection applied without its bias."""

        def project(self, x, kernel, bias):
            return super().project(x, kernel, None)

    class NoOutputProjection(layer):
        """W_o exists, but the (merged) context ``(B, Tq, [H·]dv)`` is the output."""

        def output(self, context):
            return context

    variants = {
        "layer_no_scaling": NoScaling,
        "layer_scale_by_input_dim": ScaleByInputDim,
        "layer_scale_by_length": ScaleByLength,
        "layer_scaled_after_softmax": ScaledAfterSoftmax,
        "layer_softmax_wrong_axis": SoftmaxWrongAxis,
        "layer_scores_as_weights": ScoresAsWeights,
        "layer_causal_replaces_mask": CausalReplacesMask,  # before the two it equals there
        "layer_masks_combined_with_or": MasksCombinedWithOr,
        "layer_mask_ignored": MaskIgnored,
        "layer_mask_inverted": MaskInverted,
        "layer_mask_after_softmax": MaskAfterSoftmax,
        "layer_causal_ignored": CausalIgnored,
        "causal_strict": CausalStrict,
        "layer_causal_one_ahead": CausalOneAhead,
        "causal_upper": CausalUpper,
        "layer_causal_aligned_to_the_end": CausalAlignedToTheEnd,
        "layer_mask_multiplied": MaskMultiplied,
        "layer_fully_masked_uniform": FullyMaskedUniform,
        "layer_fully_masked_nan": FullyMaskedNaN,
        "layer_key_from_query": KeyFromQuery,
        "layer_biases_ignored": BiasesIgnored,
        "layer_no_output_projection": NoOutputProjection,
    }
    for cls in variants.values():
        cls.__name__ = cls.__qualname__ = prefix + cls.__name__
    return variants


class AttentionLayerValuesNotProjected(AttentionLayerForward):
    """The tutorial bug: W_v exists, but the raw values ``(B, Tk, d_v)`` are averaged."""

    def heads(self, x, name):
        return x if name == "value" else super().heads(x, name)


class MultiHeadValuesNotProjected(MultiHeadAttentionForward):
    """W_v exists, but every head averages the raw values (runs when d_v = value_dim)."""

    def heads(self, x, name):
        if name != "value":
            return super().heads(x, name)
        return np.repeat(x[:, None], self.num_heads, axis=1)  # (B, H, Tk, d_v)


class MultiHeadScaleByModelDim(MultiHeadAttentionForward):
    """The scores divided by √(num_heads·key_dim) instead of √key_dim."""

    @property
    def depth(self):
        return self.num_heads * self.key_dim


class MultiHeadHeadsNotSplit(MultiHeadAttentionForward):
    """``(B, T, H, h)`` flattened to ``(B, T, H·h)`` then reshaped straight to
    ``(B, H, T, h)``: positions and heads mixed."""

    def split_heads(self, x):
        b, t, h, d = x.shape
        return x.reshape(b, t, h * d).reshape(b, h, t, d)  # (B, H, T, h), mixed


class MultiHeadHeadsNotTransposed(MultiHeadAttentionForward):
    """The head axis never moved: ``(B, T, H, h)`` attended as is, so each position attends
    over the heads (runs when Tq = Tk), and ``(B, Tq, H, dv)`` flattened back. The one
    variant with two steps, split and merge: the same axis left in place in both."""

    def split_heads(self, x):
        return x  # (B, T, H, h)

    def merge_heads(self, heads):
        b, t, h, d = heads.shape
        return heads.reshape(b, t, h * d)  # (B, Tq, H·dv)


class MultiHeadHeadsMergedWithoutTranspose(MultiHeadAttentionForward):
    """``(B, H, Tq, dv)`` reshaped straight to ``(B, Tq, H·dv)``: queries and heads mixed."""

    def merge_heads(self, heads):
        b, h, t, d = heads.shape
        return heads.reshape(b, t, h * d)  # (B, Tq, H·dv), mixed


class MultiHeadHeadsMergedInWrongOrder(MultiHeadAttentionForward):
    """``(B, H, Tq, dv)`` moved to ``(B, Tq, dv, H)`` before flattening: each head's values
    interleaved, where the output kernel ``(H, dv, d)`` reads them head by head."""

    def merge_heads(self, heads):
        b, h, t, d = heads.shape
        return np.transpose(heads, (0, 2, 3, 1)).reshape(b, t, h * d)  # (B, Tq, dv·H)


class MultiHeadScaleByValueDim(MultiHeadAttentionForward):
    """The scores divided by √value_dim instead of √key_dim."""

    @property
    def depth(self):
        return self.value_dim


class MultiHeadWeightsHeadsLast(MultiHeadAttentionForward):
    """The right output, but the weights returned as ``(B, Tq, H, Tk)``."""

    def forward(self, query, value, key=None, attention_mask=None, use_causal_mask=False):
        output, weights = super().forward(query, value, key, attention_mask, use_causal_mask)
        return output, np.transpose(weights, (0, 2, 1, 3))  # (B, Tq, H, Tk)


class MultiHeadSoftmaxOverHeads(MultiHeadAttentionForward):
    """The softmax normalises over the heads (axis -3) instead of the keys."""

    softmax_axis = -3


class MultiHeadMaskWithoutHeadAxis(MultiHeadAttentionForward):
    """A ``(B, Tq, Tk)`` mask applied to ``(B, H, Tq, Tk)`` scores as it is: broadcasting lines
    its batch axis up with the heads (runs when B = H or B = 1)."""

    def mask(self, attention_mask, use_causal_mask, t_q, t_k):
        return AttentionForward.mask(self, attention_mask, use_causal_mask, t_q, t_k)


class MultiHeadWeightsAveraged(MultiHeadAttentionForward):
    """The right output, but the weights averaged over the heads, ``(B, Tq, Tk)`` (PyTorch's
    ``average_attn_weights``)."""

    def forward(self, query, value, key=None, attention_mask=None, use_causal_mask=False):
        output, weights = super().forward(query, value, key, attention_mask, use_causal_mask)
        return output, weights.mean(axis=1)  # (B, Tq, Tk)


VARIANTS: dict[str, dict[str, type[AttentionForward]]] = {
    "AttentionLayer": {
        "layer_values_not_projected": AttentionLayerValuesNotProjected,
        **_shared_variants(AttentionLayerForward, "AttentionLayer"),
    },
    "MultiHeadAttention": {
        "layer_values_not_projected": MultiHeadValuesNotProjected,
        "layer_scale_by_model_dim": MultiHeadScaleByModelDim,
        "layer_heads_not_split": MultiHeadHeadsNotSplit,
        "layer_heads_not_transposed": MultiHeadHeadsNotTransposed,
        "layer_heads_merged_without_transpose": MultiHeadHeadsMergedWithoutTranspose,
        "layer_heads_merged_in_wrong_order": MultiHeadHeadsMergedInWrongOrder,
        "layer_softmax_over_heads": MultiHeadSoftmaxOverHeads,
        "layer_mask_broadcast": MultiHeadMaskWithoutHeadAxis,
        "layer_weights_averaged_over_heads": MultiHeadWeightsAveraged,
        "layer_weights_heads_last": MultiHeadWeightsHeadsLast,
        "layer_scale_by_value_dim": MultiHeadScaleByValueDim,
        **_shared_variants(MultiHeadAttentionForward, "MultiHead"),
    },
}


def variant_outputs(layer_name, config, weights, query, value, key=None,
                    **options) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{key: (output, attention_weights)}`` of every wrong variant of ``layer_name`` that runs
    on these inputs (one that cannot, e.g. unprojected values of another width, is left out).
    NumPy's warnings are silenced: some variants give NaN on purpose."""
    outputs = {}
    for name, cls in VARIANTS[layer_name].items():
        try:
            with np.errstate(all="ignore"):
                outputs[name] = cls(weights, **config).forward(query, value, key, **options)
        except ValueError:  # a shape this variant cannot handle
            continue
    return outputs
