"""The answer key of lesson ``07_application``: the date translator's data and decoding steps.

The functions take NumPy arrays; ``greedy_decode`` takes any callable ``model([source,
decoder_input]) -> logits (B, Tt, V)``, such as :func:`chain_model`, the NumPy twin of the
stand-in model the probes build in the learner's kernel
(``course_lib.keras_harness.chain_model``).
"""

from __future__ import annotations

import numpy as np

from course_lib.dates import PAD_ID, START_ID, TARGET_LEN, TARGET_VOCAB


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


# == the judge's twin of a learner's translator ==================================================
class TranslatorForward:
    """Lesson 07's model as its diagram states it, in NumPy (float64), on the weights a
    learner's model holds: embedding plus learned positions of the source, the encoder block
    (padding mask), embedding plus learned positions of the decoder input, the decoder block
    (causal self-attention, cross-attention to the encoder's output, padding mask), a ``Dense``
    to the logits. Pre-LN blocks may each be followed by a ``LayerNormalization``.

    Args:
        encoder, decoder: the blocks (``grader.reference.numpy_block.TransformerBlockForward``).
        tables: ``{"source": (token (Vs, d), positions (Ls, d)), "target": (token, positions)}``.
        logits: the ``Dense``'s kernel ``(d, V)`` and bias ``(V,)``.
        final_norms: ``{"encoder" | "decoder": (γ, β, epsilon)}``, the LayerNorms after a block.
    """

    def __init__(self, encoder, decoder, tables: dict, logits, final_norms: dict):
        self.encoder, self.decoder = encoder, decoder
        self.tables, self.final_norms = tables, final_norms
        self.logits_kernel, self.logits_bias = (np.asarray(w, np.float64) for w in logits)

    def _embed(self, side: str, ids):
        token, position = (np.asarray(w, np.float64) for w in self.tables[side])
        return token[ids] + position[:ids.shape[-1]]  # (B, T, d)

    def _normed(self, side: str, x):
        if side not in self.final_norms:
            return x
        gamma, beta, epsilon = self.final_norms[side]
        mean, variance = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta

    def forward(self, source, decoder_input):
        """``(logits (B, Tt, V), cross-attention weights (B, H, Tt, Ts))``."""
        source, decoder_input = np.asarray(source), np.asarray(decoder_input)
        not_pad = (source != PAD_ID)[:, None, :]  # (B, 1, Ts)
        context = self.encode(self._embed("source", source), not_pad)  # (B, Ts, d)
        y, weights = self.decoder.forward(self._embed("target", decoder_input),
                                          self._normed("encoder", context),
                                          context_mask=not_pad, use_causal_mask=True)
        return self._normed("decoder", y) @ self.logits_kernel + self.logits_bias, weights

    def encode(self, embedded, not_pad):
        """The encoder block on the embedded source ``(B, Ts, d)``, its pads masked."""
        return self.encoder.forward(embedded, attention_mask=not_pad)[0]  # (B, Ts, d)

    def loss(self, source, decoder_input) -> float:
        """The mean cross-entropy of the next characters, ``np.roll(decoder_input, -1)``."""
        return cross_entropy(self.forward(source, decoder_input)[0],
                             np.roll(decoder_input, -1, axis=1))


def cross_entropy(logits, targets) -> float:
    """The mean cross-entropy of ``targets (B, T)`` under ``logits (B, T, V)``."""
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_probs, targets[..., None], axis=-1).mean())


# == known wrong translators: each overrides one step ==========================================
class EncoderUnmasked(TranslatorForward):
    """The encoder block called without the padding mask: its positions attend to pads."""

    def encode(self, embedded, not_pad):
        return self.encoder.forward(embedded)[0]


class EncoderCausal(TranslatorForward):
    """The encoder block called with ``use_causal_mask=True``: a source position cannot see
    the characters after it."""

    def encode(self, embedded, not_pad):
        return self.encoder.forward(embedded, attention_mask=not_pad, use_causal_mask=True)[0]


TRANSLATOR_VARIANTS = {
    "encoder_padding_not_masked": EncoderUnmasked,
    "encoder_causal": EncoderCausal,
}


def variant_logits(twin: TranslatorForward, source, decoder_input) -> dict:
    """``{key: logits}`` of each known wrong translator on the weights ``twin`` holds."""
    return {key: variant(twin.encoder, twin.decoder, twin.tables,
                         (twin.logits_kernel, twin.logits_bias), twin.final_norms)
            .forward(source, decoder_input)[0]
            for key, variant in TRANSLATOR_VARIANTS.items()}
