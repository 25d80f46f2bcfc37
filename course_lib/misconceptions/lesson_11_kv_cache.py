"""The mistakes lesson 11 · Decoding one token at a time: the KV cache is the first to name, by
key: what each one is, in a learner's words, completing "it matches ..." and saying what to do
instead.
"""

DESCRIPTIONS = {
    "step_no_scaling": (
        "scores without the 1/√d_k scaling: a cached step is full attention's last row, so its "
        "scores are q_t·k_j / np.sqrt(d_k) too"
    ),
    "step_scale_by_length": (
        "scores divided by √(t + 1), the number of cached positions: the scale is 1/√d_k, with "
        "d_k = q_t.shape[-1] the feature size, the same at every step while the cache grows"
    ),
    "step_softmax_wrong_axis": (
        "a softmax over another axis than the cached positions (axis 0 or -2: the cached "
        "positions for a single query, but the batch or the heads once there are leading axes): "
        "the weights sum to 1 over the cache, the last axis of the scores (..., t + 1), axis=-1"
    ),
    "step_newest_missing": (
        "attention over the cache without its newest position: the newest token's key and value "
        "are appended first and it attends to itself too, positions 0 … t "
        "(k_cache[..., -1, :] included)"
    ),
    "step_cache_ignored": (
        "the newest value alone, v_cache[..., -1, :]: the newest token attends to every cached "
        "position 0 … t, each value weighted by the softmax of its score"
    ),
    "step_unnormalised": (
        "e^score used as the weights without dividing by their sum: the weights over the cached "
        "positions must sum to 1, which the softmax's division does"
    ),
    "step_unstable_softmax": (
        "a softmax without the max subtracted: np.exp(1000) is inf and inf / inf is NaN, so "
        "subtract the largest score over the cached positions before exp"
    ),
    "step_query_axis_kept": (
        "a result of shape (..., 1, d_v), the query axis kept: one new query gives one output "
        "vector, (..., d_v); drop the axis you added, e.g. with [..., 0, :]"
    ),
    "float32_result": (
        "a float32 result for float64 inputs, which the exercise's text rules out: compute in "
        "the inputs' dtype (no .astype(np.float32)), or cast the result back with "
        ".astype(np.float64)"
    ),
    "step_scale_by_value_width": (
        "scores divided by √d_v, the width of the values: the scale is 1/√d_k, with "
        "d_k = q_t.shape[-1], the width of the queries and keys"
    ),
    "step_divide_by_dk": (
        "scores divided by d_k instead of √d_k: divide q_t·k_j by np.sqrt(q_t.shape[-1])"
    ),
    "step_multiply_by_sqrt_dk": (
        "scores multiplied by √d_k instead of divided: q_t·k_j / np.sqrt(d_k)"
    ),
    "step_global_max": (
        "a softmax that subtracts one maximum for the whole batch (np.max(scores) without an "
        "axis): a row whose scores are all far below it underflows to 0 / 0 = NaN; subtract "
        "each row's own maximum, scores.max(axis=-1, keepdims=True)"
    ),
    "step_weights_returned": (
        "the weights (..., t + 1) returned instead of the output: return their weighted sum of "
        "the cached values, (..., d_v)"
    ),
    "tuple_returned": (
        "several arrays returned (a tuple, such as lesson 03's (output, weights)) where the "
        "exercise returns one array: return that array alone"
    ),
    "step_softmax_no_keepdims": (
        "a max or a sum over the cached positions without keepdims=True: (..., t + 1) minus "
        "(...,) does not line up; keep the axis, scores.max(axis=-1, keepdims=True)"
    ),
    "step_weights_not_a_row": (
        "weights (..., t + 1) multiplied with @ as if they were a matrix: the weighted sum over "
        "the cache is np.einsum(\"...t,...tv->...v\", weights, v_cache), or weights[..., None, :] "
        "@ v_cache with the added axis dropped"
    ),
    "step_keys_values_swapped": (
        "the keys and the values swapped: the scores compare q_t with k_cache, and the weights "
        "average v_cache"
    ),
    "step_transpose_every_axis": (
        "k_cache.T, which reverses every axis, batch and heads too: swap the last two alone, "
        "np.swapaxes(k_cache, -1, -2), or use np.einsum"
    ),
    "decode_newest_missing": (
        "attention over the cache before the new token's key and value are in it: append k_t "
        "and v_t first, then attend to positions 0 … t, the new token included"
    ),
    "decode_position_fixed": (
        "every token embedded at position 0: the token of step t gets the position encoding of "
        "t, the cache's length, embed_target(..., start=t)"
    ),
    "decode_cache_not_kept": (
        "a cache that never grows: each token attends to itself alone; concatenate the new key "
        "and value to the cache along its position axis and return the grown cache"
    ),
    "decode_no_scaling": (
        "scores without 1/√d_k: divide q·k by the square root of key_dim, as the full pass does"
    ),
    "decode_keys_as_values": (
        "the keys cached in place of the values: the cache holds the keys at [0] and the values "
        "at [1]"
    ),
    "decode_python_state": (
        "a cache kept in Python state (a list, a global, an attribute): inside tf.function that "
        "code runs once, while tracing; take the cache as an argument and return the grown one"
    ),
    "greedy_not_fed_back": (
        "a decoder that never feeds its prediction back: every step reads START; the token "
        "chosen at step t is the input of step t + 1"
    ),
    "greedy_start_included": (
        "START returned as the first token: return the tokens chosen at steps 0 … length - 1, "
        "not the inputs that produced them"
    ),
    "greedy_prefix_recomputed": (
        "decoding that runs the decoder on the whole prefix at every step: with the cache, each "
        "step embeds and attends from the new token alone (decode_step)"
    ),
    "greedy_encoder_per_step": (
        "a source encoded again at every step: the encoder's output does not change while "
        "decoding, so call translator.encode(source) once, before the loop"
    ),
    "decode_position_wrong_axis": (
        "a position read from another axis of the cache (ops.shape(cache)[1] is the batch): the "
        "new token's position is the cache's length, ops.shape(cache)[2] in its layout "
        "(2, B, t, H, key_dim)"
    ),
    "decode_position_off_by_one": (
        "the token of step t embedded at position t + 1 (beyond the table at the last step): "
        "the first token, START, is at position 0, so start=ops.shape(cache)[2], the tokens "
        "already cached"
    ),
    "decode_scale_by_model_width": (
        "scores divided by √d_model, the width of all heads together: each head's scores are "
        "divided by √key_dim, q.shape[-1]"
    ),
    "decode_newest_twice": (
        "the new key and value attended to twice (appended to the cache that already holds "
        "them): append k_t and v_t once, then attend to the grown cache"
    ),
    "decode_softmax_over_heads": (
        "a softmax over the heads' axis: the weights of each head sum to 1 over the cached "
        "positions, the last axis of the scores (B, H, 1, t + 1)"
    ),
    "decode_biases_dropped": (
        "projections without their biases: the query, key, value and output projections add "
        "b_q, b_k, b_v and b_o, as lesson 04's layer does"
    ),
    "decode_output_projection_dropped": (
        "the heads merged without the output projection: apply W_o and b_o, "
        "ops.einsum(\"bqhk,hkd->bqd\", heads, w_o) + b_o"
    ),
    "decode_context_mask_dropped": (
        "a cross-attention without the context mask: the decoder attends to the source's pads; "
        "pass attention_mask=context_mask to block.cross_attention_layer"
    ),
    "decode_cache_values_first": (
        "a cache with the values at [0] and the keys at [1]: the text's layout holds the keys "
        "at cache[0] and the values at cache[1], ops.stack([k, v])"
    ),
    "decode_cache_wrong_axis": (
        "a cache grown along another axis than its positions': concatenate the new key and "
        "value along axis=2 of (2, B, t, H, key_dim)"
    ),
    "decode_cache_heads_first": (
        "a cache in the layout (2, B, H, t, key_dim), heads before positions: the text's "
        "layout is (2, B, t, H, key_dim), the positions at axis 2"
    ),
    "greedy_ids_transposed": (
        "ids of shape (length, n), one row per step: stack the chosen tokens along axis=1, "
        "(n, length)"
    ),
    "greedy_one_token_short": (
        "one token short, (n, length - 1): START is the input of the first step, not one of "
        "the length tokens; make length steps"
    ),
    "greedy_cache_not_carried": (
        "a cache that is not carried from step to step: each step starts from an empty cache, "
        "so each token attends to itself alone at position 0; pass the cache decode_step "
        "returned to the next step"
    ),
    "greedy_argmax_wrong_axis": (
        "an argmax over the batch axis (0): the next token of each source is the argmax of its "
        "logits over the vocabulary, ops.argmax(logits, axis=-1), (n,)"
    ),
}
