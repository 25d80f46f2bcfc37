"""The judge of lesson 06's ``TransformerBlock`` (``block``): every call against the NumPy
forward pass of the answer key on the judge's weights, a known wrong block named when it
matches, and the extras (the weights' shapes, the config's round trip). The block may hold
Keras's own ``MultiHeadAttention`` (lesson 04's layer, or Keras's as its stand-in).

Mistakes that show as an error are named too: wrong weights' shapes by the sublayer they
betray (``course_lib.cases.blocks.shape_mistake``), judged before any call of their case; a
call that raises by the known wrong block that cannot run there either
(``numpy_block.failing_variants``); and a block whose output changes between two identical
calls, as random at inference.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.blocks import BlockCase, block_weight_shapes, shape_mistake
from course_lib.cases.records import Part, Slot
from course_lib.feedback import CheckFailed, PartialCredit, close, compare_hidden
from course_lib.keras_harness import KERAS_ATOL, KERAS_RTOL
from course_lib.misconceptions import DESCRIPTIONS
from grader.exercises import GRADED
from grader.judging.judges.layers import (
    built_text,
    check_config_values,
    described_options,
    held_weights,
    shapes_of,
)
from grader.judging.judges.scoring import judging, scored_parts
from grader.judging.probe_data import ProbeData, received_result, text
from grader.reference import numpy_block

#: The wrong blocks whose mistake shows in the weights' shapes: named from the shapes, not
#: from a call that fails on them.
NAMED_BY_SHAPES = ("block_cross_keys_from_x",)
#: The known wrong blocks, ``{mistake key: class}`` (the instructor's record's)
VARIANTS = GRADED["TransformerBlock"].variants


def block_text(case: BlockCase) -> str:
    """``TransformerBlock(num_heads=2, ...) on x(3, 5, 6), context(3, 7, 9)``."""
    inputs = {"x": case.x, "context": case.context}
    shapes = [f"{n}{tuple(v.shape)}" for n, v in inputs.items() if v is not None]
    return f"{built_text('TransformerBlock', case)} on {', '.join(shapes)}"


def _block_call(case: BlockCase, options: dict, received, explaining: str | None) -> None:
    """The learner's ``(y, attention weights)`` equal the answer key's on these weights; a
    known wrong block that matches is named, first the one whose errors the learner's block
    shows elsewhere (``explaining``)."""
    inputs = (case.config, case.weights, case.x, case.context)
    wrong = numpy_block.block_variant_outputs(VARIANTS, *inputs, **options)
    if explaining in wrong:
        wrong = {explaining: wrong[explaining], **wrong}
    compare_hidden(received, numpy_block.block_forward(*inputs, **options),
                   what=f"{block_text(case)}{described_options(options)}",
                   misconceptions=wrong,
                   parts=("output", "attention weights"), rtol=KERAS_RTOL, atol=KERAS_ATOL)


def _check_shapes(case: BlockCase, record: dict) -> None:
    """The weights' shapes the block holds before the judge's weights go in, as listed."""
    held = shapes_of(record.get("shapes"))
    expected = block_weight_shapes(
        case.config, case.x.shape[-1], None if case.context is None else case.context.shape[-1])
    if held == expected:
        return
    what = f"{built_text('TransformerBlock', case)} holds the weights {held_weights(record)}"
    key = shape_mistake(case.config, case.x.shape[-1],
                        None if case.context is None else case.context.shape[-1], held)
    if key is not None:
        raise CheckFailed(f"{what}: it matches {DESCRIPTIONS[key]}.", key)
    raise CheckFailed(
        f"{what}; expected, in this order: {expected} (self-attention, its LayerNorm, "
        "[cross-attention, its LayerNorm,] ff_hidden, ff_output, ff_norm).\n  Create the "
        "sublayers in that order, and no others.")


def _block_extra(case: BlockCase, extra: str, record: dict, received) -> None:
    """Judge one of a block case's extras: its weights' shapes, or its config round trip."""
    if extra == "weight_shapes":
        _check_shapes(case, record)
    elif extra == "config":
        try:
            check_config_values("TransformerBlock", case, record)
        except CheckFailed as failure:
            raise CheckFailed(f"{failure}\n  It matches "
                              f"{DESCRIPTIONS['block_config_incomplete']}.",
                              "block_config_incomplete") from None
        inputs = (case.config, case.weights, case.x, case.context)
        wrong = numpy_block.block_variant_outputs(VARIANTS, *inputs)
        compare_hidden(received, numpy_block.block_forward(*inputs)[0],
                       what="the output of TransformerBlock rebuilt with from_config(get_config())",
                       misconceptions={key: output for key, (output, _) in wrong.items()},
                       rtol=KERAS_RTOL, atol=KERAS_ATOL)


def _ran(slot: Slot) -> dict:
    """The options a slot's run of the block used: a call's, or none (``from_config``'s)."""
    return slot.options if slot.extra is None else {}


def _failed(record: dict) -> bool:
    """Whether the block raised in this record (not the probe's own verdicts)."""
    return record.get("status") == "error" and record.get("type") not in (
        "NotImplementedError", "CheckFailed")


def explaining_variant(laid_out: list, data: ProbeData) -> str | None:
    """The known wrong block that fails on exactly the runs (calls, ``from_config``) on which
    the learner's block raised, in the whole plan, if one does: the mistake those errors
    show."""
    raised, failing = set(), {}
    for placed in (placed for part in laid_out for placed in part.placed):
        case = placed.case
        for slot in (slot for slot in placed.slots if slot.extra != "weight_shapes"):
            if _failed(data.records[slot.index]):
                raised.add(slot.index)
            for key in numpy_block.failing_variants(VARIANTS, case.config, case.weights,
                                                    case.x, case.context, **_ran(slot)):
                failing.setdefault(key, set()).add(slot.index)
    exact = [key for key, where in failing.items() if where == raised and key not in
             NAMED_BY_SHAPES]
    return exact[0] if raised and exact else None


#: what Keras says when a mask is passed to ``MultiHeadAttention`` by position: its fourth
#: positional argument is ``query_mask``, which Keras's ``Layer.__call__`` fills itself
MASK_BY_POSITION = "multiple values for argument 'query_mask'"


def _named_failure(slot: Slot, record: dict, calls_ran: bool) -> str | None:
    """The mistake an error names by itself: a mask passed by position (Keras's message), or
    a ``from_config(get_config())`` that fails where every call of the block ran."""
    if MASK_BY_POSITION in str(record.get("message", "")):
        return "block_mask_by_position"
    if slot.extra == "config" and calls_ran:
        return "block_config_incomplete"
    return None


def _failed_run(case: BlockCase, slot: Slot, record: dict, explaining: str | None,
                calls_ran: bool) -> None:
    """A run that raised: named by the known wrong block that cannot run there either, the one
    that fails exactly where the learner's does first (``explaining``)."""
    if not _failed(record):
        return
    named = _named_failure(slot, record, calls_ran)
    if named is not None:
        raise CheckFailed(f"{block_text(case)}{described_options(_ran(slot))} raised "
                          f"{text(record.get('type'), 80)}: it matches {DESCRIPTIONS[named]}.",
                          named)
    inputs = (case.config, case.weights, case.x, case.context)
    failing = [key for key in numpy_block.failing_variants(VARIANTS, *inputs, **_ran(slot))
               if key not in NAMED_BY_SHAPES]
    if explaining in failing:
        failing.insert(0, explaining)
    if failing:
        raise CheckFailed(
            f"{block_text(case)}{described_options(_ran(slot))} raised "
            f"{text(record.get('type'), 80)}, where a block that makes this mistake fails too: "
            f"{DESCRIPTIONS[failing[0]]}.", failing[0])


def _judge_slot(exercise: str, case: BlockCase, slot: Slot, data: ProbeData,
                explaining: str | None, calls_ran: bool) -> None:
    record = data.records[slot.index]
    if slot.extra == "weight_shapes" and record.get("status") == "error":
        return  # the block was not built: its calls and extras fail, and say why
    if slot.extra != "weight_shapes":
        _failed_run(case, slot, record, explaining, calls_ran)
    received = received_result(data, slot, exercise, block_text(case),
                               holds_arrays=slot.extra != "weight_shapes")
    if slot.extra is None:
        _block_call(case, slot.options, received, explaining)
    else:
        _block_extra(case, slot.extra, record, received)


def _check_repeated_calls(exercise: str, case: BlockCase, slots, data: ProbeData) -> None:
    """Two calls with the same options give the same output: nothing random at inference."""
    calls = [slot for slot in slots if slot.extra is None and not slot.options]
    outputs = []
    for slot in calls:
        if data.records[slot.index].get("status") != "ok":
            return
        received = received_result(data, slot, exercise, block_text(case))
        outputs.append(np.asarray(received[0] if isinstance(received, tuple | list)
                                  else received))
    if len(outputs) == 2 and not close(outputs[0], outputs[1], KERAS_RTOL, KERAS_ATOL):
        raise CheckFailed(f"{block_text(case)}, called twice on the same inputs, gave two "
                          f"different outputs: it matches "
                          f"{DESCRIPTIONS['block_random_at_inference']}.",
                          "block_random_at_inference")


def _first_the_shapes(slots) -> list[Slot]:
    """A case's slots with its weights' shapes first: a wrong shape names its mistake before
    the calls that fail on it."""
    return sorted(slots, key=lambda slot: slot.extra != "weight_shapes")


def judge_block(exercise: str, parts: list[Part], data: ProbeData, credit: PartialCredit,
                points: float) -> None:
    """Judge lesson 06's ``TransformerBlock``: every call and extra of every case."""
    scored = list(scored_parts(parts, points))
    explaining = explaining_variant([laid_out for laid_out, _ in scored], data)
    calls_ran = not any(_failed(data.records[slot.index]) for laid_out, _ in scored
                        for placed in laid_out.placed for slot in placed.slots
                        if slot.extra is None)
    for laid_out, part_points in scored:
        with judging(credit, part_points, laid_out.part.label):
            for placed in laid_out.placed:
                _check_repeated_calls(exercise, placed.case, placed.slots, data)
                for slot in _first_the_shapes(placed.slots):
                    _judge_slot(exercise, placed.case, slot, data, explaining, calls_ran)
