"""Answers to lesson 11's Keras exercises, ``decode_step`` and ``cached_greedy_decode``, as a
learner might write them: right ones written differently, and wrong ones that each make one
known mistake, which the judge must name with
``course_lib.misconceptions.DESCRIPTIONS[misconception]``.

Each answer is a top-level function whose source is pasted into the lesson's answer cell,
renamed to the exercise (``notebook_source``); the cell above it imports ``math``, ``numpy``,
``tensorflow``, ``keras.ops`` and ``START_ID``, and ``run_block`` (the lesson's setup cell).
"""

from __future__ import annotations

import inspect
import math
import textwrap

import numpy as np
import tensorflow as tf
from answer_variants import notebook_source
from keras import ops

from course_lib.blocks import run_block
from course_lib.dates import START_ID

# decode_step: the answer key's step, with a switch for each mistake below -------------------------


def _step(translator, token, cache, context, context_mask, *, position=None, attend_old=False,
          keep=True, scale=True, keys_as_values=False, flaw=None):
    """The answer key's step; each wrong answer below turns one switch (or names its flaw)."""
    block = translator.decoder
    start = ops.shape(cache)[2] if position is None else position
    if flaw == "position_axis_1":
        start = ops.shape(cache)[1]
    elif flaw == "position_plus_one":
        start = ops.shape(cache)[2] + 1
    x = translator.embed_target(ops.expand_dims(token, 1), start=start)
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o = block.self_attention.weights
    if flaw == "no_biases":
        b_q = b_k = b_v = b_o = 0.0
    grown = []

    def self_attend(h):
        q = ops.einsum("btd,dhk->bthk", h, w_q) + b_q
        k = ops.einsum("btd,dhk->bthk", h, w_k) + b_k
        v = ops.einsum("btd,dhk->bthk", h, w_v) + b_v
        kept = cache if keep else cache[:, :, :0]
        grown.append(ops.concatenate([kept, ops.stack([k, k if keys_as_values else v])],
                                     axis=3 if flaw == "concat_heads_axis" else 2))
        attended = ops.concatenate([cache, ops.stack([k, v])], axis=2)[:, :, :-1] \
            if attend_old else grown[0]
        if flaw == "values_first":  # values at [0], keys at [1], read back the same way
            grown[0] = ops.concatenate([cache, ops.stack([v, k])], axis=2)
            attended = grown[0][::-1]
        if flaw == "appended_twice":
            attended = ops.concatenate([grown[0], ops.stack([k, v])], axis=2)
        scores = ops.einsum("bqhk,bshk->bhqs", q, attended[0])
        if flaw == "model_width_scale":
            scores = scores / math.sqrt(q.shape[-2] * q.shape[-1])
        elif scale:
            scores = scores / math.sqrt(q.shape[-1])
        weights = ops.softmax(scores, axis=1 if flaw == "softmax_over_heads" else -1)
        heads = ops.einsum("bhqs,bshk->bqhk", weights, attended[1])
        if flaw == "no_output_projection":
            return ops.reshape(heads, (-1, 1, heads.shape[-2] * heads.shape[-1]))
        return ops.einsum("bqhk,hkd->bqd", heads, w_o) + b_o

    def cross_attend(h):
        if flaw == "no_context_mask":
            return block.cross_attention_layer(h, context)
        return block.cross_attention_layer(h, context, attention_mask=context_mask)

    y = run_block(block, x, self_attend, cross_attend)
    return translator.to_logits(y)[:, 0], grown[0]


# decode_step: right ---------------------------------------------------------------------------


def step_einsum(translator, token, cache, context, context_mask):
    """The answer key's way: einsum projections, the cache grown by concatenation."""
    return _step(translator, token, cache, context, context_mask)


