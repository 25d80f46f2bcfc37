"""The answer key's Keras layers as NumPy forward passes, with their known wrong variants.

Lesson ``04_keras_layer`` derives ``AttentionLayer(units)`` and ``MultiHeadAttention(num_heads,
key_dim, value_dim=None, use_bias=True)``, lesson ``06_transformer_block`` the
``TransformerBlock`` built on them (:class:`TransformerBlockForward`, its wrong variants in
``BLOCK_VARIANTS``); their Keras answer key is :mod:`grader.reference.keras_layers`. The
grading process has no TensorFlow: the learner's kernel runs the learner's layer on weights
and inputs the grader chose and sends back its outputs, and this module computes, in NumPy
(float64), what the answer key gives on the same weights and inputs, and what each known
mistake gives, so that a wrong output can be named.

Each forward pass is a chain of small steps ("hooks"), each a method that one equation
describes. A wrong variant is a subclass that overrides exactly one step; ``VARIANTS`` holds
them, by the stable keys of :data:`course_lib.misconceptions.DESCRIPTIONS`.

Course conventions: masks are boolean, ``True`` = may attend; masking happens before the
softmax; a fully masked row gets all-zero weights, so a zero context (the output projection
then adds only its bias); the causal mask is the lower triangle of ``(Tq, Tk)``, combined with
``attention_mask`` by a logical and.

Example::

    out, weights = forward("MultiHeadAttention", {"num_heads": 2, "key_dim": 3},
                           layer.get_weights(), query, value, use_causal_mask=True)
    wrong = variant_outputs("MultiHeadAttention", {"num_heads": 2, "key_dim": 3},
                            layer.get_weights(), query, value, use_causal_mask=True)
"""

from __future__ import annotations

import math

import numpy as np

from grader.reference.numpy_attention import softmax as stable_softmax

LARGE_NEGATIVE = -1e9  # a masked score: e^(-1e9) underflows to exactly 0

__all__ = [
    "AttentionForward",
    "AttentionLayerForward",
    "MultiHeadAttentionForward",
    "TransformerBlockForward",
    "LAYERS",
    "BLOCK_VARIANTS",
    "VARIANTS",
    "forward",
    "variant_outputs",
    "block_forward",
    "block_variant_outputs",
]


def _as_float64(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"`{name}` must have shape (batch, length, features). "
                         f"Received: {name}.shape={x.shape}")
    return x


