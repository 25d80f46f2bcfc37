"""A corpus of learner answers to the Keras exercises (lessons 04 and 07), right and wrong.

``VARIANTS[exercise]`` holds ``"right"`` answers, written differently from the solution (tf ops,
einsum, a loop over heads, reshapes…), which must get full marks, and ``"wrong"`` ones as
``(answer, misconception)`` pairs: each makes one known mistake that the feedback must name with
``course_lib.misconceptions.DESCRIPTIONS[misconception]``.

- Layers (``AttentionLayer``, ``MultiHeadAttention``): an answer is a ``call`` method, written
  here as a function of ``self``; :func:`answer_cells` puts it in place of the solution's
  ``call`` in the lesson's class (``__init__``, ``build`` and ``get_config`` are the given
  skeleton). The layers use the lesson's helpers ``masked_softmax`` and ``combine_masks``;
  ``HELPERS`` holds right versions of those (the ones defined in this module are the first).
- Lesson 07's functions are pasted whole under the exercise's name. ``build_translator`` answers
  use the lesson's given ``PositionalEmbedding`` and the names its setup cell binds
  (``TransformerBlock``, ``sinusoidal_encoding``), stood in for here for the linter's sake only.

pytest puts ``tests/`` on ``sys.path``, so test modules ``import keras_variants``.
"""

from __future__ import annotations

import inspect
import math
import re
import textwrap

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from course_lib.dates import PAD_ID, SOURCE_LEN, SOURCE_VOCAB, START_ID, TARGET_LEN, TARGET_VOCAB

# The lesson's given embedding and the parts its setup loads, for the names in build_translator
# answers (never called here).
PositionalEmbedding = TransformerBlock = sinusoidal_encoding = None


def source(function, name: str) -> str:
    """``function``'s source, dedented, renamed to ``name``."""
    text = textwrap.dedent(inspect.getsource(function))
    return re.sub(rf"\bdef {function.__name__}\(", f"def {name}(", text, count=1)


# == 04: the helpers ===========================================================================
def masked_softmax(scores, mask=None):
    """Right: an additive mask, then the masked weights multiplied away."""
    if mask is None:
        return ops.softmax(scores, axis=-1)
    allowed = ops.cast(mask, scores.dtype)
    weights = ops.softmax(scores + (1.0 - allowed) * -1e9, axis=-1)
    return weights * allowed


def combine_masks(attention_mask, use_causal_mask, t_q, t_k):
    """Right: the causal mask from comparing positions."""
    mask = attention_mask
    if use_causal_mask:
        causal = ops.expand_dims(ops.arange(t_q), 1) >= ops.expand_dims(ops.arange(t_k), 0)
        mask = causal if mask is None else ops.logical_and(ops.cast(mask, "bool"), causal)
    return mask


def masked_softmax_tf(scores, mask=None):
    """Right: TensorFlow's own ops, with -inf and NaNs cleaned up."""
    if mask is None:
        return tf.nn.softmax(scores, axis=-1)
    mask = tf.broadcast_to(tf.cast(mask, tf.bool), tf.shape(scores))
    weights = tf.nn.softmax(tf.where(mask, scores, -np.inf), axis=-1)
    return tf.where(mask, weights, tf.zeros_like(weights))


def combine_masks_tf(attention_mask, use_causal_mask, t_q, t_k):
    """Right: tf.linalg.band_part keeps the lower triangle."""
    if not use_causal_mask:
        return attention_mask
    causal = tf.cast(tf.linalg.band_part(tf.ones((t_q, t_k)), -1, 0), tf.bool)
    if attention_mask is None:
        return causal
    return tf.logical_and(tf.cast(attention_mask, tf.bool), causal)


HELPERS = [(masked_softmax, combine_masks), (masked_softmax_tf, combine_masks_tf)]


def helpers_cell(pair) -> str:
    softmax, combine = pair
    return f"{source(softmax, 'masked_softmax')}\n\n{source(combine, 'combine_masks')}"


