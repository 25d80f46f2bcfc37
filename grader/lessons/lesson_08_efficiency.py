"""Lesson 08 (``08_efficiency``): its exercises as the instructor's side knows them: their records
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
from grader.lessons.shapes import scores_shape, transpose


def _online_attention(
    q,
    k,
    v,
    block_size,
    mask=None,
    *,
    rescale_sum=True,
    rescale_output=True,
    update_max=True,
    row_max=True,
    subtract_max=True,
    guard_masked_blocks=True,
    guard_final_division=True,
    last_block=True,
    final_division=True,
    blocks_up_to="keys",
    step="block_size",
    scale="sqrt",
    transpose_with="swapaxes",
    mask_use="keys",
    values="block",
    divide_each_block=False,
    block_short=0,
):
    """Blockwise attention with switches, each of which turns one step off or does it another
    way (``block_short`` 1: each block stops one key short); with the defaults, it is right.
    The mask is broadcast to the scores' shape first, except where ``mask_use="rows"`` slices
    it as given, along the queries."""
    shape = scores_shape(q, k)  # (..., Tq, Tk)
    raw_mask = mask
    if mask is not None:
        mask = np.broadcast_to(mask, shape)
    t_k = k.shape[-2]
    stop_at = {"keys": t_k, "queries": q.shape[-2]}[blocks_up_to]
    if not last_block:
        stop_at = t_k - t_k % block_size
    scale = {"sqrt": np.sqrt(q.shape[-1]), "none": 1.0, "d_k": q.shape[-1],
             "d_v": np.sqrt(v.shape[-1])}[scale]
    running_max = np.full((*shape[:-1], 1), -np.inf if subtract_max else 0.0)
    if not row_max:
        running_max = -np.inf
    running_sum = np.zeros((*shape[:-1], 1))
    output = np.zeros((*shape[:-1], v.shape[-1]))
    for start in range(0, stop_at, block_size if step == "block_size" else 1):
        block = slice(start, min(start + block_size - block_short, stop_at))
        keys = k[..., block, :]  # (..., b, d_k)
        keys_t = keys.T if transpose_with == ".T" else transpose(keys)
        scores = q @ keys_t / scale  # (..., Tq, b)
        if mask is not None and mask_use == "zero":  # the mask multiplied in: masked scores 0
            scores = np.where(mask[..., block], scores, 0.0)
        elif mask is not None and mask_use != "ignored":
            scores = np.where(_block_mask(mask, raw_mask, block, mask_use), scores, -np.inf)
        block_max = scores.max(axis=-1, keepdims=True) if row_max else scores.max()
        new_max = np.maximum(running_max, block_max)
        if not subtract_max:
            new_max = running_max  # stays 0: no shift at all
        shift = np.where(np.isfinite(new_max), new_max, 0.0) if guard_masked_blocks else new_max
        probs = np.exp(scores - shift)
        factor = np.exp(running_max - shift)
        running_sum = (factor if rescale_sum else 1.0) * running_sum + probs.sum(
            axis=-1, keepdims=True)
        block_values = v if values == "all" else v[..., block, :]  # (..., b, d_v)
        output = (factor if rescale_output else 1.0) * output + probs @ block_values
        if update_max:
            running_max = new_max
        if divide_each_block:  # o normalised, then rescaled and added to as if it were not
            output = np.divide(output, running_sum, out=np.zeros_like(output),
                               where=running_sum > 0)
    if not final_division or divide_each_block:
        return output
    if not guard_final_division:
        return output / running_sum
    return np.divide(output, running_sum, out=np.zeros_like(output), where=running_sum > 0)


def _block_mask(mask, raw_mask, block: slice, mask_use: str):
    """The mask of one block of keys: its columns (``"keys"``), inverted (``"inverted"``), or
    the mask as given sliced along the queries (``"rows"``)."""
    if mask_use == "rows":
        return raw_mask[..., block, :]
    return ~mask[..., block] if mask_use == "inverted" else mask[..., block]


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
    "blockwise_no_rescale": _with(rescale_sum=False, rescale_output=False),
    "blockwise_drops_last_block": _with(last_block=False),
    "blockwise_no_final_division": _with(final_division=False),
    "blockwise_average_of_blocks": _average_of_blocks,
    "blockwise_masked_block_nan": _with(guard_masked_blocks=False, guard_final_division=False),
    "mask_fully_masked_nan": _with(guard_final_division=False),
    "softmax_unstable": _with(subtract_max=False),
    "blockwise_max_not_updated": _with(update_max=False),
    "blockwise_output_not_rescaled": _with(rescale_output=False),
    "blockwise_sum_not_rescaled": _with(rescale_sum=False),
    "blockwise_blocks_up_to_tq": _with(blocks_up_to="queries"),
    "blockwise_overlapping_blocks": _with(step="one"),
    "blockwise_mask_wrong_axis": _with(mask_use="rows"),
    "global_max": _with(row_max=False),
    "no_scaling": _with(scale="none"),
    "divide_by_dk": _with(scale="d_k"),
    "mask_inverted": _with(mask_use="inverted"),
    "mask_ignored": _with(mask_use="ignored"),
    "transpose_reverses_batch": _with(transpose_with=".T"),
    "blockwise_values_not_sliced": _with(values="all"),
    "blockwise_divided_every_block": _with(divide_each_block=True),
    "blockwise_block_one_short": _with(block_short=1),
    "mask_multiplied": _with(mask_use="zero"),
    "scale_by_value_width": _with(scale="d_v"),
}


GRADED = (
    Graded("blockwise_attention", ref.blockwise_attention, BLOCKWISE_ATTENTION,
           ("softmax", "attention"), "the running max, sum and output of the online softmax"),
)