def step_tensorflow(translator, token, cache, context, context_mask):
    """TensorFlow's own ops: tensordot, transposes to (B, H, T, d), tf.nn.softmax, tf.concat."""
    block = translator.decoder
    position = tf.shape(cache)[2]
    x = translator.embed_target(token[:, None], start=position)
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o = [tf.convert_to_tensor(w)
                                                for w in block.self_attention.weights]
    new_cache = [cache]

    def self_attend(h):
        k = tf.tensordot(h, w_k, axes=1) + b_k  # (B, 1, H, d)
        v = tf.tensordot(h, w_v, axes=1) + b_v
        new_cache[0] = tf.concat([cache, tf.stack([k, v])], axis=2)
        q = tf.transpose(tf.tensordot(h, w_q, axes=1) + b_q, [0, 2, 1, 3])  # (B, H, 1, d)
        keys = tf.transpose(new_cache[0][0], [0, 2, 1, 3])  # (B, H, s, d)
        values = tf.transpose(new_cache[0][1], [0, 2, 1, 3])
        depth = tf.cast(tf.shape(q)[-1], q.dtype)
        weights = tf.nn.softmax(tf.matmul(q, keys, transpose_b=True) / tf.sqrt(depth))
        heads = tf.transpose(tf.matmul(weights, values), [0, 2, 1, 3])  # (B, 1, H, d)
        return tf.tensordot(heads, w_o, axes=[[2, 3], [0, 1]]) + b_o

    def cross_attend(h):
        return block.cross_attention_layer(h, context, attention_mask=context_mask)

    y = run_block(block, x, self_attend, cross_attend)
    return translator.to_logits(y)[:, 0], new_cache[0]


def step_keys_then_values(translator, token, cache, context, context_mask):
    """Keys and values grown separately, then stacked; a head loop for the scores."""
    block = translator.decoder
    x = translator.embed_target(token[:, None], start=ops.shape(cache)[2])
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o = block.self_attention.weights
    out = {}

    def self_attend(h):
        projected = [ops.einsum("btd,dhk->bthk", h, w) + b
                     for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v))]
        q, k, v = projected
        keys = ops.concatenate([cache[0], k], axis=1)  # (B, t+1, H, d)
        values = ops.concatenate([cache[1], v], axis=1)
        out["cache"] = ops.stack([keys, values])
        heads = []
        for head in range(q.shape[2]):
            scores = ops.matmul(q[:, :, head], ops.transpose(keys[:, :, head], (0, 2, 1)))
            weights = ops.softmax(scores / np.sqrt(q.shape[-1]), axis=-1)  # (B, 1, t+1)
            heads.append(ops.matmul(weights, values[:, :, head]))  # (B, 1, d)
        return ops.einsum("bqhk,hkd->bqd", ops.stack(heads, axis=2), w_o) + b_o

    def cross_attend(h):
        return block.cross_attention_layer(h, context, attention_mask=context_mask)

    y = run_block(block, x, self_attend, cross_attend)
    return translator.to_logits(y)[:, 0], out["cache"]


def step_manual_softmax(translator, token, cache, context, context_mask):
    """Keys and values kept apart until the end, a softmax written out (exp of the scores less
    their max), the heads merged by a reshape and a 2-D W_o."""
    block = translator.decoder
    t = ops.shape(cache)[2]
    x = translator.embed_target(ops.reshape(token, (-1, 1)), start=t)
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o = block.self_attention.weights
    kept = []

    def self_attend(h):
        q, k, v = (ops.einsum("btd,dhk->bthk", h, w) + b
                   for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v)))
        keys = ops.concatenate([cache[0], k], axis=1)  # (B, t+1, H, d)
        values = ops.concatenate([cache[1], v], axis=1)
        kept.append(ops.stack([keys, values], axis=0))
        scores = ops.einsum("bhk,bshk->bhs", q[:, 0], keys) / ops.sqrt(
            ops.cast(ops.shape(q)[-1], "float32"))  # (B, H, t+1)
        e = ops.exp(scores - ops.max(scores, axis=-1, keepdims=True))
        weights = e / ops.sum(e, axis=-1, keepdims=True)
        heads = ops.einsum("bhs,bshk->bhk", weights, values)  # (B, H, d)
        merged = ops.reshape(heads, (-1, 1, w_o.shape[0] * w_o.shape[1]))
        return ops.matmul(merged, ops.reshape(w_o, (-1, w_o.shape[-1]))) + b_o

    def cross_attend(h):
        return block.cross_attention_layer(h, context, attention_mask=context_mask)

    y = run_block(block, x, self_attend, cross_attend)
    return translator.to_logits(y)[:, 0], kept[0]


