"""A corpus of learner answers to the Keras exercises (lessons 04 and 07), right and wrong.

``VARIANTS[exercise]`` holds ``"right"`` answers, written differently from the solution (tf ops,
einsum, a loop over heads, reshapes…), which must get full marks, and ``"wrong"`` ones as
``(answer, misconception)`` pairs: each makes one known mistake that the feedback must name with
``course_lib.misconceptions.DESCRIPTIONS[misconception]``.

- Layers (``AttentionLayer``, ``MultiHeadAttention``): lesson 04's answers live in
  ``attention_layer_variants``, ``multi_head_answers`` and ``multi_head_variants``, its helpers
  and how an answer goes into the class cell in ``layer_variants``; they are gathered here.
- Lesson 07's functions are pasted whole under the exercise's name. ``build_translator`` answers
  use the lesson's given ``PositionalEmbedding`` and the names its setup cell binds
  (``TransformerBlock``, ``sinusoidal_encoding``), stood in for here for the linter's sake only.

pytest puts ``tests/`` on ``sys.path``, so test modules ``import keras_variants``.
"""

from __future__ import annotations

import inspect
import re

import keras
import numpy as np
from attention_layer_variants import ATTENTION_LAYER, ATTENTION_LAYER_HELPERS
from keras import layers, ops
from layer_variants import (  # noqa: F401 — lesson_table and the tests read them from here
    HELPERS,
    LAYER_HELPERS,
    helpers_cell,
    layer_cell,
    noisy_helpers_cell,
    source,
)
from multi_head_variants import MULTI_HEAD_ATTENTION, MULTI_HEAD_HELPERS

from course_lib.dates import PAD_ID, SOURCE_LEN, SOURCE_VOCAB, START_ID, TARGET_LEN, TARGET_VOCAB

# The lesson's given embedding and the parts its setup loads, for the names in build_translator
# answers (never called here).
PositionalEmbedding = TransformerBlock = sinusoidal_encoding = None


# == 07: teacher_forcing ========================================================================
def teacher_forcing_roll(targets):
    """Right: roll right by one, then START over the wrapped-around last character."""
    decoder_inputs = np.roll(targets, 1, axis=1)
    decoder_inputs[:, 0] = START_ID
    return decoder_inputs, targets


def teacher_forcing_pad(targets):
    """Right: np.pad with the start id."""
    return np.pad(targets[:, :-1], ((0, 0), (1, 0)), constant_values=START_ID), targets.copy()


def teacher_forcing_filled(targets):
    """Right: an empty array of the targets' dtype, filled column by column."""
    decoder_inputs = np.empty_like(targets)
    decoder_inputs[:, 0] = START_ID
    decoder_inputs[:, 1:] = targets[:, :-1]
    return decoder_inputs, targets


def teacher_forcing_unshifted(targets):
    return targets, targets


def teacher_forcing_left(targets):
    return np.concatenate([targets[:, 1:], np.full((len(targets), 1), START_ID)], axis=1), targets


def teacher_forcing_start_last(targets):
    start = np.full((len(targets), 1), START_ID, dtype=targets.dtype)
    return np.concatenate([targets[:, :-1], start], axis=1), targets


def teacher_forcing_both_shifted(targets):
    start = np.full((len(targets), 1), START_ID, dtype=targets.dtype)
    return np.concatenate([start, targets[:, :-1]], axis=1), targets[:, 1:]


def teacher_forcing_int64_start(targets):
    """np.full without a dtype: int64 decoder inputs for int32 targets."""
    start = np.full((len(targets), 1), START_ID)
    return np.concatenate([start, targets[:, :-1]], axis=1), targets


def teacher_forcing_rows_rolled(targets):
    decoder_inputs = np.roll(targets, 1, axis=0)  # the dates rolled, not the characters
    decoder_inputs[:, 0] = START_ID
    return decoder_inputs, targets


