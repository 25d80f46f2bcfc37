"""The mistakes lesson 13 · The modern block: RoPE, RMSNorm, SwiGLU and grouped-query attention is
the first to name, by key: what each one is, in a learner's words, completing "it matches ..."
and saying what to do instead.
"""

ROPE = {
    "rope_halves_pairing": (
        "RoPE with the halves pairing, feature i with feature i + d/2 (the pairing of GPT-NeoX "
        "and of many open models' code): this lesson grades the RoFormer paper's interleaved "
        "pairing, features 2i and 2i + 1 (x[..., 0::2] and x[..., 1::2])"
    ),
    "rope_exponent_i_over_d": (
        "frequencies base^(-i/d) for pair i: the exponent is 2i/d, where 2i is the index of the "
        "pair's first feature, as in lesson 05 (np.arange(0, d, 2) / d)"
    ),
    "rope_rotation_reversed": (
        "each pair rotated the other way round, by -θ: y_2i = x_2i cos θ - x_2i+1 sin θ and "
        "y_2i+1 = x_2i sin θ + x_2i+1 cos θ"
    ),
    "rope_positions_ignored": (
        "rows rotated by their index 0 … T-1 instead of by `positions`: row t is at position "
        "positions[t] (after a cache of n tokens, the first new row is at n)"
    ),
    "rope_one_angle": (
        "every pair rotated by the same angle, the position itself: pair i turns at its own "
        "frequency, θ_i = position · base^(-2i/d)"
    ),
    "rope_encoding_added": (
        "lesson 05's encodings added to x: RoPE multiplies instead, rotating each pair of x's "
        "features by the position's angle (cos and sin mix the pair's two features)"
    ),
    "rope_exponent_positive": (
        "frequencies base^(+2i/d), which grow with i: the angle is position · base^(−2i/d), "
        "pair 0 turning fastest"
    ),
    "rope_positions_not_a_column": (
        "positions * frequencies without an outer product: (T,) * (d/2,) pairs position i with "
        "frequency i only; the angles are (T, d/2), positions[:, None] * frequencies"
    ),
    "rope_frequencies_end_at_base": (
        "frequencies base^(-2i/(d-2)) (np.linspace(0, 1, d // 2) as the exponent), so that the "
        "slowest pair turns at exactly 1/base: the exponent is 2i/d, np.arange(0, d, 2) / d, "
        "and the slowest pair turns at base^(-(d-2)/d)"
    ),
    "rope_base_ignored": (
        "the base left at 10000 whatever base is passed: the frequencies are base^(−2i/d) with "
        "the base argument"
    ),
}

RMS_NORM = {
    "rms_mean_subtracted": (
        "LayerNorm without its bias: RMSNorm does not subtract the mean, it divides x by "
        "sqrt(mean(x²) + ε) as it is"
    ),
    "rms_eps_outside_sqrt": (
        "ε added after the square root, sqrt(mean(x²)) + ε: it belongs inside, "
        "sqrt(mean(x²) + ε)"
    ),
    "rms_wrong_axis": (
        "a mean over the wrong axis: each vector is normalised over its own features, "
        "np.mean(x**2, axis=-1, keepdims=True)"
    ),
    "rms_gain_forgotten": "RMSNorm without its gain: multiply the normalised x by `gain`",
    "rms_no_sqrt": (
        "dividing by the mean square: the root mean square is its square root, "
        "sqrt(mean(x²) + ε)"
    ),
    "rms_norm_not_rms": (
        "dividing by the length sqrt(Σ x²) instead of the root mean square: take the mean of "
        "x² over the d features, not the sum (the length is √d times larger)"
    ),
    "rms_variance_not_mean_square": (
        "x divided by its standard deviation (np.var or np.std subtract the mean): RMSNorm "
        "divides by the root of the mean square, np.sqrt(np.mean(x**2, axis=-1, keepdims=True) "
        "+ eps)"
    ),
    "rms_no_keepdims": (
        "the mean square without keepdims=True: its (..., T) result does not line up with "
        "x (..., T, d); keep the axis, np.mean(x**2, axis=-1, keepdims=True)"
    ),
    "rms_gain_plus_one": (
        "the normalised x multiplied by 1 + gain (the convention of models that store the gain "
        "as an offset from 1): here gain is the scale itself, multiply by gain"
    ),
    "rms_default_eps": (
        "another default ε: the signature's is eps=1e-6; keep it, it matters when the mean "
        "square is small"
    ),
    "rms_eps_ignored": (
        "ε left out, sqrt(mean(x²)): add eps to the mean square inside the square root, "
        "np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps)"
    ),
    "rms_mean_absolute": (
        "x divided by the mean of |x|: RMSNorm divides by the root of the mean of the squares, "
        "np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps)"
    ),
    "rms_multiplied_not_divided": (
        "x multiplied by its root mean square: divide x by sqrt(mean(x²) + ε), so that the "
        "result no longer grows with x"
    ),
    "rms_mean_over_all_axes": (
        "the mean square over every axis (np.mean without axis): each vector is normalised on "
        "its own, over its d features, np.mean(x**2, axis=-1, keepdims=True)"
    ),
    "rms_gain_before_norm": (
        "the gain applied before the normalisation, which then divides it out again: "
        "normalise x first, then multiply by gain"
    ),
}

