"""The judge of lesson 11's decoding with a KV cache (``decoding``): ``decode_step`` and
``cached_greedy_decode`` against the NumPy twin of the translator holding the judge's weights
(``grader.reference.decoding``), its wrong decoders named when they match; the work the kernel
counts and how often the step was traced can only cost points.
"""

from __future__ import annotations

import re

import numpy as np

from course_lib.cases.decoding import DecodeCase
from course_lib.cases.records import MAX_MESSAGE, Part
from course_lib.feedback import (
    CheckFailed,
    PartialCredit,
    close,
    compare_hidden,
    matching_misconception,
    to_numpy,
)
from course_lib.keras_harness import KERAS_ATOL, KERAS_RTOL, TRACING_ERRORS
from course_lib.misconceptions import DESCRIPTIONS
from grader.judging.judges.scoring import judging, scored_parts
from grader.judging.probe_data import ProbeData, received_result, text
from grader.reference import decoding


def _decoding_mistake(exercise: str, key: str) -> CheckFailed:
    return CheckFailed(f"{exercise} is wrong: it matches {DESCRIPTIONS[key]}.", key)


def _translator_text(case) -> str:
    heads = f"{case.num_heads} heads of {case.d_model // case.num_heads}"
    return (f"a translator with d_model={case.d_model}, {heads}, max_length={case.max_length}, "
            f"on {len(case.source)} source(s)")


