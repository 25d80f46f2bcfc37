"""The catalogue of known mistakes, by key: what each one is, in a learner's words.

Only descriptions live here. The wrong variants themselves (code) live in
``grader.judging.wrong_variants``; the public fixtures store their outputs on fixed inputs.
A description completes the sentence "it matches ..." and then says what to do instead.
Lessons 12's and 13's are written in ``course_lib.language_model_misconceptions`` and
``course_lib.modern_block_misconceptions`` and merged here.
"""

from course_lib.language_model_misconceptions import DESCRIPTIONS as LESSON_12
from course_lib.modern_block_misconceptions import DESCRIPTIONS as LESSON_13

DESCRIPTIONS = {
    # 00 dot product
    "dot_elementwise": (
        "the elementwise product a * b: a dot product adds those products up into one number"
    ),
    "dot_sum_times_sum": "sum(a) × sum(b): multiply matching entries first, then add the products",
    "dot_sum_of_sums": "the sum of a + b: multiply matching entries (a * b), do not add them",
    "dot_norm_product": (
        "the product of the lengths ‖a‖·‖b‖: that is the dot product only when a and b point "
        "the same way"
    ),
    "dot_cosine": (
        "the cosine similarity a·b / (‖a‖ ‖b‖): the dot product is not divided by the lengths"
    ),
    # 01 scores
    "no_scaling": "attention without the 1/√d_k scaling: divide q·kᵀ by np.sqrt(d_k)",
    "divide_by_dk": "dividing by d_k instead of √d_k: the scale is 1/np.sqrt(d_k)",
    "scale_by_tk": "scaling by the number of keys: d_k is q.shape[-1], the feature size",
    "k_times_q": "k·qᵀ, the scores transposed: rows must be queries, columns keys",
    "multiply_by_sqrt_dk": "multiplying by √d_k instead of dividing by it",
    # 02 softmax
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
    # 02 masks
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
    # 03 weighted sum and attention
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
    # 06 blockwise attention
    "blockwise_no_rescale": (
        "a running sum and output that are not rescaled by exp(m_old - m_new) when the "
        "running max grows"
    ),
    "blockwise_drops_last_block": (
        "dropping the last, shorter block: when block_size does not divide Tk, the last block "
        "holds the remaining keys (stop = min(start + block_size, Tk))"
    ),
    "blockwise_no_final_division": "forgetting the final division by the running sum ℓ",
    "blockwise_average_of_blocks": (
        "an average of per-block softmax results: each block's softmax sees only its own keys, "
        "so combine blocks through the running max and sum instead"
    ),
    "blockwise_masked_block_nan": (
        "NaN after a fully masked block: exp(-inf - (-inf)) is NaN, so shift by 0 while a row's "
        "running max is still -inf"
    ),
    "full_score_matrix": (
        "an answer that builds the full Tq × Tk score matrix: keep only one Tq × block_size "
        "block of scores at a time"
    ),
    # 05 positions
    "pe_sin_cos_swapped": (
        "sin and cos swapped: the even columns (0, 2, 4, …) hold the sines, PE[t, 2i] = "
        "sin(t / 10000^(2i/d)), and the odd ones the cosines"
    ),
    "pe_frequency_per_column": (
        "a frequency per column, t / 10000^(j/d) for column j: the sine and the cosine of a pair "
        "share one frequency, t / 10000^(2i/d) in both columns 2i and 2i + 1"
    ),
    "pe_exponent_i_over_d": (
        "the exponent i/d with i the pair's index, so the frequencies fall half as fast as they "
        "should: the exponent is 2i/d, the index of the pair's first column over d"
    ),
    "pe_halves_concatenated": (
        "the sines in the first half of the columns and the cosines in the second, [sin | cos]: "
        "a valid encoding, which some libraries use, but not this exercise's convention, which "
        "interleaves them: sin on the even columns, cos on the odd ones (PE[:, 0::2] and "
        "PE[:, 1::2])"
    ),
    "pe_positions_from_one": (
        "positions counted from 1: the first position is t = 0, so PE[0] = (0, 1, 0, 1, …); "
        "use np.arange(T)"
    ),
    "pe_transposed": "the encoding transposed, (d, T): one row per position, shape (T, d)",
    "pe_wrong_base": (
        "a base other than 10000: the angle is t / 10000^(2i/d), so that the wavelengths grow "
        "geometrically from 2π to almost 10000·2π"
    ),
    # 09 gradients
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
    # 10 other scores
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
    # 04 the Keras layers
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
    # 06 the Transformer block
    "block_no_residual": (
        "a block without residual connections: each sublayer's output must be added to its input"
        " (x + f(LN(x)) pre-LN, LN(x + f(x)) post-LN)"
    ),
    "block_norm_first_ignored": (
        "a post-LN block although norm_first=True: pre-LN normalises each sublayer's input, "
        "x + f(LN(x))"
    ),
    "block_always_pre_norm": (
        "a pre-LN block although norm_first=False: post-LN normalises the sum, LN(x + f(x))"
    ),
    "block_residual_normalised": (
        "LN(x + f(LN(x))): in a pre-LN block the sum is not normalised again, x + f(LN(x)) keeps "
        "an identity path from input to output"
    ),
    "block_residual_from_normalised": (
        "LN(x) + f(LN(x)): the residual adds the block's input x itself, x + f(LN(x)), not its "
        "normalised copy"
    ),
    "block_norm_over_positions": (
        "a LayerNorm over the positions (axis 1): LayerNorm normalises each position's features,"
        " the last axis"
    ),
    "block_epsilon_ignored": (
        "LayerNorms with Keras's default epsilon (1e-3): pass epsilon=epsilon to every "
        "LayerNormalization"
    ),
    "block_no_relu": (
        "a feed-forward network without its ReLU: two Dense layers with nothing between them are "
        "one linear map; ff_hidden uses activation=\"relu\""
    ),
    "block_context_mask_ignored": (
        "context_mask ignored: pass it to the cross-attention as attention_mask=context_mask"
    ),
    "block_mask_ignored": (
        "attention_mask ignored: pass it to the self-attention as attention_mask=attention_mask"
    ),
    "block_causal_ignored": (
        "use_causal_mask ignored: pass use_causal_mask=use_causal_mask to the self-attention"
    ),
    "block_self_attention_scores": (
        "the self-attention's weights returned by a block with cross-attention: return the "
        "cross-attention's, (B, H, T, Tc)"
    ),
    # 07 the translator
    "no_shift": (
        "no shift: the decoder is given the very character it must predict, so it learns to copy"
    ),
    "shift_left": "a shift the wrong way: the decoder input starts with START and then t₀ … t₈",
    "start_at_end": "START appended at the end instead of put in front",
    "targets_shifted": "the targets shifted too: the decoder targets are the targets unchanged",
    "not_causal": (
        "a decoder self-attention that is not causal: position i sees the characters after it, "
        "so in training it can copy the answer (use_causal_mask=True)"
    ),
    "swapped_cross_attention": (
        "cross-attention the wrong way round: the queries come from the decoder, the keys and "
        "values from the encoder"
    ),
    "padding_not_masked": (
        "padding not masked: the decoder attends to <pad> positions (pass the padding mask to "
        "the cross-attention as attention_mask=…)"
    ),
    "mask_passed_positionally": (
        "a mask passed by position: by position it lands in another parameter (a block's "
        "second one is its context; keras.layers.MultiHeadAttention reads its 4th as "
        "query_mask and ignores it here); pass attention_mask= and context_mask= by keyword"
    ),
    "softmax_output": (
        "a softmax at the end: the model should return logits (the loss is computed with "
        "from_logits=True)"
    ),
    "no_feedback": (
        "predictions never fed back: each step's decoder input must hold the characters "
        "predicted so far"
    ),
    "last_position": "logits read at the last position instead of the current step i",
    "start_kept": "the START token kept in the output: return the TARGET_LEN predicted ids",
    "fed_back_in_place": (
        "each prediction written into the decoder input at its own position i, over the symbol "
        "it was predicted from: it belongs at position i + 1"
    ),
    "head_zero_only": "the first head only: average the weights over the heads first",
    "argmax_over_outputs": "an argmax over the output positions (axis -2) instead of the sources",
    "max_not_argmax": "the largest weight instead of its position (argmax)",
    "per_head_argmax": "an argmax per head, (B, H, Tt): average over the heads first",
    "block_not_used": (
        "blocks made with a fixed class instead of the `block` argument, so that no other "
        "block (yours, or the one the checks pass) can be plugged in"
    ),
    # 11 the KV cache
    "step_no_scaling": (
        "scores without the 1/√d_k scaling: a cached step is full attention's last row, so its "
        "scores are q_t·k_j / np.sqrt(d_k) too"
    ),
    "step_scale_by_length": (
        "scores divided by √(t + 1), the number of cached positions: the scale is 1/√d_k, with "
        "d_k = q_t.shape[-1] the feature size, the same at every step while the cache grows"
    ),
    "step_softmax_wrong_axis": (
        "a softmax over axis 0, which is the cached positions for a single query but the batch "
        "once there are leading axes: the weights sum to 1 over the cache, the last axis of the "
        "scores (..., t + 1), axis=-1"
    ),
    "step_newest_missing": (
        "attention over the cache without its newest position: the newest token's key and value "
        "are appended first and it attends to itself too, positions 0 … t "
        "(k_cache[..., -1, :] included)"
    ),
    "step_cache_ignored": (
        "the newest value alone, v_cache[..., -1, :]: the newest token attends to every cached "
        "position 0 … t, each value weighted by the softmax of its score"
    ),
    "step_unnormalised": (
        "e^score used as the weights without dividing by their sum: the weights over the cached "
        "positions must sum to 1, which the softmax's division does"
    ),
    "step_unstable_softmax": (
        "a softmax without the max subtracted: np.exp(1000) is inf and inf / inf is NaN, so "
        "subtract the largest score over the cached positions before exp"
    ),
    "step_query_axis_kept": (
        "a result of shape (..., 1, d_v), the query axis kept: one new query gives one output "
        "vector, (..., d_v); drop the axis you added, e.g. with [..., 0, :]"
    ),
    # 11 decode_step and cached_greedy_decode
    "decode_newest_missing": (
        "attention over the cache before the new token's key and value are in it: append k_t "
        "and v_t first, then attend to positions 0 … t, the new token included"
    ),
    "decode_position_fixed": (
        "every token embedded at position 0: the token of step t gets the position encoding of "
        "t, the cache's length, embed_target(..., start=t)"
    ),
    "decode_cache_not_kept": (
        "a cache that never grows: each token attends to itself alone; concatenate the new key "
        "and value to the cache along its position axis and return the grown cache"
    ),
    "decode_no_scaling": (
        "scores without 1/√d_k: divide q·k by the square root of key_dim, as the full pass does"
    ),
    "decode_keys_as_values": (
        "the keys cached in place of the values: the cache holds the keys at [0] and the values "
        "at [1]"
    ),
    "decode_python_state": (
        "a cache kept in Python state (a list, a global, an attribute): inside tf.function that "
        "code runs once, while tracing; take the cache as an argument and return the grown one"
    ),
    "greedy_not_fed_back": (
        "a decoder that never feeds its prediction back: every step reads START; the token "
        "chosen at step t is the input of step t + 1"
    ),
    "greedy_start_included": (
        "START returned as the first token: return the tokens chosen at steps 0 … length - 1, "
        "not the inputs that produced them"
    ),
    "greedy_prefix_recomputed": (
        "decoding that runs the decoder on the whole prefix at every step: with the cache, each "
        "step embeds and attends from the new token alone (decode_step)"
    ),
    "greedy_encoder_per_step": (
        "a source encoded again at every step: the encoder's output does not change while "
        "decoding, so call translator.encode(source) once, before the loop"
    ),
    # 12 cosine_schedule, sampling_distribution, adamw_step
    **LESSON_12,
    # 13 apply_rope, rms_norm, swiglu, grouped_query_attention
    **LESSON_13,
}
