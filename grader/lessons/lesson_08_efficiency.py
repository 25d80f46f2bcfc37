"""Lesson 08_efficiency: its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_08_efficiency``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded
from grader.lessons.shapes import scores_shape


def _online_attention(
    q,
    k,
    v,
    block_size,
    mask=None,
    *,
    rescale=True,
    subtract_max=True,
    guard_masked_blocks=True,
    guard_final_division=True,
    last_block=True,
    final_division=True,
):
    """Blockwise attention with switches, each of which turns one step off; all on, it is right."""
    shape = scores_shape(q, k)  # (..., Tq, Tk)
    if mask is not None:
        mask = np.broadcast_to(mask, shape)
    t_k = k.shape[-2]
    stop_at = t_k if last_block else t_k - t_k % block_size
    running_max = np.full((*shape[:-1], 1), -np.inf if subtract_max else 0.0)
    running_sum = np.zeros((*shape[:-1], 1))
    output = np.zeros((*shape[:-1], v.shape[-1]))
    for start in range(0, stop_at, block_size):
        block = slice(start, start + block_size)
        scores = ref.attention_scores(q, k[..., block, :])
        if mask is not None:
            scores = np.where(mask[..., block], scores, -np.inf)
        new_max = np.maximum(running_max, scores.max(axis=-1, keepdims=True))
        if not subtract_max:
            new_max = running_max  # stays 0: no shift at all
        shift = np.where(np.isfinite(new_max), new_max, 0.0) if guard_masked_blocks else new_max
        probs = np.exp(scores - shift)
        factor = np.exp(running_max - shift) if rescale else 1.0
        running_sum = factor * running_sum + probs.sum(axis=-1, keepdims=True)
        output = factor * output + probs @ v[..., block, :]
        running_max = new_max
    if not final_division:
        return output
    if not guard_final_division:
        return output / running_sum
    return np.divide(output, running_sum, out=np.zeros_like(output), where=running_sum > 0)


def _with(**switches):
    return lambda q, k, v, block_size, mask=None: _online_attention(
        q, k, v, block_size, mask, **switches
    )


def _average_of_blocks(q, k, v, block_size, mask=None):
    mask = np.broadcast_to(True if mask is None else mask, scores_shape(q, k))
    blocks = [slice(start, start + block_size) for start in range(0, k.shape[-2], block_size)]
    outputs = [
        ref.scaled_dot_product_attention(q, k[..., b, :], v[..., b, :], mask[..., b])[0]
        for b in blocks
    ]
    return np.mean(outputs, axis=0)


BLOCKWISE_ATTENTION = {
    "blockwise_no_rescale": _with(rescale=False),
    "blockwise_drops_last_block": _with(last_block=False),
    "blockwise_no_final_division": _with(final_division=False),
    "blockwise_average_of_blocks": _average_of_blocks,
    "blockwise_masked_block_nan": _with(guard_masked_blocks=False, guard_final_division=False),
    "mask_fully_masked_nan": _with(guard_final_division=False),
    "softmax_unstable": _with(subtract_max=False),
}


GRADED = (
    Graded("blockwise_attention", ref.blockwise_attention, BLOCKWISE_ATTENTION,
           ("softmax", "attention"), "the running max, sum and output of the online softmax"),
)
