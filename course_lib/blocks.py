"""Stand-ins for your own parts, made of Keras's layers: lesson 07 uses them until yours exist.

Lesson 07's translator is built from lesson 06's ``TransformerBlock`` and lesson 05's
``sinusoidal_encoding``, loaded from your saved answers (``course_lib.workspace.mine``). When a
lesson is not finished yet, or while a lesson is graded, these take their place:

- :class:`KerasBlock`: a Transformer block with exactly the contract of lesson 06's
  ``TransformerBlock`` (constructor, call, sublayers in the same order, so weights copy between
  the two with ``set_weights(get_weights())``), made of ``keras.layers.MultiHeadAttention``,
  ``LayerNormalization`` and ``Dense``;
- :func:`learned_positions`: instead of fixed sinusoidal encodings, a vector learned for each
  position (``keras.layers.Embedding``).

Lesson 06 asks you to write the block yourself: an answer that uses this one scores zero there.
"""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="course_lib")
class KerasBlock(layers.Layer):
    """A Transformer block of Keras's layers: self-attention, optional cross-attention, and a
    position-wise feed-forward network, each with a residual connection and LayerNorm.

    Post-LN (``norm_first=False``, as in "Attention is all you need")::

        x = LN(x + SelfAttn(x));  x = LN(x + Cross(x, context));  y = LN(x + FFN(x))

    Pre-LN (``norm_first=True``; a stack of pre-LN blocks ends with one more LayerNorm)::

        x = x + SelfAttn(LN(x));  x = x + Cross(LN(x), context);  y = x + FFN(LN(x))

    with ``FFN(x) = relu(x W1 + b1) W2 + b2``.

    Args:
        num_heads: heads of each attention layer.
        key_dim: size of each head's queries and keys (and values).
        ff_dim: width of the feed-forward network's hidden layer.
        cross_attention: whether the block also attends to a ``context`` (a decoder block).
        norm_first: pre-LN (True) or post-LN (False).
        epsilon: the LayerNorms' epsilon.

    Sublayers, in this order: ``self_attention``, ``self_attention_norm``, (with
    ``cross_attention``: ``cross_attention_layer``, ``cross_attention_norm``), ``ff_hidden``,
    ``ff_output``, ``ff_norm``. ``ff_output`` and ``ff_norm`` are made in ``build``, where
    ``d_model`` (the last axis of ``x``) is known.

    The attention layers are always asked for their weights (``return_attention_scores=True``):
    since Keras 3.10 (keras-team/keras#21149), Keras's layer then gives a query row with nothing
    to attend to zero weights, so that it reads nothing from the values, as the course's layer
    does. (Without them, Keras 3.15 takes a fused path, ``ops.dot_product_attention``, that
    averages all the values on such a row; Keras 3.7 to 3.9 average them on both paths.)
    """

    def __init__(self, num_heads, key_dim, ff_dim, cross_attention=False, norm_first=True,
                 epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.ff_dim = num_heads, key_dim, ff_dim
        self.cross_attention, self.norm_first, self.epsilon = cross_attention, norm_first, epsilon
        self.self_attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
        self.self_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        if cross_attention:
            self.cross_attention_layer = layers.MultiHeadAttention(num_heads=num_heads,
                                                                   key_dim=key_dim)
            self.cross_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        self.ff_hidden = layers.Dense(ff_dim, activation="relu")

    def build(self, input_shape):
        d_model = input_shape[-1]  # x (B, T, d_model)
        self.ff_output = layers.Dense(d_model)
        self.ff_norm = layers.LayerNormalization(epsilon=self.epsilon)

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        """x (B, T, d_model), context (B, Tc, d_context) -> y (B, T, d_model).

        ``attention_mask`` (bool, broadcastable to (B, T, T)) and ``use_causal_mask`` act on
        the self-attention, ``context_mask`` (bool, broadcastable to (B, T, Tc)) on the
        cross-attention; True = may attend. With ``return_attention_scores``, also the weights
        (after the softmax): the cross-attention's (B, H, T, Tc) when there is one, else the
        self-attention's (B, H, T, T).
        """
        if self.cross_attention != (context is not None):
            raise ValueError(
                "KerasBlock needs a context exactly when it was made with cross_attention=True. "
                f"Received: cross_attention={self.cross_attention}, context={context!r}")
        found = {}

        def self_attend(h):  # (B, T, d) -> (B, T, d)
            out, found["self"] = self.self_attention(
                h, h, attention_mask=attention_mask, use_causal_mask=use_causal_mask,
                return_attention_scores=True)
            return out

        def cross_attend(h):  # (B, T, d) -> (B, T, d)
            out, found["cross"] = self.cross_attention_layer(
                h, context, attention_mask=context_mask, return_attention_scores=True)
            return out

        y = run_block(self, x, self_attend,
                      cross_attend if self.cross_attention else None)  # (B, T, d)
        if return_attention_scores:
            return y, found["cross" if self.cross_attention else "self"]  # (B, H, T, Tc | T)
        return y

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "ff_dim": self.ff_dim, "cross_attention": self.cross_attention,
                "norm_first": self.norm_first, "epsilon": self.epsilon}


def run_block(block, x, self_attend, cross_attend=None):
    """Lesson 06's block around given attention steps: ``x (B, T, d) -> (B, T, d)``.

    ``self_attend(h)`` and ``cross_attend(h)`` map ``(B, T, d)`` to ``(B, T, d)``; the block gives
    the rest: ``norm_first``, ``self_attention_norm``, ``cross_attention_norm``, ``ff_hidden``,
    ``ff_output`` and ``ff_norm``. Post-LN: ``x = LN(x + f(x))``; pre-LN: ``x = x + f(LN(x))``.
    """

    def sublayer(x, norm, update):  # (B, T, d) -> (B, T, d)
        if block.norm_first:
            return x + update(norm(x))
        return norm(x + update(x))

    x = sublayer(x, block.self_attention_norm, self_attend)  # (B, T, d)
    if cross_attend is not None:
        x = sublayer(x, block.cross_attention_norm, cross_attend)  # (B, T, d)
    return sublayer(x, block.ff_norm, lambda h: block.ff_output(block.ff_hidden(h)))


def learned_positions(length, d_model):
    """The stand-in for lesson 05's ``sinusoidal_encoding(T, d)``: no fixed table (None), so
    that lesson 07's ``PositionalEmbedding`` learns a vector for each of the ``length``
    positions instead (a ``keras.layers.Embedding(length, d_model)``)."""
    return None  # nothing fixed: the positions are learned
