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
from dataclasses import dataclass, field

import numpy as np

from course_lib import language_model_misconceptions as lesson_12
from course_lib import modern_block_misconceptions as lesson_13
from course_lib.cases import (
    blocks,
    decoding,
    fixture_inputs,
    language_model,
    layers,
    modern_block,
    translator,
)
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
    ``mistakes``: the keys of the known mistakes its feedback can name; ``compare``: how its
    results are compared, by the public check and the judge alike (``hint``: shown when no known
    mistake matches; ``parts``: the names of the returned arrays; ``rtol``, ``atol``: the
    tolerance, :func:`course_lib.feedback.compare`'s when not given)."""

    name: str
    lesson: str
    kind: str
    plan: Callable[[np.random.Generator], list[Part]]
    check: str
    mistakes: tuple[str, ...]
    fixture: Callable[[np.random.Generator], dict] | None = None
    compare: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"an exercise's kind is one of {KINDS}. Received: kind={self.kind!r}")


_SOFTMAX_HINT = (
    "np.exp(1000) overflows to inf: subtract the max along the axis (keepdims=True) before exp."
)
_MASK_HINT = "True = may attend: set the other scores to -np.inf before the softmax."

_LAYER_MISTAKES = ("layer_values_not_projected", "layer_no_scaling", "layer_softmax_wrong_axis",
                   "layer_mask_ignored", "layer_mask_inverted", "layer_mask_after_softmax",
                   "layer_causal_ignored", "layer_fully_masked_uniform", "layer_fully_masked_nan")