# Printed to stderr by a right answer while graded cells run (a TensorFlow C++ log line).
TF_LOG_LINE = ("I0000 00:00:1700000000.000000   123 cpu_feature_guard.cc:210] This TensorFlow "
               "binary is optimized to use available CPU instructions.")


def noisy_helpers_cell(pair) -> str:
    """Right helpers whose masked_softmax writes a TensorFlow log line to stderr at every call:
    it must cost nothing."""
    return helpers_cell(pair) + f"""


import sys

_masked_softmax = masked_softmax


def masked_softmax(scores, mask=None):
    print({TF_LOG_LINE!r}, file=sys.stderr)
    return _masked_softmax(scores, mask)
"""


# == 04: AttentionLayer.call ====================================================================
def attention_layer_tf(self, query, value, key=None, attention_mask=None,
                       return_attention_scores=False, use_causal_mask=False):
    """Right: tf.matmul with transpose_b, and a tf scale."""
    key = value if key is None else key
    q, k, v = self.query_dense(query), self.key_dense(key), self.value_dense(value)
    scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(tf.cast(self.units, q.dtype))
    mask = combine_masks(attention_mask, use_causal_mask, tf.shape(q)[1], tf.shape(k)[1])
    weights = masked_softmax(scores, mask)
    output = self.output_dense(tf.matmul(weights, v))
    if return_attention_scores:
        return output, weights
    return output


def attention_layer_einsum(self, query, value, key=None, attention_mask=None,
                           return_attention_scores=False, use_causal_mask=False):
    """Right: the queries scaled first, scores by einsum."""
    if key is None:
        key = value
    q = self.query_dense(query) / math.sqrt(self.units)
    scores = ops.einsum("bqd,bkd->bqk", q, self.key_dense(key))
    t_q, t_k = scores.shape[1], scores.shape[2]
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask, t_q, t_k))
    output = self.output_dense(ops.einsum("bqk,bkd->bqd", weights, self.value_dense(value)))
    return (output, weights) if return_attention_scores else output


def attention_layer_tutorial(self, query, value, key=None, attention_mask=None,
                             return_attention_scores=False, use_causal_mask=False):
    """Wrong: the tutorial's bug, W_v never applied."""
    key = value if key is None else key
    q, k = self.query_dense(query), self.key_dense(key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    mask = combine_masks(attention_mask, use_causal_mask, q.shape[1], k.shape[1])
    weights = masked_softmax(scores, mask)
    output = self.output_dense(ops.matmul(weights, value))
    return (output, weights) if return_attention_scores else output


def attention_layer_unscaled(self, query, value, key=None, attention_mask=None,
                             return_attention_scores=False, use_causal_mask=False):
    """Wrong: no 1/√units."""
    key = value if key is None else key
    q, k, v = self.query_dense(query), self.key_dense(key), self.value_dense(value)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2))
    mask = combine_masks(attention_mask, use_causal_mask, q.shape[1], k.shape[1])
    weights = masked_softmax(scores, mask)
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_inverted_mask(self, query, value, key=None, attention_mask=None,
                                  return_attention_scores=False, use_causal_mask=False):
    """Wrong: True taken to mean "masked out"."""
    key = value if key is None else key
    q, k, v = self.query_dense(query), self.key_dense(key), self.value_dense(value)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    if attention_mask is not None:
        attention_mask = ops.logical_not(ops.cast(attention_mask, "bool"))
    mask = combine_masks(attention_mask, use_causal_mask, q.shape[1], k.shape[1])
    weights = masked_softmax(scores, mask)
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_softmax_over_queries(self, query, value, key=None, attention_mask=None,
                                         return_attention_scores=False, use_causal_mask=False):
    """Wrong: the softmax normalises each key's column."""
    key = value if key is None else key
    q, k, v = self.query_dense(query), self.key_dense(key), self.value_dense(value)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    mask = combine_masks(attention_mask, use_causal_mask, q.shape[1], k.shape[1])
    if mask is not None:
        scores = ops.where(mask, scores, -1e9)
    weights = ops.softmax(scores, axis=1)
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_without_causal(self, query, value, key=None, attention_mask=None,
                                   return_attention_scores=False, use_causal_mask=False):
    """Wrong: use_causal_mask accepted and ignored."""
    key = value if key is None else key
    q, k, v = self.query_dense(query), self.key_dense(key), self.value_dense(value)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    weights = masked_softmax(scores, attention_mask)
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


