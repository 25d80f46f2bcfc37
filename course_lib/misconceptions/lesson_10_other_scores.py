"""The mistakes lesson 10 · Other scores: kernel regression and additive attention is the first to
name, by key: what each one is, in a learner's words, completing "it matches ..." and saying
what to do instead.
"""

DESCRIPTIONS = {
    "nw_softmax_over_queries": (
        "a softmax over the queries (axis=-2) instead of over the training points: each "
        "query's weights are a distribution over the training points, softmax(..., axis=-1)"
    ),
    "nw_width_not_squared": (
        "the distance divided by 2w instead of 2w²: the score is −(x − x_i)² / (2w²), the "
        "exponent of a Gaussian of standard deviation w"
    ),
    "nw_width_without_two": (
        "the distance divided by w² instead of 2w²: the score is −(x − x_i)² / (2w²), the "
        "exponent of a Gaussian of standard deviation w; without the 2 the width acts as w/√2"
    ),
    "nw_farthest_point": (
        "a positive squared distance, which gives the most weight to the farthest training "
        "point: the score is −(x − x_i)², larger for closer points"
    ),
    "nw_unnormalised": (
        "the kernel values summed without normalising them: Σ_i K(x − x_i) y_i must be divided "
        "by Σ_i K(x − x_i), which the softmax does"
    ),
    "nw_unstable_softmax": (
        "a softmax without the row max subtracted: for a small width every e^score underflows "
        "to 0 and 0/0 gives NaN; subtract the max over the training points first"
    ),
    "add_tanh_after_v": (
        "tanh applied after the product with v: the scores are tanh(q W_q + k W_k) v, the "
        "tanh on each of the h features before v sums them"
    ),
    "add_no_tanh": (
        "additive scores without the tanh: (q W_q + k W_k) v = q W_q v + k W_k v is a query "
        "term plus a key term, so every query ranks the keys alike"
    ),
    "add_transposed": (
        "the scores transposed, (..., Tk, Tq): entry (i, j) scores query i against key j, "
        "so the queries are the second-to-last axis"
    ),
    "add_pairs_not_broadcast": (
        "q W_q + k W_k added position by position, which pairs query i with key i only: every "
        "query meets every key through (..., Tq, 1, h) + (..., 1, Tk, h)"
    ),
    "add_weights_swapped": (
        "q projected with w_k and k with w_q: the queries' matrix is w_q (d_q, h), the keys' "
        "w_k (d_k, h)"
    ),
}
