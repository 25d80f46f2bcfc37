"""A corpus of learner answers to lesson 06's ``TransformerBlock``, right and wrong.

An answer is the whole answer cell: the lesson's class with its ``call`` replaced
(:func:`with_call`), or a class of its own (:func:`whole_class`), renamed ``TransformerBlock``.
``RIGHT`` answers are written differently from the solution and must get full marks; ``WRONG``
ones are ``(answer, misconception)`` pairs, each making one known mistake that the feedback must
name with ``course_lib.misconceptions.DESCRIPTIONS[misconception]``.

The names the answers use (``keras``, ``layers``, ``ops``, ``MultiHeadAttention``) are those of
the lesson's setup cell; they are bound here for the linter's sake.

pytest puts ``tests/`` on ``sys.path``, so test modules ``import block_variants``.
"""

from __future__ import annotations

import inspect
import re
import textwrap

import keras
from keras import layers, ops

MultiHeadAttention = keras.layers.MultiHeadAttention  # the lesson's setup binds this name


def _source(obj) -> str:
    return textwrap.dedent(inspect.getsource(obj))


def with_call(solution_cell: str, call) -> str:
    """The solution's answer cell with its ``call`` method replaced by ``call``."""
    body = textwrap.indent(re.sub(rf"\bdef {call.__name__}\(", "def call(", _source(call),
                                  count=1), "    ")
    start = solution_cell.index("    def call(")
    end = solution_cell.index("    def get_config(")
    return solution_cell[:start] + body + "\n" + solution_cell[end:]


def whole_class(cls) -> str:
    """A class of the corpus, renamed ``TransformerBlock``, with the classes it needs."""
    needed = [_source(helper) for helper in getattr(cls, "needs", ())]
    code = re.sub(rf"\bclass {cls.__name__}\(", "class TransformerBlock(", _source(cls), count=1)
    code = re.sub(rf"\b{cls.__name__}\b", "TransformerBlock", code)
    return "\n\n".join([*needed, code])


def answer_cell(answer, solution_cell: str) -> str:
    """The code of the answer cell holding ``answer`` (a ``call`` function or a class), with
    the module-level helper it calls."""
    if inspect.isclass(answer):
        return whole_class(answer)
    helper = [_source(_call)] if "_call(self" in _source(answer) else []
    return "\n\n".join([*helper, with_call(solution_cell, answer)])


# == right answers =============================================================================
def call_spelled_out(self, x, context=None, attention_mask=None, context_mask=None,
                     use_causal_mask=False, return_attention_scores=False):
    """Right: every sublayer written out, pre-LN and post-LN in two branches, ops.add."""
    if self.norm_first:
        h = self.self_attention_norm(x)
        out, weights = self.self_attention(h, h, attention_mask=attention_mask,
                                           use_causal_mask=use_causal_mask,
                                           return_attention_scores=True)
        x = ops.add(x, out)
        if self.cross_attention:
            h = self.cross_attention_norm(x)
            out, weights = self.cross_attention_layer(h, context, attention_mask=context_mask,
                                                      return_attention_scores=True)
            x = ops.add(x, out)
        y = ops.add(x, self.ff_output(self.ff_hidden(self.ff_norm(x))))
    else:
        out, weights = self.self_attention(x, x, attention_mask=attention_mask,
                                           use_causal_mask=use_causal_mask,
                                           return_attention_scores=True)
        x = self.self_attention_norm(ops.add(x, out))
        if self.cross_attention:
            out, weights = self.cross_attention_layer(x, context, attention_mask=context_mask,
                                                      return_attention_scores=True)
            x = self.cross_attention_norm(ops.add(x, out))
        y = self.ff_norm(ops.add(x, self.ff_output(self.ff_hidden(x))))
    if return_attention_scores:
        return y, weights
    return y


class PositionwiseFeedForward(keras.layers.Layer):
    """relu(x W1 + b1) W2 + b2 with its own weights, in the order W1, b1, W2, b2."""

    def __init__(self, ff_dim, **kwargs):
        super().__init__(**kwargs)
        self.ff_dim = ff_dim

    def build(self, input_shape):
        d_model = input_shape[-1]
        self.w1 = self.add_weight(shape=(d_model, self.ff_dim), initializer="glorot_uniform")
        self.b1 = self.add_weight(shape=(self.ff_dim,), initializer="zeros")
        self.w2 = self.add_weight(shape=(self.ff_dim, d_model), initializer="glorot_uniform")
        self.b2 = self.add_weight(shape=(d_model,), initializer="zeros")

    def call(self, x):
        hidden = ops.relu(ops.einsum("btd,df->btf", x, self.w1) + self.b1)  # (B, T, ff)
        return ops.einsum("btf,fd->btd", hidden, self.w2) + self.b2  # (B, T, d)


