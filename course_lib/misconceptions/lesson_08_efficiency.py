"""The mistakes lesson 08 · Efficiency: attention that never builds the $T_q \times T_k$ matrix is
the first to name, by key: what each one is, in a learner's words, completing "it matches ..."
and saying what to do instead.
"""

DESCRIPTIONS = {
    "blockwise_no_rescale": (
        "a running sum and output that are not rescaled by exp(m_old - m_new) when the "
        "running max grows"
    ),
    "blockwise_drops_last_block": (
        "dropping the last, shorter block: when block_size does not divide Tk, the last block "
        "holds the remaining keys (stop = min(start + block_size, Tk))"
    ),
    "blockwise_no_final_division": "forgetting the final division by the running sum ℓ",
    "blockwise_average_of_blocks": (
        "an average of per-block softmax results: each block's softmax sees only its own keys, "
        "so combine blocks through the running max and sum instead"
    ),
    "blockwise_masked_block_nan": (
        "NaN after a fully masked block: exp(-inf - (-inf)) is NaN, so shift by 0 while a row's "
        "running max is still -inf"
    ),
    "full_score_matrix": (
        "an answer that builds the full Tq × Tk score matrix: keep only one Tq × block_size "
        "block of scores at a time"
    ),
}
