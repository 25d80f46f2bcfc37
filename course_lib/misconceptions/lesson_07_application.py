"""The mistakes lesson 07 · Attention at work: a small translator is the first to name, by key:
what each one is, in a learner's words, completing "it matches ..." and saying what to do
instead.
"""

DESCRIPTIONS = {
    "no_shift": (
        "no shift: the decoder is given the very character it must predict, so it learns to copy"
    ),
    "shift_left": "a shift the wrong way: the decoder input starts with START and then t₀ … t₈",
    "start_at_end": "START appended at the end instead of put in front",
    "targets_shifted": "the targets shifted too: the decoder targets are the targets unchanged",
    "not_causal": (
        "a decoder self-attention that is not causal: position i sees the characters after it, "
        "so in training it can copy the answer (use_causal_mask=True)"
    ),
    "swapped_cross_attention": (
        "cross-attention the wrong way round: the queries come from the decoder, the keys and "
        "values from the encoder"
    ),
    "padding_not_masked": (
        "padding not masked: the decoder attends to <pad> positions (pass the padding mask to "
        "the cross-attention as attention_mask=…)"
    ),
    "mask_passed_positionally": (
        "a mask passed by position: by position it lands in another parameter (a block's "
        "second one is its context; keras.layers.MultiHeadAttention reads its 4th as "
        "query_mask and ignores it here); pass attention_mask= and context_mask= by keyword"
    ),
    "softmax_output": (
        "a softmax at the end: the model should return logits (the loss is computed with "
        "from_logits=True)"
    ),
    "no_feedback": (
        "predictions never fed back: each step's decoder input must hold the characters "
        "predicted so far"
    ),
    "last_position": "logits read at the last position instead of the current step i",
    "start_kept": "the START token kept in the output: return the TARGET_LEN predicted ids",
    "fed_back_in_place": (
        "each prediction written into the decoder input at its own position i, over the symbol "
        "it was predicted from: it belongs at position i + 1"
    ),
    "head_zero_only": "the first head only: average the weights over the heads first",
    "argmax_over_outputs": "an argmax over the output positions (axis -2) instead of the sources",
    "max_not_argmax": "the largest weight instead of its position (argmax)",
    "per_head_argmax": "an argmax per head, (B, H, Tt): average over the heads first",
    "block_not_used": (
        "blocks made with a fixed class instead of the `block` argument, so that no other "
        "block (yours, or the one the checks pass) can be plugged in"
    ),
    "dtype_changed": (
        "a result of another dtype than the text asks for (np.full and np.zeros make int64 or "
        "float64 unless told): give them dtype=targets.dtype, or cast with .astype(...)"
    ),
    "shift_wrong_axis": (
        "a shift along the dates (axis 0) instead of the characters: shift each row right by "
        "one along axis 1, START in front"
    ),
    "start_missing": (
        "the last character dropped but no START put in front: the decoder inputs are "
        "(n, 10), START followed by t₀ … t₈"
    ),
    "last_not_dropped": (
        "START put in front without dropping the last character, (n, 11): keep "
        "targets[:, :-1] after START"
    ),
    "argmax_without_axis": (
        "np.argmax without an axis: it returns one index into the flattened (n, V) logits for "
        "every date; take the argmax over the vocabulary, axis=-1"
    ),
    "one_step_short": (
        "one step short: the last position is never predicted; make TARGET_LEN steps, and only "
        "skip writing the decoder input after the last one"
    ),
    "ids_not_integers": (
        "a float array where the text asks for integer ids or positions (np.zeros without a "
        "dtype makes float64): np.zeros(..., dtype=\"int32\"), or .astype(\"int32\")"
    ),
    "mean_over_batch": (
        "an average over the batch axis (0) instead of the heads (1): weights are (B, H, Tt, "
        "Ts), average over axis=1"
    ),
    "argmax_then_mean": (
        "an argmax per head, then the mean of the positions (a fraction, not a position): "
        "average the weights over the heads first, then take the argmax"
    ),
    "encoder_padding_not_masked": (
        "an encoder block called without the padding mask: the source's characters attend to "
        "its <pad> positions; call it with attention_mask=not_pad"
    ),
    "encoder_causal": (
        "a causal encoder: the whole source is known before decoding, so each source character "
        "may attend to every other; only the decoder's self-attention is causal"
    ),
    "encoder_output_not_used": (
        "an encoder block whose output is not used: the decoder block's context is the "
        "encoder block's output, not the embedded source"
    ),
    "key_dim_not_divided": (
        "heads as wide as the model (key_dim=d_model): the heads share the width, "
        "key_dim = d_model // num_heads"
    ),
    "positions_missing": (
        "characters embedded without their positions: attention is blind to order, so add the "
        "position encodings (PositionalEmbedding, with `positions`) on both sides"
    ),
}
