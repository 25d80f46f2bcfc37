"""The mistakes lesson 01 · Scores: how well does each key match each query? is the first to name,
by key: what each one is, in a learner's words, completing "it matches ..." and saying what to
do instead.
"""

DESCRIPTIONS = {
    "no_scaling": "attention without the 1/√d_k scaling: divide q·kᵀ by np.sqrt(d_k)",
    "divide_by_dk": "dividing by d_k instead of √d_k: the scale is 1/np.sqrt(d_k)",
    "scale_by_tk": "scaling by the number of keys: d_k is q.shape[-1], the feature size",
    "k_times_q": "k·qᵀ, the scores transposed: rows must be queries, columns keys",
    "multiply_by_sqrt_dk": "multiplying by √d_k instead of dividing by it",
}
