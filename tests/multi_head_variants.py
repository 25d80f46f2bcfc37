"""Lesson 04's corpus: ``MultiHeadAttention``'s wrong answers written on the shared helpers of
``multi_head_answers``, and the whole corpus of the exercise (``MULTI_HEAD_ATTENTION``).
"""

from __future__ import annotations

import math

import keras
from keras import ops
from layer_variants import (
    combine_masks,
    combine_masks_or,
    combine_masks_strict,
    masked_softmax,
    masked_softmax_large_negative,
    replaces,
)
from multi_head_answers import (
    _attend,
    _heads,
    _merge,
    _multi_head,
    multi_head_bad_reshape,
    multi_head_einsum,
    multi_head_loop,
    multi_head_mask_after_softmax,
    multi_head_mask_ignored,
    multi_head_model_width_scale,
    multi_head_other_order,
    multi_head_reshape,
    multi_head_tf,
    multi_head_unscaled,
)


def multi_head_merged_without_transpose(self, query, value, key=None, attention_mask=None,
                                        return_attention_scores=False, use_causal_mask=False):
    """Wrong: (B, H, Tq, dv) reshaped straight to (B, Tq, H·dv)."""
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    merged = ops.reshape(heads, (ops.shape(query)[0], ops.shape(query)[1], -1))
    output = ops.matmul(merged, ops.reshape(self.output_kernel, (-1, ops.shape(query)[-1])))
    if self.output_bias is not None:
        output = output + self.output_bias
    return (output, weights) if return_attention_scores else output


def multi_head_merged_wrong_order(self, query, value, key=None, attention_mask=None,
                                  return_attention_scores=False, use_causal_mask=False):
    """Wrong: the head axis moved last before flattening, (B, Tq, dv, H)."""
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    merged = ops.reshape(ops.transpose(heads, (0, 2, 3, 1)),
                         (ops.shape(query)[0], ops.shape(query)[1], -1))
    output = ops.matmul(merged, ops.reshape(self.output_kernel, (-1, ops.shape(query)[-1])))
    if self.output_bias is not None:
        output = output + self.output_bias
    return (output, weights) if return_attention_scores else output


def multi_head_not_transposed(self, query, value, key=None, attention_mask=None,
                              return_attention_scores=False, use_causal_mask=False):
    """Wrong: (B, T, H, d) attended without moving the head axis forward."""
    key = value if key is None else key
    q = ops.einsum("btd,dhk->bthk", query, self.query_kernel)
    k = ops.einsum("btd,dhk->bthk", key, self.key_kernel)
    v = ops.einsum("btd,dhk->bthk", value, self.value_kernel)
    if self.use_bias:
        q, k, v = q + self.query_bias, k + self.key_bias, v + self.value_bias
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.key_dim)
    mask = combine_masks(attention_mask, use_causal_mask, query.shape[1], key.shape[1])
    weights = masked_softmax(scores, mask)
    heads = ops.matmul(weights, v)  # (B, Tq, H, dv)
    output = ops.einsum("bthv,hvd->btd", heads, self.output_kernel)
    if self.use_bias:
        output = output + self.output_bias
    return (output, weights) if return_attention_scores else output


