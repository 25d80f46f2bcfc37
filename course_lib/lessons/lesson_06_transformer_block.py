"""Lesson 06 · The Transformer block: its exercises as the learner's side knows them.

Its records (:class:`~course_lib.exercise_record.Exercise`), in one place; the mistakes they
name are described in ``course_lib.misconceptions.lesson_06_transformer_block``. The
instructor's side of the same exercises is ``grader.lessons.lesson_06_transformer_block``.
"""

from __future__ import annotations

from course_lib.cases import blocks
from course_lib.exercise_record import Exercise

EXERCISES = (
    Exercise("TransformerBlock", "06_transformer_block", "block", blocks.transformer_block,
             "check_transformer_block",
             ("block_no_residual", "block_norm_first_ignored", "block_always_pre_norm",
              "block_residual_normalised", "block_residual_from_normalised",
              "block_norm_over_positions", "block_epsilon_ignored", "block_no_relu",
              "block_context_mask_ignored", "block_mask_ignored", "block_causal_ignored",
              "block_self_attention_scores", "block_final_norm_in_pre_norm", "block_norm_shared",
              "block_epsilon_fixed", "block_gelu", "block_relu_after_output",
              "block_feed_forward_first", "block_cross_first", "block_masks_not_combined",
              "block_mask_inverted", "block_cross_attention_causal",
              "block_context_mask_inverted", "block_masks_swapped", "block_cross_keys_from_x",
              "block_cross_query_from_context", "block_heads_key_dim_swapped",
              "block_ff_dim_unused", "block_random_at_inference", "block_ff_no_residual",
              "block_norm_inside_residual", "block_ff_output_missing", "block_always_causal",
              "block_cross_attention_skipped", "block_queries_only_normalised",
              "block_queries_not_normalised", "block_causal_or_padding", "block_causal_upper",
              "block_ff_residual_from_input", "block_weights_averaged_over_heads",
              "block_mask_by_position", "block_config_incomplete")),
)
