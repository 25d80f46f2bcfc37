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
def _shared_variants(layer: type[AttentionForward], prefix: str) -> dict[str, type]:
    """The mistakes both layers can make, as subclasses of ``layer`` named ``prefix...``."""

    class NoScaling(layer):
        """The scores are not divided by √d."""

        depth = 1

    class SoftmaxWrongAxis(layer):
        """The softmax normalises over the queries (axis -2) instead of the keys."""

        softmax_axis = -2

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

    variants = {
        "layer_no_scaling": NoScaling,
        "layer_softmax_wrong_axis": SoftmaxWrongAxis,
        "layer_mask_ignored": MaskIgnored,
        "layer_mask_inverted": MaskInverted,
        "layer_mask_after_softmax": MaskAfterSoftmax,
        "layer_causal_ignored": CausalIgnored,
        "layer_fully_masked_uniform": FullyMaskedUniform,
        "layer_fully_masked_nan": FullyMaskedNaN,
    }
    for cls in variants.values():
        cls.__name__ = cls.__qualname__ = prefix + cls.__name__
    return variants


class AttentionLayerValuesNotProjected(AttentionLayerForward):
    """The tutorial bug: W_v exists, but the raw values ``(B, Tk, d_v)`` are averaged."""

    def heads(self, x, name):
        return x if name == "value" else super().heads(x, name)


class AttentionLayerScaleByInputDim(AttentionLayerForward):
    """The scores divided by √(the query's feature size d_q) instead of √units."""

    @property
    def depth(self):
        return self.params["query"][0].shape[0]  # d_q, the query kernel's rows


class AttentionLayerNoOutputProjection(AttentionLayerForward):
    """W_o exists, but the context ``(B, Tq, u)`` is the output."""

    def output(self, context):
        return context


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


class MultiHeadHeadsMergedWithoutTranspose(MultiHeadAttentionForward):
    """``(B, H, Tq, dv)`` reshaped straight to ``(B, Tq, H·dv)``: queries and heads mixed."""

    def merge_heads(self, heads):
        b, h, t, d = heads.shape
        return heads.reshape(b, t, h * d)  # (B, Tq, H·dv), mixed


class MultiHeadKeyFromQuery(MultiHeadAttentionForward):
    """With ``key`` omitted, the keys come from the query instead of the value."""

    def default_key(self, query, value):
        return query


class MultiHeadBiasesIgnored(MultiHeadAttentionForward):
    """Every projection applied without its bias."""

    def project(self, x, kernel, bias):
        return super().project(x, kernel, None)


VARIANTS: dict[str, dict[str, type[AttentionForward]]] = {
    "AttentionLayer": {
        "layer_values_not_projected": AttentionLayerValuesNotProjected,
        "layer_scale_by_input_dim": AttentionLayerScaleByInputDim,
        "layer_no_output_projection": AttentionLayerNoOutputProjection,
        **_shared_variants(AttentionLayerForward, "AttentionLayer"),
    },
    "MultiHeadAttention": {
        "layer_values_not_projected": MultiHeadValuesNotProjected,
        "layer_scale_by_model_dim": MultiHeadScaleByModelDim,
        "layer_heads_not_split": MultiHeadHeadsNotSplit,
        "layer_heads_merged_without_transpose": MultiHeadHeadsMergedWithoutTranspose,
        "layer_key_from_query": MultiHeadKeyFromQuery,
        "layer_biases_ignored": MultiHeadBiasesIgnored,
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
