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
}