def teacher_forcing_no_start(targets):
    return targets[:, :-1], targets


def teacher_forcing_last_kept(targets):
    start = np.full((len(targets), 1), START_ID, dtype=targets.dtype)
    return np.concatenate([start, targets], axis=1), targets


# == 07: build_translator =======================================================================
def translator_pre_norm(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                        num_heads=4):
    """Right: pre-LN blocks (the default), each side ending with a LayerNormalization."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    mask = ops.expand_dims(ops.not_equal(source, PAD_ID), 1)
    options = {"num_heads": num_heads, "key_dim": d_model // num_heads, "ff_dim": 2 * d_model}
    x = PositionalEmbedding(len(SOURCE_VOCAB), SOURCE_LEN, d_model, positions)(source)
    x = layers.LayerNormalization()(block(**options)(x, attention_mask=mask))
    y = PositionalEmbedding(len(TARGET_VOCAB), TARGET_LEN, d_model, positions)(decoder_input)
    y = block(cross_attention=True, name="decoder_block", **options)(
        y, context=x, context_mask=mask, use_causal_mask=True, return_attention_scores=True)[0]
    logits = layers.Dense(len(TARGET_VOCAB))(layers.LayerNormalization()(y))
    return keras.Model([source, decoder_input], logits)


def translator_helpers(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                       num_heads=4):
    """Right: helpers, an explicit (B, 1, Ts) mask, the context passed by position, a wider
    feed-forward network."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    not_pad = ops.reshape(ops.not_equal(source, PAD_ID), (-1, 1, SOURCE_LEN))

    def embed(ids, vocab, length):
        return PositionalEmbedding(len(vocab), length, d_model, positions)(ids)

    def make(name, **options):
        return block(num_heads, d_model // num_heads, 4 * d_model, norm_first=False, name=name,
                     **options)

    encoded = make("encoder")(embed(source, SOURCE_VOCAB, SOURCE_LEN), attention_mask=not_pad)
    decoded, _ = make("decoder_block", cross_attention=True)(
        embed(decoder_input, TARGET_VOCAB, TARGET_LEN), encoded, context_mask=not_pad,
        use_causal_mask=True, return_attention_scores=True)
    return keras.Model([source, decoder_input], layers.Dense(len(TARGET_VOCAB))(decoded))


