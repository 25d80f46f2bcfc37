"""Lesson 04's corpus: answers to ``AttentionLayer``, right and wrong, written as
``layer_variants`` describes (a method as a function of ``self``; wrong helpers pasted above the
answers that call them).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops
from layer_variants import (
    combine_masks,
    combine_masks_causal_wins,
    combine_masks_end,
    combine_masks_one_ahead,
    combine_masks_or,
    combine_masks_strict,
    combine_masks_upper,
    masked_softmax,
    masked_softmax_large_negative,
    masked_softmax_minus_inf,
    masked_softmax_multiplied,
    replaces,
)


# == 04: AttentionLayer.call ======================================================================
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


def _qkv(self, query, value, key):
    """Shared by the answers below: the three projections, the key defaulting to the value."""
    key = value if key is None else key
    return self.query_dense(query), self.key_dense(key), self.value_dense(value)


def attention_layer_additive(self, query, value, key=None, attention_mask=None,
                             return_attention_scores=False, use_causal_mask=False):
    """Right: no helpers, an additive -1e9 mask, masked weights multiplied away, the causal
    mask from comparing positions."""
    q, k, v = _qkv(self, query, value, key)
    scores = ops.einsum("bqd,bkd->bqk", q, k) * (1.0 / math.sqrt(self.units))
    allowed = ops.ones_like(scores)
    if attention_mask is not None:
        allowed = allowed * ops.cast(attention_mask, scores.dtype)
    if use_causal_mask:
        rows, cols = ops.arange(ops.shape(q)[1]), ops.arange(ops.shape(k)[1])
        allowed = allowed * ops.cast(rows[:, None] >= cols[None, :], scores.dtype)
    weights = ops.softmax(scores - 1e9 * (1.0 - allowed), axis=-1) * allowed
    output = self.output_dense(ops.einsum("bqk,bkd->bqd", weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_kernels(self, query, value, key=None, attention_mask=None,
                            return_attention_scores=False, use_causal_mask=False):
    """Right: the Dense layers' kernels and biases read directly, tf.where masks, band_part."""
    key = value if key is None else key

    def dense(layer, x):
        return tf.tensordot(x, layer.kernel, axes=1) + layer.bias

    q, k, v = dense(self.query_dense, query), dense(self.key_dense, key), dense(self.value_dense,
                                                                              value)
    scores = tf.einsum("bqd,bkd->bqk", q, k) / np.sqrt(self.units).astype("float32")
    allowed = tf.ones_like(scores, dtype=tf.bool)
    if attention_mask is not None:
        allowed = tf.logical_and(allowed, tf.cast(attention_mask, tf.bool))
    if use_causal_mask:
        lower = tf.linalg.band_part(tf.ones(tf.shape(scores)[1:]), -1, 0)
        allowed = tf.logical_and(allowed, tf.cast(lower, tf.bool))
    weights = tf.nn.softmax(tf.where(allowed, scores, -1e9), axis=-1)
    weights = tf.where(allowed, weights, 0.0)
    output = dense(self.output_dense, weights @ v)
    return (output, weights) if return_attention_scores else output


def _single_head(self, query, value, key, attention_mask, use_causal_mask, return_scores,
                 combine=combine_masks, softmax=masked_softmax):
    """Shared by the wrong answers below: the solution's single head, with the helpers
    given."""
    q, k, v = _qkv(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    weights = softmax(scores, combine(attention_mask, use_causal_mask, q.shape[1], k.shape[1]))
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_scores else output


def attention_layer_causal_strict(self, query, value, key=None, attention_mask=None,
                                  return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, combine=combine_masks_strict)


def attention_layer_causal_one_ahead(self, query, value, key=None, attention_mask=None,
                                     return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, combine=combine_masks_one_ahead)


def attention_layer_causal_upper(self, query, value, key=None, attention_mask=None,
                                 return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, combine=combine_masks_upper)


def attention_layer_masks_or(self, query, value, key=None, attention_mask=None,
                             return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, combine=combine_masks_or)


def attention_layer_causal_wins(self, query, value, key=None, attention_mask=None,
                                return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, combine=combine_masks_causal_wins)


def attention_layer_causal_end(self, query, value, key=None, attention_mask=None,
                               return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, combine=combine_masks_end)


def attention_layer_mask_multiplied(self, query, value, key=None, attention_mask=None,
                                    return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, softmax=masked_softmax_multiplied)


def attention_layer_uniform_rows(self, query, value, key=None, attention_mask=None,
                                 return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, softmax=masked_softmax_large_negative)


def attention_layer_nan_rows(self, query, value, key=None, attention_mask=None,
                             return_attention_scores=False, use_causal_mask=False):
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores, softmax=masked_softmax_minus_inf)


