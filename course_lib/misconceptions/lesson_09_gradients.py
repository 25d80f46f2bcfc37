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
}