# == 04: MultiHeadAttention.call ================================================================
def multi_head_loop(self, query, value, key=None, attention_mask=None,
                    return_attention_scores=False, use_causal_mask=False):
    """Right: one head at a time, in a Python loop."""
    key = value if key is None else key
    mask = combine_masks(attention_mask, use_causal_mask, query.shape[1], key.shape[1])
    output, all_weights = 0.0, []
    for h in range(self.num_heads):
        q = ops.matmul(query, self.query_kernel[:, h, :])
        k = ops.matmul(key, self.key_kernel[:, h, :])
        v = ops.matmul(value, self.value_kernel[:, h, :])
        if self.use_bias:
            q, k, v = q + self.query_bias[h], k + self.key_bias[h], v + self.value_bias[h]
        weights = masked_softmax(ops.matmul(q, ops.swapaxes(k, 1, 2)) / math.sqrt(self.key_dim),
                                 mask)
        output = output + ops.matmul(ops.matmul(weights, v), self.output_kernel[h])
        all_weights.append(weights)
    if self.use_bias:
        output = output + self.output_bias
    if return_attention_scores:
        return output, ops.stack(all_weights, axis=1)
    return output


def multi_head_reshape(self, query, value, key=None, attention_mask=None,
                       return_attention_scores=False, use_causal_mask=False):
    """Right: 2-D kernels, reshape to (B, T, H, d), then transpose; heads concatenated."""
    key = value if key is None else key
    heads = self.num_heads

    def split(x, kernel, bias, size):
        flat = tf.matmul(x, tf.reshape(kernel, (x.shape[-1], heads * size)))
        if bias is not None:
            flat = flat + tf.reshape(bias, (heads * size,))
        split_heads = tf.reshape(flat, (tf.shape(x)[0], tf.shape(x)[1], heads, size))
        return tf.transpose(split_heads, (0, 2, 1, 3))

    q = split(query, self.query_kernel, self.query_bias, self.key_dim)
    k = split(key, self.key_kernel, self.key_bias, self.key_dim)
    v = split(value, self.value_kernel, self.value_bias, self.value_dim)
    scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(self.key_dim)
    mask = combine_masks(attention_mask, use_causal_mask, tf.shape(q)[2], tf.shape(k)[2])
    if mask is not None:
        mask = tf.expand_dims(tf.cast(mask, tf.bool), -3)
    weights = masked_softmax(scores, mask)
    merged = tf.transpose(tf.matmul(weights, v), (0, 2, 1, 3))
    merged = tf.reshape(merged, (tf.shape(query)[0], tf.shape(query)[1], -1))
    output = tf.matmul(merged, tf.reshape(self.output_kernel, (heads * self.value_dim, -1)))
    if self.output_bias is not None:
        output = output + self.output_bias
    return (output, weights) if return_attention_scores else output


