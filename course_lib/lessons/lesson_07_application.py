"""Lesson 07 · Attention at work: a small translator: its exercises as the learner's side knows
them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_07_application``. The instructor's side of the same exercises is
``grader.lessons.lesson_07_application``.
"""

from __future__ import annotations

from course_lib.cases import translator
from course_lib.cases.calls import Call, StandIn
from course_lib.cases.inputs import random_weights
from course_lib.cases.records import Part
from course_lib.dates import TARGET_LEN, TARGET_VOCAB
from course_lib.exercise_record import Exercise

# The plans: from a random generator, the parts each exercise is judged on ----------


def teacher_forcing_plan(rng) -> list[Part]:
    def targets(n):
        return rng.integers(1, len(TARGET_VOCAB), size=(n, TARGET_LEN)).astype("int32")

    return [Part("a batch of 7 dates", [Call({"targets": targets(7)})]),
            Part("a single date", [Call({"targets": targets(1)})])]


def greedy_decode_plan(rng) -> list[Part]:
    return [Part(f"a stand-in model (multiplier {m}), {n} source(s)",
                 [Call({"model": StandIn(m), "source": rng.integers(1, 40, size=(n, 32))})])
            for m, n in ((5, 6), (7, 1))]


def alignment_plan(rng) -> list[Part]:
    def weights(batch, heads):
        return random_weights(rng, (batch, heads, TARGET_LEN, 32))

    return [Part(f"B={b}, H={h}, Tt=10, Ts=32", [Call({"weights": weights(b, h)})])
            for b, h in ((3, 4), (1, 1))]


EXERCISES = (
    Exercise("teacher_forcing", "07_application", "function", teacher_forcing_plan,
             "check_teacher_forcing", ("no_shift", "shift_left", "start_at_end",
                                       "targets_shifted", "dtype_changed", "shift_wrong_axis",
                                       "start_missing", "last_not_dropped"),
             compare={
                 "hint": "Put START_ID in front and drop the last character: the decoder reads "
                 "START, t₀, …, t₈ and predicts t₀, …, t₉.",
                 "parts": ("decoder_inputs", "decoder_targets"),
             }),
    Exercise("build_translator", "07_application", "translator", translator.build_translator,
             "check_build_translator",
             ("not_causal", "swapped_cross_attention", "padding_not_masked",
              "mask_passed_positionally", "softmax_output", "block_not_used",
              "encoder_padding_not_masked", "encoder_causal", "encoder_output_not_used",
              "key_dim_not_divided", "positions_missing")),
    Exercise("greedy_decode", "07_application", "function", greedy_decode_plan,
             "check_greedy_decode",
             ("no_feedback", "last_position", "start_kept", "fed_back_in_place",
              "argmax_without_axis", "one_step_short", "ids_not_integers"),
             compare={
                 "hint": "At step i, read the logits at position i, take the argmax, and write it "
                 "into the decoder input at position i + 1.",
             }),
    Exercise("alignment", "07_application", "function", alignment_plan, "check_alignment",
             ("head_zero_only", "argmax_over_outputs", "max_not_argmax", "per_head_argmax",
              "mean_over_batch", "argmax_then_mean", "ids_not_integers"),
             compare={"hint": "Average the weights over the heads, then argmax over the sources."}),
)
