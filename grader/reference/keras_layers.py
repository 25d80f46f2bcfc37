"""The answer key in Keras 3: a single-head attention layer and multi-head attention.

Both are derived in lesson ``04_keras_layer``. ``MultiHeadAttention`` holds its weights in the
same shapes and order as ``keras.layers.MultiHeadAttention``, so ``set_weights`` copies them
across in either direction and the two layers give the same outputs. ``TransformerBlock``
(lesson ``06_transformer_block``) is built from that ``MultiHeadAttention``, LayerNorms and
Dense layers.
"""

from __future__ import annotations

import math

import keras
from keras import ops

_LARGE_NEGATIVE = -1e9


def masked_softmax(scores, mask=None):
    r"""Softmax over the last axis with masking before normalisation (``keras.ops``).

    .. math:: w_{ij} = [\exists j'\colon M_{ij'}]\,
              \mathrm{softmax}_j(s_{ij} + (1 - M_{ij})(-10^9))

    A disallowed key gets exactly 0 (:math:`e^{-10^9}` underflows). With :math:`-10^9` alone a
    fully masked row would come out uniform; here it comes out as zeros, as it does in
    ``keras.layers.Softmax`` with a mask (it zeroes the masked keys after the softmax), and so in
    ``keras.layers.MultiHeadAttention``.

    Args:
        scores: ``(..., Tq, Tk)``.
        mask: optional boolean, broadcastable to ``scores``; ``True`` = may attend.
    """
    if mask is None:
        return ops.softmax(scores, axis=-1)
    mask = ops.cast(mask, "bool")
    # Broadcast explicitly: XLA then folds a constant (causal) mask into one constant instead
    # of re-broadcasting it inside every fused loop (which made the layer 1.5 times slower).
    allowed = ops.broadcast_to(mask, ops.shape(scores))  # (..., Tq, Tk)
    scores = ops.where(allowed, scores, ops.cast(_LARGE_NEGATIVE, scores.dtype))
    weights = ops.softmax(scores, axis=-1)  # (..., Tq, Tk)
    row_has_key = ops.any(mask, axis=-1, keepdims=True)  # (..., Tq, 1)
    return ops.where(row_has_key, weights, ops.cast(0, weights.dtype))  # fully masked rows: 0


def _combine_masks(attention_mask, use_causal_mask, t_q, t_k):
    """One boolean mask ``(..., Tq, Tk)`` from an explicit mask and/or the causal one."""
    if use_causal_mask:
        causal = ops.cast(ops.tril(ops.ones((1, t_q, t_k), dtype="int32")), "bool")
        if attention_mask is None:
            return causal
        return ops.logical_and(ops.cast(attention_mask, "bool"), causal)
    return attention_mask


def _glorot_uniform(fan_in, fan_out):
    r"""Glorot-uniform for a kernel that maps ``fan_in`` input entries to ``fan_out`` outputs.

    .. math:: W \sim U(-\ell, \ell),\quad \ell = \sqrt{6 / (f_\text{in} + f_\text{out})},
              \quad \operatorname{Var}(W) = 2 / (f_\text{in} + f_\text{out})

    The fans are given, not read from the kernel's shape: ``"glorot_uniform"`` reads a 3-D
    shape ``(d, H, d_k)`` as a convolution kernel (fans ``d H`` and ``d d_k``), which starts
    the queries with variance ``2 / (H + d_k)`` instead of about 1. These are the fans
    ``keras.layers.EinsumDense`` derives from its equation: the input axes and the output axes.
    """
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return keras.initializers.RandomUniform(-limit, limit)


def _require_rank_3(**tensors):
    for name, shape in tensors.items():
        if shape is not None and len(shape) != 3:
            raise ValueError(
                f"`{name}` must have shape (batch, length, features). "
                f"Received: {name}.shape={tuple(shape)}"
            )


def _output_spec(layer, query, value, key, return_attention_scores, weights_shape):
    """Symbolic outputs (functional models): the output, and the weights when asked for."""
    key_shape = None if key is None else key.shape
    output_shape = layer.compute_output_shape(query.shape, value.shape, key_shape)
    output = keras.KerasTensor(output_shape, dtype=layer.compute_dtype)
    if not return_attention_scores:
        return output
    return output, keras.KerasTensor(weights_shape, dtype=layer.compute_dtype)


