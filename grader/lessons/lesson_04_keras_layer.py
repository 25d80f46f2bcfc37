"""Lesson 04 (``04_keras_layer``): its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_04_keras_layer``.
"""

from __future__ import annotations

from grader.graded import Graded
from grader.reference import numpy_layer_variants, numpy_layers

GRADED = (
    Graded("AttentionLayer", numpy_layers.LAYERS["AttentionLayer"],
           numpy_layer_variants.VARIANTS["AttentionLayer"], ("attention",),
           "Dense projections and keras.ops (matmul, softmax, where)"),
    Graded("MultiHeadAttention", numpy_layers.LAYERS["MultiHeadAttention"],
           numpy_layer_variants.VARIANTS["MultiHeadAttention"], ("attention",),
           "your own projections and keras.ops (einsum, softmax)"),
)