class EinsumFeedForwardBlock(keras.layers.Layer):
    """Right: the FFN as one layer of its own (einsum, add_weight), same weights and order;
    a dict of sublayers walked in a loop."""

    needs = (PositionwiseFeedForward,)

    def __init__(self, num_heads, key_dim, ff_dim, cross_attention=False, norm_first=True,
                 epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.ff_dim = num_heads, key_dim, ff_dim
        self.cross_attention, self.norm_first, self.epsilon = cross_attention, norm_first, epsilon
        self.self_attention = MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
        self.self_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        if cross_attention:
            self.cross_attention_layer = MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
            self.cross_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        self.feed_forward = PositionwiseFeedForward(ff_dim)
        self.ff_norm = layers.LayerNormalization(epsilon=epsilon)

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        steps = [(self.self_attention_norm,
                  lambda h: self.self_attention(h, h, attention_mask=attention_mask,
                                                use_causal_mask=use_causal_mask,
                                                return_attention_scores=True))]
        if self.cross_attention:
            steps.append((self.cross_attention_norm,
                          lambda h: self.cross_attention_layer(h, context,
                                                               attention_mask=context_mask,
                                                               return_attention_scores=True)))
        steps.append((self.ff_norm, lambda h: (self.feed_forward(h), None)))
        scores = None
        for norm, sublayer in steps:
            if self.norm_first:
                out, weights = sublayer(norm(x))
                x = x + out
            else:
                out, weights = sublayer(x)
                x = norm(x + out)
            scores = scores if weights is None else weights
        return (x, scores) if return_attention_scores else x

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, key_dim=self.key_dim, ff_dim=self.ff_dim,
                      cross_attention=self.cross_attention, norm_first=self.norm_first,
                      epsilon=self.epsilon)
        return config


