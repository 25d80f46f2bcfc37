"""The catalogue of known mistakes, by key: what each one is, in a learner's words.

Only descriptions live here. The wrong variants themselves (code) live in
``grader.misconceptions``; the public fixtures store their outputs on fixed inputs.
A description completes the sentence "it matches ..." and then says what to do instead.
"""

DESCRIPTIONS = {
    # 00 dot product
    "dot_elementwise": (
        "the elementwise product a * b: a dot product adds those products up into one number"
    ),
    "dot_sum_times_sum": "sum(a) × sum(b): multiply matching entries first, then add the products",
    "dot_sum_of_sums": "the sum of a + b: multiply matching entries (a * b), do not add them",
    "dot_norm_product": (
        "the product of the lengths ‖a‖·‖b‖: that is the dot product only when a and b point "
        "the same way"
    ),
    "dot_cosine": (
        "the cosine similarity a·b / (‖a‖ ‖b‖): the dot product is not divided by the lengths"
    ),
    # 01 scores
    "no_scaling": "attention without the 1/√d_k scaling: divide q·kᵀ by np.sqrt(d_k)",
    "divide_by_dk": "dividing by d_k instead of √d_k: the scale is 1/np.sqrt(d_k)",
    "scale_by_tk": "scaling by the number of keys: d_k is q.shape[-1], the feature size",
    "k_times_q": "k·qᵀ, the scores transposed: rows must be queries, columns keys",
    "multiply_by_sqrt_dk": "multiplying by √d_k instead of dividing by it",
    # 02 softmax
    "softmax_wrong_axis": (
        "a softmax over the wrong axis: the weights must sum to 1 along the axis asked for "
        "(by default the last one, axis=-1: the keys)"
    ),
    "softmax_ignores_axis": (
        "a softmax that ignores its `axis` argument: pass axis=axis to np.max and np.sum"
    ),
    "softmax_global": (
        "one softmax over the whole array: sum along `axis` only, "
        "np.sum(..., axis=axis, keepdims=True)"
    ),
    "softmax_no_keepdims": (
        "a max and a sum taken without keepdims=True: they broadcast along the wrong axis, "
        "so use np.max(..., keepdims=True) and np.sum(..., keepdims=True)"
    ),
    "softmax_unstable": (
        "the overflow-prone softmax: np.exp(1000) is inf and inf / inf is NaN, so subtract "
        "the row max before exp"
    ),
    "softmax_no_normalise": (
        "exp without normalising: divide by the sum of the exponentials along the axis"
    ),
    "softmax_no_exp": "normalising without exp: x / sum(x) is not a softmax, exponentiate first",
    # 02 masks
    "mask_after_softmax": (
        "masking after the softmax (zeroing weights without renormalising): "
        "mask the scores before the softmax"
    ),
    "mask_inverted": (
        "the inverted mask: True means “may attend”, so keep the scores where the mask is True"
    ),
    "mask_multiplied": (
        "scores multiplied by the mask: a masked score of 0 still gets weight, "
        "use np.where(mask, scores, -np.inf)"
    ),
    "mask_ignored": "an answer that ignores the mask",
    "mask_fully_masked_nan": (
        "NaN in a fully masked row (a 0/0): a row with no allowed key must give all-zero weights"
    ),
    "mask_large_negative": (
        "a fully masked row spread evenly over all keys (what -1e9 in place of -inf gives): "
        "a row with no allowed key must give all-zero weights"
    ),
    "mask_not_bool": (
        "a 0/1 array of numbers: masks must have dtype bool (True = may attend), "
        "e.g. the result of a comparison, or np.ones(..., dtype=bool)"
    ),
    "causal_upper": (
        "the upper triangle (np.triu): position i may attend to the keys j ≤ i, "
        "the lower triangle (np.tril)"
    ),
    "causal_inverted": (
        "the inverted mask, True on the future keys (PyTorch's convention): here True means "
        "“may attend”, so True where j ≤ i"
    ),
    "causal_strict": (
        "the strictly lower triangle: each position may also attend to itself (keep the diagonal)"
    ),
    "causal_all_true": "a mask that allows everything: the causal mask hides the future, j > i",
    "padding_inverted": (
        "the inverted mask: True marks the real tokens (j < length), False the padding"
    ),
    "padding_off_by_one": (
        "j ≤ length, one padding position too many: the real tokens are positions "
        "0 … length - 1, so j < length"
    ),
    "padding_no_query_axis": (
        "shape (B, t) without the query axis: return (B, 1, t) so the mask broadcasts over the "
        "queries, e.g. mask[:, None, :]"
    ),
    "padding_wrong_axis": (
        "shape (B, t, 1), which masks queries instead of keys: return (B, 1, t)"
    ),
    # 03 weighted sum and attention
    "weights_transposed": (
        "the transposed weights (weightsᵀ @ v): rows of the weights are queries, use weights @ v"
    ),
    "v_times_weights": "v @ weights, the product in the wrong order: the output is weights @ v",
    "weights_elementwise": (
        "the elementwise product weights * v: each output row is a sum over the keys, "
        "a matrix product weights @ v"
    ),
    "values_mean": "the plain mean of the values, ignoring the weights",
    "returns_weights_first": (
        "(weights, output), the pair in the wrong order: return (output, weights)"
    ),
    "returns_transposed_weights": (
        "the weights transposed to (..., Tk, Tq): return one row per query, (..., Tq, Tk)"
    ),
    # 06 blockwise attention
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