def multi_head_bad_reshape(self, query, value, key=None, attention_mask=None,
                           return_attention_scores=False, use_causal_mask=False):
    """Wrong: (B, T, H·d) reshaped straight to (B, H, T, d)."""
    key = value if key is None else key
    heads = self.num_heads

    def split(x, kernel, bias, size):
        flat = ops.matmul(x, ops.reshape(kernel, (x.shape[-1], heads * size)))
        if bias is not None:
            flat = flat + ops.reshape(bias, (heads * size,))
        return ops.reshape(flat, (x.shape[0], heads, x.shape[1], size))

    q = split(query, self.query_kernel, self.query_bias, self.key_dim)
    k = split(key, self.key_kernel, self.key_bias, self.key_dim)
    v = split(value, self.value_kernel, self.value_bias, self.value_dim)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.key_dim)
    mask = combine_masks(attention_mask, use_causal_mask, q.shape[2], k.shape[2])
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), -3)
    weights = masked_softmax(scores, mask)
    output = ops.einsum("bhtv,hvd->btd", ops.matmul(weights, v), self.output_kernel)
    if self.output_bias is not None:
        output = output + self.output_bias
    return (output, weights) if return_attention_scores else output


def _multi_head(self, query, value, key, mask, scale, after_softmax=False):
    """Shared by the wrong answers below: einsum heads, a given scale and mask handling."""
    q = ops.einsum("btd,dhk->bhtk", query, self.query_kernel)
    k = ops.einsum("btd,dhk->bhtk", key, self.key_kernel)
    v = ops.einsum("btd,dhk->bhtk", value, self.value_kernel)
    if self.use_bias:
        q = q + ops.expand_dims(self.query_bias, 1)
        k = k + ops.expand_dims(self.key_bias, 1)
        v = v + ops.expand_dims(self.value_bias, 1)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) * scale
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), -3)
    if after_softmax and mask is not None:
        weights = ops.softmax(scores, axis=-1) * ops.cast(mask, scores.dtype)
    else:
        weights = masked_softmax(scores, mask)
    output = ops.einsum("bhtv,hvd->btd", ops.matmul(weights, v), self.output_kernel)
    if self.use_bias:
        output = output + self.output_bias
    return output, weights


def multi_head_model_width_scale(self, query, value, key=None, attention_mask=None,
                                 return_attention_scores=False, use_causal_mask=False):
    """Wrong: 1/√(H·key_dim)."""
    key = value if key is None else key
    mask = combine_masks(attention_mask, use_causal_mask, query.shape[1], key.shape[1])
    output, weights = _multi_head(self, query, value, key, mask,
                                  1 / math.sqrt(self.num_heads * self.key_dim))
    return (output, weights) if return_attention_scores else output


def multi_head_mask_after_softmax(self, query, value, key=None, attention_mask=None,
                                  return_attention_scores=False, use_causal_mask=False):
    """Wrong: weights zeroed after the softmax, never renormalised."""
    key = value if key is None else key
    mask = combine_masks(attention_mask, use_causal_mask, query.shape[1], key.shape[1])
    output, weights = _multi_head(self, query, value, key, mask, 1 / math.sqrt(self.key_dim),
                                  after_softmax=True)
    return (output, weights) if return_attention_scores else output


def multi_head_mask_ignored(self, query, value, key=None, attention_mask=None,
                            return_attention_scores=False, use_causal_mask=False):
    """Wrong: only the causal mask is applied."""
    key = value if key is None else key
    mask = combine_masks(None, use_causal_mask, query.shape[1], key.shape[1])
    output, weights = _multi_head(self, query, value, key, mask, 1 / math.sqrt(self.key_dim))
    return (output, weights) if return_attention_scores else output


def multi_head_unscaled(self, query, value, key=None, attention_mask=None,
                        return_attention_scores=False, use_causal_mask=False):
    """Wrong: no scaling at all."""
    key = value if key is None else key
    mask = combine_masks(attention_mask, use_causal_mask, query.shape[1], key.shape[1])
    output, weights = _multi_head(self, query, value, key, mask, 1.0)
    return (output, weights) if return_attention_scores else output


def multi_head_other_order(self, query, value, attention_mask=None, key=None,
                           return_attention_scores=False, use_causal_mask=False):
    """Wrong: attention_mask third, where Keras has key."""
    key = value if key is None else key
    mask = combine_masks(attention_mask, use_causal_mask, query.shape[1], key.shape[1])
    output, weights = _multi_head(self, query, value, key, mask, 1 / math.sqrt(self.key_dim))
    return (output, weights) if return_attention_scores else output


