"""Lesson 04 beyond right and wrong answers: partial credit for a layer that fails one part,
a clear reason for an answer that is no Keras layer, errors of the corpus's wrong layers named
in the course's words (never TensorFlow's message), and the public checks of the two helpers
(``masked_softmax`` and ``combine_masks``).

Every test here imports TensorFlow, so the file runs on one worker (xdist group "keras").
"""

from __future__ import annotations

import attention_layer_variants
import keras
import keras_variants
import multi_head_variants
import numpy as np
import pytest
from judging import full_marks, judged, solution_namespace
from keras import ops
from layer_variants import (
    combine_masks_strict,
    combine_masks_upper,
    masked_softmax_large_negative,
    masked_softmax_minus_inf,
)
from nbgrader_utils import find_cell, solution_notebook

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


# -- errors named in the course's words -----------------------------------------------------------
def corpus_class(exercise: str, answer):
    """The layer class that the lesson's answer cell defines with ``answer`` in it."""
    namespace = dict(solution_namespace("04_keras_layer", "answer_helpers"))
    cell = find_cell(solution_notebook("04_keras_layer"), f"answer_{exercise}").source
    exec(keras_variants.answer_code(exercise, answer, cell), namespace)
    return namespace[exercise]


@pytest.mark.parametrize("exercise, answer, key", [
    ("AttentionLayer", attention_layer_variants.attention_layer_torch_order,
     "layer_signature_order"),
    ("AttentionLayer", attention_layer_variants.attention_layer_build_swapped,
     "layer_weight_shapes"),
    ("AttentionLayer", attention_layer_variants.attention_layer_tutorial,
     "layer_values_not_projected"),
    ("MultiHeadAttention", multi_head_variants.multi_head_key_from_query,
     "layer_key_from_query"),
    ("MultiHeadAttention", multi_head_variants.multi_head_not_transposed,
     "layer_heads_not_transposed"),
    ("MultiHeadAttention", multi_head_variants.multi_head_config_without_value_dim,
     "layer_config_incomplete"),
], ids=lambda x: getattr(x, "__name__", None))
def test_a_layer_that_raises_gets_its_mistake_named_not_the_error(exercise, answer, key):
    """Every part such a layer loses says which mistake, never what TensorFlow raised."""
    credit = judged(exercise, corpus_class(exercise, answer))
    lost = [line for line in credit.lines if line.startswith("✗")]
    assert lost and key in credit.misconceptions, credit.lines
    assert all("it matches" in line and " raised " not in line for line in lost), lost


# -- the helpers' public checks --------------------------------------------------------------------
def softmax_then_mask(scores, mask=None):
    weights = ops.softmax(scores, axis=-1)
    return weights if mask is None else ops.where(mask, weights, 0.0)


def softmax_inverted_mask(scores, mask=None):
    return masked_softmax(scores, None if mask is None else ops.logical_not(mask))


def softmax_over_queries(scores, mask=None):
    return ops.softmax(scores, axis=-2)


def softmax_by_indexing(scores, mask=None):  # no broadcasting: needs a mask of the scores' shape
    if mask is None:
        return ops.softmax(scores, axis=-1)
    return masked_softmax(scores, ops.reshape(mask, ops.shape(scores)))


@pytest.mark.parametrize("answer, key", [
    (masked_softmax_large_negative, "layer_fully_masked_uniform"),
    (softmax_then_mask, "layer_mask_after_softmax"),
    (masked_softmax_minus_inf, "layer_fully_masked_nan"),
    (softmax_inverted_mask, "layer_mask_inverted"),
    (softmax_over_queries, "layer_softmax_wrong_axis"),
    (softmax_by_indexing, None),
], ids=lambda x: getattr(x, "__name__", str(x)))
def test_masked_softmax_check_names_the_mistake(answer, key):
    with pytest.raises(CheckFailed) as failed:
        check_masked_softmax_keras(answer)
    assert failed.value.misconception == key, str(failed.value)


def combine_without_causal(attention_mask, use_causal_mask, t_q, t_k):
    return attention_mask


def combine_causal_only(attention_mask, use_causal_mask, t_q, t_k):
    return ops.cast(ops.tril(ops.ones((t_q, t_k))), "bool") if use_causal_mask else attention_mask


def combine_square(attention_mask, use_causal_mask, t_q, t_k):
    return _combine_masks(attention_mask, use_causal_mask, t_q, t_q)


def combine_always(attention_mask, use_causal_mask, t_q, t_k):
    return ops.ones((t_q, t_k), dtype="bool")


@pytest.mark.parametrize("answer, key", [
    (combine_masks_upper, "causal_upper"),
    (combine_masks_strict, "causal_strict"),
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
