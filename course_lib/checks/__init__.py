"""Public checks, called by the check cell under each exercise: one module per lesson's
exercises, and :mod:`course_lib.checks.shared` for what the NumPy checks share (fixtures, how
each exercise is compared). The lessons import every check from here::

    from course_lib.checks import check_attention_scores

Each ``check_<name>(answer)`` runs the learner's function, layer or model on fixed inputs (a
stored fixture for NumPy exercises), tests properties the right answer must have on inputs no
fixture holds, and prints what passed. On a mistake it raises
:class:`~course_lib.feedback.CheckFailed` saying what was expected, what came, and, when the
answer matches a known wrong variant, which mistake it is.

The Keras checks run learners' code through :mod:`course_lib.keras_harness` and import Keras
and TensorFlow (and the course's modules built on them) only when they run: this package must
import where those libraries are kept out, in the NumPy lessons' grading sandbox.
"""

from course_lib.checks.attention_layers import (
    check_attention_layer,
    check_combine_masks,
    check_masked_softmax_keras,
    check_multi_head_attention,
)
from course_lib.checks.blockwise import (
    MEMORY_TEST,
    check_blockwise_attention,
    check_blockwise_memory,
    memory_test_inputs,
    memory_test_masks,
)
from course_lib.checks.gradients import check_attention_backward
from course_lib.checks.kv_cache import (
    check_attend_step,
    check_cached_greedy_decode,
    check_decode_step,
)
from course_lib.checks.language_model import (
    check_adamw_step,
    check_cosine_schedule,
    check_sampling_distribution,
)
from course_lib.checks.modern_block import (
    check_apply_rope,
    check_grouped_query_attention,
    check_rms_norm,
    check_swiglu,
)
from course_lib.checks.other_scores import check_additive_scores, check_nadaraya_watson
from course_lib.checks.positions import check_sinusoidal_encoding
from course_lib.checks.scores import check_attention_scores, check_dot_product
from course_lib.checks.shared import COMPARE_OPTIONS, FIXTURES, check_fixture, load_fixture
from course_lib.checks.softmax import (
    check_causal_mask,
    check_masked_softmax,
    check_padding_mask,
    check_softmax,
)
from course_lib.checks.transformer_block import check_transformer_block
from course_lib.checks.translator import (
    check_alignment,
    check_build_translator,
    check_greedy_decode,
    check_teacher_forcing,
)
from course_lib.checks.weighted_sum import check_scaled_dot_product_attention, check_weighted_sum
from course_lib.feedback import CheckFailed

__all__ = [
    "COMPARE_OPTIONS",
    "FIXTURES",
    "MEMORY_TEST",
    "CheckFailed",
    "check_adamw_step",
    "check_additive_scores",
    "check_alignment",
    "check_apply_rope",
    "check_attend_step",
    "check_attention_backward",
    "check_attention_layer",
    "check_attention_scores",
    "check_blockwise_attention",
    "check_blockwise_memory",
    "check_build_translator",
    "check_cached_greedy_decode",
    "check_causal_mask",
    "check_combine_masks",
    "check_cosine_schedule",
    "check_decode_step",
    "check_dot_product",
    "check_fixture",
    "check_greedy_decode",
    "check_grouped_query_attention",
    "check_masked_softmax",
    "check_masked_softmax_keras",
    "check_multi_head_attention",
    "check_nadaraya_watson",
    "check_padding_mask",
    "check_rms_norm",
    "check_sampling_distribution",
    "check_scaled_dot_product_attention",
    "check_sinusoidal_encoding",
    "check_softmax",
    "check_swiglu",
    "check_teacher_forcing",
    "check_transformer_block",
    "check_weighted_sum",
    "load_fixture",
    "memory_test_inputs",
    "memory_test_masks",
]
