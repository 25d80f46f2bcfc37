"""Lesson 08 · Efficiency: attention that never builds the $T_q \times T_k$ matrix: its exercises
as the learner's side knows them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_08_efficiency``. The instructor's side of the same exercises is
``grader.lessons.lesson_08_efficiency``.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.calls import Call, LimitedCall
from course_lib.cases.inputs import (
    case,
    lengths_mask,
    random_mask,
    random_qkv,
    sizes,
)
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise

# The plans: from a random generator, the parts each exercise is judged on ----------


def blockwise_attention_plan(rng) -> list[Part]:
    batch, heads, t_q, d_k, d_v = sizes(rng, 5, high=9)
    t_k = int(rng.integers(10, 20))
    uneven = next(b for b in range(3, t_k) if t_k % b)  # a block size that does not divide Tk
    mask = random_mask(rng, (batch, 1, t_q, t_k), [(0, 0, 0)])
    mask[-1, 0, -1, : 2 * uneven] = False  # a row whose first two blocks are fully masked…
    mask[-1, 0, -1, -1] = True  # …and that may attend to the last key
    padding = lengths_mask(rng.integers(1, t_k, size=batch), t_k)

    def calls(block_sizes, masks=(None,), scale=1.0):
        inputs = random_qkv(rng, (batch, heads), t_q, t_k, d_k, d_v, scale)
        return [Call({**inputs, "block_size": b}, {} if m is None else {"mask": m})
                for m in masks for b in block_sizes]

    return [
        Part(f"block sizes {uneven} (not dividing Tk = {t_k}), 1, Tk and more than Tk",
             calls([uneven, 1, t_k, t_k + 5])),
        Part("masks: fully masked blocks and rows, padding",  # the padding mask (B, 1, 1, Tk)
             # first: a mask sliced on its queries' axis fails there as on any axis of size 1
             calls([uneven], masks=(padding, mask))),
        Part("extreme logits (scores beyond ±1000)", calls([uneven, 1], scale=40.0)),
        Part("memory: never holds the full Tq × Tk scores (a run under a memory limit)",
             [LimitedCall(int(rng.integers(2**63)), masked, int(rng.integers(2**63)))
              for masked in (False, True)]),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def blockwise_attention_fixture(rng):
    leading_blocks_masked = random_mask(rng, (4, 9), [(0,)])
    leading_blocks_masked[1, :6] = False  # row 1: its first two blocks of 3 are fully masked
    leading_blocks_masked[1, 7] = True
    leading_blocks_masked[2, :3] = False  # row 2: its first block
    leading_blocks_masked[2, 4] = True
    return {
        "uneven_blocks": case(**random_qkv(rng, (), 3, 7, 4, 2), block_size=3),
        "block_of_one": case(**random_qkv(rng, (), 4, 5, 3, 2), block_size=1),
        "one_block": case(**random_qkv(rng, (), 3, 6, 4, 3), block_size=10),
        "masked": case(
            **random_qkv(rng, (), 4, 9, 4, 2),
            block_size=3,
            kwargs={"mask": leading_blocks_masked},
        ),
        "extreme_logits": case(**random_qkv(rng, (), 3, 7, 4, 2, scale=40.0), block_size=3),
        "batch_and_heads": case(
            **random_qkv(rng, (2, 3), 4, 7, 5, 6),
            block_size=2,
            kwargs={"mask": lengths_mask(np.array([7, 3]), 7)},  # (B, 1, 1, Tk)
        ),
    }


EXERCISES = (
    Exercise("blockwise_attention", "08_efficiency", "blockwise", blockwise_attention_plan,
             "check_blockwise_attention",
             ("blockwise_no_rescale", "blockwise_drops_last_block", "blockwise_no_final_division",
              "blockwise_average_of_blocks", "blockwise_masked_block_nan",
              "mask_fully_masked_nan", "softmax_unstable", "full_score_matrix",
              "blockwise_max_not_updated", "blockwise_output_not_rescaled",
              "blockwise_sum_not_rescaled", "blockwise_blocks_up_to_tq",
              "blockwise_overlapping_blocks", "blockwise_mask_wrong_axis", "global_max",
              "no_scaling", "divide_by_dk", "mask_inverted", "mask_ignored",
              "transpose_reverses_batch", "blockwise_values_not_sliced",
              "blockwise_divided_every_block", "blockwise_block_one_short", "mask_multiplied",
              "scale_by_value_width"),
             blockwise_attention_fixture,
             compare={
                 "hint": "Keep a running max m, sum ℓ and output o per query; rescale ℓ and o by "
                 "exp(m_old - m_new) when m grows, and divide o by ℓ at the end.",
                 # Streaming must not change the result: only the order of the additions differs.
                 "rtol": 1e-10,
                 "atol": 1e-12,
             }),
)
