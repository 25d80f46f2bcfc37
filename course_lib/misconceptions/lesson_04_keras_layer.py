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
    "layer_scale_by_input_dim": "scaling by √(query's feature size): the scale is 1/√units",
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
}
