"""Lesson 07's translator: the case of ``build_translator`` (:class:`TranslatorCase`), how the
probe builds and runs the learner's model on it in the kernel, and its plan.

The learner's model is built with a recording Transformer block and learned positions and given
random weights; its record holds its outputs and every weight it holds (and the gradients of
the loss): the judge runs the model of the lesson's diagram on those weights itself
(``grader.judging.judges.translator``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.cases.records import Part, Slot, as_array, error_record, store
from course_lib.dates import TARGET_VOCAB
from course_lib.keras_harness import (
    build_with_spy,
    checking,
    cross_attention_scores,
    mistake,
    translator_batch,
)


@dataclass
class TranslatorCase:
    """The learner's ``build_translator(block=<a recording Transformer block>,
    positions=learned_positions, d_model, num_heads)`` with random weights, run on a batch of
    real source dates (seeded by ``batch_seed``): its logits, the cross-attention weights and
    every weight it holds, or, with ``train``, its logits, weights and the gradients of the
    loss. One record; its arrays: the outputs, ``<key>_w<j>`` the weights, ``<key>_g<j>`` the
    gradients."""

    d_model: int
    num_heads: int
    batch_seed: int
    train: bool = False

    def slots(self, start: int) -> tuple[Slot, ...]:
        return (Slot(start),)

    def run(self, build_translator, slots: tuple[Slot, ...], arrays: dict) -> list[dict]:
        with checking():
            return [self._record(build_translator, *slots, arrays)]

    def _record(self, build_translator, slot: Slot, arrays: dict) -> dict:
        import keras

        from course_lib.blocks import learned_positions

        keras.utils.set_random_seed(self.batch_seed % 1000)
        try:
            model, spy = build_with_spy(build_translator, positions=learned_positions,
                                        d_model=self.d_model, num_heads=self.num_heads)
            _random_weights(model, self.batch_seed)
            blocks, groups, variables = _translator_parts(model, spy)
            source, decoder_input = translator_batch(4, seed=self.batch_seed)
            if self.train:
                logits, gradients = _gradients_of_loss(model, variables, source, decoder_input)
                results = (logits,)
            else:
                changed = decoder_input.copy()
                changed[:, 5:] = (changed[:, 5:] + 1) % len(TARGET_VOCAB)  # characters from 5 on
                results = (model([source, decoder_input]), model([source, changed]),
                           model([np.roll(source, 1, axis=0), decoder_input]),
                           cross_attention_scores(model, source, decoder_input))
                gradients = []
            for j, variable in enumerate(variables):
                arrays[f"{slot.key}_w{j}"] = as_array(variable)
            for j, gradient in enumerate(gradients):
                arrays[f"{slot.key}_g{j}"] = as_array(gradient)
        except Exception as error:
            return error_record(error)
        return store(results, {"status": "ok", "blocks": blocks, "groups": groups}, slot, arrays)


def _random_weights(model, seed: int) -> None:
    """Give every weight of ``model`` random non-zero values (vectors around 1, matrices of
    unit-size outputs), so that every weight, biases included, changes the logits."""
    rng = np.random.default_rng(seed)
    model.set_weights([1.0 + 0.3 * rng.standard_normal(w.shape) if w.ndim == 1
                       else rng.standard_normal(w.shape) / np.sqrt(w.shape[0])
                       for w in model.get_weights()])


def _translator_parts(model, spy) -> tuple[dict, list, list]:
    """``(blocks, groups, variables)``: the configs of the encoder's and the decoder's block
    (the recording blocks the model holds), one ``{"kind", "count", "epsilon"}`` per other
    layer with weights, and every weight variable in that order: encoder block, decoder block,
    then the other layers'."""
    held = {id(layer) for layer in model._flatten_layers(include_self=False)}
    found = {"encoder": [b for b in spy.instances if id(b) in held and not b.cross_attention],
             "decoder": [b for b in spy.instances if id(b) in held and b.cross_attention]}
    made = [block for block in spy.instances if not block.cross_attention]
    if made and not found["encoder"]:
        raise mistake("build_translator", "encoder_output_not_used")
    if any(len(blocks) != 1 for blocks in found.values()):
        raise ValueError(f"the model should hold one encoder block and one decoder block made "
                         f"with `block`; it holds {len(found['encoder'])} and "
                         f"{len(found['decoder'])}")
    blocks, variables = {}, []
    for side, (block,) in found.items():
        blocks[side] = {"count": len(block.weights), "norm_first": bool(block.norm_first),
                        "epsilon": float(block.epsilon)}
        variables += block.weights
    in_blocks = {id(v) for v in variables}
    groups = []
    for layer in model.layers:
        own = [v for v in layer.weights if id(v) not in in_blocks]
        if own:
            epsilon = getattr(layer, "epsilon", None)
            groups.append({"kind": type(layer).__name__, "count": len(own),
                           "epsilon": float(epsilon) if isinstance(epsilon, int | float) else None})
            variables += own
    return blocks, groups, variables


def _gradients_of_loss(model, variables, source, decoder_input):
    """The logits, and the gradient of the mean cross-entropy of the next characters with
    respect to each of ``variables`` (zeros where none flows)."""
    import tensorflow as tf

    targets = np.roll(decoder_input, -1, axis=1)
    with tf.GradientTape() as tape:
        logits = model([source, decoder_input])
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits))
    gradients = tape.gradient(loss, variables)
    return logits, [np.zeros(v.shape) if g is None else tf.convert_to_tensor(g)
                    for v, g in zip(variables, gradients, strict=True)]


def build_translator(rng) -> list[Part]:
    batch_seed = int(rng.integers(1 << 30))
    return [
        Part("d_model=32, num_heads=2: the logits and cross-attention weights of the diagram's "
             "model on the weights yours holds (causal, masked, reading the source)",
             [TranslatorCase(32, 2, batch_seed)]),
        Part("training: the gradient of the loss reaches every weight, and a step lowers it",
             [TranslatorCase(32, 2, batch_seed + 1, True)]),
    ]
