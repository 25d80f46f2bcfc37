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
    # also named in lessons 09 and 10
    "global_max": (
        "one max over the whole array subtracted from every row instead of each row's own max: "
        "a row whose scores lie far below the largest one underflows to all zeros; subtract "
        "each row's max, np.max(..., axis=-1, keepdims=True)"
    ),
    "transpose_reverses_batch": (
        "x.T on a batched array: .T reverses every axis, (B, H, T, d) → (d, T, H, B); swap "
        "the last two only, np.swapaxes(x, -1, -2)"
    ),
    "blockwise_max_not_updated": (
        "a running max that is never updated (m = m_new forgotten): m stays -inf, so "
        "exp(m - m_new) = 0 wipes out every earlier block and only the last block counts"
    ),
    "blockwise_output_not_rescaled": (
        "a running sum rescaled by exp(m_old - m_new) but a running output that is not: when "
        "the max grows, rescale both ℓ and o by the same factor"
    ),
    "blockwise_sum_not_rescaled": (
        "a running output rescaled by exp(m_old - m_new) but a running sum that is not: when "
        "the max grows, rescale both ℓ and o by the same factor"
    ),
    "blockwise_blocks_up_to_tq": (
        "blocks counted up to Tq, the number of queries: the blocks run over the keys, "
        "for start in range(0, Tk, block_size) with Tk = k.shape[-2]"
    ),
    "blockwise_overlapping_blocks": (
        "blocks that overlap: range(0, Tk) without its step starts a block at every key, so "
        "each key is counted up to block_size times; use range(0, Tk, block_size)"
    ),
    "blockwise_mask_wrong_axis": (
        "the mask sliced on another axis than the keys' (mask[..., start:stop, :], or "
        "mask[:, start:stop], which is the keys' axis only for a 2-D mask): broadcast the mask "
        "to (..., Tq, Tk) and slice its last axis, mask[..., start:stop]"
    ),
    "blockwise_values_not_sliced": (
        "every value multiplied with one block's weights: a block of keys takes its own "
        "values, probs @ v[..., start:stop, :]"
    ),
    "blockwise_divided_every_block": (
        "the running output divided by ℓ in every block, then rescaled and added to as if it "
        "were not: keep o unnormalised through the loop and divide by ℓ once, at the end"
    ),
    "blockwise_block_one_short": (
        "blocks that stop one key short, k[..., start:start + block_size - 1]: a slice's end "
        "is already left out, so take k[..., start:start + block_size] (and the same for v and "
        "the mask), and every key is used once"
    ),
    "scale_by_value_width": (
        "scores divided by √d_v, the width of the values: the scale is 1/√d_k, with "
        "d_k = q.shape[-1], the width of the queries and keys"
    ),
}
