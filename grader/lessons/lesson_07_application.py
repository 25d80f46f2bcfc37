"""Lesson 07 (``07_application``): its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_07_application``.
"""

from __future__ import annotations

import numpy as np

from course_lib.dates import START_ID, TARGET_LEN
from grader import reference as ref
from grader.graded import Graded
from grader.reference import translator


def _start_column(n, dtype):
    return np.full((n, 1), START_ID, dtype=dtype)


def _decoder_start(source):
    return np.full((len(source), TARGET_LEN), START_ID, dtype="int32")


def _decode_without_feedback(model, source):
    return np.asarray(model([source, _decoder_start(source)])).argmax(axis=-1)


def _decode_feeding_back(model, source, *, read_last=False, in_place=False):
    decoder_input = _decoder_start(source)
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input]))
        predicted[:, step] = logits[:, -1 if read_last else step].argmax(axis=-1)
        if in_place:
            decoder_input[:, step] = predicted[:, step]
        elif step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def _decode_keeping_start(model, source):
    predicted = ref.greedy_decode(model, source)
    return np.concatenate([_start_column(len(predicted), predicted.dtype), predicted[:, :-1]], 1)


def _shifted(targets, keep, start_first):
    targets = np.asarray(targets)
    start = _start_column(len(targets), targets.dtype)
    kept = targets[:, keep]
    return (np.concatenate([start, kept] if start_first else [kept, start], axis=1), targets)


def _rows_rolled(targets):
    """The dates rolled by one (axis 0), then START written over the first column."""
    decoder_inputs = np.roll(np.asarray(targets), 1, axis=0)  # (n, Tt)
    decoder_inputs[:, 0] = START_ID
    return decoder_inputs, np.asarray(targets)


TEACHER_FORCING = {
    "no_shift": lambda targets: (np.asarray(targets), np.asarray(targets)),
    "shift_left": lambda targets: _shifted(targets, slice(1, None), start_first=False),
    "start_at_end": lambda targets: _shifted(targets, slice(None, -1), start_first=False),
    "targets_shifted": lambda targets: (ref.teacher_forcing(targets)[0],
                                        np.asarray(targets)[:, 1:]),
    "shift_wrong_axis": _rows_rolled,
    "start_missing": lambda targets: (np.asarray(targets)[:, :-1], np.asarray(targets)),
    "last_not_dropped": lambda targets: _shifted(targets, slice(None), start_first=True),
}


def _decode_flat_argmax(model, source):
    """Each step's id is the argmax of the whole (B, V) slice without an axis: one flat index
    for every date."""
    decoder_input = _decoder_start(source)
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN):
        predicted[:, step] = np.asarray(model([source, decoder_input]))[:, step].argmax()
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def _decode_one_step_short(model, source):
    """``TARGET_LEN - 1`` steps: the last position keeps its initial 0."""
    predicted = ref.greedy_decode(model, source)
    predicted[:, -1] = 0
    return predicted


GREEDY_DECODE = {
    "no_feedback": _decode_without_feedback,
    "last_position": lambda model, source: _decode_feeding_back(model, source, read_last=True),
    "start_kept": _decode_keeping_start,
    "fed_back_in_place": lambda model, source: _decode_feeding_back(model, source,
                                                                    in_place=True),
    "argmax_without_axis": _decode_flat_argmax,
    "one_step_short": _decode_one_step_short,
}

ALIGNMENT = {
    "head_zero_only": lambda weights: np.asarray(weights)[:, 0].argmax(axis=-1),
    "argmax_over_outputs": lambda weights: np.asarray(weights).mean(axis=1).argmax(axis=-2),
    "max_not_argmax": lambda weights: np.asarray(weights).mean(axis=1).max(axis=-1),
    "per_head_argmax": lambda weights: np.asarray(weights).argmax(axis=-1),
    "mean_over_batch": lambda weights: np.asarray(weights).mean(axis=0).argmax(axis=-1),
    "argmax_then_mean": lambda weights: np.asarray(weights).argmax(axis=-1).mean(axis=1),
}


GRADED = (
    Graded("teacher_forcing", ref.teacher_forcing, TEACHER_FORCING),
    Graded("build_translator", translator.TranslatorForward, translator.TRANSLATOR_VARIANTS,
           ("translator",),  # lesson 06's and lesson 11's own models
           "the `block` argument, PositionalEmbedding and a Dense layer"),
    Graded("greedy_decode", ref.greedy_decode, GREEDY_DECODE),
    Graded("alignment", ref.alignment, ALIGNMENT),
)
