"""The catalogue of known mistakes, by key: what each one is, in a learner's words.

Each lesson describes the mistakes it is the first to name, in its module here (one per lesson,
named like the lesson's records in :mod:`course_lib.lessons`); :data:`DESCRIPTIONS` gathers
them. A description completes the sentence "it matches ..." and then says what to do instead.
Keys are stable: reports count them. The wrong variants themselves (code) are the instructor's
(``grader.lessons``); the public fixtures store their outputs on fixed inputs.
"""

from __future__ import annotations

from course_lib.misconceptions import (
    lesson_00_welcome,
    lesson_01_scores,
    lesson_02_softmax,
    lesson_03_weighted_sum,
    lesson_04_keras_layer,
    lesson_05_positions,
    lesson_06_transformer_block,
    lesson_07_application,
    lesson_08_efficiency,
    lesson_09_gradients,
    lesson_10_other_scores,
    lesson_11_kv_cache,
    lesson_12_language_model,
    lesson_13_modern_block,
)

_LESSONS = (
    lesson_00_welcome,
    lesson_01_scores,
    lesson_02_softmax,
    lesson_03_weighted_sum,
    lesson_04_keras_layer,
    lesson_05_positions,
    lesson_06_transformer_block,
    lesson_07_application,
    lesson_08_efficiency,
    lesson_09_gradients,
    lesson_10_other_scores,
    lesson_11_kv_cache,
    lesson_12_language_model,
    lesson_13_modern_block,
)


def _catalogue() -> dict[str, str]:
    catalogue: dict[str, str] = {}
    for lesson in _LESSONS:
        described_twice = set(catalogue) & set(lesson.DESCRIPTIONS)
        if described_twice:
            raise ValueError(f"{lesson.__name__} describes mistakes an earlier lesson describes. "
                             f"Received: {sorted(described_twice)}")
        catalogue.update(lesson.DESCRIPTIONS)
    return catalogue


#: ``{mistake key: description}`` of every lesson's mistakes.
DESCRIPTIONS: dict[str, str] = _catalogue()