def attention_layer_mask_ignored(self, query, value, key=None, attention_mask=None,
                                 return_attention_scores=False, use_causal_mask=False):
    """Wrong: only the causal mask reaches the softmax."""
    return _single_head(self, query, value, key, None, use_causal_mask,
                        return_attention_scores)


def attention_layer_scores_returned(self, query, value, key=None, attention_mask=None,
                                    return_attention_scores=False, use_causal_mask=False):
    """Wrong: the scores, before the softmax, returned as the weights."""
    q, k, v = _qkv(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask, q.shape[1],
                                                   k.shape[1]))
    output = self.output_dense(ops.matmul(weights, v))
    return (output, scores) if return_attention_scores else output


def attention_layer_key_from_query(self, query, value, key=None, attention_mask=None,
                                   return_attention_scores=False, use_causal_mask=False):
    """Wrong: without a key, the keys come from the query."""
    key = query if key is None else key
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores)


def attention_layer_no_biases(self, query, value, key=None, attention_mask=None,
                              return_attention_scores=False, use_causal_mask=False):
    """Wrong: the kernels read directly, their biases forgotten."""
    key = value if key is None else key
    q = ops.matmul(query, self.query_dense.kernel)
    k = ops.matmul(key, self.key_dense.kernel)
    v = ops.matmul(value, self.value_dense.kernel)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask, q.shape[1],
                                                   k.shape[1]))
    output = ops.matmul(ops.matmul(weights, v), self.output_dense.kernel)
    return (output, weights) if return_attention_scores else output


def attention_layer_no_output_dense(self, query, value, key=None, attention_mask=None,
                                    return_attention_scores=False, use_causal_mask=False):
    """Wrong: the weighted values are the output, W_o never applied."""
    q, k, v = _qkv(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask, q.shape[1],
                                                   k.shape[1]))
    output = ops.matmul(weights, v)
    return (output, weights) if return_attention_scores else output