class OwnAttention(keras.layers.Layer):
    """A learner's lesson-04 multi-head attention (Keras's weights and order; a fully masked
    row gives zero weights)."""

    def __init__(self, num_heads, key_dim, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim = num_heads, key_dim

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        h, k = self.num_heads, self.key_dim
        shapes = {"query": (query_shape[-1], h, k), "key": (key_shape[-1], h, k),
                  "value": (value_shape[-1], h, k)}
        for name, shape in shapes.items():
            setattr(self, f"{name}_kernel", self.add_weight(shape=shape, name=f"{name}_kernel"))
            setattr(self, f"{name}_bias", self.add_weight(shape=(h, k), initializer="zeros",
                                                          name=f"{name}_bias"))
        self.output_kernel = self.add_weight(shape=(h, k, query_shape[-1]), name="output_kernel")
        self.output_bias = self.add_weight(shape=(query_shape[-1],), initializer="zeros",
                                           name="output_bias")

    def call(self, query, value, key=None, attention_mask=None, return_attention_scores=False,
             use_causal_mask=False):
        key = value if key is None else key
        q = ops.einsum("btd,dhk->bhtk", query, self.query_kernel) + ops.expand_dims(
            self.query_bias, 1)  # (B, H, Tq, k)
        k = ops.einsum("btd,dhk->bhtk", key, self.key_kernel) + ops.expand_dims(
            self.key_bias, 1)  # (B, H, Tk, k)
        v = ops.einsum("btd,dhk->bhtk", value, self.value_kernel) + ops.expand_dims(
            self.value_bias, 1)  # (B, H, Tk, k)
        scores = ops.einsum("bhqk,bhsk->bhqs", q, k) * self.key_dim**-0.5  # (B, H, Tq, Tk)
        t_q, t_k = ops.shape(q)[2], ops.shape(k)[2]
        mask = ops.ones((1, t_q, t_k), dtype="bool")
        if attention_mask is not None:
            mask = ops.logical_and(mask, ops.cast(attention_mask, "bool"))
        if use_causal_mask:
            mask = ops.logical_and(mask, ops.arange(t_q)[:, None] >= ops.arange(t_k)[None, :])
        mask = ops.expand_dims(mask, 1)  # (B|1, 1, Tq, Tk)
        weights = ops.softmax(ops.where(mask, scores, -1e9), axis=-1)
        weights = ops.where(mask, weights, 0.0)  # a fully masked row: zeros
        heads = ops.einsum("bhqs,bhsk->bqhk", weights, v)  # (B, Tq, H, k)
        output = ops.einsum("bqhk,hkd->bqd", heads, self.output_kernel) + self.output_bias
        return (output, weights) if return_attention_scores else output


class OwnAttentionBlock(keras.layers.Layer):
    """Right: built on the learner's own lesson-04 attention layer instead of Keras's."""

    needs = (OwnAttention,)

    def __init__(self, num_heads, key_dim, ff_dim, cross_attention=False, norm_first=True,
                 epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.ff_dim = num_heads, key_dim, ff_dim
        self.cross_attention, self.norm_first, self.epsilon = cross_attention, norm_first, epsilon
        self.self_attention = OwnAttention(num_heads, key_dim)
        self.self_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        if cross_attention:
            self.cross_attention_layer = OwnAttention(num_heads, key_dim)
            self.cross_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        self.ff_hidden = layers.Dense(ff_dim, activation="relu")

    def build(self, x_shape, context_shape=None):
        self.ff_output = layers.Dense(x_shape[-1])
        self.ff_norm = layers.LayerNormalization(epsilon=self.epsilon)

    def sublayer(self, x, norm, f):
        if self.norm_first:
            out, weights = f(norm(x))
            return x + out, weights
        out, weights = f(x)
        return norm(x + out), weights

    def call(self, x, context=None, attention_mask=None, context_mask=None,
             use_causal_mask=False, return_attention_scores=False):
        x, weights = self.sublayer(x, self.self_attention_norm, lambda h: self.self_attention(
            h, h, attention_mask=attention_mask, use_causal_mask=use_causal_mask,
            return_attention_scores=True))
        if self.cross_attention:
            x, weights = self.sublayer(x, self.cross_attention_norm,
                                       lambda h: self.cross_attention_layer(
                                           h, context, attention_mask=context_mask,
                                           return_attention_scores=True))
        y, _ = self.sublayer(x, self.ff_norm,
                             lambda h: (self.ff_output(self.ff_hidden(h)), None))
        return (y, weights) if return_attention_scores else y

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "ff_dim": self.ff_dim, "cross_attention": self.cross_attention,
                "norm_first": self.norm_first, "epsilon": self.epsilon}


def call_own_causal_mask(self, x, context=None, attention_mask=None, context_mask=None,
                         use_causal_mask=False, return_attention_scores=False):
    """Right: the causal mask built by hand and combined with attention_mask (logical and),
    pre-LN and post-LN through one helper that takes the norm and the sublayer."""
    t = ops.shape(x)[1]
    mask = attention_mask
    if use_causal_mask:
        causal = ops.arange(t)[:, None] >= ops.arange(t)[None, :]  # (T, T)
        mask = causal if mask is None else ops.logical_and(ops.cast(mask, "bool"), causal)

    def wrapped(x, norm, f):
        if self.norm_first:
            out, w = f(norm(x))
            return x + out, w
        out, w = f(x)
        return norm(x + out), w

    x, weights = wrapped(x, self.self_attention_norm, lambda h: self.self_attention(
        query=h, value=h, key=h, attention_mask=mask, return_attention_scores=True))
    if self.cross_attention:
        x, weights = wrapped(x, self.cross_attention_norm, lambda h: self.cross_attention_layer(
            query=h, value=context, attention_mask=context_mask, return_attention_scores=True))
    y, _ = wrapped(x, self.ff_norm, lambda h: (self.ff_output(self.ff_hidden(h)), None))
    return (y, weights) if return_attention_scores else y


# == wrong answers: one mistake each =============================================================
def _call(self, x, context, attention_mask, context_mask, use_causal_mask,
          return_attention_scores, flaw):
    """The solution's call with one ``flaw``."""
    def residual(x, norm, sublayer):
        norm = self.self_attention_norm if flaw == "shared_norm" else norm
        if flaw == "no_residual":
            return (sublayer(norm(x)) if self.norm_first else
                    (lambda out: (norm(out[0]), out[1]))(sublayer(x)))
        pre = self.norm_first and flaw != "post_always"
        out, weights = sublayer(norm(x) if pre else x)
        if flaw == "dropout":
            out = keras.random.dropout(out, rate=0.1)
        if flaw == "ff_no_residual" and norm is self.ff_norm:
            return (out if pre else norm(out)), weights
        if pre:
            return (norm(x + out) if flaw == "normalised_sum" else x + out), weights
        return (x + norm(out) if flaw == "norm_inside_residual" else norm(x + out)), weights

    if flaw == "mask_inverted" and attention_mask is not None:
        attention_mask = ops.logical_not(attention_mask)
    if flaw == "context_mask_inverted" and context_mask is not None:
        context_mask = ops.logical_not(context_mask)
    if flaw == "masks_swapped":
        attention_mask, context_mask = context_mask, attention_mask
    causal = (use_causal_mask or flaw == "always_causal") and flaw != "causal_ignored"
    self_mask = None if flaw == "masks_not_combined" and causal else attention_mask
    cross_mask = None if flaw == "context_mask_ignored" else context_mask
    queries_from_context = flaw == "query_from_context"

    def self_attend(h):
        return self.self_attention(h, h, attention_mask=self_mask, use_causal_mask=causal,
                                   return_attention_scores=True)

    def cross_attend(h):
        query, value = (context, h) if queries_from_context else (h, context)
        return self.cross_attention_layer(
            query, h if flaw == "keys_from_x" else value, attention_mask=cross_mask,
            use_causal_mask=flaw == "cross_causal" and use_causal_mask,
            return_attention_scores=True)

    def feed_forward(h):
        if flaw == "ff_output_missing":
            return self.ff_hidden(h), None
        out = self.ff_output(self.ff_hidden(h))
        return (ops.relu(out) if flaw == "relu_after_output" else out), None

    sublayers = [(self.self_attention_norm, self_attend)]
    if self.cross_attention and flaw != "cross_skipped":
        cross = (self.cross_attention_norm, cross_attend)
        sublayers = [cross, *sublayers] if flaw == "cross_first" else [*sublayers, cross]
    ff = (self.ff_norm, feed_forward)
    sublayers = [ff, *sublayers] if flaw == "ff_first" else [*sublayers, ff]
    self_weights = weights = None
    for norm, sublayer in sublayers:
        x, out_weights = residual(x, norm, sublayer)
        if sublayer is self_attend:
            self_weights = out_weights
        weights = weights if out_weights is None else out_weights
    if flaw == "final_norm" and self.norm_first:
        x = self.ff_norm(x)
    if flaw == "self_scores":
        weights = self_weights
    return (x, weights) if return_attention_scores else x


def call_no_residual(self, x, context=None, attention_mask=None, context_mask=None,
                     use_causal_mask=False, return_attention_scores=False):
    """Wrong: no residual connections."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "no_residual")


def call_post_always(self, x, context=None, attention_mask=None, context_mask=None,
                     use_causal_mask=False, return_attention_scores=False):
    """Wrong: post-LN whatever norm_first says."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "post_always")


def call_normalised_sum(self, x, context=None, attention_mask=None, context_mask=None,
                        use_causal_mask=False, return_attention_scores=False):
    """Wrong: pre-LN that normalises the sum again, LN(x + f(LN(x)))."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "normalised_sum")


def call_causal_ignored(self, x, context=None, attention_mask=None, context_mask=None,
                        use_causal_mask=False, return_attention_scores=False):
    """Wrong: use_causal_mask never reaches the self-attention."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "causal_ignored")


def call_context_mask_ignored(self, x, context=None, attention_mask=None, context_mask=None,
                              use_causal_mask=False, return_attention_scores=False):
    """Wrong: context_mask never reaches the cross-attention."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "context_mask_ignored")


class LinearFeedForwardBlock(OwnAttentionBlock):
    """Wrong: ff_hidden without its ReLU (and Keras's attention)."""

    needs = (OwnAttention, OwnAttentionBlock)

    def __init__(self, num_heads, key_dim, ff_dim, cross_attention=False, norm_first=True,
                 epsilon=1e-6, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.num_heads, self.key_dim, self.ff_dim = num_heads, key_dim, ff_dim
        self.cross_attention, self.norm_first, self.epsilon = cross_attention, norm_first, epsilon
        self.self_attention = MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
        self.self_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        if cross_attention:
            self.cross_attention_layer = MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
            self.cross_attention_norm = layers.LayerNormalization(epsilon=epsilon)
        self.ff_hidden = layers.Dense(ff_dim)  # no activation


def call_masks_not_combined(self, x, context=None, attention_mask=None, context_mask=None,
                            use_causal_mask=False, return_attention_scores=False):
    """Wrong: attention_mask dropped whenever the self-attention is causal."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "masks_not_combined")


def call_mask_inverted(self, x, context=None, attention_mask=None, context_mask=None,
                       use_causal_mask=False, return_attention_scores=False):
    """Wrong: attention_mask inverted."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "mask_inverted")


def call_context_mask_inverted(self, x, context=None, attention_mask=None, context_mask=None,
                               use_causal_mask=False, return_attention_scores=False):
    """Wrong: context_mask inverted."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "context_mask_inverted")


def call_cross_causal(self, x, context=None, attention_mask=None, context_mask=None,
                      use_causal_mask=False, return_attention_scores=False):
    """Wrong: the causal mask given to the cross-attention too."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "cross_causal")


def call_masks_swapped(self, x, context=None, attention_mask=None, context_mask=None,
                       use_causal_mask=False, return_attention_scores=False):
    """Wrong: attention_mask to the cross-attention, context_mask to the self-attention."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "masks_swapped")


def call_keys_from_x(self, x, context=None, attention_mask=None, context_mask=None,
                     use_causal_mask=False, return_attention_scores=False):
    """Wrong: the cross-attention's keys and values from x, not from context."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "keys_from_x")


def call_query_from_context(self, x, context=None, attention_mask=None, context_mask=None,
                            use_causal_mask=False, return_attention_scores=False):
    """Wrong: cross_attention_layer(context, h): queries from the context."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "query_from_context")


def call_cross_first(self, x, context=None, attention_mask=None, context_mask=None,
                     use_causal_mask=False, return_attention_scores=False):
    """Wrong: the cross-attention before the self-attention."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "cross_first")


def call_ff_first(self, x, context=None, attention_mask=None, context_mask=None,
                  use_causal_mask=False, return_attention_scores=False):
    """Wrong: the feed-forward network before the attention."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "ff_first")


def call_final_norm(self, x, context=None, attention_mask=None, context_mask=None,
                    use_causal_mask=False, return_attention_scores=False):
    """Wrong: a pre-LN block that normalises its output again with ff_norm."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "final_norm")


def call_relu_after_output(self, x, context=None, attention_mask=None, context_mask=None,
                           use_causal_mask=False, return_attention_scores=False):
    """Wrong: a ReLU after ff_output too."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "relu_after_output")


def call_shared_norm(self, x, context=None, attention_mask=None, context_mask=None,
                     use_causal_mask=False, return_attention_scores=False):
    """Wrong: self_attention_norm for every sublayer (the other norms never built)."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "shared_norm")


def call_dropout(self, x, context=None, attention_mask=None, context_mask=None,
                 use_causal_mask=False, return_attention_scores=False):
    """Wrong: dropout on every sublayer's output, at inference too."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "dropout")


def call_self_scores(self, x, context=None, attention_mask=None, context_mask=None,
                     use_causal_mask=False, return_attention_scores=False):
    """Wrong: the self-attention's weights returned with cross-attention."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "self_scores")


def call_ff_no_residual(self, x, context=None, attention_mask=None, context_mask=None,
                        use_causal_mask=False, return_attention_scores=False):
    """Wrong: the feed-forward network without its residual connection."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "ff_no_residual")


def call_norm_inside_residual(self, x, context=None, attention_mask=None, context_mask=None,
                              use_causal_mask=False, return_attention_scores=False):
    """Wrong: post-LN as x + LN(f(x))."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "norm_inside_residual")


def call_ff_output_missing(self, x, context=None, attention_mask=None, context_mask=None,
                           use_causal_mask=False, return_attention_scores=False):
    """Wrong: ff_hidden alone, ff_output never applied."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "ff_output_missing")


def call_always_causal(self, x, context=None, attention_mask=None, context_mask=None,
                       use_causal_mask=False, return_attention_scores=False):
    """Wrong: use_causal_mask=True in the self-attention, always."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "always_causal")


def call_cross_skipped(self, x, context=None, attention_mask=None, context_mask=None,
                       use_causal_mask=False, return_attention_scores=False):
    """Wrong: the cross-attention never called."""
    return _call(self, x, context, attention_mask, context_mask, use_causal_mask,
                 return_attention_scores, "cross_skipped")


class SkeletonBlock(OwnAttentionBlock):
    """The skeleton's sublayers (Keras's attention) and the call of :class:`OwnAttentionBlock`;
    each wrong answer below changes one of the skeleton's settings."""

    needs = (OwnAttention, OwnAttentionBlock)
    hidden_activation, hidden_width, norm_epsilon, heads_by_position = "relu", None, None, False

    def __init__(self, num_heads, key_dim, ff_dim, cross_attention=False, norm_first=True,
                 epsilon=1e-6, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.num_heads, self.key_dim, self.ff_dim = num_heads, key_dim, ff_dim
        self.cross_attention, self.norm_first, self.epsilon = cross_attention, norm_first, epsilon
        self.self_attention = self.attention()
        self.self_attention_norm = self.norm()
        if cross_attention:
            self.cross_attention_layer = self.attention()
            self.cross_attention_norm = self.norm()
        self.ff_hidden = layers.Dense(self.hidden_width or ff_dim,
                                      activation=self.hidden_activation)

    def attention(self):
        if self.heads_by_position:
            return MultiHeadAttention(self.key_dim, self.num_heads)
        return MultiHeadAttention(num_heads=self.num_heads, key_dim=self.key_dim)

    def norm(self):
        if self.norm_epsilon == "keras":
            return layers.LayerNormalization()
        return layers.LayerNormalization(epsilon=self.norm_epsilon or self.epsilon)

    def build(self, x_shape, context_shape=None):
        self.ff_output = layers.Dense(x_shape[-1])
        self.ff_norm = self.norm()


class GeluBlock(SkeletonBlock):
    """Wrong: Dense(ff_dim, activation="gelu")."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)
    hidden_activation = "gelu"


class FourTimesWiderBlock(SkeletonBlock):
    """Wrong: the FFN's hidden width 16, ff_dim unused."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)
    hidden_width = 16


class PositionalHeadsBlock(SkeletonBlock):
    """Wrong: MultiHeadAttention(key_dim, num_heads), the two swapped."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)
    heads_by_position = True


class DefaultEpsilonBlock(SkeletonBlock):
    """Wrong: LayerNormalization() with Keras's default epsilon, 1e-3."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)
    norm_epsilon = "keras"


class FixedEpsilonBlock(SkeletonBlock):
    """Wrong: every LayerNorm at 1e-6, whatever epsilon says."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)
    norm_epsilon = 1e-6


class DropoutBlock(SkeletonBlock):
    """Right: dropout on every sublayer's output, a Dropout layer that follows `training` and
    so is off at inference (it holds no weights: their order is unchanged)."""

    needs = (*SkeletonBlock.needs, SkeletonBlock)

    def build(self, x_shape, context_shape=None):
        super().build(x_shape, context_shape)
        self.dropout = layers.Dropout(0.1)

    def sublayer(self, x, norm, f):
        if self.norm_first:
            out, weights = f(norm(x))
            return x + self.dropout(out), weights
        out, weights = f(x)
        return norm(x + self.dropout(out)), weights


RIGHT = [call_spelled_out, EinsumFeedForwardBlock, OwnAttentionBlock, call_own_causal_mask,
         DropoutBlock]
WRONG = [
    (call_no_residual, "block_no_residual"),
    (call_post_always, "block_norm_first_ignored"),
    (call_normalised_sum, "block_residual_normalised"),
    (call_causal_ignored, "block_causal_ignored"),
    (call_context_mask_ignored, "block_context_mask_ignored"),
    (LinearFeedForwardBlock, "block_no_relu"),
    (call_masks_not_combined, "block_masks_not_combined"),
    (call_mask_inverted, "block_mask_inverted"),
    (call_context_mask_inverted, "block_context_mask_inverted"),
    (call_cross_causal, "block_cross_attention_causal"),
    (call_masks_swapped, "block_masks_swapped"),
    (call_keys_from_x, "block_cross_keys_from_x"),
    (call_query_from_context, "block_cross_query_from_context"),
    (call_cross_first, "block_cross_first"),
    (call_ff_first, "block_feed_forward_first"),
    (call_final_norm, "block_final_norm_in_pre_norm"),
    (call_relu_after_output, "block_relu_after_output"),
    (call_shared_norm, "block_norm_shared"),
    (call_dropout, "block_random_at_inference"),
    (call_self_scores, "block_self_attention_scores"),
    (call_ff_no_residual, "block_ff_no_residual"),
    (call_norm_inside_residual, "block_norm_inside_residual"),
    (call_ff_output_missing, "block_ff_output_missing"),
    (call_always_causal, "block_always_causal"),
    (call_cross_skipped, "block_cross_attention_skipped"),
    (GeluBlock, "block_gelu"),
    (FourTimesWiderBlock, "block_ff_dim_unused"),
    (PositionalHeadsBlock, "block_heads_key_dim_swapped"),
    (DefaultEpsilonBlock, "block_epsilon_ignored"),
    (FixedEpsilonBlock, "block_epsilon_fixed"),
]