# decode_step: wrong, one mistake each ---------------------------------------------------------


def step_attends_before_appending(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, attend_old=True)


def step_position_zero(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, position=0)


def step_cache_not_kept(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, keep=False)


def step_unscaled(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, scale=False)


def step_keys_as_values(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, keys_as_values=True)


def step_position_from_batch_axis(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, flaw="position_axis_1")


def step_position_plus_one(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, flaw="position_plus_one")


def step_scaled_by_model_width(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, flaw="model_width_scale")


def step_newest_appended_twice(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, flaw="appended_twice")


def step_softmax_over_heads(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, flaw="softmax_over_heads")


def step_without_biases(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, flaw="no_biases")


def step_without_output_projection(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, flaw="no_output_projection")


def step_context_mask_dropped(translator, token, cache, context, context_mask):
    return _step(translator, token, cache, context, context_mask, flaw="no_context_mask")


def step_values_cached_first(translator, token, cache, context, context_mask):
    """The right logits; the cache holds the values at [0] and the keys at [1]."""
    return _step(translator, token, cache, context, context_mask, flaw="values_first")


def step_concatenated_on_heads_axis(translator, token, cache, context, context_mask):
    """The new key and value concatenated along the heads' axis (3) of the cache."""
    return _step(translator, token, cache, context, context_mask, flaw="concat_heads_axis")


def step_cache_heads_first(translator, token, cache, context, context_mask):
    """Keras's own layout, (2, B, H, t, d_k), instead of the text's (2, B, t, H, d_k)."""
    block = translator.decoder
    x = translator.embed_target(ops.expand_dims(token, 1), start=ops.shape(cache)[3])
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o = block.self_attention.weights
    grown = []

    def self_attend(h):
        q = ops.einsum("btd,dhk->bhtk", h, w_q) + b_q[:, None]
        k = ops.einsum("btd,dhk->bhtk", h, w_k) + b_k[:, None]
        v = ops.einsum("btd,dhk->bhtk", h, w_v) + b_v[:, None]
        grown.append(ops.concatenate([cache, ops.stack([k, v])], axis=3))  # (2, B, H, t+1, d)
        scores = ops.matmul(q, ops.swapaxes(grown[0][0], -1, -2)) / math.sqrt(q.shape[-1])
        heads = ops.matmul(ops.softmax(scores, axis=-1), grown[0][1])  # (B, H, 1, d)
        return ops.einsum("bhqk,hkd->bqd", heads, w_o) + b_o

    def cross_attend(h):
        return block.cross_attention_layer(h, context, attention_mask=context_mask)

    y = run_block(block, x, self_attend, cross_attend)
    return translator.to_logits(y)[:, 0], grown[0]


SEEN = []  # a Python-side cache: what the step must not keep


def step_python_state(translator, token, cache, context, context_mask):
    """The keys and values kept in a Python list rather than passed in and returned."""
    logits, grown = _step(translator, token, cache, context, context_mask)
    SEEN.append(grown)
    return logits, ops.concatenate(SEEN, axis=2)[:, :, -ops.shape(grown)[2]:]


# cached_greedy_decode: right ------------------------------------------------------------------


def greedy_compiled(translator, source, length):
    """The answer key's way: one tf.function for every step (reduce_retracing)."""
    context, context_mask = translator.encode(source)
    step = tf.function(decode_step, reduce_retracing=True)
    token = ops.full((len(source),), START_ID, dtype="int32")
    cache = translator.empty_cache(len(source))
    predicted = []
    for _ in range(length):
        logits, cache = step(translator, token, cache, context, context_mask)
        token = ops.cast(ops.argmax(logits, axis=-1), "int32")
        predicted.append(np.asarray(token))
    return np.stack(predicted, axis=1)