def _check_decode_step(case, record: dict, received) -> None:
    """The logits of every step equal the full causal pass's; the cache holds the keys and
    values of every step, as the grader computes them; the step was traced at most twice
    (``reduce_retracing``: once for the empty cache, once for any length; reported by the
    kernel, so it can only cost points)."""
    batch, steps = case.tokens.shape
    if not isinstance(received, tuple) or len(received) != 2:
        raise CheckFailed(f"decode_step should return (logits, cache). Received: "
                          f"{record.get('type', '?')} of {record.get('n', 1)} part(s)")
    logits, cache = received
    model = decoding.TranslatorForward(case.weights, case.num_heads)
    expected = model.logits(case.source, case.tokens)  # (B, T, V)
    if np.shape(logits) == expected.shape and not close(logits, expected, KERAS_RTOL,
                                                        KERAS_ATOL):
        named = matching_misconception(logits, _variant_logits(model, case), KERAS_RTOL,
                                       KERAS_ATOL)
        if named is not None:
            raise _decoding_mistake("decode_step", named)
    compare_hidden(logits, expected, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                   what=f"the logits of decode_step, step by step, on {_translator_text(case)}, "
                 "against the full causal pass")
    heads = (case.num_heads, case.d_model // case.num_heads)
    layout = (2, batch, steps, *heads)
    if np.shape(cache) != layout and np.shape(cache) == (2, batch, heads[0], steps, heads[1]):
        raise _decoding_mistake("decode_step", "decode_cache_heads_first")
    if np.shape(cache) != layout:
        raise CheckFailed(
            f"After {steps} steps on {batch} sources the cache should be (2, B, T, H, key_dim) = "
            f"{layout}: keys and values of every step so far. Received: {np.shape(cache)}")
    expected_cache = decoding.CachedDecoder(model).run(case.source, case.tokens)[1]
    if close(cache, expected_cache[::-1], KERAS_RTOL, KERAS_ATOL):
        raise _decoding_mistake("decode_step", "decode_cache_values_first")
    compare_hidden(cache, expected_cache, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                   what=f"the cache decode_step returned after {steps} steps (the keys at [0], the "
                 "values at [1], of every position), against the grader's own")
    traced = record.get("traced")
    if not isinstance(traced, int) or not 1 <= traced <= 2:
        raise CheckFailed(f"decode_step was traced {text(traced, 20)} times by tf.function for "
                          f"{steps} steps; once for the empty cache and once for any length "
                          "should do: keep no Python state between steps.")


def _variant_logits(model, case) -> dict:
    """``{key: logits (B, T, V)}`` of each wrong decoder that runs on this case (one that
    embeds a position beyond the table cannot)."""
    logits = {}
    with np.errstate(all="ignore"):
        for key, variant in decoding.DECODE_VARIANTS.items():
            try:
                logits[key] = variant(model).run(case.source, case.tokens)[0]
            except (ValueError, IndexError):
                continue
    return logits


def _named_error(exercise: str, case, message: str) -> CheckFailed | None:
    """The known mistake an error raised in the kernel shows, in the course's words: a position
    beyond the table of ``max_length`` positions; at step 0, the new key and value concatenated
    to the empty cache along another axis than its positions' (2), or in the layout
    ``(2, B, H, 1, key_dim)``; a batch of next tokens that is not ``(n,)``."""
    batch, heads = len(case.source), case.num_heads
    key_dim = case.d_model // heads
    if "GatherV2" in message and f"not in [0, {case.max_length})" in message:
        return _decoding_mistake(exercise, "decode_position_off_by_one")
    if f"[2,{batch},0,{heads},{key_dim}], [2,{batch},{heads},1,{key_dim}]" in message:
        return _decoding_mistake(exercise, "decode_cache_heads_first")
    if f"[2,{batch},0,{heads},{key_dim}], [2,{batch},1,{heads},{key_dim}]" in message:
        return _decoding_mistake(exercise, "decode_cache_wrong_axis")
    batches = {int(b) for b in re.findall(rf"\[2,(\d+),1,{heads},{key_dim}\]", message)}
    if exercise == "cached_greedy_decode" and len(batches - {batch}) > 0:
        return _decoding_mistake(exercise, "greedy_argmax_wrong_axis")
    return None


def _check_cached_greedy(case, record: dict, received) -> None:
    """Each id is the argmax of the full pass's logits given the ids before it (near-ties
    allowed). The counts of sources encoded and positions embedded come from the kernel: a
    count that shows the work done again costs the points, a count that looks right earns
    nothing (the points for the cache are ``decode_step``'s, whose cache the judge checks)."""
    model = decoding.TranslatorForward(case.weights, case.num_heads)
    ids = to_numpy(received, "The result of cached_greedy_decode")
    shape = (len(case.source), case.length)
    if ids.shape == shape[::-1]:
        raise _decoding_mistake("cached_greedy_decode", "greedy_ids_transposed")
    if ids.shape == (shape[0], shape[1] - 1):
        raise _decoding_mistake("cached_greedy_decode", "greedy_one_token_short")
    if ids.shape != shape or not np.all(np.isfinite(ids)) or np.any(ids != np.round(ids)):
        raise CheckFailed(f"cached_greedy_decode should return integer ids (n, length) = "
                          f"{shape}. Received: {ids.dtype} {ids.shape}")
    ids = ids.astype(np.int64)
    vocab = model.logits_kernel.shape[1]
    if ids.min() < 0 or ids.max() >= vocab:
        raise CheckFailed(f"cached_greedy_decode returned ids outside 0 … {vocab - 1}")
    logits = model.logits(case.source, decoding.start_and(ids))  # (n, length, V)
    chosen = np.take_along_axis(logits, ids[..., None], axis=-1)[..., 0]  # (n, length)
    best = logits.max(axis=-1)  # (n, length)
    if np.any(chosen < best - KERAS_ATOL - KERAS_RTOL * np.abs(best)):
        for key, wrong in decoding.greedy_variants(model, case.source, case.length).items():
            if np.array_equal(ids, wrong):
                raise _decoding_mistake("cached_greedy_decode", key)
        step = int(np.argmax(np.any(chosen < best - 1e-3, axis=0)))
        raise CheckFailed(f"cached_greedy_decode on {_translator_text(case)}: at step {step} "
                          "some ids are not the most likely token given the ids before them.")
    if record.get("embedded") != case.length:
        raise _decoding_mistake("cached_greedy_decode", "greedy_prefix_recomputed")
    if record.get("encoded") != 1:
        raise _decoding_mistake("cached_greedy_decode", "greedy_encoder_per_step")


def _call_text(exercise: str, case: DecodeCase) -> str:
    arguments = ("translator, token, cache, context, context_mask" if case.tokens is not None
                 else f"translator, source, length={case.length}")
    return f"{exercise}({arguments}) on {_translator_text(case)}"


def judge_decoding(exercise: str, parts: list[Part], data: ProbeData, credit: PartialCredit,
                   points: float) -> None:
    """Judge lesson 11's ``decode_step`` and ``cached_greedy_decode`` against the NumPy twin of
    the translator holding the judge's weights (``grader.reference.decoding``)."""
    for laid_out, part_points in scored_parts(parts, points):
        with judging(credit, part_points, laid_out.part.label):
            for placed in laid_out.placed:
                case, (slot,) = placed.case, placed.slots
                record = data.records[slot.index]
                if record.get("status") == "error":
                    message = text(record.get("message"), MAX_MESSAGE)
                    if any(words in message for words in TRACING_ERRORS):
                        raise _decoding_mistake(exercise, "decode_python_state")
                    named = _named_error(exercise, case, message)
                    if named is not None:
                        raise named
                received = received_result(data, slot, exercise, _call_text(exercise, case))
                if case.tokens is not None:
                    _check_decode_step(case, record, received)
                else:
                    _check_cached_greedy(case, record, received)
