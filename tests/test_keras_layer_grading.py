"""Lesson 04 beyond right and wrong answers: partial credit for a layer that fails one part,
a clear reason for an answer that is no Keras layer, and the public checks of the two helpers
(``masked_softmax`` and ``combine_masks``).

Every test here imports TensorFlow, so the file runs on one worker (xdist group "keras").
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from judging import full_marks, judged
from keras import ops

import grader.reference as ref
from course_lib.checks import (
    check_combine_masks,
    check_masked_softmax_keras,
    check_multi_head_attention,
)
from course_lib.feedback import CheckFailed
from grader.reference.keras_layers import _combine_masks, masked_softmax

pytestmark = pytest.mark.xdist_group("keras")


# -- partial credit -------------------------------------------------------------------------------
class NoUseBias(ref.MultiHeadAttention):
    """Right, except that it cannot be built without biases."""

    def __init__(self, num_heads, key_dim, value_dim=None, use_bias=True, **kwargs):
        if not use_bias:
            raise ValueError("use_bias=False is not supported")
        super().__init__(num_heads, key_dim, value_dim, use_bias, **kwargs)


class CausalIgnored(ref.MultiHeadAttention):
    """Right, except that use_causal_mask is ignored."""

    def call(self, query, value, key=None, attention_mask=None, return_attention_scores=False,
             use_causal_mask=False):
        return super().call(query, value, key, attention_mask, return_attention_scores, False)


@pytest.mark.parametrize("answer, failing", [
    (NoUseBias, ["use_bias=False"]),
    (CausalIgnored, ["use_causal_mask=True", "the causal mask together"]),
], ids=["use_bias", "causal"])
@pytest.mark.slow
def test_a_layer_that_fails_one_part_keeps_the_others(answer, failing):
    credit = judged("MultiHeadAttention", answer)
    lost = [line for line in credit.lines if line.startswith("✗")]
    assert len(lost) == len(failing), credit.lines
    assert all(any(words in line for line in lost) for words in failing), credit.lines
    assert 0.75 * full_marks("MultiHeadAttention") < credit.points
    assert credit.points < full_marks("MultiHeadAttention")


class PlainClass:
    def __init__(self, num_heads, key_dim, value_dim=None, use_bias=True):
        self.num_heads = num_heads

    def __call__(self, query, value, key=None, **options):
        return query


def layer_function(num_heads, key_dim, value_dim=None, use_bias=True):
    return keras.layers.Dense(key_dim)


@pytest.mark.parametrize("exercise", ["MultiHeadAttention", "AttentionLayer"])
@pytest.mark.parametrize("answer, received", [
    (PlainClass, "the class PlainClass, which does not subclass keras.layers.Layer"),
    (layer_function, "a function (layer_function), not a class"),
    (None, "None"),
], ids=["plain class", "function", "None"])
def test_an_answer_that_is_no_keras_layer_gets_a_clear_reason(exercise, answer, received):
    credit = judged(exercise, answer)
    assert credit.points == 0
    assert all("should be a Keras layer: a class that subclasses keras.layers.Layer" in line
               and received in line and "Traceback" not in line
               for line in credit.lines if line.startswith("✗")), credit.lines


def test_the_public_check_says_the_same():
    with pytest.raises(CheckFailed, match="should be a Keras layer"):
        check_multi_head_attention(layer_function)


# -- the helpers' public checks --------------------------------------------------------------------
def softmax_with_large_negative(scores, mask=None):
    if mask is None:
        return ops.softmax(scores, axis=-1)
    return ops.softmax(ops.where(mask, scores, -1e9), axis=-1)


def softmax_then_mask(scores, mask=None):
    weights = ops.softmax(scores, axis=-1)
    return weights if mask is None else ops.where(mask, weights, 0.0)


def softmax_with_minus_infinity(scores, mask=None):
    if mask is None:
        return ops.softmax(scores, axis=-1)
    return ops.softmax(ops.where(mask, scores, float("-inf")), axis=-1)


def softmax_inverted_mask(scores, mask=None):
    return masked_softmax(scores, None if mask is None else ops.logical_not(mask))


def softmax_over_queries(scores, mask=None):
    return ops.softmax(scores, axis=-2)


def softmax_by_indexing(scores, mask=None):  # no broadcasting: needs a mask of the scores' shape
    if mask is None:
        return ops.softmax(scores, axis=-1)
    return masked_softmax(scores, ops.reshape(mask, ops.shape(scores)))


@pytest.mark.parametrize("answer, key", [
    (softmax_with_large_negative, "layer_fully_masked_uniform"),
    (softmax_then_mask, "layer_mask_after_softmax"),
    (softmax_with_minus_infinity, "layer_fully_masked_nan"),
    (softmax_inverted_mask, "layer_mask_inverted"),
    (softmax_over_queries, "layer_softmax_wrong_axis"),
    (softmax_by_indexing, None),
], ids=lambda x: getattr(x, "__name__", str(x)))
def test_masked_softmax_check_names_the_mistake(answer, key):
    with pytest.raises(CheckFailed) as failed:
        check_masked_softmax_keras(answer)
    assert failed.value.misconception == key, str(failed.value)


def combine_upper(attention_mask, use_causal_mask, t_q, t_k):
    if not use_causal_mask:
        return attention_mask
    causal = ops.cast(ops.triu(ops.ones((t_q, t_k))), "bool")
    return causal if attention_mask is None else ops.logical_and(attention_mask, causal)


def combine_without_causal(attention_mask, use_causal_mask, t_q, t_k):
    return attention_mask


def combine_causal_only(attention_mask, use_causal_mask, t_q, t_k):
    return ops.cast(ops.tril(ops.ones((t_q, t_k))), "bool") if use_causal_mask else attention_mask


def combine_square(attention_mask, use_causal_mask, t_q, t_k):
    return _combine_masks(attention_mask, use_causal_mask, t_q, t_q)


def combine_always(attention_mask, use_causal_mask, t_q, t_k):
    return ops.ones((t_q, t_k), dtype="bool")


@pytest.mark.parametrize("answer, key", [
    (combine_upper, "causal_upper"),
    (combine_without_causal, "layer_causal_ignored"),
    (combine_causal_only, "layer_mask_ignored"),
    (combine_square, None),
    (combine_always, None),
], ids=lambda x: getattr(x, "__name__", str(x)))
def test_combine_masks_check_names_the_mistake(answer, key):
    with pytest.raises(CheckFailed) as failed:
        check_combine_masks(answer)
    assert failed.value.misconception == key, str(failed.value)


def combine_as_floats(attention_mask, use_causal_mask, t_q, t_k):
    """0/1 numbers instead of booleans: masked_softmax casts them, so they are accepted."""
    if not use_causal_mask:
        return attention_mask
    causal = ops.tril(ops.ones((t_q, t_k)))
    return causal if attention_mask is None else ops.cast(attention_mask, "float32") * causal


def test_the_answer_key_passes_the_helpers_checks(capsys):
    check_masked_softmax_keras(masked_softmax)
    check_combine_masks(_combine_masks)
    check_combine_masks(combine_as_floats)
    check_masked_softmax_keras(lambda scores, mask=None: np.asarray(masked_softmax(scores, mask)))
    assert capsys.readouterr().out.count("checks passed") == 4