@keras.saving.register_keras_serializable(package="attention_course")
class AttentionLayer(keras.layers.Layer):
    r"""Single-head attention with learned projections, the tutorial layer done right.

    .. math:: \mathrm{out} = W_o\,\mathrm{softmax}\!\left(
              \frac{(XW_q)(YW_k)^\top}{\sqrt{u}}\right)(YW_v)

    Unlike the widespread tutorial version, the values *are* projected by ``W_v``, and the
    scale uses ``units`` (a Dense layer has no ``output_shape`` in Keras 3).

    Args:
        units: width ``u`` of the query, key and value projections and of the output.

    Call arguments:
        query: ``(B, Tq, d_q)``.
        value: ``(B, Tk, d_value)``.
        key: optional ``(B, Tk, d_key)``; defaults to ``value``.
        attention_mask: optional boolean ``(B, Tq, Tk)``; ``True`` = may attend.
        return_attention_scores: also return the weights ``(B, Tq, Tk)``.
        use_causal_mask: let query ``i`` attend to keys ``j <= i`` only.

    Returns:
        ``(B, Tq, units)``, and the weights if ``return_attention_scores``.

    Example:

    >>> layer = AttentionLayer(8)
    >>> layer(keras.ops.ones((2, 3, 5)), keras.ops.ones((2, 4, 6))).shape
    (2, 3, 8)
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        if int(units) != units or units < 1:
            raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
        self.units = int(units)
        self.query_dense = keras.layers.Dense(self.units, name="query")  # W_q
        self.key_dense = keras.layers.Dense(self.units, name="key")  # W_k
        self.value_dense = keras.layers.Dense(self.units, name="value")  # W_v
        self.output_dense = keras.layers.Dense(self.units, name="attention_output")  # W_o

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        _require_rank_3(query=query_shape, value=value_shape, key=key_shape)
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        self.output_dense.build((*value_shape[:-1], self.units))

    def call(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        key = value if key is None else key
        q = self.query_dense(query)  # (B, Tq, u)
        k = self.key_dense(key)  # (B, Tk, u)
        v = self.value_dense(value)  # (B, Tk, u)
        scores = ops.matmul(q, ops.transpose(k, (0, 2, 1))) / math.sqrt(self.units)  # (B,Tq,Tk)
        mask = _combine_masks(attention_mask, use_causal_mask, ops.shape(q)[1], ops.shape(k)[1])
        weights = masked_softmax(scores, mask)  # (B, Tq, Tk)
        output = self.output_dense(ops.matmul(weights, v))  # (B, Tq, u)
        return (output, weights) if return_attention_scores else output

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return (*query_shape[:-1], self.units)

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **kwargs):
        weights_shape = (query.shape[0], query.shape[1], value.shape[1])  # (B, Tq, Tk)
        return _output_spec(self, query, value, key, return_attention_scores, weights_shape)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="attention_course")
class MultiHeadAttention(keras.layers.Layer):
    r"""Multi-head attention, weight-compatible with ``keras.layers.MultiHeadAttention``.

    .. math:: \mathrm{head}_h = \mathrm{softmax}\!\left(\frac{(XW^q_h)(YW^k_h)^\top}
              {\sqrt{d_k}}\right)(YW^v_h),\qquad
              \mathrm{out} = \sum_h \mathrm{head}_h W^o_h + b_o

    Weights, in ``get_weights`` order: query kernel ``(d_q, H, key_dim)`` and bias
    ``(H, key_dim)``, key kernel ``(d_key, H, key_dim)`` and bias, value kernel
    ``(d_value, H, value_dim)`` and bias ``(H, value_dim)``, output kernel
    ``(H, value_dim, d_q)`` and bias ``(d_q,)``. Biases are absent when ``use_bias=False``.
    ``d_q``, ``d_key``, ``d_value`` are the inputs' widths; ``key_dim`` (``d_k``) and
    ``value_dim`` (``d_v``) each head's sizes. Kernels start Glorot-uniform over the
    projection's fans (see :func:`_glorot_uniform`), as Keras's own layer does.

    Args:
        num_heads: number of heads ``H``.
        key_dim: size of each head's queries and keys.
        value_dim: size of each head's values; defaults to ``key_dim``.
        use_bias: whether the four projections have biases.

    Call arguments:
        query: ``(B, Tq, d_q)``.
        value: ``(B, Tk, d_value)``.
        key: optional ``(B, Tk, d_key)``; defaults to ``value``.
        attention_mask: optional boolean ``(B, Tq, Tk)``; ``True`` = may attend. Pass it by
            keyword.
        return_attention_scores: also return the weights ``(B, H, Tq, Tk)``.
        use_causal_mask: let query ``i`` attend to keys ``j <= i`` only.

    Returns:
        ``(B, Tq, d_q)``, and the weights if ``return_attention_scores``.

    Example:

    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> mha(keras.ops.ones((2, 3, 8)), keras.ops.ones((2, 5, 6))).shape
    (2, 3, 8)
    """

    def __init__(self, num_heads, key_dim, value_dim=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        for name, size in (("num_heads", num_heads), ("key_dim", key_dim)):
            if int(size) != size or size < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={size!r}")
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = self.key_dim if value_dim is None else int(value_dim)
        self.use_bias = bool(use_bias)

    def _projection(self, name, in_dim, head_dim):
        kernel = self.add_weight(
            name=f"{name}_kernel", shape=(in_dim, self.num_heads, head_dim),
            initializer=_glorot_uniform(in_dim, self.num_heads * head_dim),  # d -> H head_dim
        )
        bias = None
        if self.use_bias:
            bias = self.add_weight(
                name=f"{name}_bias", shape=(self.num_heads, head_dim), initializer="zeros"
            )
        return kernel, bias

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        _require_rank_3(query=query_shape, value=value_shape, key=key_shape)
        self.query_kernel, self.query_bias = self._projection(
            "query", query_shape[-1], self.key_dim
        )
        self.key_kernel, self.key_bias = self._projection("key", key_shape[-1], self.key_dim)
        self.value_kernel, self.value_bias = self._projection(
            "value", value_shape[-1], self.value_dim
        )
        output_dim = query_shape[-1]
        self.output_kernel = self.add_weight(
            name="output_kernel", shape=(self.num_heads, self.value_dim, output_dim),
            initializer=_glorot_uniform(self.num_heads * self.value_dim, output_dim),
        )
        self.output_bias = (
            self.add_weight(name="output_bias", shape=(output_dim,), initializer="zeros")
            if self.use_bias
            else None
        )

    @staticmethod
    def _project(x, kernel, bias):
        x = ops.einsum("btd,dnh->btnh", x, kernel)  # (B, T, H, head_dim)
        return x if bias is None else x + bias

    def call(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        key = value if key is None else key
        q = self._project(query, self.query_kernel, self.query_bias)  # (B, Tq, H, dk)
        k = self._project(key, self.key_kernel, self.key_bias)  # (B, Tk, H, dk)
        v = self._project(value, self.value_kernel, self.value_bias)  # (B, Tk, H, dv)

        q = q * ops.cast(1.0 / math.sqrt(self.key_dim), q.dtype)
        scores = ops.einsum("btnh,bsnh->bnts", q, k)  # (B, H, Tq, Tk)
        mask = _combine_masks(attention_mask, use_causal_mask, ops.shape(q)[1], ops.shape(k)[1])
        if mask is not None:
            mask = ops.expand_dims(ops.cast(mask, "bool"), axis=-3)  # (B, 1, Tq, Tk)
        weights = masked_softmax(scores, mask)  # (B, H, Tq, Tk)
        heads = ops.einsum("bnts,bsnh->btnh", weights, v)  # (B, Tq, H, dv)

        output = ops.einsum("btnh,nhd->btd", heads, self.output_kernel)  # (B, Tq, d_q)
        if self.output_bias is not None:
            output = output + self.output_bias
        return (output, weights) if return_attention_scores else output

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape)

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **kwargs):
        weights_shape = (query.shape[0], self.num_heads, query.shape[1], value.shape[1])
        return _output_spec(self, query, value, key, return_attention_scores, weights_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="attention_course")
class TransformerBlock(keras.layers.Layer):
    r"""A Transformer block: self-attention, optional cross-attention and a position-wise
    feed-forward network, each with a residual connection and a LayerNorm (lesson
    ``06_transformer_block``).

    .. math::
        \text{pre-LN:}\quad x \leftarrow x + \mathrm{SelfAttn}(\mathrm{LN}(x)),\ \
        x \leftarrow x + \mathrm{Cross}(\mathrm{LN}(x), c),\ \
        y = x + \mathrm{FFN}(\mathrm{LN}(x))

        \text{post-LN:}\quad x \leftarrow \mathrm{LN}(x + \mathrm{SelfAttn}(x)),\ \
        x \leftarrow \mathrm{LN}(x + \mathrm{Cross}(x, c)),\ \
        y = \mathrm{LN}(x + \mathrm{FFN}(x))

    with :math:`\mathrm{FFN}(x) = \max(0, xW_1 + b_1)W_2 + b_2`. The attention layers are this
    module's :class:`MultiHeadAttention` (weight for weight ``keras.layers.MultiHeadAttention``).

    Sublayers, in ``get_weights`` order: ``self_attention`` (8 weights),
    ``self_attention_norm`` (γ, β), with ``cross_attention``: ``cross_attention_layer`` (8) and
    ``cross_attention_norm`` (2); then ``ff_hidden`` (``(d_model, ff_dim)``, ``(ff_dim,)``),
    ``ff_output`` (``(ff_dim, d_model)``, ``(d_model,)``) and ``ff_norm`` (2). ``ff_output``
    and ``ff_norm`` are made in ``build``, where ``d_model`` (the last axis of ``x``) is known.

    Args:
        num_heads: heads of each attention layer.
        key_dim: size of each head's queries and keys.
        ff_dim: width of the feed-forward network's hidden layer.
        cross_attention: whether the block attends to a ``context`` after its self-attention.
        norm_first: pre-LN (True) or post-LN (False).
        epsilon: the LayerNorms' epsilon.

    Call arguments:
        x: ``(B, T, d_model)``.
        context: ``(B, Tc, d_context)``, required exactly when ``cross_attention``.
        attention_mask: boolean, broadcastable to ``(B, T, T)``; ``True`` = may attend.
        context_mask: boolean, broadcastable to ``(B, T, Tc)``.
        use_causal_mask: position ``i`` of the self-attention sees positions ``j <= i`` only.
        return_attention_scores: also return the cross-attention's weights ``(B, H, T, Tc)``
            (with ``cross_attention``), else the self-attention's ``(B, H, T, T)``.

    Returns:
        ``y (B, T, d_model)``, and the weights if ``return_attention_scores``.
    """

    def __init__(self, num_heads, key_dim, ff_dim, cross_attention=False, norm_first=True,
                 epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.ff_dim = int(num_heads), int(key_dim), int(ff_dim)
        self.cross_attention = bool(cross_attention)
        self.norm_first = bool(norm_first)
        self.epsilon = float(epsilon)
        self.self_attention = MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
        self.self_attention_norm = keras.layers.LayerNormalization(epsilon=epsilon)
        if self.cross_attention:
            self.cross_attention_layer = MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
            self.cross_attention_norm = keras.layers.LayerNormalization(epsilon=epsilon)
        self.ff_hidden = keras.layers.Dense(ff_dim, activation="relu")

    def build(self, x_shape, context_shape=None):
        _require_rank_3(x=x_shape, context=context_shape)
        self.ff_output = keras.layers.Dense(x_shape[-1])  # W_2: back to d_model
        self.ff_norm = keras.layers.LayerNormalization(epsilon=self.epsilon)

    def _residual(self, x, norm, sublayer):
        """``x + f(LN(x))`` (pre-LN) or ``LN(x + f(x))`` (post-LN); ``sublayer`` returns
        ``(f(...), weights or None)``."""
        if self.norm_first:
            out, weights = sublayer(norm(x))  # (B, T, d_model)
            return x + out, weights
        out, weights = sublayer(x)  # (B, T, d_model)
        return norm(x + out), weights

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        if self.cross_attention and context is None:
            raise ValueError("A TransformerBlock with cross_attention=True needs a context. "
                             "Received: context=None")
        if not self.cross_attention and context is not None:
            raise ValueError("This TransformerBlock has no cross-attention (cross_attention="
                             f"False). Received: context of shape {tuple(context.shape)}")

        def self_attend(h):
            return self.self_attention(h, h, attention_mask=attention_mask,
                                       use_causal_mask=use_causal_mask,
                                       return_attention_scores=True)

        def cross_attend(h):
            return self.cross_attention_layer(h, context, attention_mask=context_mask,
                                              return_attention_scores=True)

        def feed_forward(h):
            return self.ff_output(self.ff_hidden(h)), None  # (B, T, d_model)

        x, weights = self._residual(x, self.self_attention_norm, self_attend)  # (B, T, d_model)
        if self.cross_attention:
            x, weights = self._residual(x, self.cross_attention_norm, cross_attend)
        y, _ = self._residual(x, self.ff_norm, feed_forward)  # (B, T, d_model)
        return (y, weights) if return_attention_scores else y

    def compute_output_shape(self, x_shape, context_shape=None):
        return tuple(x_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "ff_dim": self.ff_dim,
            "cross_attention": self.cross_attention,
            "norm_first": self.norm_first,
            "epsilon": self.epsilon,
        }
