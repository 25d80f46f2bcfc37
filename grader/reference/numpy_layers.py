"""The answer key's Keras attention layers as NumPy forward passes.

Lesson ``04_keras_layer`` derives ``AttentionLayer(units)`` and ``MultiHeadAttention(num_heads,
key_dim, value_dim=None, use_bias=True)``, lesson ``06_transformer_block`` the
``TransformerBlock`` built on them (:mod:`grader.reference.numpy_block`); their Keras answer
key is :mod:`grader.reference.keras_layers`. The grading process has no TensorFlow: the
learner's kernel runs the learner's layer on weights and inputs the grader chose and sends back
its outputs, and this module computes, in NumPy (float64), what the answer key gives on the
same weights and inputs (and :mod:`grader.reference.numpy_layer_variants` what each known
mistake gives), so that a wrong output can be named.

Each forward pass is a chain of small steps ("hooks"), each a method that one equation
describes. A wrong variant is a subclass that overrides exactly one step
(:mod:`grader.reference.numpy_layer_variants`), keyed as in
:data:`course_lib.misconceptions.DESCRIPTIONS`.

Course conventions: masks are boolean, ``True`` = may attend; masking happens before the
softmax; a fully masked row gets all-zero weights, so a zero context (the output projection
then adds only its bias); the causal mask is the lower triangle of ``(Tq, Tk)``, combined with
``attention_mask`` by a logical and.

Example::

    out, weights = forward("MultiHeadAttention", {"num_heads": 2, "key_dim": 3},
                           layer.get_weights(), query, value, use_causal_mask=True)
"""

from __future__ import annotations

import math

import numpy as np

from grader.reference.numpy_attention import softmax as stable_softmax

LARGE_NEGATIVE = -1e9  # a masked score: e^(-1e9) underflows to exactly 0

__all__ = ["AttentionForward", "AttentionLayerForward", "MultiHeadAttentionForward", "LAYERS",
           "forward"]


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


LAYERS: dict[str, type[AttentionForward]] = {
    "AttentionLayer": AttentionLayerForward,
    "MultiHeadAttention": MultiHeadAttentionForward,
}


# == entry points ==============================================================================
def forward(layer_name, config, weights, query, value, key=None, **options):
    """``(output, attention_weights)`` of the answer key's ``layer_name`` ("AttentionLayer" or
    "MultiHeadAttention") built with ``config`` and holding ``weights``; ``options`` are
    ``attention_mask`` and ``use_causal_mask``."""
    return LAYERS[layer_name](weights, **config).forward(query, value, key, **options)
