"""Public checks of lesson 11: one attention step over a cache (NumPy), then a translator's
decoding step and greedy decoding with a KV cache (Keras)."""

from __future__ import annotations

import warnings

import numpy as np

from course_lib.cases.decoding import random_translator_weights
from course_lib.checks.shared import (
    COMPARE_OPTIONS,
    check_cases,
    described,
    load_fixture,
    passed,
)
from course_lib.dates import START_ID, date_dataset
from course_lib.feedback import CheckFailed, call_answer, compare, to_numpy
from course_lib.keras_harness import (
    TRACING_ERRORS,
    checking,
    compare_keras,
    describe_value,
    mistake,
    run_answer,
)
from course_lib.misconceptions import DESCRIPTIONS


def check_attend_step(attend_step) -> None:
    """Public check for lesson 11: ``attend_step(q_t, k_cache, v_cache)`` returns ``o_t
    (..., d_v)``, the newest query's attention over the cached positions ``0 … t``."""
    name = "attend_step"
    square = load_fixture(name)["square"]
    result = call_answer(attend_step, *square["args"].values(), name=name)
    if isinstance(result, tuple):
        raise mistake(f"{name} (a tuple returned)", "tuple_returned")
    # first the case where every size is 3: mixed-up axes still run there, and are named
    compare(result, square["expected"], what=f"{name} of a batch of 3 caches of 3 positions, "
            "d_k = d_v = 3", misconceptions=described(square["wrong"]), **COMPARE_OPTIONS[name])
    n_cases = check_cases(attend_step, name)
    # Lesson 03's stored results: row i of masked attention attends to the keys its mask allows,
    # as the newest token attends to its cache. A causal mask allows 0 … i, the cache at step i.
    masked = load_fixture("scaled_dot_product_attention")["masked"]
    q, k, v = (masked["args"][n] for n in ("q", "k", "v"))  # (B, Tq, d_k), (B, Tk, d_k|d_v)
    mask, output = masked["kwargs"]["mask"], masked["expected"][0]  # (B, Tq, Tk), (B, Tq, d_v)
    for b, i in np.ndindex(*mask.shape[:2]):
        cache = mask[b, i]  # (Tk,): the positions query i may attend to
        compare(call_answer(attend_step, q[b, i], k[b, cache], v[b, cache], name=name),
                output[b, i],
                what=f"{name}(q[{b}, {i}], the {cache.sum()} keys and values its mask allows)",
                hint="Row i of masked attention (lesson 03) attends to the keys its mask allows "
                "and to no other: the same as a step whose cache holds just those positions.")
    case = load_fixture(name)["batch_and_heads"]
    v_cache = case["args"]["v_cache"]  # (B, H, t+1, d_v)
    result = call_answer(attend_step, np.zeros_like(case["args"]["q_t"]), case["args"]["k_cache"],
                         v_cache, name=name)
    compare(result, v_cache.mean(axis=-2), what=f"{name}(a query of zeros, k_cache, v_cache)",
            hint="A query of zeros scores every cached position 0: even weights, and the mean "
            "of the cached values.")
    dtype = to_numpy(result, f"the result of {name}").dtype
    if np.issubdtype(dtype, np.floating) and dtype != np.float64:
        raise mistake(f"{name} of float64 inputs (a {dtype} result)", "float32_result")
    passed(name, n_cases + 3)


def small_translator(seed: int = 0, max_length: int = 12):
    """``(translator, counts, source)``: a small translator of Keras's blocks (d_model=24, 3
    heads of 8) with random weights, its work counters, and 4 source dates."""
    import keras

    from course_lib.blocks import KerasBlock, learned_positions
    from course_lib.decoding import Translator, count_work

    keras.utils.set_random_seed(seed)
    translator = Translator(KerasBlock, learned_positions, d_model=24, num_heads=3,
                            max_length=max_length)
    return translator, count_work(translator), date_dataset(4, seed=seed)["source"]


def _cached_keys_and_values(translator, tokens):
    """What the cache holds after ``tokens (B, T)``: ``(2, B, T, H, key_dim)``, the keys at [0]
    and the values at [1] of every position, projected from the decoder block's input (a
    post-LN block's self-attention reads its input as it is)."""
    x = np.asarray(translator.embed_target(tokens), dtype=np.float64)  # (B, T, d)
    w_q, b_q, w_k, b_k, w_v, b_v, *_ = (np.asarray(w, dtype=np.float64)
                                        for w in translator.decoder.self_attention.weights)
    keys = np.einsum("btd,dhk->bthk", x, w_k) + b_k  # (B, T, H, key_dim)
    values = np.einsum("btd,dhk->bthk", x, w_v) + b_v  # (B, T, H, key_dim)
    return np.stack([keys, values])  # (2, B, T, H, key_dim)