def _translator(block, positions, d_model, num_heads, flaw):
    """Shared by the wrong answers below: the solution's model with one flaw."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    not_pad = ops.expand_dims(ops.not_equal(source, PAD_ID), 1)
    if flaw == "block_not_used":
        block = TransformerBlock
    size, ff_dim = d_model // num_heads, 2 * d_model
    if flaw == "key_dim_not_divided":
        size = d_model
    if flaw == "positions_missing":
        x = layers.Embedding(len(SOURCE_VOCAB), d_model)(source)
    else:
        x = PositionalEmbedding(len(SOURCE_VOCAB), SOURCE_LEN, d_model, positions)(source)
    encoder = block(num_heads, size, ff_dim, norm_first=False, name="encoder_block")
    embedded = x
    if flaw == "mask_passed_positionally":
        x = encoder(x, None, not_pad)
    elif flaw == "encoder_padding_not_masked":
        x = encoder(x)
    elif flaw == "encoder_causal":
        x = encoder(x, attention_mask=not_pad, use_causal_mask=True)
    else:
        x = encoder(x, attention_mask=not_pad)
    if flaw == "encoder_output_not_used":
        x = embedded
    if flaw == "positions_missing":
        y = layers.Embedding(len(TARGET_VOCAB), d_model)(decoder_input)
    else:
        y = PositionalEmbedding(len(TARGET_VOCAB), TARGET_LEN, d_model, positions)(decoder_input)
    decoder = block(num_heads, size, ff_dim, cross_attention=True, norm_first=False,
                    name="decoder_block")
    masks = {} if flaw == "padding_not_masked" else {"context_mask": not_pad}
    if flaw == "swapped_cross_attention":
        out, _ = decoder(x, context=y, use_causal_mask=True, return_attention_scores=True)
        y = y + ops.mean(out, axis=1, keepdims=True)
    else:
        y, _ = decoder(y, context=x, use_causal_mask=flaw != "not_causal",
                       return_attention_scores=True, **masks)
    activation = "softmax" if flaw == "softmax_output" else None
    return keras.Model([source, decoder_input],
                       layers.Dense(len(TARGET_VOCAB), activation=activation)(y))


def translator_not_causal(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                          num_heads=4):
    return _translator(block, positions, d_model, num_heads, "not_causal")


def translator_swapped(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                       num_heads=4):
    return _translator(block, positions, d_model, num_heads, "swapped_cross_attention")


def translator_unmasked_pads(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                             num_heads=4):
    return _translator(block, positions, d_model, num_heads, "padding_not_masked")


def translator_positional_mask(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                               num_heads=4):
    return _translator(block, positions, d_model, num_heads, "mask_passed_positionally")


def translator_fixed_block(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                           num_heads=4):
    return _translator(block, positions, d_model, num_heads, "block_not_used")


def translator_softmax(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                       num_heads=4):
    return _translator(block, positions, d_model, num_heads, "softmax_output")


def translator_encoder_unmasked(block=TransformerBlock, positions=sinusoidal_encoding,
                                d_model=64, num_heads=4):
    return _translator(block, positions, d_model, num_heads, "encoder_padding_not_masked")


def translator_encoder_causal(block=TransformerBlock, positions=sinusoidal_encoding, d_model=64,
                              num_heads=4):
    return _translator(block, positions, d_model, num_heads, "encoder_causal")


def translator_encoder_bypassed(block=TransformerBlock, positions=sinusoidal_encoding,
                                d_model=64, num_heads=4):
    """The decoder reads the embedded source: the encoder block's output is never used."""
    return _translator(block, positions, d_model, num_heads, "encoder_output_not_used")


def translator_whole_width_heads(block=TransformerBlock, positions=sinusoidal_encoding,
                                 d_model=64, num_heads=4):
    """Each head d_model wide: key_dim=d_model instead of d_model // num_heads."""
    return _translator(block, positions, d_model, num_heads, "key_dim_not_divided")


def translator_without_positions(block=TransformerBlock, positions=sinusoidal_encoding,
                                 d_model=64, num_heads=4):
    """layers.Embedding alone: no position is added to the characters."""
    return _translator(block, positions, d_model, num_heads, "positions_missing")


# == 07: greedy_decode ==========================================================================
def greedy_decode_growing(model, source):
    """Right: the decoder input grows by concatenation; model called directly."""
    n = len(source)
    so_far = np.full((n, 1), START_ID, dtype="int32")
    for step in range(TARGET_LEN):
        padded = np.pad(so_far, ((0, 0), (0, TARGET_LEN - so_far.shape[1])))
        logits = model([source, padded], training=False)
        next_ids = ops.convert_to_numpy(ops.argmax(logits[:, step], axis=-1)).astype("int32")
        so_far = np.concatenate([so_far, next_ids[:, None]], axis=1)
    return so_far[:, 1:]


def greedy_decode_predict(model, source):
    """Right: model.predict on the whole batch at each step, a list of columns."""
    columns = []
    for step in range(TARGET_LEN):
        decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
        for i, column in enumerate(columns):
            decoder_input[:, i + 1] = column
        logits = model.predict([source, decoder_input], verbose=0)
        columns.append(np.argmax(logits[:, step, :], axis=-1))
    return np.stack(columns, axis=1)