class AttentionForward:
    r"""The steps both layers share; a layer fills in ``depth``, ``split_heads`` and
    ``merge_heads``.

    .. math:: \mathrm{out} = \mathrm{output}\Big(\mathrm{merge}\big(
              \mathrm{softmax}_M(QK^\top/\sqrt{d})\,V\big)\Big)

    with :math:`Q, K, V` the split projections of the query, key and value.

    Args:
        weights: the layer's ``get_weights()``: query, key, value and output kernels, each
            followed by its bias when ``use_bias``.
        use_bias: whether ``weights`` holds biases.
    """

    names = ("query", "key", "value", "output")
    softmax_axis = -1  # the keys' axis: each query's weights sum to 1

    def __init__(self, weights, use_bias: bool = True):
        weights = [np.asarray(w, dtype=np.float64) for w in weights]
        expected = 2 * len(self.names) if use_bias else len(self.names)
        if len(weights) != expected:
            raise ValueError(f"{type(self).__name__} expects {expected} weight arrays "
                             f"(use_bias={use_bias}). Received: {len(weights)}")
        kernels = weights[0::2] if use_bias else weights
        biases = weights[1::2] if use_bias else [None] * len(self.names)
        self.params = dict(zip(self.names, zip(kernels, biases, strict=True), strict=True))

    # -- the forward pass ---------------------------------------------------------------------
    def forward(self, query, value, key=None, attention_mask=None, use_causal_mask=False):
        """``(output, attention_weights)`` of the layer called as ``layer(query, value, key,
        attention_mask=..., use_causal_mask=...)``.

        Args:
            query: ``(B, Tq, d_q)``.
            value: ``(B, Tk, d_v)``.
            key: optional ``(B, Tk, d_k)``; defaults to ``value``.
            attention_mask: optional boolean, broadcastable to ``(B, Tq, Tk)``.
            use_causal_mask: query ``i`` attends to keys ``j <= i`` only.

        Returns:
            The output ``(B, Tq, d_out)`` and the weights ``(B, [H,] Tq, Tk)``, float64.
        """
        query, value = _as_float64(query, "query"), _as_float64(value, "value")
        key = self.default_key(query, value) if key is None else _as_float64(key, "key")
        q = self.heads(query, "query")  # (B, [H,] Tq, dk)
        k = self.heads(key, "key")  # (B, [H,] Tk, dk)
        v = self.heads(value, "value")  # (B, [H,] Tk, dv)
        scores = self.scores(q, k)  # (B, [H,] Tq, Tk)
        mask = self.mask(attention_mask, use_causal_mask, q.shape[-2], k.shape[-2])
        weights = self.softmax(scores, mask)  # (B, [H,] Tq, Tk)
        context = self.merge_heads(self.combine(weights, v))  # (B, Tq, [H·]dv)
        return self.output(context), weights  # (B, Tq, d_out), (B, [H,] Tq, Tk)

    # -- the steps ------------------------------------------------------------------------------
    def default_key(self, query, value):
        """The keys' input when ``key`` is omitted: the value, ``(B, Tk, d_v)``."""
        return value

    def project(self, x, kernel, bias):
        r"""A dense projection :math:`xW + b` over the last axis of ``x``.

        ``x (..., d)``, ``kernel (d, *out)``, ``bias out`` or ``None`` → ``(..., *out)``.
        """
        y = np.tensordot(x, kernel, axes=1)  # (..., *out)
        return y if bias is None else y + bias

    def split_heads(self, x):
        """One head: nothing to split, ``(B, T, u)`` → ``(B, T, u)``."""
        return x

    def heads(self, x, name):
        """The ``name`` ("query", "key" or "value") projection of ``x``, split into heads.

        ``(B, T, d)`` → ``(B, [H,] T, h)``.
        """
        return self.split_heads(self.project(x, *self.params[name]))  # (B, [H,] T, h)

    @property
    def depth(self):
        """The size :math:`d` whose square root divides the scores."""
        raise NotImplementedError

    def scores(self, q, k):
        r"""Scaled dot products :math:`S = QK^\top / \sqrt{d}`.

        ``q (B, [H,] Tq, dk)``, ``k (B, [H,] Tk, dk)`` → ``(B, [H,] Tq, Tk)``.
        """
        return q @ np.swapaxes(k, -1, -2) / math.sqrt(self.depth)  # (B, [H,] Tq, Tk)

    def mask(self, attention_mask, use_causal_mask, t_q, t_k):
        r"""The boolean mask :math:`M = A \wedge C`, ``True`` = may attend, or ``None``.

        ``attention_mask`` :math:`A` broadcastable to ``(B, Tq, Tk)``; the causal mask
        :math:`C_{ij} = [j \le i]`, ``(1, Tq, Tk)``. Returns ``(B|1, Tq, Tk)``.
        """
        mask = None if attention_mask is None else np.asarray(attention_mask, dtype=bool)
        if use_causal_mask:
            causal = np.tril(np.ones((1, t_q, t_k), dtype=bool))  # (1, Tq, Tk)
            mask = causal if mask is None else np.logical_and(mask, causal)  # (B|1, Tq, Tk)
        return mask

    def softmax(self, scores, mask):
        r"""Masked softmax over the keys: :math:`W = [M]\,\mathrm{softmax}(S + (1-M)(-10^9))`.

        Masked scores become :math:`-10^9` before normalising; masked weights are then set to
        exactly 0, so a fully masked row is all zeros. ``scores (B, [H,] Tq, Tk)``, ``mask``
        broadcastable to it or ``None`` → ``(B, [H,] Tq, Tk)``.
        """
        if mask is None:
            return stable_softmax(scores, axis=self.softmax_axis)  # (B, [H,] Tq, Tk)
        scores = np.where(mask, scores, LARGE_NEGATIVE)  # (B, [H,] Tq, Tk)
        weights = stable_softmax(scores, axis=self.softmax_axis)  # (B, [H,] Tq, Tk)
        return np.where(mask, weights, 0.0)  # (B, [H,] Tq, Tk): fully masked rows all 0

    def combine(self, weights, v):
        r"""The weighted sum of the values :math:`WV`.

        ``weights (B, [H,] Tq, Tk)``, ``v (B, [H,] Tk, dv)`` → ``(B, [H,] Tq, dv)``.
        """
        return weights @ v  # (B, [H,] Tq, dv)

    def merge_heads(self, heads):
        """One head: nothing to merge, ``(B, Tq, u)`` → ``(B, Tq, u)``."""
        return heads

    def output(self, context):
        r"""The output projection :math:`\mathrm{context}\,W_o + b_o`.

        ``(B, Tq, [H·]dv)`` → ``(B, Tq, d_out)``.
        """
        return self.project(context, *self.params["output"])  # (B, Tq, d_out)


