"""Lesson 06_transformer_block: its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_06_transformer_block``.
"""

from __future__ import annotations

from grader.graded import Graded
from grader.reference import numpy_block

GRADED = (
    Graded("TransformerBlock", numpy_block.TransformerBlockForward, numpy_block.BLOCK_VARIANTS,
           ("blocks",), "MultiHeadAttention, LayerNormalization and Dense layers, as the lesson "
           "derives the block"),
)
