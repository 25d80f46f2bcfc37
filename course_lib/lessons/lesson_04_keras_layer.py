"""Lesson 04 · The Keras attention layer, on CPU and GPU: its exercises as the learner's side knows
them.

Its records (:class:`~course_lib.exercise_record.Exercise`), in one place; the mistakes they
name are described in ``course_lib.misconceptions.{mod}``. The instructor's side of the same
exercises is ``grader.lessons.lesson_04_keras_layer``.
"""

from __future__ import annotations

from course_lib.cases import layers
from course_lib.exercise_record import Exercise

_LAYER_MISTAKES = ("layer_values_not_projected", "layer_no_scaling", "layer_softmax_wrong_axis",
                   "layer_mask_ignored", "layer_mask_inverted", "layer_mask_after_softmax",
                   "layer_causal_ignored", "layer_fully_masked_uniform", "layer_fully_masked_nan")


EXERCISES = (
    Exercise("AttentionLayer", "04_keras_layer", "layer", layers.attention_layer,
             "check_attention_layer",
             ("layer_scale_by_input_dim", "layer_no_output_projection", *_LAYER_MISTAKES)),
    Exercise("MultiHeadAttention", "04_keras_layer", "layer", layers.multi_head_attention,
             "check_multi_head_attention",
             ("layer_scale_by_model_dim", "layer_heads_not_split",
              "layer_heads_merged_without_transpose", "layer_key_from_query",
              "layer_biases_ignored", "layer_signature_order", *_LAYER_MISTAKES)),
)