def check_decode_step(decode_step) -> None:
    """Public check of lesson 11's ``decode_step(translator, token, cache, context,
    context_mask)``: fed 8 tokens one at a time inside ``tf.function``, its logits equal the
    full causal pass's at every step, and its cache grows by one position per step."""
    import tensorflow as tf

    translator, _, source = small_translator()
    # every weight random, biases included: Keras starts biases at 0, which would hide them
    translator.set_weights(random_translator_weights(np.random.default_rng(0), 24, 3, 12))
    tokens = np.random.default_rng(0).integers(1, 12, size=(len(source), 8)).astype("int32")
    tokens[:, 0] = START_ID
    with checking(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's softmax over a single key, at step 0
        full = np.asarray(translator([source, tokens]))  # (B, T, V), the full pass
        context, context_mask = translator.encode(source)
        step = tf.function(decode_step, reduce_retracing=True)
        cache = translator.empty_cache(len(source))
        for t in range(tokens.shape[1]):
            try:
                result = run_answer(step, translator, tf.constant(tokens[:, t]), cache, context,
                                    context_mask, name="decode_step")
            except CheckFailed as failure:
                if any(words in str(failure) for words in TRACING_ERRORS):
                    raise mistake("decode_step", "decode_python_state") from None
                raise
            if not isinstance(result, tuple | list) or len(result) != 2:
                raise CheckFailed("decode_step should return (logits, cache). Received: "
                                  f"{describe_value(result)}")
            logits, cache = result
            expected_cache = (2, len(source), t + 1, translator.num_heads, translator.key_dim)
            if tuple(cache.shape) != expected_cache and tuple(cache.shape) == (
                    2, len(source), translator.num_heads, t + 1, translator.key_dim):
                raise mistake("decode_step", "decode_cache_heads_first")
            if tuple(cache.shape) != expected_cache:
                raise CheckFailed(f"After step {t} the cache should be (2, B, t + 1, H, key_dim) "
                                  f"= {expected_cache}. Received: {tuple(cache.shape)}")
            compare_keras(logits, full[:, t], what=f"the logits of decode_step at step {t}",
                          hint="Step 0 right and later steps wrong: look at what the cache holds, "
                               "at the position the token is embedded at, and at the scale "
                               "1/√key_dim (at step 0 a single key gets weight 1 whatever the "
                               "scale)." if t else
                               "The first step attends to its own key alone: check the "
                               "projections, the scale and the rest of the block.")
    cached = _cached_keys_and_values(translator, tokens)  # (2, B, T, H, key_dim)
    compare_keras(cache, cached, what="the cache after 8 steps (keys at [0], values at [1])",
                  misconceptions={DESCRIPTIONS["decode_cache_values_first"]: cached[::-1]},
                  hint="Each step appends the new token's key and value, as the self-attention "
                       "projects them (biases included), ops.stack([k, v]), along axis 2.")
    passed("decode_step", 4)


def check_cached_greedy_decode(cached_greedy_decode) -> None:
    """Public check of lesson 11's ``cached_greedy_decode(translator, source, length)``: the
    ids of greedy decoding, the source encoded once and each position embedded once."""
    translator, counts, source = small_translator(seed=1)
    length = 10
    with checking(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = run_answer(cached_greedy_decode, translator, source, length,
                         name="cached_greedy_decode")
        ids = to_numpy(ids, "the result of cached_greedy_decode")
        if ids.shape != (len(source), length):
            raise CheckFailed(f"cached_greedy_decode should return ids (n, length) = "
                              f"{(len(source), length)}. Received: {ids.shape}")
        work = {name: int(count.numpy()) for name, count in counts.items()}
        inputs = np.concatenate([np.full((len(source), 1), START_ID), ids[:, :-1]], axis=1)
        logits = np.asarray(translator([source, inputs.astype("int32")]))  # (n, length, V)
    chosen = np.take_along_axis(logits, ids[..., None].astype(int), axis=-1)[..., 0]
    if np.any(chosen < logits.max(axis=-1) - 1e-4):
        step = int(np.argmax(np.any(chosen < logits.max(axis=-1) - 1e-4, axis=0)))
        raise CheckFailed(f"At step {step} the ids are not the most likely tokens given the ids "
                          "before them. Feed each step's argmax back as the next step's token, "
                          "and return the chosen tokens, not START.")
    if work["embedded"] != length:
        raise mistake("cached_greedy_decode", "greedy_prefix_recomputed")
    if work["encoded"] != 1:
        raise mistake("cached_greedy_decode", "greedy_encoder_per_step")
    passed("cached_greedy_decode", 3)
