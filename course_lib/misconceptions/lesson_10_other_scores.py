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
    "nw_absolute_distance": (
        "the distance |x − x_i| instead of its square: the Gaussian kernel's score is "
        "−(x − x_i)² / (2w²)"
    ),
    "nw_distance_not_squared": (
        "the difference x − x_i not squared: the score −(x − x_i)/(2w²) grows toward one side "
        "instead of falling with the distance; square it, −(x − x_i)² / (2w²)"
    ),
    "nw_width_multiplied": (
        "−(x − x_i)²/2·w², the width multiplied instead of divided (/ 2 * width**2 divides by "
        "2, then multiplies by w²): write / (2 * width**2)"
    ),
    "nw_returns_weights": (
        "the weights (..., n_query, n_train) returned instead of the prediction: return each "
        "query's weighted sum of y_train, ŷ (..., n_query)"
    ),
    "nw_averages_x_train": (
        "an average of the training inputs x_train instead of their targets y_train: x_train "
        "are the keys, y_train the values"
    ),
    "nw_matmul_targets": (
        "weights @ y_train on a batch: a 2-D y_train is multiplied as a matrix; sum over the "
        "training points, (weights * y_train[..., None, :]).sum(axis=-1) or "
        "(weights @ y_train[..., None])[..., 0]"
    ),
    "add_tanh_each_projection": (
        "tanh applied to each projection, tanh(q W_q) + tanh(k W_k): the query and the key "
        "meet inside it, tanh(q W_q + k W_k)"
    ),
    "add_v_ignored": (
        "the h features summed without v: v weighs them, tanh(q W_q + k W_k) @ v"
    ),
    "add_scaled_by_sqrt_h": (
        "additive scores divided by √h: only dot products are scaled; tanh(q W_q + k W_k) v "
        "is bounded by Σ|v| already"
    ),
    "add_projections_multiplied": (
        "the projections multiplied, tanh(q W_q ⊙ k W_k): additive scores add them, "
        "tanh(q W_q + k W_k)"
    ),
    "add_weights_transposed": (
        "w_q and w_k transposed (q @ w_q.T): in the course's rows the matrices act from the "
        "right as given, q @ w_q (d_q → h) and k @ w_k (d_k → h)"
    ),
    "add_v_on_the_left": (
        "v @ tanh(…), v on the left: a 1-D v on the left contracts the keys' axis; "
        "tanh(…) @ v contracts the h features"
    ),
    "add_column_convention": (
        "W_q q, the paper's column convention: in the course's rows the matrices act from the "
        "right, q @ w_q (..., Tq, h) and k @ w_k (..., Tk, h)"
    ),
    "add_keys_projected_with_w_q": (
        "the keys projected with w_q: each side has its own projection, q @ w_q and k @ w_k"
    ),
    "nw_width_doubled_squared": (
        "the distance divided by (2w)² = 4w² instead of 2w²: the score is −(x − x_i)² / (2w²), "
        "2 * width**2"
    ),
    "add_softmax_applied": (
        "the weights softmax(scores) returned instead of the scores: additive_scores returns "
        "the scores (..., Tq, Tk) themselves; the softmax comes after them, in attention"
    ),
    "nw_pairs_not_broadcast": (
        "x_query − x_train taken position by position, which pairs query i with training point "
        "i only: every query meets every point through x_query[..., :, None] − "
        "x_train[..., None, :], (..., n_query, n_train)"
    ),
    "add_relu_not_tanh": (
        "a ReLU where the additive score has a tanh: the features are "
        "tanh(q W_q + k W_k), bounded in (−1, 1), then @ v"
    ),
    "nw_one_curve_only": (
        "a loop over the queries, which works for one curve only: for a batch (B, n_query) "
        "each step takes a row of queries, not one; compute every pair at once, "
        "x_query[..., :, None] − x_train[..., None, :]"
    ),
}
