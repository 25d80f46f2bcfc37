"""The course's answer key: ``grader.reference``.

The NumPy functions (lessons 00–03, 05, 08–13, and lesson 07's data and decoding steps in
``grader.reference.translator``) import at once; the Keras layers and lesson 11's decoding
steps (and TensorFlow with them) load on first use, so the NumPy lessons stay fast.
"""

import importlib

from grader.reference.decoding import attend_step
from grader.reference.gradients import attention_backward
from grader.reference.language_model import adamw_step, cosine_schedule, sampling_distribution
from grader.reference.modern_block import (
    apply_rope,
    grouped_query_attention,
    rms_norm,
    swiglu,
)
from grader.reference.numpy_attention import (
    attention_scores,
    blockwise_attention,
    causal_mask,
    dot_product,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
    weighted_sum,
)
from grader.reference.other_scores import additive_scores, nadaraya_watson
from grader.reference.positions import sinusoidal_encoding
from grader.reference.translator import alignment, greedy_decode, teacher_forcing

_KERAS_MODULES = {"keras_layers": ("AttentionLayer", "MultiHeadAttention", "TransformerBlock"),
                  "keras_decoding": ("decode_step", "cached_greedy_decode")}
_KERAS_NAMES = tuple(name for names in _KERAS_MODULES.values() for name in names)

__all__ = [
    "dot_product",
    "attention_scores",
    "softmax",
    "masked_softmax",
    "causal_mask",
    "padding_mask",
    "weighted_sum",
    "scaled_dot_product_attention",
    "blockwise_attention",
    "sinusoidal_encoding",
    "attention_backward",
    "nadaraya_watson",
    "additive_scores",
    "teacher_forcing",
    "greedy_decode",
    "alignment",
    "attend_step",
    "cosine_schedule",
    "sampling_distribution",
    "adamw_step",
    "apply_rope",
    "rms_norm",
    "swiglu",
    "grouped_query_attention",
    *_KERAS_NAMES,
]


def __getattr__(name):
    for module, names in _KERAS_MODULES.items():
        if name in names:
            return getattr(importlib.import_module(f"grader.reference.{module}"), name)
    raise AttributeError(f"module 'grader.reference' has no attribute {name!r}")
