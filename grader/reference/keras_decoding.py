"""The Keras answer key of lesson ``11_kv_cache``: a decoding step with a key–value cache, and
greedy decoding built on it, for the translator of ``course_lib.decoding``.

The cache is a plain tensor, ``(2, B, t, H, key_dim)`` (keys at ``[0]``, values at ``[1]``),
passed in and returned: no Python-side state, so the step runs inside ``tf.function``, where the
cache's length ``t`` is a tensor like any other (its static shape ``None`` once traced with
``reduce_retracing``). Its NumPy twin, used by the judge, is
``grader.reference.decoding.TranslatorForward``.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from keras import ops

from course_lib.blocks import run_block
from course_lib.dates import START_ID


def decode_step(translator, token, cache, context, context_mask):
    r"""One step of the decoder: the logits of the next token, and the cache with this token's
    key and value appended.

    .. math::
        q_t, k_t, v_t = h_t W_{q,k,v} + b_{q,k,v};\quad K = [K_{<t}; k_t],\ V = [V_{<t}; v_t];
        \quad o_t = \mathrm{softmax}(q_t K^\top / \sqrt{d_k})\, V\, W_o + b_o

    for each head, with ``h_t`` the decoder block's input at position ``t`` (post-LN: the
    embedding itself). The rest of the block (residuals, LayerNorms, cross-attention to the
    context, feed-forward) runs on this one position. Derived in lesson ``11_kv_cache``.

    Args:
        translator: a ``course_lib.decoding.Translator``.
        token: ``(B,)`` integer ids, the tokens at position ``t`` (``START_ID`` at ``t = 0``).
        cache: ``(2, B, t, H, key_dim)``, the keys and values of positions ``0 … t - 1``.
        context, context_mask: ``translator.encode(source)``, ``(B, Ts, d)`` and
            ``(B, 1, Ts)``.

    Returns:
        ``(logits, cache)``: ``(B, V)`` for the token at position ``t + 1``, and
        ``(2, B, t + 1, H, key_dim)``.
    """
    block = translator.decoder
    position = ops.shape(cache)[2]  # t, the tokens already cached
    x = translator.embed_target(ops.expand_dims(token, 1), start=position)  # (B, 1, d)
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o = block.self_attention.weights
    grown = []

    def self_attend(h):  # (B, 1, d) -> (B, 1, d)
        q = ops.einsum("btd,dhk->bthk", h, w_q) + b_q  # (B, 1, H, d_k)
        k = ops.einsum("btd,dhk->bthk", h, w_k) + b_k  # (B, 1, H, d_k)
        v = ops.einsum("btd,dhk->bthk", h, w_v) + b_v  # (B, 1, H, d_k)
        grown.append(ops.concatenate([cache, ops.stack([k, v])], axis=2))  # (2, B, t+1, H, d_k)
        keys, values = grown[0][0], grown[0][1]  # (B, t+1, H, d_k) each
        scores = ops.einsum("bqhk,bshk->bhqs", q, keys) / math.sqrt(q.shape[-1])  # (B, H, 1, t+1)
        weights = ops.softmax(scores, axis=-1)  # (B, H, 1, t+1)
        heads = ops.einsum("bhqs,bshk->bqhk", weights, values)  # (B, 1, H, d_k)
        return ops.einsum("bqhk,hkd->bqd", heads, w_o) + b_o  # (B, 1, d)

    def cross_attend(h):  # (B, 1, d) -> (B, 1, d)
        return block.cross_attention_layer(h, context, attention_mask=context_mask)

    y = run_block(block, x, self_attend, cross_attend)  # (B, 1, d)
    return translator.to_logits(y)[:, 0], grown[0]  # (B, V), (2, B, t+1, H, d_k)


#: ``decode_step`` compiled once for every translator and every cache length.
compiled_step = tf.function(decode_step, reduce_retracing=True)


def cached_greedy_decode(translator, source, length):
    """Greedy decoding with a KV cache: the source encoded once, then one token per step.

    Args:
        translator: a ``course_lib.decoding.Translator``.
        source: ``(n, Ts)`` integer ids.
        length: how many tokens to decode (at most ``translator.max_length``).

    Returns:
        ``(n, length)`` integer ids: at each step the most likely token, fed back as the next
        step's input.
    """
    context, context_mask = translator.encode(source)  # (n, Ts, d), (n, 1, Ts)
    token = ops.full((len(source),), START_ID, dtype="int32")  # (n,)
    cache = translator.empty_cache(len(source))  # (2, n, 0, H, d_k)
    predicted = []
    for _ in range(length):
        logits, cache = compiled_step(translator, token, cache, context, context_mask)  # (n, V)
        token = ops.cast(ops.argmax(logits, axis=-1), "int32")  # (n,)
        predicted.append(np.asarray(token))
    return np.stack(predicted, axis=1)  # (n, length)


@tf.function(reduce_retracing=True)
def last_logits(translator, prefix, context, context_mask):
    """The full pass of the decoder on ``prefix (n, t+1)``; the logits of its last position,
    ``(n, V)``."""
    y = translator.decoder(translator.embed_target(prefix), context=context,
                           context_mask=context_mask, use_causal_mask=True)  # (n, t+1, d)
    return translator.to_logits(y[:, -1])  # (n, V)


def uncached_greedy_decode(translator, source, length):
    """Greedy decoding as lesson 07 does it, the source encoded once: at step ``t`` the decoder
    runs again on the whole prefix ``0 … t``, and only its last position is read."""
    context, context_mask = translator.encode(source)  # (n, Ts, d), (n, 1, Ts)
    prefix = np.full((len(source), 1), START_ID, dtype="int32")  # (n, 1)
    for _ in range(length):
        logits = last_logits(translator, prefix, context, context_mask)  # (n, V)
        token = np.asarray(ops.argmax(logits, axis=-1)).astype("int32")  # (n,)
        prefix = np.concatenate([prefix, token[:, None]], axis=1)  # (n, t+2)
    return prefix[:, 1:]  # (n, length)
