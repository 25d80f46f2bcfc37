"""The catalogue of known mistakes, by key: what each one is, in a learner's words.

Only descriptions live here. The wrong variants themselves (code) live in
``grader.misconceptions``; the public fixtures store their outputs on fixed inputs.
A description completes the sentence "it matches ...".
"""

DESCRIPTIONS = {
    # 01 scores
    "no_scaling": "attention without the 1/√d_k scaling: divide q·kᵀ by np.sqrt(d_k)",
    "divide_by_dk": "dividing by d_k instead of √d_k: the scale is 1/np.sqrt(d_k)",
    "scale_by_tk": "scaling by the number of keys: d_k is q.shape[-1], the feature size",
    "k_times_q": "k·qᵀ, the scores transposed: rows must be queries, columns keys",
    "multiply_by_sqrt_dk": "multiplying by √d_k instead of dividing by it",
}