def multi_head_softmax_over_heads(self, query, value, key=None, attention_mask=None,
                                  return_attention_scores=False, use_causal_mask=False):
    """Wrong: ops.softmax(scores, axis=1), the head axis."""
    q, k, v = _heads(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.key_dim)
    mask = combine_masks(attention_mask, use_causal_mask, ops.shape(q)[2], ops.shape(k)[2])
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), 1)
        scores = ops.where(mask, scores, -1e9)
    weights = ops.softmax(scores, axis=1)
    if mask is not None:
        weights = ops.where(mask, weights, 0.0)
    output = _merge(self, ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def multi_head_softmax_over_queries(self, query, value, key=None, attention_mask=None,
                                    return_attention_scores=False, use_causal_mask=False):
    """Wrong: ops.softmax(scores, axis=2), the queries' axis."""
    q, k, v = _heads(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.key_dim)
    mask = combine_masks(attention_mask, use_causal_mask, ops.shape(q)[2], ops.shape(k)[2])
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), 1)
        scores = ops.where(mask, scores, -1e9)
    weights = ops.softmax(scores, axis=2)
    if mask is not None:
        weights = ops.where(mask, weights, 0.0)
    output = _merge(self, ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def multi_head_mask_without_head_axis(self, query, value, key=None, attention_mask=None,
                                      return_attention_scores=False, use_causal_mask=False):
    """Wrong: the (B, Tq, Tk) mask applied to (B, H, Tq, Tk) scores as it is."""
    q, k, v = _heads(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.key_dim)
    weights = masked_softmax(scores, combine_masks(attention_mask, use_causal_mask,
                                                   ops.shape(q)[2], ops.shape(k)[2]))
    output = _merge(self, ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def multi_head_key_from_query(self, query, value, key=None, attention_mask=None,
                              return_attention_scores=False, use_causal_mask=False):
    """Wrong: self-attention's habit, keys from the query when none is given."""
    q, k, v = _heads(self, query, value, query if key is None else key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    output = _merge(self, heads)
    return (output, weights) if return_attention_scores else output


def multi_head_no_biases(self, query, value, key=None, attention_mask=None,
                         return_attention_scores=False, use_causal_mask=False):
    """Wrong: the kernels alone."""
    key = value if key is None else key
    q = ops.einsum("btd,dhk->bhtk", query, self.query_kernel)
    k = ops.einsum("btd,dhk->bhtk", key, self.key_kernel)
    v = ops.einsum("btd,dhk->bhtk", value, self.value_kernel)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    output = ops.einsum("bhtv,hvd->btd", heads, self.output_kernel)
    return (output, weights) if return_attention_scores else output


def multi_head_no_output_projection(self, query, value, key=None, attention_mask=None,
                                    return_attention_scores=False, use_causal_mask=False):
    """Wrong: the heads concatenated, and that is the output."""
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    heads = ops.transpose(heads, (0, 2, 1, 3))
    output = ops.reshape(heads, (ops.shape(heads)[0], ops.shape(heads)[1], -1))
    return (output, weights) if return_attention_scores else output


def multi_head_scale_by_input_dim(self, query, value, key=None, attention_mask=None,
                                  return_attention_scores=False, use_causal_mask=False):
    """Wrong: √d_model, the query's width."""
    q, k, v = _heads(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(query.shape[-1])
    mask = combine_masks(attention_mask, use_causal_mask, ops.shape(q)[2], ops.shape(k)[2])
    weights = masked_softmax(scores, None if mask is None else ops.expand_dims(mask, -3))
    output = _merge(self, ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def multi_head_scaled_after_softmax(self, query, value, key=None, attention_mask=None,
                                    return_attention_scores=False, use_causal_mask=False):
    """Wrong: the weights divided by √key_dim."""
    q, k, v = _heads(self, query, value, key)
    mask = combine_masks(attention_mask, use_causal_mask, ops.shape(q)[2], ops.shape(k)[2])
    weights = masked_softmax(ops.matmul(q, ops.swapaxes(k, -1, -2)),
                             None if mask is None else ops.expand_dims(mask, -3))
    weights = weights / math.sqrt(self.key_dim)
    output = _merge(self, ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def multi_head_scale_by_value_dim(self, query, value, key=None, attention_mask=None,
                                  return_attention_scores=False, use_causal_mask=False):
    """Wrong: √value_dim."""
    q, k, v = _heads(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.value_dim)
    mask = combine_masks(attention_mask, use_causal_mask, ops.shape(q)[2], ops.shape(k)[2])
    weights = masked_softmax(scores, None if mask is None else ops.expand_dims(mask, -3))
    output = _merge(self, ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def multi_head_weights_heads_last(self, query, value, key=None, attention_mask=None,
                                  return_attention_scores=False, use_causal_mask=False):
    """Wrong: einsums on (B, T, H, d), the weights returned in their (B, Tq, H, Tk) layout."""
    key = value if key is None else key
    q = ops.einsum("btd,dhk->bthk", query, self.query_kernel)
    k = ops.einsum("btd,dhk->bthk", key, self.key_kernel)
    v = ops.einsum("btd,dhk->bthk", value, self.value_kernel)
    if self.use_bias:
        q, k, v = q + self.query_bias, k + self.key_bias, v + self.value_bias
    scores = ops.einsum("bqhk,bshk->bqhs", q, k) / math.sqrt(self.key_dim)
    mask = combine_masks(attention_mask, use_causal_mask, ops.shape(q)[1], ops.shape(k)[1])
    weights = masked_softmax(scores, None if mask is None else ops.expand_dims(mask, 2))
    output = ops.einsum("bqhs,bshv,hvd->bqd", weights, v, self.output_kernel)
    if self.use_bias:
        output = output + self.output_bias
    return (output, weights) if return_attention_scores else output


def multi_head_weights_averaged(self, query, value, key=None, attention_mask=None,
                                return_attention_scores=False, use_causal_mask=False):
    """Wrong: PyTorch's default, the weights averaged over the heads."""
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    output = _merge(self, heads)
    return (output, ops.mean(weights, axis=1)) if return_attention_scores else output


def multi_head_scores_returned(self, query, value, key=None, attention_mask=None,
                               return_attention_scores=False, use_causal_mask=False):
    """Wrong: the scaled scores returned as the weights."""
    q, k, v = _heads(self, query, value, key)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(self.key_dim)
    heads, _ = _attend(self, q, k, v, attention_mask, use_causal_mask)
    output = _merge(self, heads)
    return (output, scores) if return_attention_scores else output


def multi_head_values_not_projected(self, query, value, key=None, attention_mask=None,
                                    return_attention_scores=False, use_causal_mask=False):
    """Wrong: the tutorial bug, every head averages the raw values."""
    key = value if key is None else key
    q = ops.einsum("btd,dhk->bhtk", query, self.query_kernel)
    k = ops.einsum("btd,dhk->bhtk", key, self.key_kernel)
    if self.use_bias:
        q, k = q + self.query_bias[:, None], k + self.key_bias[:, None]
    heads, weights = _attend(self, q, k, ops.expand_dims(value, 1), attention_mask,
                             use_causal_mask)
    output = _merge(self, heads)
    return (output, weights) if return_attention_scores else output


def multi_head_inverted_mask(self, query, value, key=None, attention_mask=None,
                             return_attention_scores=False, use_causal_mask=False):
    """Wrong: True read as masked out."""
    q, k, v = _heads(self, query, value, key)
    if attention_mask is not None:
        attention_mask = ops.logical_not(attention_mask)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    output = _merge(self, heads)
    return (output, weights) if return_attention_scores else output


def multi_head_causal_strict(self, query, value, key=None, attention_mask=None,
                             return_attention_scores=False, use_causal_mask=False):
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask,
                             combine=combine_masks_strict)
    output = _merge(self, heads)
    return (output, weights) if return_attention_scores else output


def multi_head_masks_or(self, query, value, key=None, attention_mask=None,
                        return_attention_scores=False, use_causal_mask=False):
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask,
                             combine=combine_masks_or)
    output = _merge(self, heads)
    return (output, weights) if return_attention_scores else output


def multi_head_uniform_rows(self, query, value, key=None, attention_mask=None,
                            return_attention_scores=False, use_causal_mask=False):
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask,
                             softmax=masked_softmax_large_negative)
    output = _merge(self, heads)
    return (output, weights) if return_attention_scores else output


def multi_head_dropout(self, query, value, key=None, attention_mask=None,
                       return_attention_scores=False, use_causal_mask=False):
    """Wrong: dropout on the weights whatever the phase."""
    q, k, v = _heads(self, query, value, key)
    _, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    weights = keras.layers.Dropout(0.2)(weights, training=True)
    output = _merge(self, ops.matmul(weights, v))
    return (output, weights) if return_attention_scores else output


def multi_head_always_both(self, query, value, key=None, attention_mask=None,
                           return_attention_scores=False, use_causal_mask=False):
    """Wrong: (output, weights) whatever return_attention_scores says."""
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    return _merge(self, heads), weights


def multi_head_torch_order(self, query, key, value, attention_mask=None,
                           return_attention_scores=False, use_causal_mask=False):
    """Wrong: PyTorch's order, (query, key, value)."""
    q, k, v = _heads(self, query, value, key)
    heads, weights = _attend(self, q, k, v, attention_mask, use_causal_mask)
    output = _merge(self, heads)
    return (output, weights) if return_attention_scores else output


@replaces("get_config")
def multi_head_config_without_value_dim(self):
    """Wrong: value_dim and use_bias left out."""
    return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim}


@replaces("build")
def multi_head_build_output_swapped(self, query_shape, value_shape, key_shape=None):
    """Wrong: the output kernel as (H, d_query, value_dim)."""
    key_shape = value_shape if key_shape is None else key_shape
    self.query_kernel, self.query_bias = self._projection("query", query_shape[-1],
                                                          self.key_dim)
    self.key_kernel, self.key_bias = self._projection("key", key_shape[-1], self.key_dim)
    self.value_kernel, self.value_bias = self._projection("value", value_shape[-1],
                                                          self.value_dim)
    self.output_kernel = self.add_weight(name="output_kernel",
                                         shape=(self.num_heads, query_shape[-1], self.value_dim))
    self.output_bias = None
    if self.use_bias:
        self.output_bias = self.add_weight(name="output_bias", initializer="zeros",
                                           shape=(query_shape[-1],))


MULTI_HEAD_ATTENTION = {
    "right": [multi_head_loop, multi_head_reshape, multi_head_einsum, multi_head_tf],
    "wrong": [
        (multi_head_bad_reshape, "layer_heads_not_split"),
        (multi_head_model_width_scale, "layer_scale_by_model_dim"),
        (multi_head_mask_after_softmax, "layer_mask_after_softmax"),
        (multi_head_mask_ignored, "layer_mask_ignored"),
        (multi_head_other_order, "layer_signature_order"),
        (multi_head_unscaled, "layer_no_scaling"),
        (multi_head_merged_without_transpose, "layer_heads_merged_without_transpose"),
        (multi_head_merged_wrong_order, "layer_heads_merged_in_wrong_order"),
        (multi_head_not_transposed, "layer_heads_not_transposed"),
        (multi_head_softmax_over_heads, "layer_softmax_over_heads"),
        (multi_head_softmax_over_queries, "layer_softmax_wrong_axis"),
        (multi_head_mask_without_head_axis, "layer_mask_broadcast"),
        (multi_head_key_from_query, "layer_key_from_query"),
        (multi_head_no_biases, "layer_biases_ignored"),
        (multi_head_no_output_projection, "layer_no_output_projection"),
        (multi_head_scale_by_input_dim, "layer_scale_by_input_dim"),
        (multi_head_scaled_after_softmax, "layer_scaled_after_softmax"),
        (multi_head_weights_averaged, "layer_weights_averaged_over_heads"),
        (multi_head_weights_heads_last, "layer_weights_heads_last"),
        (multi_head_scale_by_value_dim, "layer_scale_by_value_dim"),
        (multi_head_scores_returned, "layer_scores_as_weights"),
        (multi_head_values_not_projected, "layer_values_not_projected"),
        (multi_head_inverted_mask, "layer_mask_inverted"),
        (multi_head_causal_strict, "causal_strict"),
        (multi_head_masks_or, "layer_masks_combined_with_or"),
        (multi_head_uniform_rows, "layer_fully_masked_uniform"),
        (multi_head_dropout, "layer_random_at_inference"),
        (multi_head_always_both, "layer_return_attention_scores"),
        (multi_head_torch_order, "layer_signature_order"),
        (multi_head_config_without_value_dim, "layer_config_incomplete"),
        (multi_head_build_output_swapped, "layer_weight_shapes"),
    ],
}
#: helpers some answers call, pasted above them (in this order: a helper may use those before it)
MULTI_HEAD_HELPERS = (_multi_head, _heads, _merge, _attend)
