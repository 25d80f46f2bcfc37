"""Lesson 04's corpus: the helpers, right and wrong, and how an answer goes into the lesson's
class cell (``keras_variants`` gathers the answers of both layers with lesson 07's).

An answer is a method, written here as a function of ``self``: :func:`layer_cell` puts it in
place of the solution's ``call`` in the lesson's class (``__init__``, ``build`` and
``get_config`` are the given skeleton), or of the method :func:`replaces` names (``build``,
``get_config``). The layers use the lesson's helpers ``masked_softmax`` and ``combine_masks``;
``HELPERS`` holds right versions of those (the ones defined in this module are the first). A
wrong helper has a name of its own and is pasted above the answer that calls it
(``LAYER_HELPERS``). A right answer is written differently from the solution (tf ops, einsum,
additive masks, the kernels read directly); a wrong one makes one mistake, named by its key.
"""

from __future__ import annotations

import inspect
import re
import textwrap

import numpy as np
import tensorflow as tf
from keras import ops


def source(function, name: str) -> str:
    """``function``'s source, dedented, renamed to ``name``, without its decorators (the
    corpus's own marks)."""
    text = re.sub(r"\A(@[^\n]*\n)+", "", textwrap.dedent(inspect.getsource(function)))
    return re.sub(rf"\bdef {function.__name__}\(", f"def {name}(", text, count=1)


def replaces(method: str):
    """Mark an answer as the layer's ``method`` (``build``, ``get_config``) rather than its
    ``call``."""
    def mark(answer):
        answer.method = method
        return answer
    return mark


def layer_cell(solution_cell: str, answer) -> str:
    """The lesson's class cell with one method (``call``, or the one :func:`replaces` names)
    replaced by ``answer``."""
    method = getattr(answer, "method", "call")
    code = textwrap.indent(source(answer, method), "    ")
    start = solution_cell.index(f"    def {method}(")
    ends = [solution_cell.find(marker, start + 1) for marker in ("\n    def ", "\n    @")]
    end = min([e + 1 for e in ends if e != -1], default=len(solution_cell))
    return solution_cell[:start] + code + "\n" + solution_cell[end:]


# == 04: the helpers ===========================================================================
def masked_softmax(scores, mask=None):
    """Right: an additive mask, then the masked weights multiplied away."""
    if mask is None:
        return ops.softmax(scores, axis=-1)
    allowed = ops.cast(mask, scores.dtype)
    weights = ops.softmax(scores + (1.0 - allowed) * -1e9, axis=-1)
    return weights * allowed


def combine_masks(attention_mask, use_causal_mask, t_q, t_k):
    """Right: the causal mask from comparing positions."""
    mask = attention_mask
    if use_causal_mask:
        causal = ops.expand_dims(ops.arange(t_q), 1) >= ops.expand_dims(ops.arange(t_k), 0)
        mask = causal if mask is None else ops.logical_and(ops.cast(mask, "bool"), causal)
    return mask


def masked_softmax_tf(scores, mask=None):
    """Right: TensorFlow's own ops, with -inf and NaNs cleaned up."""
    if mask is None:
        return tf.nn.softmax(scores, axis=-1)
    mask = tf.broadcast_to(tf.cast(mask, tf.bool), tf.shape(scores))
    weights = tf.nn.softmax(tf.where(mask, scores, -np.inf), axis=-1)
    return tf.where(mask, weights, tf.zeros_like(weights))


def combine_masks_tf(attention_mask, use_causal_mask, t_q, t_k):
    """Right: tf.linalg.band_part keeps the lower triangle."""
    if not use_causal_mask:
        return attention_mask
    causal = tf.cast(tf.linalg.band_part(tf.ones((t_q, t_k)), -1, 0), tf.bool)
    if attention_mask is None:
        return causal
    return tf.logical_and(tf.cast(attention_mask, tf.bool), causal)


HELPERS = [(masked_softmax, combine_masks), (masked_softmax_tf, combine_masks_tf)]


def helpers_cell(pair) -> str:
    softmax, combine = pair
    return f"{source(softmax, 'masked_softmax')}\n\n{source(combine, 'combine_masks')}"


