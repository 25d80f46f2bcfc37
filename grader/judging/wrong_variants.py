"""Known wrong variants of the function exercises, as live code (decoding's are in
``grader.judging.decoding_variants``): one table per exercise, keyed like
``course_lib.misconceptions.DESCRIPTIONS``, which the exercise's instructor record holds
(``grader.exercises``).

The hidden tests run them on the same random inputs as the learner's answer to name the mistake
an answer makes; ``grader.make_fixtures`` stores their outputs for the public checks. Each
variant makes exactly one mistake and is otherwise right, so it is told apart by its output.
A few mistakes show in how an answer runs rather than in what it returns: they have no variant
here (the checks and the judge measure them directly).
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref


def _t(x):
    return np.swapaxes(x, -1, -2)


def _scores_shape(q, k):
    return (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])


# 00 dot product ------------------------------------------------------------------------------

DOT_PRODUCT = {
    "dot_elementwise": lambda a, b: a * b,
    "dot_sum_times_sum": lambda a, b: np.sum(a) * np.sum(b),
    "dot_sum_of_sums": lambda a, b: np.sum(a + b),
    "dot_norm_product": lambda a, b: np.linalg.norm(a) * np.linalg.norm(b),
    "dot_cosine": lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b)),
}

# 01 scores -----------------------------------------------------------------------------------

ATTENTION_SCORES = {
    "no_scaling": lambda q, k: q @ _t(k),
    "divide_by_dk": lambda q, k: q @ _t(k) / q.shape[-1],
    "scale_by_tk": lambda q, k: q @ _t(k) / np.sqrt(k.shape[-2]),
    "k_times_q": lambda q, k: k @ _t(q) / np.sqrt(q.shape[-1]),
    "multiply_by_sqrt_dk": lambda q, k: q @ _t(k) * np.sqrt(q.shape[-1]),
}

# 02 softmax ----------------------------------------------------------------------------------


def _normalise(e, axis, keepdims=True):
    return e / np.sum(e, axis=axis, keepdims=keepdims)


def _softmax_global(x, axis=-1):
    return _normalise(np.exp(x - np.max(x)), axis=None)


def _softmax_no_keepdims(x, axis=-1):
    return _normalise(np.exp(x - np.max(x, axis=axis)), axis, keepdims=False)


SOFTMAX = {
    "softmax_wrong_axis": lambda x, axis=-1: ref.softmax(x, axis=0),
    "softmax_ignores_axis": lambda x, axis=-1: ref.softmax(x, axis=-1),
    "softmax_global": _softmax_global,
    "softmax_no_keepdims": _softmax_no_keepdims,
    "softmax_unstable": lambda x, axis=-1: _normalise(np.exp(x), axis),
    "softmax_no_normalise": lambda x, axis=-1: np.exp(x),
    "softmax_no_exp": lambda x, axis=-1: _normalise(x, axis),
}

# 02 masks ------------------------------------------------------------------------------------

MASKED_SOFTMAX = {
    "mask_after_softmax": lambda scores, mask: ref.softmax(scores) * mask,
    "mask_inverted": lambda scores, mask: ref.masked_softmax(scores, ~np.asarray(mask)),
    "mask_multiplied": lambda scores, mask: ref.softmax(scores * mask),
    "mask_ignored": lambda scores, mask: ref.softmax(scores),
    "mask_fully_masked_nan": lambda scores, mask: ref.softmax(np.where(mask, scores, -np.inf)),
    "mask_large_negative": lambda scores, mask: ref.softmax(np.where(mask, scores, -1e9)),
}


def _lower(t, k=0):
    return np.tril(np.ones((t, t), dtype=bool), k=k)


CAUSAL_MASK = {
    "causal_upper": lambda t: np.triu(np.ones((t, t), dtype=bool)),
    "causal_inverted": lambda t: ~_lower(t),
    "causal_strict": lambda t: _lower(t, k=-1),
    "causal_all_true": lambda t: np.ones((t, t), dtype=bool),
    "mask_not_bool": lambda t: _lower(t).astype(int),
}


def _positions_vs_lengths(lengths, t):
    """``(positions (1, t), lengths (B, 1))``, ready to compare into a ``(B, t)`` mask."""
    return np.arange(t)[None, :], np.asarray(lengths)[:, None]


def _padding(compare_positions, lengths, t):
    positions, lengths = _positions_vs_lengths(lengths, t)
    return compare_positions(positions, lengths)[:, None, :]  # (B, 1, t)


PADDING_MASK = {
    "padding_inverted": lambda lengths, t: _padding(np.greater_equal, lengths, t),
    "padding_off_by_one": lambda lengths, t: _padding(np.less_equal, lengths, t),
    "padding_no_query_axis": lambda lengths, t: ref.padding_mask(lengths, t)[:, 0, :],
    "padding_wrong_axis": lambda lengths, t: np.swapaxes(ref.padding_mask(lengths, t), 1, 2),
    "mask_not_bool": lambda lengths, t: ref.padding_mask(lengths, t).astype(int),
}

# 03 weighted sum and attention ---------------------------------------------------------------

WEIGHTED_SUM = {
    "weights_transposed": lambda weights, v: _t(weights) @ v,
    "v_times_weights": lambda weights, v: v @ weights,
    "weights_elementwise": lambda weights, v: weights * v,
    "values_mean": lambda weights, v: np.full_like(weights, 1 / weights.shape[-1]) @ v,
}


def _attention(q, k, v, mask=None, *, scores=ref.attention_scores, weights=ref.masked_softmax):
    """Attention assembled from (possibly wrong) parts; returns ``(output, weights)``."""
    w = weights(scores(q, k), mask)
    return w @ v, w


def _when_masked(wrong_masked_softmax):
    """A wrong masked softmax that only goes wrong when there is a mask."""
    return lambda s, mask: ref.softmax(s) if mask is None else wrong_masked_softmax(s, mask)


def _softmax_over_queries(s, mask):
    mask = None if mask is None else _t(np.broadcast_to(mask, s.shape))
    return _t(ref.masked_softmax(_t(s), mask))


def _attention_with_weights(wrong_weights):
    return lambda q, k, v, mask=None: _attention(q, k, v, mask, weights=wrong_weights)


def _attention_reordered(q, k, v, mask=None):
    output, weights = ref.scaled_dot_product_attention(q, k, v, mask)
    return weights, output


def _attention_transposed_weights(q, k, v, mask=None):
    output, weights = ref.scaled_dot_product_attention(q, k, v, mask)
    return output, _t(weights)


SCALED_DOT_PRODUCT_ATTENTION = {
    "no_scaling": lambda q, k, v, mask=None: _attention(
        q, k, v, mask, scores=ATTENTION_SCORES["no_scaling"]
    ),
    "softmax_wrong_axis": _attention_with_weights(_softmax_over_queries),
    "returns_weights_first": _attention_reordered,
    "returns_transposed_weights": _attention_transposed_weights,
    **{
        key: _attention_with_weights(_when_masked(MASKED_SOFTMAX[key]))
        for key in (
            "mask_after_softmax",
            "mask_ignored",
            "mask_fully_masked_nan",
            "mask_large_negative",
        )
    },
}

# 05 positions --------------------------------------------------------------------------------


def _angles(T, d, *, base=10000.0, first=0, exponent=lambda column: column - column % 2):
    """``(T, d)``: the angle of every position and column, ``t / base^(exponent(j) / d)``; with
    the defaults, ``t / 10000^(2i/d)`` for both columns ``2i`` and ``2i + 1`` of pair ``i``."""
    positions = np.arange(first, first + T, dtype=np.float64)[:, None]  # (T, 1)
    return positions / base ** (exponent(np.arange(d)) / d)  # (T, d)


def _interleaved(angles, even=np.sin, odd=np.cos):
    """Sines on the even columns and cosines on the odd ones (or ``even`` and ``odd``)."""
    encoding = even(angles)  # (T, d)
    encoding[:, 1::2] = odd(angles[:, 1::2])
    return encoding


def _halves(T, d):
    """``[sin | cos]``: the sines of every pair's frequency, then their cosines."""
    angles = _angles(T, d)[:, 0::2]  # (T, ⌈d/2⌉): t / 10000^(2i/d), one column per pair
    return np.concatenate([np.sin(angles), np.cos(angles[:, : d // 2])], axis=1)  # (T, d)


SINUSOIDAL_ENCODING = {
    "pe_sin_cos_swapped": lambda T, d: _interleaved(_angles(T, d), even=np.cos, odd=np.sin),
    "pe_frequency_per_column": lambda T, d: _interleaved(_angles(T, d, exponent=lambda j: j)),
    "pe_exponent_i_over_d": lambda T, d: _interleaved(_angles(T, d, exponent=lambda j: j // 2)),
    "pe_halves_concatenated": _halves,
    "pe_positions_from_one": lambda T, d: _interleaved(_angles(T, d, first=1)),
    "pe_transposed": lambda T, d: ref.sinusoidal_encoding(T, d).T,
    "pe_wrong_base": lambda T, d: _interleaved(_angles(T, d, base=1000.0)),
}

def encoding_with_its_own_base(received, T, d):
    """The encoding of base ``b``, where ``b`` is the base ``received`` would have if it were a
    sinusoidal encoding of another base than 10000 (read from ``PE[1, 2] = sin(b^(-2/d))``), or
    None. It names the mistake whatever base an answer used, not 1000 alone."""
    received = np.asarray(received, dtype=np.float64)
    if received.shape != (T, d) or T < 2 or d < 3 or not 0 < received[1, 2] < 1:
        return None
    base = np.arcsin(received[1, 2]) ** (-d / 2)  # ω_1 = b^(-2/d) ≤ 1, read back
    if not np.isfinite(base) or base <= 1:
        return None
    return _interleaved(_angles(T, d, base=base))


# 06 blockwise attention ----------------------------------------------------------------------


def _online_attention(
    q,
    k,
    v,
    block_size,
    mask=None,
    *,
    rescale=True,
    subtract_max=True,
    guard_masked_blocks=True,
    guard_final_division=True,
    last_block=True,
    final_division=True,
):
    """Blockwise attention with switches, each of which turns one step off; all on, it is right."""
    scores_shape = _scores_shape(q, k)
    if mask is not None:
        mask = np.broadcast_to(mask, scores_shape)
    t_k = k.shape[-2]
    stop_at = t_k if last_block else t_k - t_k % block_size
    running_max = np.full((*scores_shape[:-1], 1), -np.inf if subtract_max else 0.0)
    running_sum = np.zeros((*scores_shape[:-1], 1))
    output = np.zeros((*scores_shape[:-1], v.shape[-1]))
    for start in range(0, stop_at, block_size):
        block = slice(start, start + block_size)
        scores = ref.attention_scores(q, k[..., block, :])
        if mask is not None:
            scores = np.where(mask[..., block], scores, -np.inf)
        new_max = np.maximum(running_max, scores.max(axis=-1, keepdims=True))
        if not subtract_max:
            new_max = running_max  # stays 0: no shift at all
        shift = np.where(np.isfinite(new_max), new_max, 0.0) if guard_masked_blocks else new_max
        probs = np.exp(scores - shift)
        factor = np.exp(running_max - shift) if rescale else 1.0
        running_sum = factor * running_sum + probs.sum(axis=-1, keepdims=True)
        output = factor * output + probs @ v[..., block, :]
        running_max = new_max
    if not final_division:
        return output
    if not guard_final_division:
        return output / running_sum
    return np.divide(output, running_sum, out=np.zeros_like(output), where=running_sum > 0)


def _with(**switches):
    return lambda q, k, v, block_size, mask=None: _online_attention(
        q, k, v, block_size, mask, **switches
    )


def _average_of_blocks(q, k, v, block_size, mask=None):
    mask = np.broadcast_to(True if mask is None else mask, _scores_shape(q, k))
    blocks = [slice(start, start + block_size) for start in range(0, k.shape[-2], block_size)]
    outputs = [
        ref.scaled_dot_product_attention(q, k[..., b, :], v[..., b, :], mask[..., b])[0]
        for b in blocks
    ]
    return np.mean(outputs, axis=0)


BLOCKWISE_ATTENTION = {
    "blockwise_no_rescale": _with(rescale=False),
    "blockwise_drops_last_block": _with(last_block=False),
    "blockwise_no_final_division": _with(final_division=False),
    "blockwise_average_of_blocks": _average_of_blocks,
    "blockwise_masked_block_nan": _with(guard_masked_blocks=False, guard_final_division=False),
    "mask_fully_masked_nan": _with(guard_final_division=False),
    "softmax_unstable": _with(subtract_max=False),
}


# 09 attention_backward ------------------------------------------------------------------------


def _backward(q, k, v, d_out, mask=None, *, rowsum=True, scale=True, dk_transposed=True,
              dv_transposed=True, scores_as_dq=False, mask_in_backward=True, guard_rows=True):
    """The backward pass of attention with one switch turned off: the mistake it names."""
    factor = 1 / np.sqrt(q.shape[-1]) if scale else 1.0
    scores = q @ _t(k) / np.sqrt(q.shape[-1])  # (..., Tq, Tk)
    if not guard_rows:
        shifted = np.where(True if mask is None else mask, scores, -np.inf)  # (..., Tq, Tk)
        exp = np.exp(shifted - shifted.max(axis=-1, keepdims=True))  # NaN: -inf - (-inf)
        weights = exp / exp.sum(axis=-1, keepdims=True)  # (..., Tq, Tk)
    else:
        weights = ref.masked_softmax(scores, mask if mask_in_backward else None)
    d_v = (_t(weights) if dv_transposed else weights) @ d_out  # (..., Tk, d_v)
    d_weights = d_out @ _t(v)  # (..., Tq, Tk)
    row_dot = np.sum(d_weights * weights, axis=-1, keepdims=True) if rowsum else 0.0
    d_scores = weights * (d_weights - row_dot)  # (..., Tq, Tk)
    d_q = d_scores if scores_as_dq else d_scores @ k * factor
    d_k = (_t(d_scores) if dk_transposed else d_scores) @ q * factor
    return d_q, d_k, d_v


def _backward_with(**switches):
    return lambda q, k, v, d_out, mask=None: _backward(q, k, v, d_out, mask, **switches)


ATTENTION_BACKWARD = {
    "grad_softmax_no_rowsum": _backward_with(rowsum=False),
    "grad_no_scaling": _backward_with(scale=False),
    "grad_dk_not_transposed": _backward_with(dk_transposed=False),
    "grad_dv_not_transposed": _backward_with(dv_transposed=False),
    "grad_scores_as_dq": _backward_with(scores_as_dq=True),
    "grad_mask_ignored": _backward_with(mask_in_backward=False),
    "grad_fully_masked_nan": _backward_with(guard_rows=False),
}


# 10 nadaraya_watson and additive_scores ------------------------------------------------------


def _nadaraya_watson(x_query, x_train, y_train, width, *, axis=-1, sign=-1.0, power=2,
                     factor=2.0, normalised=True, stable=True):
    """Nadaraya–Watson regression with one switch turned off: the mistake it names."""
    distance = x_query[..., :, None] - x_train[..., None, :]  # (..., n_query, n_train)
    scores = sign * distance**2 / (factor * width**power)  # (..., n_query, n_train)
    if not normalised:
        weights = np.exp(scores)  # the kernel alone, (..., n_query, n_train)
    elif stable:
        weights = ref.softmax(scores, axis=axis)
    else:
        exp = np.exp(scores)  # underflows to 0 for a tiny width: 0/0
        weights = exp / exp.sum(axis=axis, keepdims=True)
    return (weights @ y_train[..., :, None])[..., 0]  # (..., n_query)


def _nadaraya_watson_with(**switches):
    return lambda x_query, x_train, y_train, width: _nadaraya_watson(
        x_query, x_train, y_train, width, **switches)


NADARAYA_WATSON = {
    "nw_softmax_over_queries": _nadaraya_watson_with(axis=-2),
    "nw_width_not_squared": _nadaraya_watson_with(power=1),
    "nw_width_without_two": _nadaraya_watson_with(factor=1.0),
    "nw_farthest_point": _nadaraya_watson_with(sign=1.0),
    "nw_unnormalised": _nadaraya_watson_with(normalised=False),
    "nw_unstable_softmax": _nadaraya_watson_with(stable=False),
}


def _additive_pairs(q, k, w_q, w_k):
    return (q @ w_q)[..., :, None, :] + (k @ w_k)[..., None, :, :]  # (..., Tq, Tk, h)


ADDITIVE_SCORES = {
    "add_tanh_after_v": lambda q, k, w_q, w_k, v: np.tanh(_additive_pairs(q, k, w_q, w_k) @ v),
    "add_no_tanh": lambda q, k, w_q, w_k, v: _additive_pairs(q, k, w_q, w_k) @ v,
    "add_transposed": lambda q, k, w_q, w_k, v: _t(ref.additive_scores(q, k, w_q, w_k, v)),
    "add_pairs_not_broadcast": lambda q, k, w_q, w_k, v: np.tanh(q @ w_q + k @ w_k) @ v,
    "add_weights_swapped": lambda q, k, w_q, w_k, v: ref.additive_scores(q, k, w_k, w_q, v),
}




def _as_arrays(output):
    if isinstance(output, tuple):
        return tuple(np.asarray(part) for part in output)
    return np.asarray(output)


def wrong_outputs(variants: dict, *args, **kwargs) -> dict[str, np.ndarray | tuple]:
    """``{key: output}`` of every wrong variant of an exercise (``variants``: its instructor
    record's, ``grader.exercises``) on these inputs.

    A variant that cannot even run on these shapes (a product of axes that do not match) is
    left out. For a function that returns several arrays, each output is a tuple.
    """
    outputs = {}
    with np.errstate(all="ignore"):
        for key, variant in variants.items():
            try:
                outputs[key] = _as_arrays(variant(*args, **kwargs))
            except (ValueError, IndexError):
                continue
    return outputs
