"""One module per lesson: the instructor's side of its exercises, in one place.

A lesson's module holds its exercises' records (:class:`~grader.graded.Graded`, in ``GRADED``)
and the wrong variants of its functions; the answer keys are in :mod:`grader.reference`. The
learner's side of the same lesson is the module of the same name in ``course_lib.lessons``.
"""

from grader.lessons import (
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
