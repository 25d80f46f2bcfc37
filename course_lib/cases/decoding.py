"""Lesson 11's decoding with a KV cache: the case of ``decode_step`` and
``cached_greedy_decode`` (:class:`DecodeCase`), how the probe runs them in the kernel on the
judge's translator, and their plans.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from course_lib.cases.blocks import random_block_weights
from course_lib.cases.records import MAX_MESSAGE, Part, Slot, error_record, store
from course_lib.dates import SOURCE_LEN, SOURCE_VOCAB, START_ID, TARGET_VOCAB, date_dataset
from course_lib.keras_harness import checking


@dataclass
class DecodeCase:
    """The judge's translator (``course_lib.decoding.Translator`` of ``KerasBlock``s, learned
    positions) holding ``weights``, and a batch of ``source`` dates. With ``tokens`` (B, T), the
    learner's ``decode_step`` is fed them one at a time inside ``tf.function``: its logits
    (B, T, V), its last cache and how many times it was traced come back. With ``length``, the
    learner's ``cached_greedy_decode(translator, source, length)``: its ids, and how many
    target positions were embedded and sources encoded on the way. One record."""

    d_model: int
    num_heads: int
    max_length: int
    weights: list[np.ndarray]
    source: np.ndarray
    tokens: np.ndarray | None = None
    length: int | None = None

    def slots(self, start: int) -> tuple[Slot, ...]:
        return (Slot(start),)

    def run(self, answer, slots: tuple[Slot, ...], arrays: dict) -> list[dict]:
        with checking(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras's softmax over one key, at step 0
            return [self._record(answer, *slots, arrays)]

    def _record(self, answer, slot: Slot, arrays: dict) -> dict:
        """The learner's ``decode_step`` fed ``tokens`` one at a time inside ``tf.function``
        (its logits at every step, its last cache, how many times it was traced), or their
        ``cached_greedy_decode`` (its ids, and the work counted)."""
        import tensorflow as tf

        try:
            translator, counts = judges_translator(self)
            if self.tokens is None:
                ids = answer(translator, np.copy(self.source), self.length)
                record = {"status": "ok", **{name: int(c.numpy()) for name, c in counts.items()}}
                return store(ids, record, slot, arrays)
            traced = []

            def step(token, cache, context, context_mask):
                traced.append(1)  # runs only while tracing
                return answer(translator, token, cache, context, context_mask)

            compiled = tf.function(step, reduce_retracing=True)
            context, context_mask = translator.encode(self.source)
            cache = translator.empty_cache(len(self.source))
            logits = []
            for token in self.tokens.T:  # (B,) at each position
                step_logits, cache = compiled(tf.constant(token), cache, context, context_mask)
                logits.append(np.asarray(step_logits))
            result = (np.stack(logits, axis=1), np.asarray(cache))  # (B, T, V), (2, B, T, H, d_k)
        except Exception as error:
            # TensorFlow's message ends with the error, after the traced code: keep its end
            return {**error_record(error), "message": str(error)[-MAX_MESSAGE:]}
        return store(result, {"status": "ok", "traced": len(traced)}, slot, arrays)


def judges_translator(case: DecodeCase):
    """``(translator, counts)``: the translator of the case, holding the judge's weights, and the
    counters of its work (``course_lib.decoding.count_work``)."""
    from course_lib.blocks import KerasBlock, learned_positions
    from course_lib.decoding import Translator, count_work

    translator = Translator(KerasBlock, learned_positions, case.d_model, case.num_heads,
                            case.max_length)
    translator.set_weights(case.weights)
    return translator, count_work(translator)


def random_translator_weights(rng, d_model: int, num_heads: int, max_length: int) -> list:
    """Every weight of a ``Translator`` (in ``get_weights()`` order), non-zero and of unit-size
    outputs: embeddings and positions N(0, 1), the blocks' as :func:`random_block_weights`,
    the logits' kernel N(0, 1/d) times 3 (clear winners for greedy decoding)."""
    block = {"num_heads": num_heads, "key_dim": d_model // num_heads, "ff_dim": 2 * d_model,
             "norm_first": False}
    vocab = len(TARGET_VOCAB)
    weights = [rng.standard_normal((len(SOURCE_VOCAB), d_model)),
               rng.standard_normal((SOURCE_LEN, d_model)),
               *random_block_weights(rng, block, d_model),
               rng.standard_normal((vocab, d_model)), rng.standard_normal((max_length, d_model)),
               *random_block_weights(rng, {**block, "cross_attention": True}, d_model, d_model),
               3 * rng.standard_normal((d_model, vocab)) / np.sqrt(d_model),
               0.5 * rng.standard_normal(vocab)]
    return [np.asarray(w, dtype="float32") for w in weights]


def _decode_case(rng, batch, d_model=24, num_heads=3, max_length=12, **run) -> DecodeCase:
    source = date_dataset(batch, seed=int(rng.integers(1 << 30)))["source"]  # (B, Ts)
    return DecodeCase(d_model, num_heads, max_length,
                      random_translator_weights(rng, d_model, num_heads, max_length), source,
                      **run)


def decode_step(rng) -> list[Part]:
    def tokens(batch, length):  # START, then any target symbols
        ids = rng.integers(1, len(TARGET_VOCAB), size=(batch, length)).astype("int32")
        ids[:, 0] = START_ID
        return ids

    return [
        Part("5 sources, 12 steps (every position up to max_length=12), d_model=24, 3 heads "
             "of 8: the logits at every step, and the keys and values in the cache",
             [_decode_case(rng, 5, tokens=tokens(5, 12))], 2),
        Part("d_model=20, 2 heads of 10, 4 sources, 9 steps",
             [_decode_case(rng, 4, d_model=20, num_heads=2, tokens=tokens(4, 9))], 1),
    ]


def cached_greedy_decode(rng) -> list[Part]:
    return [Part("6 sources, 12 tokens (every position up to max_length=12): the greedy choice "
                 "at every step (the work your kernel counts can only cost points)",
                 [_decode_case(rng, 6, length=12)])]