EXERCISES: dict[str, Exercise] = {exercise.name: exercise for exercise in (
    Exercise("dot_product", "00_welcome", "function", plans.dot_product, "check_dot_product",
             ("dot_elementwise", "dot_sum_times_sum", "dot_sum_of_sums", "dot_norm_product",
              "dot_cosine"), fixture_inputs.dot_product,
             compare={"hint": "A dot product is one number: the sum of a[i] * b[i]."}),
    Exercise("attention_scores", "01_scores", "function", plans.attention_scores,
             "check_attention_scores",
             ("no_scaling", "divide_by_dk", "scale_by_tk", "k_times_q", "multiply_by_sqrt_dk"),
             fixture_inputs.attention_scores,
             compare={
                 "hint": "Each entry (i, j) is the dot product of query i with key j, divided by "
                 "√d_k.",
             }),
    Exercise("softmax", "02_softmax", "function", plans.softmax, "check_softmax",
             ("softmax_wrong_axis", "softmax_ignores_axis", "softmax_global",
              "softmax_no_keepdims", "softmax_unstable", "softmax_no_normalise",
              "softmax_no_exp"), fixture_inputs.softmax,
             compare={"hint": _SOFTMAX_HINT}),
    Exercise("masked_softmax", "02_softmax", "function", plans.masked_softmax,
             "check_masked_softmax",
             ("mask_after_softmax", "mask_inverted", "mask_multiplied", "mask_ignored",
              "mask_fully_masked_nan", "mask_large_negative"), fixture_inputs.masked_softmax,
             compare={"hint": f"{_MASK_HINT} {_SOFTMAX_HINT}"}),
    Exercise("causal_mask", "02_softmax", "function", plans.causal_mask, "check_causal_mask",
             ("causal_upper", "causal_inverted", "causal_strict", "causal_all_true",
              "mask_not_bool"), fixture_inputs.causal_mask,
             compare={"hint": "Entry (i, j) is True when key j is not in the future: j ≤ i."}),
    Exercise("padding_mask", "02_softmax", "function", plans.padding_mask, "check_padding_mask",
             ("padding_inverted", "padding_off_by_one", "padding_no_query_axis",
              "padding_wrong_axis", "mask_not_bool"), fixture_inputs.padding_mask,
             compare={"hint": "Entry (b, 0, j) is True when j < lengths[b]; shape (B, 1, t)."}),
    Exercise("weighted_sum", "03_weighted_sum", "function", plans.weighted_sum,
             "check_weighted_sum",
             ("weights_transposed", "v_times_weights", "weights_elementwise", "values_mean"),
             fixture_inputs.weighted_sum,
             compare={"hint": "Output row i is Σ_j weights[i, j] · v[j]."}),
    Exercise("scaled_dot_product_attention", "03_weighted_sum", "function",
             plans.scaled_dot_product_attention, "check_scaled_dot_product_attention",
             ("no_scaling", "softmax_wrong_axis", "returns_weights_first",
              "returns_transposed_weights", "mask_after_softmax", "mask_ignored",
              "mask_fully_masked_nan", "mask_large_negative"),
             fixture_inputs.scaled_dot_product_attention,
             compare={
                 "hint": f"scores → masked softmax over the keys → weights @ v. {_MASK_HINT}",
                 "parts": ("output", "weights"),
             }),
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
              "pe_wrong_base"), fixture_inputs.sinusoidal_encoding,
             compare={
                 "hint": "Row t is position t = 0 … T-1; column 2i holds sin(t / 10000^(2i/d)) and "
                 "column 2i + 1 cos(t / 10000^(2i/d)).",
                 # float32 angles of up to a few hundred radians are off by about 1e-5
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
    Exercise("TransformerBlock", "06_transformer_block", "block", blocks.transformer_block,
             "check_transformer_block",
             ("block_no_residual", "block_norm_first_ignored", "block_always_pre_norm",
              "block_residual_normalised", "block_residual_from_normalised",
              "block_norm_over_positions", "block_epsilon_ignored", "block_no_relu",
              "block_context_mask_ignored", "block_mask_ignored", "block_causal_ignored",
              "block_self_attention_scores")),
    Exercise("teacher_forcing", "07_application", "function", plans.teacher_forcing,
             "check_teacher_forcing", ("no_shift", "shift_left", "start_at_end",
                                       "targets_shifted"),
             compare={
                 "hint": "Put START_ID in front and drop the last character: the decoder reads "
                 "START, t₀, …, t₈ and predicts t₀, …, t₉.",
                 "parts": ("decoder_inputs", "decoder_targets"),
             }),
    Exercise("build_translator", "07_application", "translator", translator.build_translator,
             "check_build_translator",
             ("not_causal", "swapped_cross_attention", "padding_not_masked",
              "mask_passed_positionally", "softmax_output", "block_not_used")),
    Exercise("greedy_decode", "07_application", "function", plans.greedy_decode,
             "check_greedy_decode",
             ("no_feedback", "last_position", "start_kept", "fed_back_in_place"),
             compare={
                 "hint": "At step i, read the logits at position i, take the argmax, and write it "
                 "into the decoder input at position i + 1.",
             }),
    Exercise("alignment", "07_application", "function", plans.alignment, "check_alignment",
             ("head_zero_only", "argmax_over_outputs", "max_not_argmax", "per_head_argmax"),
             compare={"hint": "Average the weights over the heads, then argmax over the sources."}),
    Exercise("blockwise_attention", "08_efficiency", "blockwise", plans.blockwise_attention,
             "check_blockwise_attention",
             ("blockwise_no_rescale", "blockwise_drops_last_block", "blockwise_no_final_division",
              "blockwise_average_of_blocks", "blockwise_masked_block_nan",
              "mask_fully_masked_nan", "softmax_unstable", "full_score_matrix"),
             fixture_inputs.blockwise_attention,
             compare={
                 "hint": "Keep a running max m, sum ℓ and output o per query; rescale ℓ and o by "
                 "exp(m_old - m_new) when m grows, and divide o by ℓ at the end.",
                 # Streaming must not change the result: only the order of the additions differs.
                 "rtol": 1e-10,
                 "atol": 1e-12,
             }),
    Exercise("attention_backward", "09_gradients", "function", plans.attention_backward,
             "check_attention_backward",
             ("grad_softmax_no_rowsum", "grad_no_scaling", "grad_dk_not_transposed",
              "grad_dv_not_transposed", "grad_scores_as_dq", "grad_mask_ignored",
              "grad_fully_masked_nan"), fixture_inputs.attention_backward,
             compare={
                 "hint": "dv = Aᵀ dO; dA = dO vᵀ; dS = A ⊙ (dA − rowsum(dA ⊙ A)); dq = dS k/√d_k; "
                 "dk = dSᵀ q/√d_k, with A the masked softmax of the forward pass.",
                 "parts": ("dq", "dk", "dv"),
             }),
    Exercise("nadaraya_watson", "10_other_scores", "function", plans.nadaraya_watson,
             "check_nadaraya_watson",
             ("nw_softmax_over_queries", "nw_width_not_squared", "nw_width_without_two",
              "nw_farthest_point", "nw_unnormalised", "nw_unstable_softmax"),
             fixture_inputs.nadaraya_watson,
             compare={
                 "hint": "Scores −(x_query − x_train)² / (2 w²) for every (query, training point) "
                 "pair, (..., n_query, n_train); a stable softmax over the training points "
                 "(axis=-1); then the weighted sum of y_train.",
                 # float32 answers: exp of scores of a few hundred is off by about 1e-5
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
    Exercise("additive_scores", "10_other_scores", "function", plans.additive_scores,
             "check_additive_scores",
             ("add_tanh_after_v", "add_no_tanh", "add_transposed", "add_pairs_not_broadcast",
              "add_weights_swapped"), fixture_inputs.additive_scores,
             compare={
                 "hint": "Project once, q @ w_q (..., Tq, h) and k @ w_k (..., Tk, h); add them "
                 "for every pair as (..., Tq, 1, h) + (..., 1, Tk, h); tanh; then @ v.",
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
    Exercise("attend_step", "11_kv_cache", "function", plans.attend_step, "check_attend_step",
             ("step_no_scaling", "step_scale_by_length", "step_softmax_wrong_axis",
              "step_newest_missing", "step_cache_ignored", "step_unnormalised",
              "step_unstable_softmax", "step_query_axis_kept"), fixture_inputs.attend_step,
             compare={
                 "hint": "Score every cached position j = 0 … t, q_t·k_j / √d_k, (..., t + 1); a "
                 "stable softmax over them (axis=-1); then the weighted sum of the cached values, "
                 "(..., d_v).",
             }),
    Exercise("decode_step", "11_kv_cache", "decoding", decoding.decode_step, "check_decode_step",
             ("decode_newest_missing", "decode_position_fixed", "decode_cache_not_kept",
              "decode_no_scaling", "decode_keys_as_values", "decode_python_state")),
    Exercise("cached_greedy_decode", "11_kv_cache", "decoding", decoding.cached_greedy_decode,
             "check_cached_greedy_decode",
             ("greedy_not_fed_back", "greedy_start_included", "greedy_prefix_recomputed",
              "greedy_encoder_per_step")),
    Exercise("cosine_schedule", "12_language_model", "function",
             language_model.cosine_schedule, "check_cosine_schedule", tuple(lesson_12.SCHEDULE),
             language_model.FIXTURES["cosine_schedule"],
             compare={
                 "hint": "Below warmup: peak·step/warmup; from warmup to total: peak·½(1 + "
                 "cos(π(step − warmup)/(total − warmup))); after total: 0. np.where picks, entry "
                 "by entry.",
             }),
    Exercise("adamw_step", "12_language_model", "function", language_model.adamw_step,
             "check_adamw_step", tuple(lesson_12.ADAMW), language_model.FIXTURES["adamw_step"],
             compare={
                 "hint": "Scale every gradient by min(1, max_norm/‖g‖), ‖g‖ over all of them; m "
                 "and v from the clipped gradients; m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); θ − "
                 "lr·(m̂/(√v̂ + ε) + λθ).",
                 "parts": ("params", "m", "v"),
             }),
    Exercise("sampling_distribution", "12_language_model", "function",
             language_model.sampling_distribution, "check_sampling_distribution",
             tuple(lesson_12.SAMPLING), language_model.FIXTURES["sampling_distribution"],
             compare={
                 "hint": "Divide by the temperature; keep the top_k largest logits (the others "
                 "−inf); a stable softmax; keep each token whose more probable tokens add up to "
                 "less than top_p; divide by the sum of what is kept.",
             }),
    Exercise("apply_rope", "13_modern_block", "function", modern_block.apply_rope,
             "check_apply_rope", tuple(lesson_13.ROPE), modern_block.FIXTURES["apply_rope"],
             compare={
                 "hint": "Pair i is x[..., 2i] and x[..., 2i + 1] (x[..., 0::2] and x[..., 1::2]); "
                 "its angle is positions[:, None] · base^(-2i/d), (T, d/2); y_2i = x_2i cos θ - "
                 "x_2i+1 sin θ and y_2i+1 = x_2i sin θ + x_2i+1 cos θ.",
                 # float32 angles of a few hundred radians are off by about 1e-5
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
    Exercise("rms_norm", "13_modern_block", "function", modern_block.rms_norm, "check_rms_norm",
             tuple(lesson_13.RMS_NORM), modern_block.FIXTURES["rms_norm"],
             compare={
                 "hint": "x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps) * gain: the "
                 "mean square over each vector's features, eps inside the square root, no mean "
                 "subtracted.",
             }),
    Exercise("swiglu", "13_modern_block", "function", modern_block.swiglu, "check_swiglu",
             tuple(lesson_13.SWIGLU), modern_block.FIXTURES["swiglu"],
             compare={
                 "hint": "SiLU(z) = z · σ(z) of the gate x @ w_gate, times x @ w_up (no "
                 "activation), then @ w_down.",
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
    Exercise("grouped_query_attention", "13_modern_block", "function",
             modern_block.grouped_query_attention, "check_grouped_query_attention",
             (*lesson_13.GROUPED_QUERY_ATTENTION, "no_scaling", "mask_after_softmax",
              "mask_fully_masked_nan", "mask_large_negative", "softmax_wrong_axis"),
             modern_block.FIXTURES["grouped_query_attention"],
             compare={
                 "hint": "Query head h reads key-value head h // (H // G): np.repeat(k, H // G, "
                 "axis=-3), the same for v; then q kᵀ / √d_k, the masked softmax over the keys, @ "
                 f"v. {_MASK_HINT}",
             }),
)}

#: The exercises that have a public fixture, ``course_lib/fixtures/<name>.npz``.
WITH_FIXTURES = tuple(name for name, exercise in EXERCISES.items() if exercise.fixture)


def plan(exercise: str, seed: int, cell: str = "hidden") -> list[Part]:
    """The parts a graded cell of ``exercise`` is judged on: all of them for the hidden test,
    the first for the public check cell (``cell="check"``)."""
    parts = EXERCISES[exercise].plan(np.random.default_rng(seed))
    return parts[:1] if cell == "check" else parts