def greedy_decode_once(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    return np.argmax(np.asarray(model([source, decoder_input])), axis=-1)


def greedy_decode_last(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN):
        predicted[:, step] = np.argmax(np.asarray(model([source, decoder_input]))[:, -1], axis=-1)
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def greedy_decode_with_start(model, source):
    decoder_input = np.full((len(source), TARGET_LEN + 1), START_ID, dtype="int32")
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input[:, :TARGET_LEN]]))
        decoder_input[:, step + 1] = np.argmax(logits[:, step], axis=-1)
    return decoder_input[:, :TARGET_LEN]


def greedy_decode_in_place(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input]))
        decoder_input[:, step] = np.argmax(logits[:, step], axis=-1)
    return decoder_input


def greedy_decode_all_positions(model, source):
    """Right: every position's argmax written back at once, TARGET_LEN times; causality makes
    position i final after step i."""
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    for _ in range(TARGET_LEN):
        predicted = np.argmax(model.predict_on_batch([source, decoder_input]), axis=-1)
        decoder_input[:, 1:] = predicted[:, :-1]
    return predicted.astype("int32")


def greedy_decode_softmax_first(model, source):
    """Right: a softmax before the argmax (the same argmax); ids grown in a list."""
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    ids = []
    for step in range(TARGET_LEN):
        probabilities = ops.softmax(model([source, decoder_input])[:, step], axis=-1)
        ids.append(ops.convert_to_numpy(ops.argmax(probabilities, axis=-1)))
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = ids[-1]
    return np.stack(ids, axis=1)


