"""Lesson 04 · The Keras attention layer, on CPU and GPU: its exercises as the learner's side knows
them.

Its records (:class:`~course_lib.exercise_record.Exercise`), in one place; the mistakes they
name are described in ``course_lib.misconceptions.lesson_04_keras_layer``. The instructor's side
of the same exercises is ``grader.lessons.lesson_04_keras_layer``.
"""

from __future__ import annotations

from course_lib.cases import layers
from course_lib.exercise_record import Exercise

#: The mistakes both layers can make that a wrong variant's output names.
SHARED_MISTAKES = (
    "layer_values_not_projected", "layer_no_scaling", "layer_scale_by_input_dim",
    "layer_scale_by_length", "layer_scaled_after_softmax", "layer_softmax_wrong_axis",
    "layer_scores_as_weights", "layer_causal_replaces_mask", "layer_masks_combined_with_or",
    "layer_mask_ignored", "layer_mask_inverted", "layer_mask_after_softmax",
    "layer_causal_ignored", "causal_strict", "layer_causal_one_ahead", "causal_upper",
    "layer_causal_aligned_to_the_end", "layer_mask_multiplied", "layer_fully_masked_uniform",
    "layer_fully_masked_nan", "layer_key_from_query", "layer_biases_ignored",
    "layer_no_output_projection",
)
#: The mistakes the probe names when a layer fails or misbehaves (an error explained, a result
#: that ignores return_attention_scores or changes between two calls, an incomplete config:
#: ``course_lib.cases.layers``), and the judge when its weights have other shapes.
PROBE_MISTAKES = (
    "layer_signature_order", "layer_weight_shapes", "layer_mask_broadcast",
    "layer_heads_not_transposed", "layer_return_attention_scores", "layer_random_at_inference",
    "layer_config_incomplete",
)
#: What only MultiHeadAttention's wrong variants name (its heads).
MULTI_HEAD_MISTAKES = (
    "layer_scale_by_model_dim", "layer_heads_not_split", "layer_heads_merged_without_transpose",
    "layer_heads_merged_in_wrong_order", "layer_softmax_over_heads",
    "layer_weights_averaged_over_heads", "layer_weights_heads_last", "layer_scale_by_value_dim",
)


EXERCISES = (
    Exercise("AttentionLayer", "04_keras_layer", "layer", layers.attention_layer,
             "check_attention_layer", (*SHARED_MISTAKES, *PROBE_MISTAKES)),
    Exercise("MultiHeadAttention", "04_keras_layer", "layer", layers.multi_head_attention,
             "check_multi_head_attention",
             (*MULTI_HEAD_MISTAKES, *SHARED_MISTAKES, *PROBE_MISTAKES)),
)