class AttentionLayerForward(AttentionForward):
    r"""``grader.reference.keras_layers.AttentionLayer(units)`` in NumPy.

    .. math:: \mathrm{out} = \mathrm{softmax}\!\left(
              \frac{(XW_q + b_q)(YW_k + b_k)^\top}{\sqrt{u}}\right)(YW_v + b_v)\,W_o + b_o

    Args:
        weights: ``get_weights()``: kernels ``(d_q, u)``, ``(d_k, u)``, ``(d_v, u)``,
            ``(u, u)``, each followed by its bias ``(u,)``.
        units: the width ``u`` of every projection.
        keras_config: the rest of a Keras config (``name``, ``dtype``, …), ignored.
    """

    def __init__(self, weights, units, **keras_config):
        super().__init__(weights, use_bias=True)
        self.units = int(units)
        for name, (kernel, bias) in self.params.items():
            if kernel.ndim != 2 or kernel.shape[-1] != self.units or bias.shape != (self.units,):
                raise ValueError(f"AttentionLayer({self.units}): the {name} kernel should be "
                                 f"(d, {self.units}) and its bias ({self.units},). Received: "
                                 f"{kernel.shape} and {bias.shape}")

    @property
    def depth(self):
        """:math:`u`, the units."""
        return self.units


class MultiHeadAttentionForward(AttentionForward):
    r"""``grader.reference.keras_layers.MultiHeadAttention`` (and so
    ``keras.layers.MultiHeadAttention``) in NumPy.

    .. math:: \mathrm{head}_h = \mathrm{softmax}\!\left(\frac{(XW^q_h)(YW^k_h)^\top}
              {\sqrt{d_k}}\right)(YW^v_h),\qquad
              \mathrm{out} = \sum_h \mathrm{head}_h W^o_h + b_o

    Args:
        weights: ``get_weights()``: query kernel ``(d_q, H, key_dim)``, key kernel
            ``(d_k, H, key_dim)``, value kernel ``(d_v, H, value_dim)``, output kernel
            ``(H, value_dim, d_q)``, each followed by its bias (``(H, head_dim)``, the output's
            ``(d_q,)``) when ``use_bias``.
        num_heads: ``H``.
        key_dim: the size of each head's queries and keys.
        value_dim: the size of each head's values; defaults to ``key_dim``.
        use_bias: whether ``weights`` holds biases.
        keras_config: the rest of a Keras config (``name``, ``dtype``, …), ignored.
    """

    def __init__(self, weights, num_heads, key_dim, value_dim=None, use_bias=True,
                 **keras_config):
        super().__init__(weights, use_bias=use_bias)
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = self.key_dim if value_dim is None else int(value_dim)
        heads = {"query": self.key_dim, "key": self.key_dim, "value": self.value_dim}
        for name, size in heads.items():
            kernel = self.params[name][0]
            if kernel.ndim != 3 or kernel.shape[1:] != (self.num_heads, size):
                raise ValueError(f"MultiHeadAttention: the {name} kernel should be "
                                 f"(d, {self.num_heads}, {size}). Received: {kernel.shape}")
        kernel, bias = self.params["output"]
        if kernel.ndim != 3 or kernel.shape[:2] != (self.num_heads, self.value_dim):
            raise ValueError(f"MultiHeadAttention: the output kernel should be "
                             f"({self.num_heads}, {self.value_dim}, d). Received: {kernel.shape}")
        # (H, dv, d_q) → (H·dv, d_q), matching merge_heads's (B, Tq, H·dv) order
        self.params["output"] = (kernel.reshape(-1, kernel.shape[-1]), bias)

    @property
    def depth(self):
        """:math:`d_k`, each head's key_dim."""
        return self.key_dim

    def split_heads(self, x):
        """Move the head axis before the positions: ``(B, T, H, h)`` → ``(B, H, T, h)``."""
        return np.transpose(x, (0, 2, 1, 3))  # (B, H, T, h)

    def mask(self, attention_mask, use_causal_mask, t_q, t_k):
        """The same mask for every head: ``(B|1, 1, Tq, Tk)``, or ``None``."""
        mask = super().mask(attention_mask, use_causal_mask, t_q, t_k)  # (B|1, Tq, Tk)
        return None if mask is None else np.expand_dims(mask, -3)  # (B|1, 1, Tq, Tk)

    def merge_heads(self, heads):
        """Heads side by side: ``(B, H, Tq, dv)`` → ``(B, Tq, H, dv)`` → ``(B, Tq, H·dv)``."""
        b, h, t, d = heads.shape
        return np.transpose(heads, (0, 2, 1, 3)).reshape(b, t, h * d)  # (B, Tq, H·dv)


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


LAYERS: dict[str, type[AttentionForward]] = {
    "AttentionLayer": AttentionLayerForward,
    "MultiHeadAttention": MultiHeadAttentionForward,
}

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


