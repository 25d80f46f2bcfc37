"""The mistakes lesson 06 · The Transformer block is the first to name, by key: what each one is,
in a learner's words, completing "it matches ..." and saying what to do instead.
"""

DESCRIPTIONS = {
    "block_no_residual": (
        "a block without residual connections: each sublayer's output must be added to its input"
        " (x + f(LN(x)) pre-LN, LN(x + f(x)) post-LN)"
    ),
    "block_norm_first_ignored": (
        "a post-LN block although norm_first=True: pre-LN normalises each sublayer's input, "
        "x + f(LN(x))"
    ),
    "block_always_pre_norm": (
        "a pre-LN block although norm_first=False: post-LN normalises the sum, LN(x + f(x))"
    ),
    "block_residual_normalised": (
        "LN(x + f(LN(x))): in a pre-LN block the sum is not normalised again, x + f(LN(x)) keeps "
        "an identity path from input to output"
    ),
    "block_residual_from_normalised": (
        "LN(x) + f(LN(x)): the residual adds the block's input x itself, x + f(LN(x)), not its "
        "normalised copy"
    ),
    "block_norm_over_positions": (
        "a LayerNorm over the positions (axis 1): LayerNorm normalises each position's features,"
        " the last axis"
    ),
    "block_epsilon_ignored": (
        "LayerNorms with Keras's default epsilon (1e-3): pass epsilon=epsilon to every "
        "LayerNormalization"
    ),
    "block_no_relu": (
        "a feed-forward network without its ReLU: two Dense layers with nothing between them are "
        "one linear map; ff_hidden uses activation=\"relu\""
    ),
    "block_context_mask_ignored": (
        "context_mask ignored: pass it to the cross-attention as attention_mask=context_mask"
    ),
    "block_mask_ignored": (
        "attention_mask ignored: pass it to the self-attention as attention_mask=attention_mask"
    ),
    "block_causal_ignored": (
        "use_causal_mask ignored: pass use_causal_mask=use_causal_mask to the self-attention"
    ),
    "block_self_attention_scores": (
        "the self-attention's weights returned by a block with cross-attention: return the "
        "cross-attention's, (B, H, T, Tc)"
    ),
    "block_final_norm_in_pre_norm": (
        "a pre-LN block whose output is normalised again at the end: pre-LN leaves every sum "
        "unnormalised, y = x + FFN(LN(x)) (a stack of pre-LN blocks gets its one final "
        "LayerNorm outside them)"
    ),
    "block_norm_shared": (
        "a LayerNorm shared between sublayers or left out: each sublayer has its own, "
        "self_attention_norm, cross_attention_norm and ff_norm, each with its own γ and β and "
        "each used once"
    ),
    "block_always_causal": (
        "a self-attention that is always causal: pass use_causal_mask=use_causal_mask, so that "
        "an encoder block (use_causal_mask=False) sees every position"
    ),
    "block_cross_attention_skipped": (
        "a block with cross_attention=True that never attends to the context: after the "
        "self-attention, x ← x + Cross(LN(x)) (pre-LN) or LN(x + Cross(x)) (post-LN), with "
        "cross_attention_layer and cross_attention_norm"
    ),
    "block_epsilon_fixed": (
        "LayerNorms whose epsilon is fixed, whatever the block's epsilon says: pass "
        "epsilon=epsilon (self.epsilon in build) to every LayerNormalization"
    ),
    "block_gelu": (
        "a GELU in the feed-forward network: this block's FFN is max(0, xW_1 + b_1)W_2 + b_2, "
        "ff_hidden = Dense(ff_dim, activation=\"relu\")"
    ),
    "block_relu_after_output": (
        "a ReLU after ff_output too: the FFN ends with the linear map W_2, b_2, "
        "max(0, xW_1 + b_1)W_2 + b_2, so that it can also lower a feature"
    ),
    "block_feed_forward_first": (
        "the sublayers in the wrong order, the feed-forward network first: attention first (self,"
        " then cross), then the FFN"
    ),
    "block_cross_first": (
        "the sublayers in the wrong order, the cross-attention before the self-attention: "
        "self-attention first, then cross-attention to the context, then the FFN"
    ),
    "block_masks_not_combined": (
        "attention_mask dropped when use_causal_mask=True: both apply, pass "
        "attention_mask=attention_mask and use_causal_mask=use_causal_mask together to the "
        "self-attention (Keras combines them with a logical and)"
    ),
    "block_mask_inverted": (
        "attention_mask inverted: True = may attend, as always; pass it as it is"
    ),
    "block_cross_attention_causal": (
        "a causal cross-attention: use_causal_mask is for the self-attention alone, the "
        "cross-attention reads the whole context (only context_mask hides positions of it)"
    ),
    "block_context_mask_inverted": (
        "context_mask inverted: True = may attend, as always; pass it as it is"
    ),
    "block_masks_swapped": (
        "the masks swapped: attention_mask (B, T, T) is the self-attention's, context_mask "
        "(B, T, Tc) the cross-attention's"
    ),
    "block_cross_keys_from_x": (
        "the cross-attention's keys and values taken from x: they come from `context`, "
        "cross_attention_layer(h, context, attention_mask=context_mask), the queries from x"
    ),
    "block_cross_query_from_context": (
        "the cross-attention's queries taken from the context: the queries come from the block's"
        " own positions and the keys and values from `context`, "
        "cross_attention_layer(h, context, ...) in that order"
    ),
    "block_heads_key_dim_swapped": (
        "num_heads and key_dim swapped: MultiHeadAttention(num_heads=num_heads, "
        "key_dim=key_dim), by keyword, gives kernels (d_model, num_heads, key_dim)"
    ),
    "block_ff_dim_unused": (
        "`ff_dim` not used: the FFN's hidden width is ff_dim, ff_hidden = Dense(ff_dim, "
        "activation=\"relu\"), W_1 of shape (d_model, ff_dim)"
    ),
    "block_random_at_inference": (
        "randomness at inference (dropout on, or noise): the block is a function of its inputs "
        "and weights; leave dropout out, or let it follow `training`"
    ),
    "block_ff_no_residual": (
        "a feed-forward network without its residual connection: it is a sublayer like the "
        "attention, x + FFN(LN(x)) pre-LN, LN(x + FFN(x)) post-LN"
    ),
    "block_norm_inside_residual": (
        "x + LN(f(x)), the LayerNorm on the wrong side of the residual: post-LN normalises the "
        "sum, LN(x + f(x)); pre-LN normalises the sublayer's input, x + f(LN(x))"
    ),
    "block_ff_output_missing": (
        "a feed-forward network without ff_output: ff_hidden's ff_dim features go back to "
        "d_model through ff_output, FFN(h) = ff_output(ff_hidden(h)), before the residual adds "
        "them to x"
    ),
    "block_queries_only_normalised": (
        "a pre-LN self-attention that normalises its queries alone, MHA(LN(x), x): the "
        "queries, keys and values all come from the normalised input, h = LN(x), "
        "self_attention(h, h)"
    ),
    "block_queries_not_normalised": (
        "a pre-LN self-attention whose queries come from the raw x, MHA(x, LN(x)): the "
        "queries, keys and values all come from the normalised input, h = LN(x), "
        "self_attention(h, h)"
    ),
    "block_causal_or_padding": (
        "the causal mask and attention_mask joined by \"or\": a position may attend only where "
        "both allow it, so join them with ops.logical_and, or pass attention_mask=... together "
        "with use_causal_mask=True and let MultiHeadAttention join them"
    ),
    "block_causal_upper": (
        "a causal mask that is upper-triangular (triu): position t sees itself and the future, "
        "not the past; the causal mask is lower-triangular, ops.tril of ones (True = may "
        "attend), or use_causal_mask=True"
    ),
    "block_ff_residual_from_input": (
        "the feed-forward network's residual taken from the block's input: each sublayer adds "
        "its output to its own input, the attention's result, x ← x + FFN(LN(x)) after "
        "x ← x + Attn(LN(x))"
    ),
    "block_weights_averaged_over_heads": (
        "the attention weights averaged over the heads, (B, T, T): return every head's weights "
        "as MultiHeadAttention gives them, (B, H, T, T), or (B, H, T, Tc) for the "
        "cross-attention"
    ),
    "block_mask_by_position": (
        "a mask passed to MultiHeadAttention by position: its fourth positional argument is "
        "query_mask, which Keras also fills itself, so the call fails; pass every mask by "
        "keyword, self_attention(h, h, attention_mask=attention_mask) and "
        "cross_attention_layer(h, context, attention_mask=context_mask)"
    ),
    "block_config_incomplete": (
        "a get_config() that does not rebuild the block: return {**super().get_config(), "
        "\"num_heads\": ..., \"key_dim\": ..., \"ff_dim\": ..., \"cross_attention\": ..., "
        "\"norm_first\": ..., \"epsilon\": ...}, each argument the constructor received"
    ),
}