# == 07: teacher_forcing ========================================================================
def teacher_forcing_roll(targets):
    """Right: roll right by one, then START over the wrapped-around last character."""
    decoder_inputs = np.roll(targets, 1, axis=1)
    decoder_inputs[:, 0] = START_ID
    return decoder_inputs, targets


def teacher_forcing_pad(targets):
    """Right: np.pad with the start id."""
    return np.pad(targets[:, :-1], ((0, 0), (1, 0)), constant_values=START_ID), targets.copy()


def teacher_forcing_unshifted(targets):
    return targets, targets


def teacher_forcing_left(targets):
    return np.concatenate([targets[:, 1:], np.full((len(targets), 1), START_ID)], axis=1), targets


def teacher_forcing_start_last(targets):
    start = np.full((len(targets), 1), START_ID, dtype=targets.dtype)
    return np.concatenate([targets[:, :-1], start], axis=1), targets


def teacher_forcing_both_shifted(targets):
    start = np.full((len(targets), 1), START_ID, dtype=targets.dtype)
    return np.concatenate([start, targets[:, :-1]], axis=1), targets[:, 1:]


# == 07: build_translator =======================================================================
def translator_pre_norm(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                        num_heads=4):
    """Right: pre-LN blocks (the default), each side ending with a LayerNormalization."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    mask = ops.expand_dims(ops.not_equal(source, PAD_ID), 1)
    options = {"num_heads": num_heads, "key_dim": d_model // num_heads, "ff_dim": 2 * d_model}
    x = PositionalEmbedding(len(SOURCE_VOCAB), SOURCE_LEN, d_model, positions)(source)
    x = layers.LayerNormalization()(block(**options)(x, attention_mask=mask))
    y = PositionalEmbedding(len(TARGET_VOCAB), TARGET_LEN, d_model, positions)(decoder_input)
    y = block(cross_attention=True, name="decoder_block", **options)(
        y, context=x, context_mask=mask, use_causal_mask=True, return_attention_scores=True)[0]
    logits = layers.Dense(len(TARGET_VOCAB))(layers.LayerNormalization()(y))
    return keras.Model([source, decoder_input], logits)


def translator_helpers(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                       num_heads=4):
    """Right: helpers, an explicit (B, 1, Ts) mask, the context passed by position, a wider
    feed-forward network."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    not_pad = ops.reshape(ops.not_equal(source, PAD_ID), (-1, 1, SOURCE_LEN))

    def embed(ids, vocab, length):
        return PositionalEmbedding(len(vocab), length, d_model, positions)(ids)

    def make(name, **options):
        return block(num_heads, d_model // num_heads, 4 * d_model, norm_first=False, name=name,
                     **options)

    encoded = make("encoder")(embed(source, SOURCE_VOCAB, SOURCE_LEN), attention_mask=not_pad)
    decoded, _ = make("decoder_block", cross_attention=True)(
        embed(decoder_input, TARGET_VOCAB, TARGET_LEN), encoded, context_mask=not_pad,
        use_causal_mask=True, return_attention_scores=True)
    return keras.Model([source, decoder_input], layers.Dense(len(TARGET_VOCAB))(decoded))


