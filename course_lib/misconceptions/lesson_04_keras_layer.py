"""The mistakes lesson 04 · The Keras attention layer, on CPU and GPU is the first to name, by key:
what each one is, in a learner's words, completing "it matches ..." and saying what to do
instead.
"""

DESCRIPTIONS = {
    "layer_values_not_projected": (
        "the tutorial bug: W_v is created but never applied, so the raw values are averaged "
        "instead of their projections"
    ),
    "layer_no_scaling": "scores without the 1/√key_dim scaling",
    "layer_scale_by_model_dim": (
        "scaling by √(num_heads·key_dim), the width of all heads together: each head divides by "
        "√key_dim, the size of its own queries and keys"
    ),
    "layer_scale_by_input_dim": (
        "scaling by √(the query's feature size d_query), the width of the layer's input: the "
        "scale is 1/√ of the size of the queries and keys attention compares (units; in "
        "MultiHeadAttention key_dim)"
    ),
    "layer_softmax_wrong_axis": (
        "a softmax over the queries (axis -2): each query's weights over the keys (axis -1) "
        "must sum to 1"
    ),
    "layer_mask_ignored": "attention_mask ignored: the output is the same as without a mask",
    "layer_mask_inverted": "an inverted mask: True means *may attend*",
    "layer_mask_after_softmax": (
        "masking after the softmax: the remaining weights no longer sum to 1 (mask the scores, "
        "then normalise)"
    ),
    "layer_causal_ignored": "use_causal_mask ignored: query i may only see keys j ≤ i",
    "layer_no_output_projection": "no output projection: W_o is created but never applied",
    "layer_signature_order": (
        "call's arguments in another order than Keras's (query, value, key, …): a key or mask "
        "passed by position would land in the wrong place"
    ),
    "layer_heads_not_split": (
        "heads not split properly: (B, T, H·d) reshaped straight to (B, H, T, d) mixes positions "
        "and heads; reshape to (B, T, H, d), then move the head axis"
    ),
    "layer_fully_masked_uniform": (
        "uniform weights on a fully masked row (what -1e9 alone gives): the course's convention "
        "is zero weights, and so a zero attention output, on a row with no allowed key"
    ),
    "layer_fully_masked_nan": "NaN on a fully masked row (-inf scores): keep every row finite",
    "layer_heads_merged_without_transpose": (
        "heads merged without moving the head axis back: (B, H, Tq, d_v) reshaped straight to "
        "(B, Tq, H·d_v) mixes queries and heads; transpose to (B, Tq, H, d_v) first"
    ),
    "layer_key_from_query": (
        "keys taken from the query when `key` is omitted: without a key, the keys come from "
        "the value (key = value)"
    ),
    "layer_biases_ignored": (
        "projections without their biases: each projection is x @ kernel + bias"
    ),
    "layer_scale_by_length": (
        "scaling by √(the number of keys Tk): k.shape[1] is the keys' count, not their size; "
        "divide by √ of the last axis (units; key_dim per head)"
    ),
    "layer_scaled_after_softmax": (
        "the scale applied after the softmax: the weights are divided by √d and no longer sum "
        "to 1; divide the scores, then take the softmax"
    ),
    "layer_scores_as_weights": (
        "the scores (before the softmax) returned as the attention weights: with "
        "return_attention_scores=True, return the weights after the softmax, the ones that "
        "multiply the values"
    ),
    "layer_causal_replaces_mask": (
        "the causal mask used instead of attention_mask when both are given: a key may be "
        "attended when both allow it (logical and)"
    ),
    "layer_masks_combined_with_or": (
        "attention_mask and the causal mask combined with a logical or: a key may be attended "
        "only when both allow it (logical and)"
    ),
    "layer_causal_one_ahead": (
        "a causal mask one diagonal too high (tril with k=1): query i sees key i + 1, one step "
        "into the future; query i may see keys 0 … i"
    ),
    "layer_heads_not_transposed": (
        "heads split without moving the head axis: (B, T, H, d) attended as it is makes each "
        "position attend over the heads; transpose to (B, H, T, d) so that each head attends "
        "over the positions, and back before merging"
    ),
    "layer_heads_merged_in_wrong_order": (
        "heads merged in the wrong order: (B, H, Tq, d_v) moved to (B, Tq, d_v, H) before "
        "flattening interleaves the heads; the output kernel (H, d_v, d) reads head by head, "
        "so transpose to (B, Tq, H, d_v)"
    ),
    "layer_softmax_over_heads": (
        "a softmax over the heads (axis 1): each head's weights over the keys (axis -1) must "
        "sum to 1"
    ),
    "layer_mask_broadcast": (
        "a mask broadcast against the wrong axes of the scores: a (B, Tq, Tk) mask needs a "
        "head axis, (B, 1, Tq, Tk), to reach the scores (B, H, Tq, Tk) — without it, "
        "broadcasting lines the batch up with the heads — and the causal mask is (Tq, Tk)"
    ),
    "layer_weights_averaged_over_heads": (
        "the weights averaged over the heads (PyTorch's average_attn_weights): Keras returns "
        "every head's weights, (B, H, Tq, Tk)"
    ),
    "layer_weight_shapes": (
        "weights created in other shapes than the layer's: a kernel maps its input's last "
        "axis (its first axis) to the projection's size (its last axes); keep build() as the "
        "skeleton gives it"
    ),
    "layer_return_attention_scores": (
        "return_attention_scores not followed: the layer returns (output, weights) when it is "
        "True and the output alone when it is False"
    ),
    "layer_random_at_inference": (
        "randomness at inference (dropout on while predicting): the layer must give the same "
        "output twice on the same inputs; this layer has no dropout"
    ),
    "layer_config_incomplete": (
        "a get_config() without every constructor argument: from_config(get_config()) must "
        "rebuild the same layer, so return {**super().get_config(), …} with each argument "
        "(value_dim and use_bias too)"
    ),
    "layer_causal_aligned_to_the_end": (
        "a causal mask aligned to the last key (tril with k = Tk − Tq): with fewer queries than "
        "keys, query i then sees keys beyond i; Keras's causal mask is the lower triangle from "
        "the first key, query i sees keys 0 … i"
    ),
    "layer_mask_multiplied": (
        "the mask multiplied into the scores: a masked score becomes 0, and e^0 = 1 still gives "
        "the key weight; put a large negative number (−1e9) where the mask is False, before the "
        "softmax"
    ),
    "layer_scale_by_value_dim": (
        "scaling by √value_dim: the scores compare queries with keys, whose size is key_dim; "
        "divide by √key_dim"
    ),
    "layer_weights_heads_last": (
        "the weights returned as (B, Tq, H, Tk): Keras returns them with the heads first, "
        "(B, H, Tq, Tk), as the heads attend"
    ),
}
