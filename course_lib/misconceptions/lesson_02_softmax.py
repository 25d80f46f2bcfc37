"""The mistakes lesson 02 · Softmax and masks: from scores to weights is the first to name, by key:
what each one is, in a learner's words, completing "it matches ..." and saying what to do
instead.
"""

DESCRIPTIONS = {
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
        "the inverted mask, True on the future keys (the convention of the attn_mask of "
        "torch.nn.MultiheadAttention; PyTorch's scaled_dot_product_attention, like Keras, "
        "takes True = may attend): here True means “may attend”, so True where j ≤ i"
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
}
