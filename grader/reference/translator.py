"""The answer key of lesson ``07_application``: the date translator's data and decoding steps.

The functions take NumPy arrays; ``greedy_decode`` takes any callable ``model([source,
decoder_input]) -> logits (B, Tt, V)``, such as :func:`chain_model`, the NumPy twin of the
stand-in model the probes build in the learner's kernel
(``course_lib.checks_keras.chain_model``).
"""

from __future__ import annotations

import numpy as np

from course_lib.dates import START_ID, TARGET_LEN, TARGET_VOCAB


def teacher_forcing(targets):
    """``(decoder_inputs, decoder_targets)``, both ``(n, Tt)``: START then the targets shifted
    right by one, and the targets themselves."""
    targets = np.asarray(targets)
    start = np.full((len(targets), 1), START_ID, dtype=targets.dtype)  # (n, 1)
    return np.concatenate([start, targets[:, :-1]], axis=1), targets  # (n, Tt), (n, Tt)


def greedy_decode(model, source):
    """``(n, Tt)``: the most likely character at each step, fed back as the next decoder
    input."""
    source = np.asarray(source)
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")  # (n, Tt)
    predicted = np.zeros((len(source), TARGET_LEN), dtype="int32")  # (n, Tt)
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input]))  # (n, Tt, V)
        predicted[:, step] = logits[:, step].argmax(axis=-1)
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def alignment(weights):
    """``(B, Tt)``: the source position each output position attends to most, from the
    cross-attention weights ``(B, H, Tt, Ts)`` (after the softmax) averaged over the heads."""
    return np.asarray(weights).mean(axis=1).argmax(axis=-1)


def chain_model(multiplier: int):
    """The stand-in translator as a NumPy function: the logits at step ``i`` point at
    ``(multiplier · d[i] + 2 · d[i-1] + source[i] + i) mod V``."""
    vocab = len(TARGET_VOCAB)

    def model(inputs):
        source, decoder_input = (np.asarray(x).astype(np.int64) for x in inputs)
        previous = np.pad(decoder_input[:, :-1], ((0, 0), (1, 0)))  # (B, Tt): d[i-1], 0 at i=0
        pointer = (multiplier * decoder_input + 2 * previous + source[:, :TARGET_LEN]
                   + np.arange(TARGET_LEN)) % vocab  # (B, Tt)
        return 5.0 * np.eye(vocab)[pointer]  # (B, Tt, V)

    return model