def _translator(block, positions, d_model, num_heads, flaw):
    """Shared by the wrong answers below: the solution's model with one flaw."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    not_pad = ops.expand_dims(ops.not_equal(source, PAD_ID), 1)
    if flaw == "block_not_used":
        block = TransformerBlock
    size, ff_dim = d_model // num_heads, 2 * d_model
    x = PositionalEmbedding(len(SOURCE_VOCAB), SOURCE_LEN, d_model, positions)(source)
    encoder = block(num_heads, size, ff_dim, norm_first=False, name="encoder_block")
    if flaw == "mask_passed_positionally":
        x = encoder(x, None, not_pad)
    else:
        x = encoder(x, attention_mask=not_pad)
    y = PositionalEmbedding(len(TARGET_VOCAB), TARGET_LEN, d_model, positions)(decoder_input)
    decoder = block(num_heads, size, ff_dim, cross_attention=True, norm_first=False,
                    name="decoder_block")
    masks = {} if flaw == "padding_not_masked" else {"context_mask": not_pad}
    if flaw == "swapped_cross_attention":
        out, _ = decoder(x, context=y, use_causal_mask=True, return_attention_scores=True)
        y = y + ops.mean(out, axis=1, keepdims=True)
    else:
        y, _ = decoder(y, context=x, use_causal_mask=flaw != "not_causal",
                       return_attention_scores=True, **masks)
    activation = "softmax" if flaw == "softmax_output" else None
    return keras.Model([source, decoder_input],
                       layers.Dense(len(TARGET_VOCAB), activation=activation)(y))


def translator_not_causal(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                          num_heads=4):
    return _translator(block, positions, d_model, num_heads, "not_causal")


def translator_swapped(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                       num_heads=4):
    return _translator(block, positions, d_model, num_heads, "swapped_cross_attention")


def translator_unmasked_pads(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                             num_heads=4):
    return _translator(block, positions, d_model, num_heads, "padding_not_masked")


def translator_positional_mask(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                               num_heads=4):
    return _translator(block, positions, d_model, num_heads, "mask_passed_positionally")


def translator_fixed_block(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                           num_heads=4):
    return _translator(block, positions, d_model, num_heads, "block_not_used")


def translator_softmax(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                       num_heads=4):
    return _translator(block, positions, d_model, num_heads, "softmax_output")


# == 07: greedy_decode ==========================================================================
def greedy_decode_growing(model, source):
    """Right: the decoder input grows by concatenation; model called directly."""
    n = len(source)
    so_far = np.full((n, 1), START_ID, dtype="int32")
    for step in range(TARGET_LEN):
        padded = np.pad(so_far, ((0, 0), (0, TARGET_LEN - so_far.shape[1])))
        logits = model([source, padded], training=False)
        next_ids = ops.convert_to_numpy(ops.argmax(logits[:, step], axis=-1)).astype("int32")
        so_far = np.concatenate([so_far, next_ids[:, None]], axis=1)
    return so_far[:, 1:]


def greedy_decode_predict(model, source):
    """Right: model.predict on the whole batch at each step, a list of columns."""
    columns = []
    for step in range(TARGET_LEN):
        decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
        for i, column in enumerate(columns):
            decoder_input[:, i + 1] = column
        logits = model.predict([source, decoder_input], verbose=0)
        columns.append(np.argmax(logits[:, step, :], axis=-1))
    return np.stack(columns, axis=1)


def greedy_decode_once(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    return np.argmax(np.asarray(model([source, decoder_input])), axis=-1)


def greedy_decode_last(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN):
        predicted[:, step] = np.argmax(np.asarray(model([source, decoder_input]))[:, -1], axis=-1)
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def greedy_decode_with_start(model, source):
    decoder_input = np.full((len(source), TARGET_LEN + 1), START_ID, dtype="int32")
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input[:, :TARGET_LEN]]))
        decoder_input[:, step + 1] = np.argmax(logits[:, step], axis=-1)
    return decoder_input[:, :TARGET_LEN]


def greedy_decode_in_place(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input]))
        decoder_input[:, step] = np.argmax(logits[:, step], axis=-1)
    return decoder_input


# == 07: alignment ==============================================================================
def alignment_sum(weights):
    """Right: a sum over the heads has the same argmax as the mean."""
    return np.asarray(weights).sum(axis=1).argmax(axis=-1)


def alignment_ops(weights):
    """Right: keras.ops."""
    return ops.convert_to_numpy(ops.argmax(ops.mean(weights, axis=1), axis=-1))


def alignment_first_head(weights):
    return np.argmax(weights[:, 0], axis=-1)


def alignment_over_outputs(weights):
    return np.argmax(np.mean(weights, axis=1), axis=1)


def alignment_max(weights):
    return np.max(np.mean(weights, axis=1), axis=-1)


def alignment_per_head(weights):
    return np.argmax(weights, axis=-1)


VARIANTS = {
    "AttentionLayer": {
        "right": [attention_layer_tf, attention_layer_einsum],
        "wrong": [
            (attention_layer_tutorial, "layer_values_not_projected"),
            (attention_layer_unscaled, "layer_no_scaling"),
            (attention_layer_inverted_mask, "layer_mask_inverted"),
            (attention_layer_softmax_over_queries, "layer_softmax_wrong_axis"),
            (attention_layer_without_causal, "layer_causal_ignored"),
        ],
    },
    "MultiHeadAttention": {
        "right": [multi_head_loop, multi_head_reshape],
        "wrong": [
            (multi_head_bad_reshape, "layer_heads_not_split"),
            (multi_head_model_width_scale, "layer_scale_by_model_dim"),
            (multi_head_mask_after_softmax, "layer_mask_after_softmax"),
            (multi_head_mask_ignored, "layer_mask_ignored"),
            (multi_head_other_order, "layer_signature_order"),
            (multi_head_unscaled, "layer_no_scaling"),
        ],
    },
    "teacher_forcing": {
        "right": [teacher_forcing_roll, teacher_forcing_pad],
        "wrong": [
            (teacher_forcing_unshifted, "no_shift"),
            (teacher_forcing_left, "shift_left"),
            (teacher_forcing_start_last, "start_at_end"),
            (teacher_forcing_both_shifted, "targets_shifted"),
        ],
    },
    "build_translator": {
        "right": [translator_pre_norm, translator_helpers],
        "wrong": [
            (translator_not_causal, "not_causal"),
            (translator_swapped, "swapped_cross_attention"),
            (translator_unmasked_pads, "padding_not_masked"),
            (translator_positional_mask, "mask_passed_positionally"),
            (translator_fixed_block, "block_not_used"),
            (translator_softmax, "softmax_output"),
        ],
    },
    "greedy_decode": {
        "right": [greedy_decode_growing, greedy_decode_predict],
        "wrong": [
            (greedy_decode_once, "no_feedback"),
            (greedy_decode_last, "last_position"),
            (greedy_decode_with_start, "start_kept"),
            (greedy_decode_in_place, "fed_back_in_place"),
        ],
    },
    "alignment": {
        "right": [alignment_sum, alignment_ops],
        "wrong": [
            (alignment_first_head, "head_zero_only"),
            (alignment_over_outputs, "argmax_over_outputs"),
            (alignment_max, "max_not_argmax"),
            (alignment_per_head, "per_head_argmax"),
        ],
    },
}
LAYERS = ("AttentionLayer", "MultiHeadAttention")


def layer_cell(solution_cell: str, call) -> str:
    """The lesson's class cell with its ``call`` method replaced by ``call``."""
    method = textwrap.indent(source(call, "call"), "    ")
    start = solution_cell.index("    def call(")
    end = solution_cell.index("    def get_config(")
    return solution_cell[:start] + method + "\n" + solution_cell[end:]


SHARED = (_multi_head, _translator)  # helpers some answers call: pasted before them


def answer_code(exercise: str, answer, solution_cell: str) -> str:
    """The code of the answer cell of ``exercise`` holding ``answer`` (and the helpers it
    calls)."""
    code = layer_cell(solution_cell, answer) if exercise in LAYERS else source(answer, exercise)
    needed = [source(helper, helper.__name__) for helper in SHARED
              if f"{helper.__name__}(" in inspect.getsource(answer)]
    return "\n\n".join([*needed, code])
