"""The course's exercises as the instructor's side knows them: one :class:`Graded` per graded
name, in :data:`GRADED`, the same names as the learner's records (``course_lib.exercises``),
which say each exercise's kind, plan and mistake keys.

A record holds what the learner's side must never see: the answer key the judge compares with
(for a Keras exercise, its NumPy twin), the wrong variants whose outputs name a mistake, and the
library calls refused in an answer (``grader.judging.policy``), with what to write instead. The
judge of an exercise is its kind's (``grader.judging.judges.JUDGES``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from course_lib.exercises import EXERCISES
from grader import reference as ref
from grader.judging import decoding_variants as decoding_wrong
from grader.judging import language_model_variants as lesson_12
from grader.judging import modern_block_variants as lesson_13
from grader.judging import wrong_variants as wrong
from grader.reference import (
    decoding,
    numpy_block,
    numpy_layer_variants,
    numpy_layers,
    translator,
)


@dataclass(frozen=True)
class Graded:
    """One graded exercise, instructor side. ``answer``: the answer key (a NumPy function, or
    the NumPy forward pass of a Keras exercise); ``variants``: ``{mistake key: wrong
    variant}``, each making that one mistake; ``refused``: the families of entry points that do
    the exercise for the learner (``grader.judging.entry_points``), refused in an answer, and
    ``instead``: what to write in their place."""

    name: str
    answer: Callable
    variants: Mapping[str, Callable] = field(default_factory=dict)
    refused: tuple[str, ...] = ()
    instead: str = ""


GRADED: dict[str, Graded] = {graded.name: graded for graded in (
    Graded("dot_product", ref.dot_product, wrong.DOT_PRODUCT),
    Graded("attention_scores", ref.attention_scores, wrong.ATTENTION_SCORES),
    Graded("softmax", ref.softmax, wrong.SOFTMAX, ("softmax",),
           "np.exp and np.sum, as derived in the lesson"),
    Graded("masked_softmax", ref.masked_softmax, wrong.MASKED_SOFTMAX, ("softmax",),
           "your own softmax, or np.exp and np.sum"),
    Graded("causal_mask", ref.causal_mask, wrong.CAUSAL_MASK),
    Graded("padding_mask", ref.padding_mask, wrong.PADDING_MASK),
    Graded("weighted_sum", ref.weighted_sum, wrong.WEIGHTED_SUM, ("attention",),
           "a matrix product of the weights and the values"),
    Graded("scaled_dot_product_attention", ref.scaled_dot_product_attention,
           wrong.SCALED_DOT_PRODUCT_ATTENTION, ("softmax", "attention"),
           "your attention_scores, masked_softmax and weighted_sum"),
    Graded("AttentionLayer", numpy_layers.LAYERS["AttentionLayer"],
           numpy_layer_variants.VARIANTS["AttentionLayer"], ("attention",),
           "Dense projections and keras.ops (matmul, softmax, where)"),
    Graded("MultiHeadAttention", numpy_layers.LAYERS["MultiHeadAttention"],
           numpy_layer_variants.VARIANTS["MultiHeadAttention"], ("attention",),
           "your own projections and keras.ops (einsum, softmax)"),
    Graded("sinusoidal_encoding", ref.sinusoidal_encoding, wrong.SINUSOIDAL_ENCODING,
           ("positions",), "np.sin and np.cos of the angles t / 10000^(2i/d)"),
    Graded("TransformerBlock", numpy_block.TransformerBlockForward, numpy_block.BLOCK_VARIANTS,
           ("blocks",), "MultiHeadAttention, LayerNormalization and Dense layers, as the lesson "
           "derives the block"),
    Graded("teacher_forcing", ref.teacher_forcing, decoding_wrong.TEACHER_FORCING),
    Graded("build_translator", translator.TranslatorForward, {},
           ("translator",),  # lesson 06's and lesson 11's own models
           "the `block` argument, PositionalEmbedding and a Dense layer"),
    Graded("greedy_decode", ref.greedy_decode, decoding_wrong.GREEDY_DECODE),
    Graded("alignment", ref.alignment, decoding_wrong.ALIGNMENT),
    Graded("blockwise_attention", ref.blockwise_attention, wrong.BLOCKWISE_ATTENTION,
           ("softmax", "attention"), "the running max, sum and output of the online softmax"),
    Graded("attention_backward", ref.attention_backward, wrong.ATTENTION_BACKWARD,
           ("autodiff",), "the five equations of the backward pass, with NumPy"),
    Graded("nadaraya_watson", ref.nadaraya_watson, wrong.NADARAYA_WATSON,
           ("kernel_regression",), "the squared distances, a stable softmax and a weighted sum"),
    Graded("additive_scores", ref.additive_scores, wrong.ADDITIVE_SCORES, ("additive",),
           "q @ w_q and k @ w_k added for every pair, np.tanh, @ v"),
    Graded("attend_step", ref.attend_step, decoding_wrong.ATTEND_STEP, ("softmax", "attention"),
           "the scores q_t·k_j / √d_k, a stable softmax and a weighted sum, with NumPy"),
    Graded("decode_step", decoding.TranslatorForward, decoding.DECODE_VARIANTS),
    Graded("cached_greedy_decode", decoding.TranslatorForward, decoding.GREEDY_VARIANTS),
    Graded("cosine_schedule", ref.cosine_schedule, lesson_12.SCHEDULE, ("schedules",),
           "np.where and np.cos, as the lesson derives the schedule"),
    Graded("adamw_step", ref.adamw_step, lesson_12.ADAMW, ("optimizers",),
           "the global norm, the moments and their bias correction, with NumPy"),
    Graded("sampling_distribution", ref.sampling_distribution, lesson_12.SAMPLING,
           ("softmax", "sampling"), "np.sort, a stable softmax and np.cumsum, with NumPy"),
    Graded("apply_rope", ref.apply_rope, lesson_13.APPLY_ROPE, ("rotary", "positions"),
           "np.cos and np.sin of the angles position · base^(-2i/d), on x[..., 0::2] and "
           "x[..., 1::2]"),
    Graded("rms_norm", ref.rms_norm, lesson_13.RMS_NORM, ("rms_norm",),
           "np.mean of x² over the last axis and np.sqrt, as the lesson derives RMSNorm"),
    Graded("swiglu", ref.swiglu, lesson_13.SWIGLU),
    Graded("grouped_query_attention", ref.grouped_query_attention,
           lesson_13.GROUPED_QUERY_ATTENTION, ("attention",),
           "np.repeat of the key-value heads, the scaled scores, the lesson's masked_softmax "
           "and @ v"),
)}


def measured(exercise: str) -> tuple[str, ...]:
    """The mistakes of ``exercise`` that no wrong variant names: the judge and the checks
    measure them directly (memory, a call's signature, the model's properties, the work
    counted)."""
    return tuple(key for key in EXERCISES[exercise].mistakes
                 if key not in GRADED[exercise].variants)


#: Views of the records: the wrong variants of the function exercises, and the mistakes
#: measured rather than named by a variant, per exercise.
WRONG_VARIANTS = {name: dict(graded.variants) for name, graded in GRADED.items()
                  if EXERCISES[name].kind in ("function", "encoding", "blockwise")}
MEASURED = {name: keys for name in GRADED if (keys := measured(name))}
