"""The course's exercises as the learner's side knows them: one :class:`Exercise` per graded
name, in :data:`EXERCISES`. Nothing here holds an answer or a wrong variant: those are the
instructor's (``grader.exercises``, whose records carry the same names).

A record says in which lesson the exercise is, which kind of case it is judged on (the kind
picks the probe's runner, ``course_lib.cases``, and the judge, ``grader.judging.judges``), the
plan of its inputs, its public check, the inputs of that check's fixture (NumPy exercises) and
the keys of the mistakes its feedback can name (``course_lib.misconceptions``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from course_lib import language_model_misconceptions as lesson_12
from course_lib.cases import blocks, decoding, fixture_inputs, language_model, layers, translator
from course_lib.cases import function_plans as plans
from course_lib.cases.records import Part

#: The kinds of exercise: each has its runner in the kernel and its judge.
KINDS = ("function", "encoding", "blockwise", "layer", "block", "translator", "decoding")


@dataclass(frozen=True)
class Exercise:
    """One graded exercise, learner side. ``plan``: from a random generator, the parts it is
    judged on (inputs only); ``check``: the name of its public check in ``course_lib.checks``;
    ``fixture``: from a random generator, ``{case: (args, kwargs)}``, the inputs of its public
    check's fixture (``grader.make_fixtures``), None for an exercise without one;
    ``mistakes``: the keys of the known mistakes its feedback can name."""

    name: str
    lesson: str
    kind: str
    plan: Callable[[np.random.Generator], list[Part]]
    check: str
    mistakes: tuple[str, ...]
    fixture: Callable[[np.random.Generator], dict] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"an exercise's kind is one of {KINDS}. Received: kind={self.kind!r}")


_LAYER_MISTAKES = ("layer_values_not_projected", "layer_no_scaling", "layer_softmax_wrong_axis",
                   "layer_mask_ignored", "layer_mask_inverted", "layer_mask_after_softmax",
                   "layer_causal_ignored", "layer_fully_masked_uniform", "layer_fully_masked_nan")

EXERCISES: dict[str, Exercise] = {exercise.name: exercise for exercise in (
    Exercise("dot_product", "00_welcome", "function", plans.dot_product, "check_dot_product",
             ("dot_elementwise", "dot_sum_times_sum", "dot_sum_of_sums", "dot_norm_product",
              "dot_cosine"), fixture_inputs.dot_product),
    Exercise("attention_scores", "01_scores", "function", plans.attention_scores,
             "check_attention_scores",
             ("no_scaling", "divide_by_dk", "scale_by_tk", "k_times_q", "multiply_by_sqrt_dk"),
             fixture_inputs.attention_scores),
    Exercise("softmax", "02_softmax", "function", plans.softmax, "check_softmax",
             ("softmax_wrong_axis", "softmax_ignores_axis", "softmax_global",
              "softmax_no_keepdims", "softmax_unstable", "softmax_no_normalise",
              "softmax_no_exp"), fixture_inputs.softmax),
    Exercise("masked_softmax", "02_softmax", "function", plans.masked_softmax,
             "check_masked_softmax",
             ("mask_after_softmax", "mask_inverted", "mask_multiplied", "mask_ignored",
              "mask_fully_masked_nan", "mask_large_negative"), fixture_inputs.masked_softmax),
    Exercise("causal_mask", "02_softmax", "function", plans.causal_mask, "check_causal_mask",
             ("causal_upper", "causal_inverted", "causal_strict", "causal_all_true",
              "mask_not_bool"), fixture_inputs.causal_mask),
    Exercise("padding_mask", "02_softmax", "function", plans.padding_mask, "check_padding_mask",
             ("padding_inverted", "padding_off_by_one", "padding_no_query_axis",
              "padding_wrong_axis", "mask_not_bool"), fixture_inputs.padding_mask),
    Exercise("weighted_sum", "03_weighted_sum", "function", plans.weighted_sum,
             "check_weighted_sum",
             ("weights_transposed", "v_times_weights", "weights_elementwise", "values_mean"),
             fixture_inputs.weighted_sum),
    Exercise("scaled_dot_product_attention", "03_weighted_sum", "function",
             plans.scaled_dot_product_attention, "check_scaled_dot_product_attention",
             ("no_scaling", "softmax_wrong_axis", "returns_weights_first",
              "returns_transposed_weights", "mask_after_softmax", "mask_ignored",
              "mask_fully_masked_nan", "mask_large_negative"),
             fixture_inputs.scaled_dot_product_attention),
    Exercise("AttentionLayer", "04_keras_layer", "layer", layers.attention_layer,
             "check_attention_layer",
             ("layer_scale_by_input_dim", "layer_no_output_projection", *_LAYER_MISTAKES)),
    Exercise("MultiHeadAttention", "04_keras_layer", "layer", layers.multi_head_attention,
             "check_multi_head_attention",
             ("layer_scale_by_model_dim", "layer_heads_not_split",
              "layer_heads_merged_without_transpose", "layer_key_from_query",
              "layer_biases_ignored", "layer_signature_order", *_LAYER_MISTAKES)),
    Exercise("sinusoidal_encoding", "05_positions", "encoding", plans.sinusoidal_encoding,
             "check_sinusoidal_encoding",
             ("pe_sin_cos_swapped", "pe_frequency_per_column", "pe_exponent_i_over_d",
              "pe_halves_concatenated", "pe_positions_from_one", "pe_transposed",
              "pe_wrong_base"), fixture_inputs.sinusoidal_encoding),
    Exercise("TransformerBlock", "06_transformer_block", "block", blocks.transformer_block,
             "check_transformer_block",
             ("block_no_residual", "block_norm_first_ignored", "block_always_pre_norm",
              "block_residual_normalised", "block_residual_from_normalised",
              "block_norm_over_positions", "block_epsilon_ignored", "block_no_relu",
              "block_context_mask_ignored", "block_mask_ignored", "block_causal_ignored",
              "block_self_attention_scores")),
    Exercise("teacher_forcing", "07_application", "function", plans.teacher_forcing,
             "check_teacher_forcing", ("no_shift", "shift_left", "start_at_end",
                                       "targets_shifted")),
    Exercise("build_translator", "07_application", "translator", translator.build_translator,
             "check_build_translator",
             ("not_causal", "swapped_cross_attention", "padding_not_masked",
              "mask_passed_positionally", "softmax_output", "block_not_used")),
    Exercise("greedy_decode", "07_application", "function", plans.greedy_decode,
             "check_greedy_decode",
             ("no_feedback", "last_position", "start_kept", "fed_back_in_place")),
    Exercise("alignment", "07_application", "function", plans.alignment, "check_alignment",
             ("head_zero_only", "argmax_over_outputs", "max_not_argmax", "per_head_argmax")),
    Exercise("blockwise_attention", "08_efficiency", "blockwise", plans.blockwise_attention,
             "check_blockwise_attention",
             ("blockwise_no_rescale", "blockwise_drops_last_block", "blockwise_no_final_division",
              "blockwise_average_of_blocks", "blockwise_masked_block_nan",
              "mask_fully_masked_nan", "softmax_unstable", "full_score_matrix"),
             fixture_inputs.blockwise_attention),
    Exercise("attention_backward", "09_gradients", "function", plans.attention_backward,
             "check_attention_backward",
             ("grad_softmax_no_rowsum", "grad_no_scaling", "grad_dk_not_transposed",
              "grad_dv_not_transposed", "grad_scores_as_dq", "grad_mask_ignored",
              "grad_fully_masked_nan"), fixture_inputs.attention_backward),
    Exercise("nadaraya_watson", "10_other_scores", "function", plans.nadaraya_watson,
             "check_nadaraya_watson",
             ("nw_softmax_over_queries", "nw_width_not_squared", "nw_farthest_point",
              "nw_unnormalised", "nw_unstable_softmax"), fixture_inputs.nadaraya_watson),
    Exercise("additive_scores", "10_other_scores", "function", plans.additive_scores,
             "check_additive_scores",
             ("add_tanh_after_v", "add_no_tanh", "add_transposed", "add_pairs_not_broadcast",
              "add_weights_swapped"), fixture_inputs.additive_scores),
    Exercise("attend_step", "11_kv_cache", "function", plans.attend_step, "check_attend_step",
             ("step_no_scaling", "step_scale_by_length", "step_softmax_wrong_axis",
              "step_newest_missing", "step_cache_ignored", "step_unnormalised",
              "step_unstable_softmax", "step_query_axis_kept"), fixture_inputs.attend_step),
    Exercise("decode_step", "11_kv_cache", "decoding", decoding.decode_step, "check_decode_step",
             ("decode_newest_missing", "decode_position_fixed", "decode_cache_not_kept",
              "decode_no_scaling", "decode_keys_as_values", "decode_python_state")),
    Exercise("cached_greedy_decode", "11_kv_cache", "decoding", decoding.cached_greedy_decode,
             "check_cached_greedy_decode",
             ("greedy_not_fed_back", "greedy_start_included", "greedy_prefix_recomputed",
              "greedy_encoder_per_step")),
    Exercise("cosine_schedule", "12_language_model", "function",
             language_model.cosine_schedule, "check_cosine_schedule", tuple(lesson_12.SCHEDULE),
             language_model.FIXTURES["cosine_schedule"]),
    Exercise("adamw_step", "12_language_model", "function", language_model.adamw_step,
             "check_adamw_step", tuple(lesson_12.ADAMW), language_model.FIXTURES["adamw_step"]),
    Exercise("sampling_distribution", "12_language_model", "function",
             language_model.sampling_distribution, "check_sampling_distribution",
             tuple(lesson_12.SAMPLING), language_model.FIXTURES["sampling_distribution"]),
)}

#: The exercises that have a public fixture, ``course_lib/fixtures/<name>.npz``.
WITH_FIXTURES = tuple(name for name, exercise in EXERCISES.items() if exercise.fixture)


def plan(exercise: str, seed: int, cell: str = "hidden") -> list[Part]:
    """The parts a graded cell of ``exercise`` is judged on: all of them for the hidden test,
    the first for the public check cell (``cell="check"``)."""
    parts = EXERCISES[exercise].plan(np.random.default_rng(seed))
    return parts[:1] if cell == "check" else parts