# == entry points ==============================================================================
def forward(layer_name, config, weights, query, value, key=None, **options):
    """``(output, attention_weights)`` of the answer key's ``layer_name`` ("AttentionLayer" or
    "MultiHeadAttention") built with ``config`` and holding ``weights``; ``options`` are
    ``attention_mask`` and ``use_causal_mask``."""
    return LAYERS[layer_name](weights, **config).forward(query, value, key, **options)


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


# == lesson 06: the Transformer block ==========================================================
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

        def self_attend(h):
            return self.self_attend(h, attention_mask, use_causal_mask)

        def cross_attend(h):
            return self.cross_attend(h, context, context_mask)

        x, self_weights = self.sublayer(x, "self_attention", self_attend)  # (B, T, d)
        cross_weights = None
        if self.cross_attention:
            x, cross_weights = self.sublayer(x, "cross_attention", cross_attend)  # (B, T, d)
        y, _ = self.sublayer(x, "ff", lambda h: (self.feed_forward(h), None))  # (B, T, d)
        return y, self.returned(self_weights, cross_weights)

    # -- the steps ------------------------------------------------------------------------------
    def returned(self, self_weights, cross_weights):
        """The weights returned: the cross-attention's when there is one."""
        return self_weights if cross_weights is None else cross_weights

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

    def self_attend(self, h, attention_mask, use_causal_mask):
        """Self-attention of ``h (B, T, d)``: ``((B, T, d), (B, H, T, T))``."""
        return self.self_attention.forward(h, h, attention_mask=attention_mask,
                                           use_causal_mask=use_causal_mask)

    def cross_attend(self, h, context, context_mask):
        """``h (B, T, d)`` attends to ``context (B, Tc, dc)``: ``((B, T, d), (B, H, T, Tc))``."""
        return self.cross_attention_layer.forward(h, context, attention_mask=context_mask)

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


class BlockNoRelu(TransformerBlockForward):
    """A feed-forward network without its ReLU: two linear maps, one linear map in effect."""

    def activation(self, z):
        return z


class BlockContextMaskIgnored(TransformerBlockForward):
    """``context_mask`` never passed to the cross-attention."""

    def cross_attend(self, h, context, context_mask):
        return super().cross_attend(h, context, None)


class BlockMaskIgnored(TransformerBlockForward):
    """``attention_mask`` never passed to the self-attention."""

    def self_attend(self, h, attention_mask, use_causal_mask):
        return super().self_attend(h, None, use_causal_mask)


class BlockCausalIgnored(TransformerBlockForward):
    """``use_causal_mask`` never passed to the self-attention."""

    def self_attend(self, h, attention_mask, use_causal_mask):
        return super().self_attend(h, attention_mask, False)


class BlockSelfAttentionScores(TransformerBlockForward):
    """With cross-attention, the self-attention's weights returned instead of the
    cross-attention's."""

    def returned(self, self_weights, cross_weights):
        return self_weights


BLOCKS: dict[str, type[TransformerBlockForward]] = {"TransformerBlock": TransformerBlockForward}

BLOCK_VARIANTS: dict[str, type[TransformerBlockForward]] = {
    "block_no_residual": BlockNoResidual,
    "block_norm_first_ignored": BlockNormFirstIgnored,
    "block_always_pre_norm": BlockAlwaysPreNorm,
    "block_residual_normalised": BlockResidualNormalised,
    "block_residual_from_normalised": BlockResidualFromNormalised,
    "block_norm_over_positions": BlockNormOverPositions,
    "block_epsilon_ignored": BlockEpsilonIgnored,
    "block_no_relu": BlockNoRelu,
    "block_context_mask_ignored": BlockContextMaskIgnored,
    "block_mask_ignored": BlockMaskIgnored,
    "block_causal_ignored": BlockCausalIgnored,
    "block_self_attention_scores": BlockSelfAttentionScores,
}


def block_forward(config, weights, x, context=None, **options):
    """``(y, attention_weights)`` of the answer key's ``TransformerBlock`` built with
    ``config`` and holding ``weights``; ``options``: ``attention_mask``, ``context_mask``,
    ``use_causal_mask``."""
    return TransformerBlockForward(weights, **config).forward(x, context, **options)


def block_variant_outputs(config, weights, x, context=None,
                          **options) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{key: (y, attention_weights)}`` of every wrong block that runs on these inputs."""
    outputs = {}
    for name, cls in BLOCK_VARIANTS.items():
        try:
            with np.errstate(all="ignore"):
                outputs[name] = cls(weights, **config).forward(x, context, **options)
        except ValueError:  # a shape this variant cannot handle
            continue
    return outputs
