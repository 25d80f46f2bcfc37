"""Lesson 04's corpus: ``MultiHeadAttention``'s right answers, the first wrong ones and the
helpers the other wrong answers share (``multi_head_variants`` holds those and gathers them
all), written as ``layer_variants`` describes.
"""

from __future__ import annotations

import math

import tensorflow as tf
from keras import ops
from layer_variants import (
    combine_masks,
    masked_softmax,
)


# == 04: MultiHeadAttention ======================================================================
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


def multi_head_einsum(self, query, value, key=None, attention_mask=None,
                      return_attention_scores=False, use_causal_mask=False):
    """Right: einsums straight to the scores, the heads never transposed, an additive mask."""
    key = value if key is None else key
    q = ops.einsum("btd,dhk->bthk", query, self.query_kernel)
    k = ops.einsum("btd,dhk->bthk", key, self.key_kernel)
    v = ops.einsum("btd,dhk->bthk", value, self.value_kernel)
    if self.use_bias:
        q, k, v = q + self.query_bias, k + self.key_bias, v + self.value_bias
    scores = ops.einsum("bqhk,bshk->bhqs", q / math.sqrt(self.key_dim), k)
    allowed = ops.ones_like(scores)
    if attention_mask is not None:
        allowed = allowed * ops.cast(ops.expand_dims(attention_mask, 1), scores.dtype)
    if use_causal_mask:
        allowed = allowed * ops.tril(ops.ones((ops.shape(q)[1], ops.shape(k)[1])))
    weights = ops.softmax(scores + (allowed - 1.0) * 1e9, axis=-1) * allowed
    output = ops.einsum("bhqs,bshv,hvd->bqd", weights, v, self.output_kernel)
    if self.use_bias:
        output = output + self.output_bias
    return (output, weights) if return_attention_scores else output


def multi_head_tf(self, query, value, key=None, attention_mask=None,
                  return_attention_scores=False, use_causal_mask=False):
    """Right: tf.einsum and tf.where, the causal mask from band_part, the merge as one matrix
    product of the concatenated heads."""
    key = value if key is None else key
    q = tf.einsum("btd,dhk->bhtk", query, self.query_kernel)
    k = tf.einsum("btd,dhk->bhtk", key, self.key_kernel)
    v = tf.einsum("btd,dhk->bhtk", value, self.value_kernel)
    if self.query_bias is not None:
        q += self.query_bias[:, None, :]
        k += self.key_bias[:, None, :]
        v += self.value_bias[:, None, :]
    scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(float(self.key_dim))
    mask = tf.ones_like(scores, dtype=tf.bool)
    if attention_mask is not None:
        mask = tf.logical_and(mask, tf.cast(attention_mask, tf.bool)[:, None])
    if use_causal_mask:
        mask = tf.logical_and(mask, tf.linalg.band_part(tf.ones_like(scores), -1, 0) > 0)
    weights = tf.where(mask, tf.nn.softmax(tf.where(mask, scores, -1e9)), 0.0)
    heads = tf.transpose(tf.matmul(weights, v), (0, 2, 1, 3))  # (B, Tq, H, dv)
    concatenated = tf.reshape(heads, (tf.shape(heads)[0], tf.shape(heads)[1], -1))
    output = concatenated @ tf.reshape(self.output_kernel, (-1, self.output_kernel.shape[-1]))
    if self.output_bias is not None:
        output += self.output_bias
    return (output, weights) if return_attention_scores else output


def _heads(self, query, value, key):
    """Shared by the wrong answers below: q, k, v split into heads (B, H, T, d)."""
    key = value if key is None else key

    def split(x, kernel, bias):
        x = ops.einsum("btd,dhk->bthk", x, kernel)
        return ops.transpose(x if bias is None else x + bias, (0, 2, 1, 3))

    return (split(query, self.query_kernel, self.query_bias),
            split(key, self.key_kernel, self.key_bias),
            split(value, self.value_kernel, self.value_bias))


def _merge(self, heads):
    """Shared by the wrong answers below: (B, H, Tq, dv) merged and projected."""
    output = ops.einsum("bhtv,hvd->btd", heads, self.output_kernel)
    return output if self.output_bias is None else output + self.output_bias


def _attend(self, q, k, v, attention_mask, use_causal_mask, combine=combine_masks,
            softmax=masked_softmax):
    """Shared by the wrong answers below: the solution's attention per head, with the helpers
    given; (heads, weights)."""
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.key_dim)
    mask = combine(attention_mask, use_causal_mask, ops.shape(q)[2], ops.shape(k)[2])
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), -3)
    weights = softmax(scores, mask)
    return ops.matmul(weights, v), weights
