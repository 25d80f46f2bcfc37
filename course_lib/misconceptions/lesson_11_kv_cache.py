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
        "a softmax over axis 0, which is the cached positions for a single query but the batch "
        "once there are leading axes: the weights sum to 1 over the cache, the last axis of the "
        "scores (..., t + 1), axis=-1"
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
}
