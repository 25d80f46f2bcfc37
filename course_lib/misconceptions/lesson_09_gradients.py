"""The mistakes lesson 09 · Gradients: attention's backward pass is the first to name, by key: what
each one is, in a learner's words, completing "it matches ..." and saying what to do instead.
"""

DESCRIPTIONS = {
    "grad_softmax_no_rowsum": (
        "dS = A ⊙ dA, the softmax's Jacobian without its rank-one term: each weight depends on "
        "every score of its row, so dS = A ⊙ (dA − rowsum(dA ⊙ A)), with the row sum kept "
        "(keepdims=True)"
    ),
    "grad_no_scaling": (
        "dq and dk without the 1/√d_k: the scores are q·kᵀ/√d_k, so the chain rule brings the "
        "same factor into dq = dS k/√d_k and dk = dSᵀ q/√d_k"
    ),
    "grad_dk_not_transposed": (
        "dk = dS q, dS not transposed: dS is (Tq, Tk) and dk has one row per key, so "
        "dk = dSᵀ q/√d_k (np.swapaxes(dS, -1, -2))"
    ),
    "grad_dv_not_transposed": (
        "dv = A dO, the weights not transposed: key j collects the gradient of every query "
        "that attends to it, dv = Aᵀ dO"
    ),
    "grad_scores_as_dq": (
        "the gradient of the scores dS returned as dq: dq = dS k/√d_k, one row per query "
        "of size d_k"
    ),
    "grad_mask_ignored": (
        "a backward pass that ignores the mask: the weights of the backward pass are those of "
        "the forward pass, masked, so that no gradient flows through a masked key"
    ),
    "grad_fully_masked_nan": (
        "NaN in a fully masked row (a 0/0 in the weights): its weights are all 0, so its "
        "output and all its gradients are 0"
    ),
    "grad_rowsum_wrong_axis": (
        "the row sum of dA ⊙ A taken over the queries (axis=-2): each query's softmax couples "
        "the keys of its own row, so sum over the keys, axis=-1, keepdims=True"
    ),
    "grad_rowsum_no_keepdims": (
        "the row sum without keepdims=True: its (..., Tq) result lines up with the keys' axis "
        "instead of the rows; keep the axis, np.sum(dA * A, axis=-1, keepdims=True)"
    ),
    "grad_rowsum_without_weights": (
        "rowsum(dA) instead of rowsum(dA ⊙ A): the softmax's Jacobian diag(a) − a aᵀ weighs "
        "each dA_j by a_j, so dS = A ⊙ (dA − rowsum(dA ⊙ A))"
    ),
    "grad_rowsum_outside_weights": (
        "dS = A ⊙ dA − rowsum(dA ⊙ A), the row sum not multiplied by A: both terms are "
        "weighted, dS = A ⊙ (dA − rowsum(dA ⊙ A))"
    ),
    "grad_scale_multiplied": (
        "dq and dk multiplied by √d_k instead of divided: the scores are q kᵀ/√d_k, so "
        "dq = dS k/√d_k and dk = dSᵀ q/√d_k"
    ),
    "grad_scaled_twice": (
        "the 1/√d_k applied twice (to dS and again to dq and dk), dividing them by d_k: the "
        "chain rule brings one factor 1/√d_k, dq = dS k/√d_k and dk = dSᵀ q/√d_k"
    ),
    "grad_weights_unscaled": (
        "weights recomputed without the 1/√d_k: the backward pass uses the forward pass's "
        "weights, A = softmax(q kᵀ/√d_k) (masked)"
    ),
    "grad_dv_from_scores": (
        "dv = Sᵀ dO, with the scores instead of the weights: the output is A v, so "
        "dv = Aᵀ dO with the softmax's weights A"
    ),
    "grad_dq_k_transposed": (
        "dq = dS kᵀ: dS is (Tq, Tk) and k is (Tk, d_k), so dq = dS k/√d_k, without a "
        "transpose"
    ),
    "grad_da_v_not_transposed": (
        "dA = dO v, v not transposed: dA has one entry per (query, key), dA = dO vᵀ "
        "(np.swapaxes(v, -1, -2))"
    ),
    "grad_q_k_swapped": (
        "dq computed from q and dk from k: S = q kᵀ/√d_k, so each takes the other, "
        "dq = dS k/√d_k and dk = dSᵀ q/√d_k"
    ),
    "grad_returns_wrong_order": (
        "(dv, dk, dq), the gradients in the wrong order: return (dq, dk, dv), in the order "
        "of the inputs q, k, v"
    ),
    "grad_dv_scaled": (
        "dv multiplied by 1/√d_k too: the scale is in the scores, so only dq and dk carry it; "
        "dv = Aᵀ dO"
    ),
    "grad_mask_on_ds": (
        "the mask applied to dS instead of the weights: recompute the forward pass's masked "
        "weights, A = masked softmax, so that dv, dA and dS all see the mask"
    ),
    "grad_ds_sign_flipped": (
        "dS with its sign flipped, A ⊙ (rowsum(dA ⊙ A) − dA): the gradient of the scores is "
        "dS = A ⊙ (dA − rowsum(dA ⊙ A)), dA first"
    ),
    "grad_softmax_skipped": (
        "dS = dA, as if the weights were the scores: the gradient goes back through the "
        "softmax, dS = A ⊙ (dA − rowsum(dA ⊙ A))"
    ),
}