SWIGLU = {
    "swiglu_sigmoid_gate": (
        "a sigmoid gate, σ(x W_gate) (that is GLU): SwiGLU gates with SiLU(z) = z·σ(z)"
    ),
    "swiglu_relu_gate": (
        "a ReLU gate (that is ReGLU): SwiGLU gates with SiLU(z) = z·σ(z), smooth and negative "
        "just below 0"
    ),
    "swiglu_gate_up_swapped": (
        "SiLU applied to x @ w_up and not to x @ w_gate: the gate is SiLU(x @ w_gate), and "
        "x @ w_up stays linear"
    ),
    "swiglu_no_up_projection": (
        "a plain feed-forward with SiLU, SiLU(x W_gate) W_down: multiply the gate by the "
        "linear projection x @ w_up before W_down"
    ),
    "swiglu_silu_after_product": (
        "SiLU of the product (x W_gate ⊙ x W_up): only x @ w_gate goes through SiLU, then it "
        "multiplies x @ w_up"
    ),
    "swiglu_no_down_projection": (
        "the hidden units returned without the down projection: the output is "
        "(SiLU(x W_gate) ⊙ x W_up) W_down, (..., d_out)"
    ),
    "swiglu_down_transposed": (
        "w_down transposed: it is (f, d_out) and acts from the right as given, hidden @ w_down"
    ),
    "swiglu_gelu_gate": (
        "a GELU gate (that is GeGLU): SwiGLU gates with SiLU(z) = z·σ(z)"
    ),
    "swiglu_silu_on_both": (
        "SiLU applied to both projections: only the gate x @ w_gate goes through SiLU, "
        "x @ w_up stays linear"
    ),
    "swiglu_sum_not_product": (
        "the gate added to the linear projection: SwiGLU multiplies them element by element, "
        "SiLU(x @ w_gate) * (x @ w_up)"
    ),
    "swiglu_silu_after_down": (
        "SiLU applied after the down projection: the gate is SiLU(x @ w_gate), inside, and "
        "the output (… ) @ w_down is linear"
    ),
    "swiglu_silu_sign": (
        "z·σ(−z), z / (1 + exp(z)), instead of SiLU(z) = z·σ(z) = z / (1 + exp(−z)): mind "
        "the sign inside the exponential"
    ),
    "swiglu_residual_added": (
        "x added to the output, x + (…) @ w_down: the residual belongs to the block around "
        "the feed-forward; swiglu returns (SiLU(x @ w_gate) * (x @ w_up)) @ w_down alone, "
        "(..., d_out)"
    ),
}

GROUPED_QUERY_ATTENTION = {
    "gqa_heads_tiled": (
        "query head h paired with key–value head h % G (np.tile of the key–value heads): "
        "consecutive query heads share one, head h uses h // (H // G) "
        "(np.repeat(k, H // G, axis=-3))"
    ),
    "gqa_heads_not_repeated": (
        "key–value heads not repeated: H query heads cannot meet G key–value heads; repeat "
        "each one H // G times along the heads' axis, np.repeat(k, H // G, axis=-3)"
    ),
    "gqa_repeated_along_time": (
        "key–value heads repeated along the wrong axis (the keys', axis=-2): repeat along the "
        "heads' axis, np.repeat(k, H // G, axis=-3)"
    ),
}

DESCRIPTIONS = {**ROPE, **RMS_NORM, **SWIGLU, **GROUPED_QUERY_ATTENTION}