def greedy_decode_flat_argmax(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input]))
        predicted[:, step] = np.argmax(logits[:, step])  # no axis: one index of the flat array
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def greedy_decode_one_step_short(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    predicted = np.zeros_like(decoder_input)
    for step in range(TARGET_LEN - 1):
        logits = np.asarray(model([source, decoder_input]))
        predicted[:, step] = logits[:, step].argmax(axis=-1)
        decoder_input[:, step + 1] = predicted[:, step]
    return predicted


def greedy_decode_restarted(model, source):
    """The decoder input made afresh inside the loop: every step reads START alone."""
    predicted = np.zeros((len(source), TARGET_LEN), dtype="int32")
    for step in range(TARGET_LEN):
        decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
        predicted[:, step] = np.asarray(model([source, decoder_input]))[:, step].argmax(-1)
    return predicted


def greedy_decode_float_ids(model, source):
    decoder_input = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    predicted = np.zeros((len(source), TARGET_LEN))  # float64 by default
    for step in range(TARGET_LEN):
        logits = np.asarray(model([source, decoder_input]))
        predicted[:, step] = logits[:, step].argmax(axis=-1)
        if step + 1 < TARGET_LEN:
            decoder_input[:, step + 1] = predicted[:, step]
    return predicted


# == 07: alignment ==============================================================================
def alignment_sum(weights):
    """Right: a sum over the heads has the same argmax as the mean."""
    return np.asarray(weights).sum(axis=1).argmax(axis=-1)


def alignment_ops(weights):
    """Right: keras.ops."""
    return ops.convert_to_numpy(ops.argmax(ops.mean(weights, axis=1), axis=-1))


def alignment_first_head(weights):
    return np.argmax(weights[:, 0], axis=-1)


def alignment_over_outputs(weights):
    return np.argmax(np.mean(weights, axis=1), axis=1)


def alignment_max(weights):
    return np.max(np.mean(weights, axis=1), axis=-1)


def alignment_per_head(weights):
    return np.argmax(weights, axis=-1)


def alignment_loops(weights):
    """Right: loops over the dates and output positions, the heads summed by hand."""
    weights = np.asarray(weights)
    batch, heads, t_out, _ = weights.shape
    result = np.zeros((batch, t_out), dtype=int)
    for b in range(batch):
        for i in range(t_out):
            result[b, i] = int(np.argmax(sum(weights[b, h, i] for h in range(heads))))
    return result


def alignment_over_batch(weights):
    return np.argmax(np.mean(weights, axis=0), axis=-1)


def alignment_mean_of_positions(weights):
    return np.mean(np.argmax(weights, axis=-1), axis=1)


VARIANTS = {
    "AttentionLayer": ATTENTION_LAYER,
    "MultiHeadAttention": MULTI_HEAD_ATTENTION,
    "teacher_forcing": {
        "right": [teacher_forcing_roll, teacher_forcing_pad, teacher_forcing_filled],
        "wrong": [
            (teacher_forcing_unshifted, "no_shift"),
            (teacher_forcing_left, "shift_left"),
            (teacher_forcing_start_last, "start_at_end"),
            (teacher_forcing_both_shifted, "targets_shifted"),
            (teacher_forcing_int64_start, "dtype_changed"),
            (teacher_forcing_rows_rolled, "shift_wrong_axis"),
            (teacher_forcing_no_start, "start_missing"),
            (teacher_forcing_last_kept, "last_not_dropped"),
        ],
    },
    "build_translator": {
        "right": [translator_pre_norm, translator_helpers],
        "wrong": [
            (translator_not_causal, "not_causal"),
            (translator_swapped, "swapped_cross_attention"),
            (translator_unmasked_pads, "padding_not_masked"),
            (translator_positional_mask, "mask_passed_positionally"),
            (translator_fixed_block, "block_not_used"),
            (translator_softmax, "softmax_output"),
            (translator_encoder_unmasked, "encoder_padding_not_masked"),
            (translator_encoder_causal, "encoder_causal"),
            (translator_encoder_bypassed, "encoder_output_not_used"),
            (translator_whole_width_heads, "key_dim_not_divided"),
            (translator_without_positions, "positions_missing"),
        ],
    },
    "greedy_decode": {
        "right": [greedy_decode_growing, greedy_decode_predict, greedy_decode_all_positions,
                  greedy_decode_softmax_first],
        "wrong": [
            (greedy_decode_once, "no_feedback"),
            (greedy_decode_last, "last_position"),
            (greedy_decode_with_start, "start_kept"),
            (greedy_decode_in_place, "fed_back_in_place"),
            (greedy_decode_flat_argmax, "argmax_without_axis"),
            (greedy_decode_one_step_short, "one_step_short"),
            (greedy_decode_restarted, "no_feedback"),
            (greedy_decode_float_ids, "ids_not_integers"),
        ],
    },
    "alignment": {
        "right": [alignment_sum, alignment_ops, alignment_loops],
        "wrong": [
            (alignment_first_head, "head_zero_only"),
            (alignment_over_outputs, "argmax_over_outputs"),
            (alignment_max, "max_not_argmax"),
            (alignment_per_head, "per_head_argmax"),
            (alignment_over_batch, "mean_over_batch"),
            (alignment_mean_of_positions, "argmax_then_mean"),
        ],
    },
}
LAYERS = ("AttentionLayer", "MultiHeadAttention")


#: helpers some answers call: pasted before them
SHARED = (*LAYER_HELPERS, *ATTENTION_LAYER_HELPERS, *MULTI_HEAD_HELPERS, _translator)


def _helpers_called(answer) -> list:
    """The helpers of ``SHARED`` that ``answer`` calls, and those they call, in ``SHARED``'s
    order."""
    texts, needed = [inspect.getsource(answer)], set()
    while True:
        found = {helper for helper in SHARED if helper not in needed and any(
            re.search(rf"\b{helper.__name__}\b", text) for text in texts)}
        if not found:
            return [helper for helper in SHARED if helper in needed]
        needed |= found
        texts = [inspect.getsource(helper) for helper in found]


def answer_code(exercise: str, answer, solution_cell: str) -> str:
    """The code of the answer cell of ``exercise`` holding ``answer`` (and the helpers it
    calls)."""
    code = layer_cell(solution_cell, answer) if exercise in LAYERS else source(answer, exercise)
    needed = [source(helper, helper.__name__) for helper in _helpers_called(answer)]
    return "\n\n".join([*needed, code])
