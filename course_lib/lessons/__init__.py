"""One module per lesson: the learner's side of its exercises, in one place.

A lesson's module holds its exercises' records (:class:`~course_lib.exercise_record.Exercise`,
in ``EXERCISES``), the plans of its functions' inputs, the inputs of their public fixtures, and
``DESCRIPTIONS``: the mistakes its feedback is the first to name, by key. The instructor's side
of the same lesson is the module of the same name in ``grader.lessons``.
"""

from course_lib.lessons import (
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

#: Every lesson's module, in the course's order.
LESSONS = (
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