def attention_layer_scale_by_length(self, query, value, key=None, attention_mask=None,
                                    return_attention_scores=False, use_causal_mask=False):
    """Wrong: k.shape[1] is the number of keys, not their size."""
    q, k, v = _qkv(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(k.shape[1])
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask, q.shape[1],
                                                   k.shape[1]))
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_scale_by_input(self, query, value, key=None, attention_mask=None,
                                   return_attention_scores=False, use_causal_mask=False):
    """Wrong: the query's feature size, before the projection."""
    q, k, v = _qkv(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(query.shape[-1])
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask, q.shape[1],
                                                   k.shape[1]))
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_scaled_after_softmax(self, query, value, key=None, attention_mask=None,
                                         return_attention_scores=False, use_causal_mask=False):
    """Wrong: the weights divided by √units."""
    q, k, v = _qkv(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2))
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask, q.shape[1],
                                                   k.shape[1])) / math.sqrt(self.units)
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_mask_after_softmax(self, query, value, key=None, attention_mask=None,
                                       return_attention_scores=False, use_causal_mask=False):
    """Wrong: the softmax first, then the masked weights zeroed."""
    q, k, v = _qkv(self, query, value, key)
    weights = ops.softmax(ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units))
    mask = combine_masks(attention_mask, use_causal_mask, q.shape[1], k.shape[1])
    if mask is not None:
        weights = weights * ops.cast(mask, weights.dtype)
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_dropout(self, query, value, key=None, attention_mask=None,
                            return_attention_scores=False, use_causal_mask=False):
    """Wrong: dropout on the weights, at every call."""
    q, k, v = _qkv(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.units)
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask, q.shape[1],
                                                   k.shape[1]))
    weights = keras.random.dropout(weights, rate=0.1)
    output = self.output_dense(ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def attention_layer_always_both(self, query, value, key=None, attention_mask=None,
                                return_attention_scores=False, use_causal_mask=False):
    """Wrong: (output, weights) whatever return_attention_scores says."""
    output, weights = _single_head(self, query, value, key, attention_mask, use_causal_mask,
                                   True)
    return output, weights


def attention_layer_torch_order(self, query, key, value, attention_mask=None,
                                return_attention_scores=False, use_causal_mask=False):
    """Wrong: PyTorch's order, (query, key, value)."""
    return _single_head(self, query, value, key, attention_mask, use_causal_mask,
                        return_attention_scores)


@replaces("get_config")
def attention_layer_config_without_units(self):
    """Wrong: the base class's config alone."""
    return super().get_config()


@replaces("build")
def attention_layer_build_swapped(self, query_shape, value_shape, key_shape=None):
    """Wrong: the key's and the value's projections built on each other's shapes."""
    key_shape = value_shape if key_shape is None else key_shape
    self.query_dense.build(query_shape)
    self.key_dense.build(value_shape)
    self.value_dense.build(key_shape)
    self.output_dense.build((*value_shape[:-1], self.units))


ATTENTION_LAYER = {
    "right": [attention_layer_tf, attention_layer_einsum, attention_layer_additive,
              attention_layer_kernels],
    "wrong": [
        (attention_layer_tutorial, "layer_values_not_projected"),
        (attention_layer_unscaled, "layer_no_scaling"),
        (attention_layer_inverted_mask, "layer_mask_inverted"),
        (attention_layer_softmax_over_queries, "layer_softmax_wrong_axis"),
        (attention_layer_without_causal, "layer_causal_ignored"),
        (attention_layer_causal_strict, "causal_strict"),
        (attention_layer_causal_one_ahead, "layer_causal_one_ahead"),
        (attention_layer_causal_upper, "causal_upper"),
        (attention_layer_masks_or, "layer_masks_combined_with_or"),
        (attention_layer_causal_wins, "layer_causal_replaces_mask"),
        (attention_layer_causal_end, "layer_causal_aligned_to_the_end"),
        (attention_layer_mask_multiplied, "layer_mask_multiplied"),
        (attention_layer_uniform_rows, "layer_fully_masked_uniform"),
        (attention_layer_nan_rows, "layer_fully_masked_nan"),
        (attention_layer_mask_ignored, "layer_mask_ignored"),
        (attention_layer_scores_returned, "layer_scores_as_weights"),
        (attention_layer_key_from_query, "layer_key_from_query"),
        (attention_layer_no_biases, "layer_biases_ignored"),
        (attention_layer_no_output_dense, "layer_no_output_projection"),
        (attention_layer_scale_by_length, "layer_scale_by_length"),
        (attention_layer_scale_by_input, "layer_scale_by_input_dim"),
        (attention_layer_scaled_after_softmax, "layer_scaled_after_softmax"),
        (attention_layer_mask_after_softmax, "layer_mask_after_softmax"),
        (attention_layer_dropout, "layer_random_at_inference"),
        (attention_layer_always_both, "layer_return_attention_scores"),
        (attention_layer_torch_order, "layer_signature_order"),
        (attention_layer_config_without_units, "layer_config_incomplete"),
        (attention_layer_build_swapped, "layer_weight_shapes"),
    ],
}


#: helpers some answers call, pasted above them (in this order: a helper may use those before it)
ATTENTION_LAYER_HELPERS = (_qkv, _single_head)
