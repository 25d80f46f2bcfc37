"""The judge of lesson 06's ``TransformerBlock`` (``block``): every call against the NumPy
forward pass of the answer key on the judge's weights, a known wrong block named when it
matches, and the extras (the weights' shapes, the config's round trip). The block may hold
Keras's own ``MultiHeadAttention`` (lesson 04's layer, or Keras's as its stand-in).
"""

from __future__ import annotations

from course_lib.cases.blocks import BlockCase, block_weight_shapes
from course_lib.cases.records import Part, Slot
from course_lib.feedback import CheckFailed, PartialCredit, compare_hidden
from course_lib.keras_harness import KERAS_ATOL, KERAS_RTOL
from grader.judging.judges.layers import (
    built_text,
    check_config_values,
    described_options,
    held_weights,
    shapes_of,
)
from grader.judging.judges.scoring import judging, scored_parts
from grader.judging.probe_data import ProbeData, received_result
from grader.reference import numpy_block


def block_text(case: BlockCase) -> str:
    """``TransformerBlock(num_heads=2, ...) on x(3, 5, 6), context(3, 7, 9)``."""
    inputs = {"x": case.x, "context": case.context}
    shapes = [f"{n}{tuple(v.shape)}" for n, v in inputs.items() if v is not None]
    return f"{built_text('TransformerBlock', case)} on {', '.join(shapes)}"


def _block_call(case: BlockCase, options: dict, received) -> None:
    """The learner's ``(y, attention weights)`` equal the answer key's on these weights; a
    known wrong block that matches is named."""
    inputs = (case.config, case.weights, case.x, case.context)
    compare_hidden(received, numpy_block.block_forward(*inputs, **options),
                   what=f"{block_text(case)}{described_options(options)}",
                   misconceptions=numpy_block.block_variant_outputs(*inputs, **options),
                   parts=("output", "attention weights"), rtol=KERAS_RTOL, atol=KERAS_ATOL)


def _block_extra(case: BlockCase, extra: str, record: dict, received) -> None:
    """Judge one of a block case's extras: its weights' shapes, or its config round trip."""
    if extra == "weight_shapes":
        expected = block_weight_shapes(
            case.config, case.x.shape[-1], None if case.context is None else case.context.shape[-1])
        if shapes_of(record.get("shapes")) != expected:
            raise CheckFailed(
                f"{built_text('TransformerBlock', case)} holds the weights "
                f"{held_weights(record)}; expected, in this order: {expected} (self-attention, "
                "its LayerNorm, [cross-attention, its LayerNorm,] ff_hidden, ff_output, "
                "ff_norm).\n  Create the sublayers in that order, and no others.")
    elif extra == "config":
        check_config_values("TransformerBlock", case, record)
        expected = numpy_block.block_forward(case.config, case.weights, case.x, case.context)[0]
        compare_hidden(received, expected, what="the output of TransformerBlock rebuilt with "
                       "from_config(get_config())", rtol=KERAS_RTOL, atol=KERAS_ATOL)


def _judge_slot(exercise: str, case: BlockCase, slot: Slot, data: ProbeData) -> None:
    received = received_result(data, slot, exercise, block_text(case),
                               holds_arrays=slot.extra != "weight_shapes")
    if slot.extra is None:
        _block_call(case, slot.options, received)
    else:
        _block_extra(case, slot.extra, data.records[slot.index], received)


def judge_block(exercise: str, parts: list[Part], data: ProbeData, credit: PartialCredit,
                points: float) -> None:
    """Judge lesson 06's ``TransformerBlock``: every call and extra of every case."""
    for laid_out, part_points in scored_parts(parts, points):
        with judging(credit, part_points, laid_out.part.label):
            for slot, placed in ((s, p) for p in laid_out.placed for s in p.slots):
                _judge_slot(exercise, placed.case, slot, data)
