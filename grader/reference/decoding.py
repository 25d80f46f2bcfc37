"""The answer key of lesson ``11_kv_cache``: decoding one token at a time with a key–value cache.

A causal decoder's position ``t`` attends to positions ``0 … t`` only, and the keys and values
of those positions never change once they are computed. So instead of running the decoder on
the whole prefix again at every step, a decoder keeps them — the **KV cache** — and at step
``t`` computes the query, key and value of the newest token alone:

.. math::
    K_{\\le t} = [K_{<t};\\ k_t], \\qquad V_{\\le t} = [V_{<t};\\ v_t], \\qquad
    o_t = \\mathrm{softmax}\\Big(\\frac{q_t K_{\\le t}^\\top}{\\sqrt{d_k}}\\Big) V_{\\le t} .

Step ``t`` computes ``t + 1`` scores: ``O(T)`` per step and ``O(T²)`` for ``T`` tokens, against
``O(t²)`` per step and ``O(T³)`` in all when the prefix is recomputed.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.dates import PAD_ID, START_ID
from grader.reference.numpy_attention import _as_float_array, softmax
from grader.reference.numpy_block import TransformerBlockForward


def attend_step(q_t, k_cache, v_cache):
    r"""The attention output of one new query over every cached key and value.

    .. math:: o_t = \mathrm{softmax}\Big(\frac{q_t K^\top}{\sqrt{d_k}}\Big) V

    with ``K`` and ``V`` the cache (the newest token's key and value already appended).
    Derived in lesson ``11_kv_cache``.

    Args:
        q_t: the newest position's query, ``(..., d_k)``.
        k_cache: the keys of positions ``0 … t``, ``(..., t + 1, d_k)``.
        v_cache: their values, ``(..., t + 1, d_v)``.

    Returns:
        ``o_t``, ``(..., d_v)``: the last row of causal attention over ``0 … t``.
    """
    q_t = _as_float_array(q_t, "q_t")
    k_cache = _as_float_array(k_cache, "k_cache")
    v_cache = _as_float_array(v_cache, "v_cache")
    scores = np.einsum("...d,...td->...t", q_t, k_cache) / math.sqrt(q_t.shape[-1])  # (..., t+1)
    weights = softmax(scores, axis=-1)  # (..., t+1)
    return np.einsum("...t,...tv->...v", weights, v_cache)  # (..., d_v)


# == the translator of ``course_lib.decoding`` in NumPy: the judge's twin =====================
class TranslatorForward:
    """``course_lib.decoding.Translator`` in NumPy (float64), for the judge: the full pass of
    lesson 07 and greedy decoding on it.

    Args:
        weights: ``Translator.get_weights()``: the source's token and position tables, the
            encoder block (16 arrays), the target's token and position tables, the decoder
            block with cross-attention (26), the logits' kernel ``(d, V)`` and bias ``(V,)``.
        num_heads: heads of each attention layer; ``key_dim = d_model // num_heads``.
    """

    def __init__(self, weights, num_heads):
        weights = [np.asarray(w, dtype=np.float64) for w in weights]
        if len(weights) != 48:
            raise ValueError(f"a Translator has 48 weight arrays. Received: {len(weights)}")
        d_model = weights[0].shape[1]
        block = {"num_heads": num_heads, "key_dim": d_model // num_heads,
                 "ff_dim": 2 * d_model, "norm_first": False}
        self.source_tables = weights[0:2]  # token (Vs, d), positions (Ls, d)
        self.encoder = TransformerBlockForward(weights[2:18], **block)
        self.target_tables = weights[18:20]  # token (V, d), positions (L, d)
        self.decoder = TransformerBlockForward(weights[20:46], cross_attention=True, **block)
        self.logits_kernel, self.logits_bias = weights[46:48]  # (d, V), (V,)

    @staticmethod
    def embed(tables, ids, start=0):
        """Token plus position vectors of ``ids (B, T)`` at positions ``start …``: ``(B, T, d)``."""
        token, position = tables
        return token[ids] + position[start:start + ids.shape[-1]]  # (B, T, d)

    def encode(self, source):
        """``(context (B, Ts, d), context_mask (B, 1, Ts))``."""
        source = np.asarray(source)
        context_mask = (source != PAD_ID)[:, None, :]  # (B, 1, Ts)
        context, _ = self.encoder.forward(self.embed(self.source_tables, source),
                                          attention_mask=context_mask)
        return context, context_mask

    def logits(self, source, decoder_input):
        """The full pass: ``(B, T, V)`` for ``decoder_input (B, T)``, causal self-attention."""
        context, context_mask = self.encode(source)
        x = self.embed(self.target_tables, np.asarray(decoder_input))  # (B, T, d)
        y, _ = self.decoder.forward(x, context, context_mask=context_mask, use_causal_mask=True)
        return y @ self.logits_kernel + self.logits_bias  # (B, T, V)

    def greedy(self, source, length):
        """``(B, length)`` ids, the prefix run again at every step (lesson 07's way)."""
        inputs = np.full((len(source), length), START_ID)  # (B, length)
        for step in range(length):
            chosen = self.logits(source, inputs[:, :step + 1])[:, step].argmax(axis=-1)  # (B,)
            if step + 1 < length:
                inputs[:, step + 1] = chosen
        return np.concatenate([inputs[:, 1:], chosen[:, None]], axis=1)  # (B, length)


def start_and(ids):
    """The decoder inputs that produced ``ids (B, T)`` in greedy decoding: START, then
    ``ids`` but the last."""
    ids = np.asarray(ids)
    return np.concatenate([np.full((len(ids), 1), START_ID), ids[:, :-1]], axis=1)  # (B, T)


class CachedDecoder:
    """``decode_step`` of ``grader.reference.keras_decoding`` in NumPy, one step per token; its
    wrong variants override one step. The cache: ``(2, B, t, H, key_dim)``."""

    def __init__(self, model: TranslatorForward):
        self.model = model
        self.attention = model.decoder.self_attention  # MultiHeadAttentionForward

    def run(self, source, tokens):
        """Feed ``tokens (B, T)`` one at a time: ``(logits (B, T, V), last cache)``."""
        context, context_mask = self.model.encode(source)
        heads = self.attention.num_heads, self.attention.key_dim
        cache = np.zeros((2, len(tokens), 0, *heads))  # (2, B, 0, H, d_k)
        logits = []
        for token in np.asarray(tokens).T:  # (B,) at each position
            step_logits, cache = self.step(token, cache, context, context_mask)
            logits.append(step_logits)
        return np.stack(logits, axis=1), cache  # (B, T, V), (2, B, T, H, d_k)

    def step(self, token, cache, context, context_mask):
        decoder = self.model.decoder
        x = self.model.embed(self.model.target_tables, token[:, None],
                             self.position(cache))  # (B, 1, d)
        grown = []

        def self_attend(h):  # (B, 1, d) -> (B, 1, d)
            q, k, v = (self.project(h, name) for name in ("query", "key", "value"))
            grown.append(self.append(cache, k, v))  # (2, B, t+1, H, d_k)
            keys, values = self.attended(cache, grown[0])  # (B, H, s, d_k) each
            if keys.shape[2] == 0:  # nothing to attend to: zero weights, a zero context
                context_heads = np.zeros_like(q)  # (B, H, 1, d_k)
            else:
                weights = self.softmax(self.scores(q, keys))  # (B, H, 1, s)
                context_heads = weights @ values  # (B, H, 1, d_k)
            return self.output(self.attention.merge_heads(context_heads)), None

        x, _ = decoder.sublayer(x, "self_attention", self_attend)  # (B, 1, d)
        x, _ = decoder.sublayer(x, "cross_attention",
                                lambda h: self.cross_attend(h, context, context_mask))
        y, _ = decoder.sublayer(x, "ff", lambda h: (decoder.feed_forward(h), None))
        return (y @ self.model.logits_kernel + self.model.logits_bias)[:, 0], grown[0]

    # -- the steps --------------------------------------------------------------------------
    def position(self, cache):
        """The new token's position: the tokens already cached."""
        return cache.shape[2]

    def project(self, h, name):
        """The ``name`` projection of ``h (B, 1, d)``, split into heads: ``(B, H, 1, d_k)``."""
        return self.attention.heads(h, name)

    def append(self, cache, k, v):
        """``(2, B, t+1, H, d_k)``: the cache with ``k, v (B, H, 1, d_k)`` appended."""
        new = np.stack([k, v]).transpose(0, 1, 3, 2, 4)  # (2, B, 1, H, d_k)
        return np.concatenate([cache, new], axis=2)

    def attended(self, old, new):
        """The keys and values the query attends to, ``(B, H, t+1, d_k)`` each."""
        return new[0].transpose(0, 2, 1, 3), new[1].transpose(0, 2, 1, 3)

    def scores(self, q, keys):
        """``q (B, H, 1, d_k)``, ``keys (B, H, s, d_k)`` → ``(B, H, 1, s)``."""
        return q @ np.swapaxes(keys, -1, -2) / math.sqrt(q.shape[-1])

    def softmax(self, scores):
        """The weights over the attended positions, ``(B, H, 1, s)``."""
        return softmax(scores, axis=-1)

    def output(self, merged):
        """The output projection of the merged heads, ``(B, 1, H·d_k)`` → ``(B, 1, d)``."""
        return self.attention.output(merged)

    def cross_attend(self, h, context, context_mask):
        """The decoder block's cross-attention to the encoder's output: ``((B, 1, d), weights)``."""
        return self.model.decoder.cross_attention_layer.forward(h, context,
                                                                attention_mask=context_mask)


class DecodeNewestMissing(CachedDecoder):
    """Attends to the cache before this token's key and value are in it."""

    def attended(self, old, new):
        return old[0].transpose(0, 2, 1, 3), old[1].transpose(0, 2, 1, 3)


class DecodePositionFixed(CachedDecoder):
    """Every token gets the position encoding of position 0."""

    def position(self, cache):
        return 0


class DecodeCacheNotKept(CachedDecoder):
    """The cache never grows: each token attends to itself alone."""

    def append(self, cache, k, v):
        return super().append(cache[:, :, :0], k, v)


class DecodeNoScaling(CachedDecoder):
    """Scores without the 1/√d_k."""

    def scores(self, q, keys):
        return q @ np.swapaxes(keys, -1, -2)


class DecodeKeysAsValues(CachedDecoder):
    """The keys cached in place of the values."""

    def append(self, cache, k, v):
        return super().append(cache, k, k)


class DecodePositionWrongAxis(CachedDecoder):
    """The position read from the cache's batch axis, ``shape[1]``, not its length."""

    def position(self, cache):
        return cache.shape[1]


class DecodePositionOffByOne(CachedDecoder):
    """The token of step t embedded at position t + 1."""

    def position(self, cache):
        return cache.shape[2] + 1


class DecodeScaleByModelWidth(CachedDecoder):
    """Scores divided by √d_model, the width of all heads together, not √key_dim."""

    def scores(self, q, keys):
        return q @ np.swapaxes(keys, -1, -2) / math.sqrt(q.shape[1] * q.shape[-1])


class DecodeNewestTwice(CachedDecoder):
    """The new key and value appended to the grown cache once more before attending."""

    def attended(self, old, new):
        keys, values = super().attended(old, new)
        return (np.concatenate([keys, keys[:, :, -1:]], axis=2),
                np.concatenate([values, values[:, :, -1:]], axis=2))


class DecodeSoftmaxOverHeads(CachedDecoder):
    """The softmax over the heads' axis (1) instead of the cached positions."""

    def softmax(self, scores):
        return softmax(scores, axis=1)


class DecodeBiasesDropped(CachedDecoder):
    """The projections without their biases ``b_q, b_k, b_v`` and ``b_o``."""

    def project(self, h, name):
        kernel, _ = self.attention.params[name]
        return self.attention.split_heads(self.attention.project(h, kernel, None))

    def output(self, merged):
        return merged @ self.attention.params["output"][0]


class DecodeOutputProjectionDropped(CachedDecoder):
    """The heads merged and returned without ``W_o`` and ``b_o``."""

    def output(self, merged):
        return merged


class DecodeContextMaskDropped(CachedDecoder):
    """The cross-attention called without ``attention_mask=context_mask``: pads attended to."""

    def cross_attend(self, h, context, context_mask):
        return super().cross_attend(h, context, None)


DECODE_VARIANTS = {
    "decode_newest_missing": DecodeNewestMissing,
    "decode_position_fixed": DecodePositionFixed,
    "decode_cache_not_kept": DecodeCacheNotKept,
    "decode_no_scaling": DecodeNoScaling,
    "decode_keys_as_values": DecodeKeysAsValues,
    "decode_position_wrong_axis": DecodePositionWrongAxis,
    "decode_position_off_by_one": DecodePositionOffByOne,
    "decode_scale_by_model_width": DecodeScaleByModelWidth,
    "decode_newest_twice": DecodeNewestTwice,
    "decode_softmax_over_heads": DecodeSoftmaxOverHeads,
    "decode_biases_dropped": DecodeBiasesDropped,
    "decode_output_projection_dropped": DecodeOutputProjectionDropped,
    "decode_context_mask_dropped": DecodeContextMaskDropped,
}


def _never_fed_back(model: TranslatorForward, source, length):
    """Every step reads START: the argmax of the full pass on START at every position."""
    return model.logits(source, np.full((len(source), length), START_ID)).argmax(axis=-1)


def _start_included(model: TranslatorForward, source, length):
    """The decoder inputs returned (START first) instead of the tokens chosen."""
    return start_and(model.greedy(source, length))


def _cache_not_carried(model: TranslatorForward, source, length):
    """Every step from an empty cache: each token attends to itself alone, at position 0."""
    decoder = CachedDecoder(model)
    context, context_mask = model.encode(source)
    heads = decoder.attention.num_heads, decoder.attention.key_dim
    token, chosen = np.full(len(source), START_ID), []
    for _ in range(length):
        empty = np.zeros((2, len(source), 0, *heads))  # (2, B, 0, H, d_k)
        token = decoder.step(token, empty, context, context_mask)[0].argmax(axis=-1)  # (B,)
        chosen.append(token)
    return np.stack(chosen, axis=1)  # (B, length)


GREEDY_VARIANTS = {
    "greedy_not_fed_back": _never_fed_back,
    "greedy_start_included": _start_included,
    "greedy_cache_not_carried": _cache_not_carried,
}


def greedy_variants(model: TranslatorForward, source, length) -> dict[str, np.ndarray]:
    """``{key: ids (B, length)}`` of greedy decoders that each make one mistake."""
    return {key: wrong(model, source, length) for key, wrong in GREEDY_VARIANTS.items()}
