"""Properties every correct attention has, checked on the NumPy answer key with hypothesis.

Shapes are drawn small and every dimension independently; values come from a seeded
generator, so each example is cheap and reproducible from its printed arguments.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.data import random_qkv
from grader import reference as ref

modest = settings(max_examples=40, deadline=None)  # keeps the whole file at a few seconds

lengths = st.integers(1, 6)
leading_axes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)
seeds = st.integers(0, 2**32 - 1)


@st.composite
def attention_inputs(draw, with_mask=False):
    """``(q, k, v, mask)`` of random shapes; the mask keeps at least one key per row."""
    lead, t_q, t_k = draw(leading_axes), draw(lengths), draw(lengths)
    seed = draw(seeds)
    q, k, v = random_qkv(lead, t_q, t_k, draw(lengths), draw(lengths), seed=seed)
    mask = None
    if with_mask:
        mask = np.random.default_rng(seed).random((*lead, t_q, t_k)) < 0.5  # (..., Tq, Tk)
        mask[..., draw(st.integers(0, t_k - 1))] = True
    return q, k, v, mask


@modest
@given(attention_inputs(with_mask=True), st.booleans())
def test_rows_of_the_weights_sum_to_one(inputs, masked):
    q, k, v, mask = inputs
    _, weights = ref.scaled_dot_product_attention(q, k, v, mask if masked else None)
    assert np.all(weights >= 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)


@modest
@given(seeds, st.floats(-1e3, 1e3), st.booleans())
def test_softmax_is_shift_invariant(seed, shift, per_row):
    scores = np.random.default_rng(seed).standard_normal((3, 5))  # (Tq, Tk)
    if per_row:
        shift = shift * np.arange(3.0)[:, None]  # (Tq, 1): a different shift per row
    np.testing.assert_allclose(ref.softmax(scores + shift), ref.softmax(scores), atol=1e-12)
    mask = scores > 0  # (Tq, Tk)
    np.testing.assert_allclose(
        ref.masked_softmax(scores + shift, mask), ref.masked_softmax(scores, mask), atol=1e-12
    )


@modest
@given(attention_inputs(with_mask=True), st.booleans(), st.randoms(use_true_random=False))
def test_permuting_keys_and_values_together_changes_nothing(inputs, masked, random):
    q, k, v, mask = inputs
    mask = mask if masked else None
    perm = list(range(k.shape[-2]))
    random.shuffle(perm)
    output, weights = ref.scaled_dot_product_attention(q, k, v, mask)
    permuted_mask = None if mask is None else mask[..., perm]
    permuted_output, permuted_weights = ref.scaled_dot_product_attention(
        q, k[..., perm, :], v[..., perm, :], permuted_mask
    )
    np.testing.assert_allclose(permuted_output, output, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(permuted_weights, weights[..., perm], rtol=1e-10, atol=1e-12)


@modest
@given(attention_inputs(), st.randoms(use_true_random=False))
def test_permuting_queries_permutes_the_output_rows(inputs, random):
    q, k, v, _ = inputs
    perm = list(range(q.shape[-2]))
    random.shuffle(perm)
    output, _ = ref.scaled_dot_product_attention(q, k, v)
    permuted_output, _ = ref.scaled_dot_product_attention(q[..., perm, :], k, v)
    np.testing.assert_allclose(permuted_output, output[..., perm, :], rtol=1e-10, atol=1e-12)


@modest
@given(attention_inputs())
def test_output_is_a_convex_combination_of_the_values(inputs):
    q, k, v, _ = inputs
    output, _ = ref.scaled_dot_product_attention(q, k, v)
    low, high = v.min(axis=-2, keepdims=True), v.max(axis=-2, keepdims=True)  # (..., 1, d_v)
    assert np.all(output >= low - 1e-12) and np.all(output <= high + 1e-12)


@modest
@given(attention_inputs(with_mask=True), st.data())
def test_a_fully_masked_row_gives_zero_weights_and_zero_output(inputs, data):
    q, k, v, mask = inputs
    row = data.draw(st.integers(0, q.shape[-2] - 1), label="fully masked row")
    mask[..., row, :] = False
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        output, weights = ref.scaled_dot_product_attention(q, k, v, mask)
        blockwise = ref.blockwise_attention(q, k, v, data.draw(lengths, label="block"), mask)
    assert np.all(weights[..., row, :] == 0.0) and np.all(output[..., row, :] == 0.0)
    assert np.all(blockwise[..., row, :] == 0.0)
    assert np.all(np.isfinite(weights)) and np.all(np.isfinite(output))


@modest
@given(seeds, st.sampled_from([1e4, -1e4, 1e3]), st.booleans())
def test_results_are_finite_at_huge_logits(seed, scale, masked):
    rng = np.random.default_rng(seed)
    scores = scale * rng.choice([-1.0, 0.0, 1.0], size=(4, 6))  # (Tq, Tk), logits of ±1e4
    mask = rng.random((4, 6)) < 0.5 if masked else None  # (Tq, Tk), may mask whole rows
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        weights = ref.masked_softmax(scores, mask)
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights.sum(axis=-1), np.any(mask, axis=-1) * 1.0 if masked else 1.0)
    q, k, v = random_qkv(2, 4, 6, 3, 5, seed=seed)
    q *= scale  # scores of order 1e3–1e4
    output, _ = ref.scaled_dot_product_attention(q, k, v)
    assert np.all(np.isfinite(output))
    np.testing.assert_allclose(ref.blockwise_attention(q, k, v, 4), output, atol=1e-10)


@modest
@given(attention_inputs(with_mask=True), st.booleans(), st.integers(1, 8))
def test_blockwise_attention_equals_full_attention(inputs, masked, block_size):
    q, k, v, mask = inputs
    mask = mask if masked else None
    expected, _ = ref.scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(ref.blockwise_attention(q, k, v, block_size, mask), expected,
                               rtol=0, atol=1e-10)