def greedy_eager(translator, source, length):
    """Eager steps, the ids written into a preallocated array."""
    context, context_mask = translator.encode(source)
    cache = translator.empty_cache(len(source))
    ids = np.zeros((len(source), length), dtype=np.int64)
    token = np.full(len(source), START_ID, dtype="int32")
    for t in range(length):
        logits, cache = decode_step(translator, token, cache, context, context_mask)
        ids[:, t] = np.argmax(np.asarray(logits), axis=-1)
        token = ids[:, t].astype("int32")
    return ids


def greedy_tensors(translator, source, length):
    """Tensors throughout: a tf.while-free loop over tensors, the ids stacked by keras.ops."""
    context, context_mask = translator.encode(source)
    token = ops.convert_to_tensor(np.full(len(source), START_ID, dtype="int32"))
    cache, chosen = translator.empty_cache(len(source)), []
    for _ in range(length):
        logits, cache = decode_step(translator, token, cache, context, context_mask)
        token = ops.cast(ops.argmax(logits, axis=-1), "int32")
        chosen.append(token)
    return ops.stack(chosen, axis=1)


# cached_greedy_decode: wrong, one mistake each ------------------------------------------------


def greedy_not_fed_back(translator, source, length):
    context, context_mask = translator.encode(source)
    cache = translator.empty_cache(len(source))
    start = np.full(len(source), START_ID, dtype="int32")
    ids = []
    for _ in range(length):
        logits, cache = decode_step(translator, start, cache, context, context_mask)
        ids.append(np.argmax(np.asarray(logits), axis=-1))
    return np.stack(ids, axis=1)


def greedy_start_included(translator, source, length):
    context, context_mask = translator.encode(source)
    cache = translator.empty_cache(len(source))
    inputs = [np.full(len(source), START_ID, dtype="int32")]
    for _ in range(length):
        logits, cache = decode_step(translator, inputs[-1], cache, context, context_mask)
        inputs.append(np.argmax(np.asarray(logits), axis=-1).astype("int32"))
    return np.stack(inputs[:-1], axis=1)  # the inputs, START first


def greedy_prefix_recomputed(translator, source, length):
    """Lesson 07's decoding: the whole prefix again at every step, no cache."""
    prefix = np.full((len(source), 1), START_ID, dtype="int32")
    for _ in range(length):
        logits = translator([source, prefix])[:, -1]
        prefix = np.concatenate([prefix, np.argmax(np.asarray(logits), -1)[:, None]], axis=1)
    return prefix[:, 1:]


def greedy_encoder_per_step(translator, source, length):
    cache = translator.empty_cache(len(source))
    token = np.full(len(source), START_ID, dtype="int32")
    ids = []
    for _ in range(length):
        context, context_mask = translator.encode(source)
        logits, cache = decode_step(translator, token, cache, context, context_mask)
        token = np.argmax(np.asarray(logits), axis=-1).astype("int32")
        ids.append(token)
    return np.stack(ids, axis=1)


def greedy_ids_by_step(translator, source, length):
    """The ids stacked step by step, (length, n), instead of (n, length)."""
    context, context_mask = translator.encode(source)
    cache = translator.empty_cache(len(source))
    token = np.full(len(source), START_ID, dtype="int32")
    ids = []
    for _ in range(length):
        logits, cache = decode_step(translator, token, cache, context, context_mask)
        token = np.argmax(np.asarray(logits), axis=-1).astype("int32")
        ids.append(token)
    return np.stack(ids)