# Printed to stderr by a right answer while graded cells run (a TensorFlow C++ log line).
TF_LOG_LINE = ("I0000 00:00:1700000000.000000   123 cpu_feature_guard.cc:210] This TensorFlow "
               "binary is optimized to use available CPU instructions.")


def noisy_helpers_cell(pair) -> str:
    """Right helpers whose masked_softmax writes a TensorFlow log line to stderr at every call:
    it must cost nothing."""
    return helpers_cell(pair) + f"""


import sys

_masked_softmax = masked_softmax


def masked_softmax(scores, mask=None):
    print({TF_LOG_LINE!r}, file=sys.stderr)
    return _masked_softmax(scores, mask)
"""


# == 04: wrong helpers, each pasted above the answers that call it ===============================
def combine_masks_strict(attention_mask, use_causal_mask, t_q, t_k):
    """Wrong: the diagonal left out, query i sees keys j < i."""
    if not use_causal_mask:
        return attention_mask
    causal = ops.cast(ops.tril(ops.ones((t_q, t_k)), -1), "bool")
    return causal if attention_mask is None else ops.logical_and(attention_mask, causal)


def combine_masks_one_ahead(attention_mask, use_causal_mask, t_q, t_k):
    """Wrong: tril with k=1, query i also sees key i + 1."""
    if not use_causal_mask:
        return attention_mask
    causal = ops.cast(ops.tril(ops.ones((t_q, t_k)), 1), "bool")
    return causal if attention_mask is None else ops.logical_and(attention_mask, causal)


def combine_masks_upper(attention_mask, use_causal_mask, t_q, t_k):
    """Wrong: the upper triangle."""
    if not use_causal_mask:
        return attention_mask
    causal = ops.cast(ops.triu(ops.ones((t_q, t_k))), "bool")
    return causal if attention_mask is None else ops.logical_and(attention_mask, causal)


def combine_masks_or(attention_mask, use_causal_mask, t_q, t_k):
    """Wrong: either mask may allow a key."""
    if not use_causal_mask:
        return attention_mask
    causal = ops.cast(ops.tril(ops.ones((t_q, t_k))), "bool")
    return causal if attention_mask is None else ops.logical_or(attention_mask, causal)


def combine_masks_causal_wins(attention_mask, use_causal_mask, t_q, t_k):
    """Wrong: the causal mask replaces the attention mask."""
    if use_causal_mask:
        return ops.cast(ops.tril(ops.ones((t_q, t_k))), "bool")
    return attention_mask


def combine_masks_end(attention_mask, use_causal_mask, t_q, t_k):
    """Wrong: the triangle aligned to the last key, tril with k = t_k - t_q."""
    if not use_causal_mask:
        return attention_mask
    causal = ops.cast(ops.tril(ops.ones((t_q, t_k)), t_k - t_q), "bool")
    return causal if attention_mask is None else ops.logical_and(attention_mask, causal)


def masked_softmax_multiplied(scores, mask=None):
    """Wrong: the mask multiplied into the scores."""
    if mask is not None:
        scores = scores * ops.cast(mask, scores.dtype)
    return ops.softmax(scores, axis=-1)


def masked_softmax_large_negative(scores, mask=None):
    """Wrong: -1e9 and nothing more (a fully masked row comes out uniform)."""
    if mask is not None:
        scores = ops.where(mask, scores, -1e9)
    return ops.softmax(scores, axis=-1)


def masked_softmax_minus_inf(scores, mask=None):
    """Wrong: -inf (a fully masked row comes out NaN)."""
    if mask is not None:
        scores = ops.where(mask, scores, float("-inf"))
    return ops.softmax(scores, axis=-1)


#: helpers some answers call, pasted above them (in this order: a helper may use those before it)
LAYER_HELPERS = (combine_masks_strict, combine_masks_one_ahead, combine_masks_upper,
                 combine_masks_or, combine_masks_causal_wins, combine_masks_end,
                 masked_softmax_multiplied, masked_softmax_large_negative,
                 masked_softmax_minus_inf)
