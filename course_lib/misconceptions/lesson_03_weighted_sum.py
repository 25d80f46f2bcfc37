"""The mistakes lesson 03 · The weighted sum: attention, complete is the first to name, by key:
what each one is, in a learner's words, completing "it matches ..." and saying what to do
instead.
"""

DESCRIPTIONS = {
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
}
