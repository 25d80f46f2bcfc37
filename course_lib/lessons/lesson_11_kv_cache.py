"""Lesson 11 · Decoding one token at a time: the KV cache: its exercises as the learner's side
knows them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_11_kv_cache``. The instructor's side of the same exercises is
``grader.lessons.lesson_11_kv_cache``.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.cases import decoding
from course_lib.cases.calls import Call
from course_lib.cases.inputs import (
    case,
    random_step,
    sizes,
)
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise

# The plans: from a random generator, the parts each exercise is judged on ----------


def attend_step_plan(rng) -> list[Part]:
    batch, heads, length, d_k, d_v = sizes(rng, 5)

    def calls(leading=(batch, heads), length=length, d_k=d_k, extreme=False):
        return [Call(random_step(rng, leading, length, d_k, d_v, extreme))]

    return [
        Part(f"batch and head axes: q_t (B, H, d_k), a cache of t + 1 = {length} positions, "
             "d_k ≠ d_v", calls()),
        Part("a cache of one position (t = 0): the output is v_0", calls(length=1)),
        Part("no head axis: q_t (B, d_k), caches (B, t + 1, d)", calls(leading=(batch,))),
        Part("extreme logits (scores beyond ±1000, d_k = 16): a stable softmax",
             calls(d_k=16, extreme=True)),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def attend_step_fixture(rng):
    def step(batch, length, d_k, d_v, extreme=False):
        return case(**random_step(rng, batch, length, d_k, d_v, extreme))

    ln2, ln3 = math.log(2), math.log(3)
    return {
        # scores q_t·k_j / √4 = (0, ln 2, ln 3): weights 1/6, 2/6, 3/6 of the values
        # (6, 0), (0, 6), (0, 0), so o_t = (1, 2)
        "hand_worked": case(q_t=np.array([2.0, 0, 0, 0]),
                            k_cache=np.array([[0, 1, 0, 0], [ln2, 0, 1, 0], [ln3, 0, 0, 1]]),
                            v_cache=np.array([[6.0, 0], [0, 6], [0, 0]])),
        "batch_and_heads": step((2, 3), 5, 4, 6),
        "one_position": step((3, 2), 1, 5, 4),  # t = 0: o_t = v_0
        "no_head_axis": step((3,), 6, 4, 2),
        "extreme_logits": step((2,), 7, 16, 3, extreme=True),
        # batch = cache length = d_k = d_v: shapes that line up even where axes are mixed up
        # (keys for values, .T, a reduction without keepdims), so those run and differ
        "square": step((3,), 3, 3, 3),
    }


EXERCISES = (
    Exercise("attend_step", "11_kv_cache", "function", attend_step_plan, "check_attend_step",
             ("step_no_scaling", "step_scale_by_length", "step_softmax_wrong_axis",
              "step_newest_missing", "step_cache_ignored", "step_unnormalised",
              "step_unstable_softmax", "step_query_axis_kept", "float32_result",
              "step_scale_by_value_width", "step_divide_by_dk", "step_multiply_by_sqrt_dk",
              "step_global_max", "step_weights_returned", "tuple_returned",
              "step_softmax_no_keepdims", "step_weights_not_a_row", "step_keys_values_swapped",
              "step_transpose_every_axis"), attend_step_fixture,
             compare={
                 "hint": "Score every cached position j = 0 … t, q_t·k_j / √d_k, (..., t + 1); a "
                 "stable softmax over them (axis=-1); then the weighted sum of the cached values, "
                 "(..., d_v).",
             }),
    Exercise("decode_step", "11_kv_cache", "decoding", decoding.decode_step, "check_decode_step",
             ("decode_newest_missing", "decode_position_fixed", "decode_cache_not_kept",
              "decode_no_scaling", "decode_keys_as_values", "decode_python_state",
              "decode_position_wrong_axis", "decode_position_off_by_one",
              "decode_scale_by_model_width", "decode_newest_twice", "decode_softmax_over_heads",
              "decode_biases_dropped", "decode_output_projection_dropped",
              "decode_context_mask_dropped", "decode_cache_values_first",
              "decode_cache_wrong_axis", "decode_cache_heads_first")),
    Exercise("cached_greedy_decode", "11_kv_cache", "decoding", decoding.cached_greedy_decode,
             "check_cached_greedy_decode",
             ("greedy_not_fed_back", "greedy_start_included", "greedy_prefix_recomputed",
              "greedy_encoder_per_step", "greedy_ids_transposed", "greedy_one_token_short",
              "greedy_cache_not_carried", "greedy_argmax_wrong_axis")),
)