def greedy_cache_not_carried(translator, source, length):
    """A fresh cache at every step: the grown cache decode_step returns is thrown away."""
    context, context_mask = translator.encode(source)
    token = np.full(len(source), START_ID, dtype="int32")
    ids = []
    for _ in range(length):
        logits, _ = decode_step(translator, token, translator.empty_cache(len(source)), context,
                                context_mask)
        token = np.argmax(np.asarray(logits), axis=-1).astype("int32")
        ids.append(token)
    return np.stack(ids, axis=1)


def greedy_argmax_over_batch(translator, source, length):
    context, context_mask = translator.encode(source)
    cache = translator.empty_cache(len(source))
    token = np.full(len(source), START_ID, dtype="int32")
    ids = []
    for _ in range(length):
        logits, cache = decode_step(translator, token, cache, context, context_mask)
        token = np.argmax(np.asarray(logits), axis=0).astype("int32")
        ids.append(token)
    return np.stack(ids, axis=1)


def greedy_one_step_short(translator, source, length):
    """START counted as one of the length tokens: length - 1 steps."""
    context, context_mask = translator.encode(source)
    cache = translator.empty_cache(len(source))
    token = np.full(len(source), START_ID, dtype="int32")
    ids = []
    for _ in range(length - 1):
        logits, cache = decode_step(translator, token, cache, context, context_mask)
        token = np.argmax(np.asarray(logits), axis=-1).astype("int32")
        ids.append(token)
    return np.stack(ids, axis=1)


decode_step = step_einsum  # what the greedy decoders call, as the learner's own would be

VARIANTS = {
    "decode_step": {
        "right": [step_einsum, step_tensorflow, step_keys_then_values, step_manual_softmax],
        "wrong": [
            (step_attends_before_appending, "decode_newest_missing"),
            (step_position_zero, "decode_position_fixed"),
            (step_cache_not_kept, "decode_cache_not_kept"),
            (step_unscaled, "decode_no_scaling"),
            (step_keys_as_values, "decode_keys_as_values"),
            (step_python_state, "decode_python_state"),
            (step_position_from_batch_axis, "decode_position_wrong_axis"),
            (step_position_plus_one, "decode_position_off_by_one"),
            (step_scaled_by_model_width, "decode_scale_by_model_width"),
            (step_newest_appended_twice, "decode_newest_twice"),
            (step_softmax_over_heads, "decode_softmax_over_heads"),
            (step_without_biases, "decode_biases_dropped"),
            (step_without_output_projection, "decode_output_projection_dropped"),
            (step_context_mask_dropped, "decode_context_mask_dropped"),
            (step_values_cached_first, "decode_cache_values_first"),
            (step_concatenated_on_heads_axis, "decode_cache_wrong_axis"),
            (step_cache_heads_first, "decode_cache_heads_first"),
        ],
    },
    "cached_greedy_decode": {
        "right": [greedy_compiled, greedy_eager, greedy_tensors],
        "wrong": [
            (greedy_not_fed_back, "greedy_not_fed_back"),
            (greedy_start_included, "greedy_start_included"),
            (greedy_prefix_recomputed, "greedy_prefix_recomputed"),
            (greedy_encoder_per_step, "greedy_encoder_per_step"),
            (greedy_ids_by_step, "greedy_ids_transposed"),
            (greedy_cache_not_carried, "greedy_cache_not_carried"),
            (greedy_argmax_over_batch, "greedy_argmax_wrong_axis"),
            (greedy_one_step_short, "greedy_one_token_short"),
        ],
    },
}


_PREAMBLE = "import math\n\n" + textwrap.dedent(inspect.getsource(_step)) + "\n\nSEEN = []\n\n\n"


def answer_cell(exercise: str, answer) -> str:
    """An answer cell's code. A greedy decoder's cell brings a right ``decode_step`` of its own
    (run after the notebook's ``decode_step`` is graded), so that it is judged on its own
    mistake, not on the wrong step of the same notebook."""
    if exercise == "cached_greedy_decode":
        return "\n\n".join([_PREAMBLE + notebook_source(step_einsum, "decode_step"),
                            notebook_source(answer, exercise)])
    return _PREAMBLE + notebook_source(answer, exercise)
