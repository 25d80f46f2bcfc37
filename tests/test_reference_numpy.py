"""The NumPy answer key: hand-computed values, masks, error messages and blockwise attention.

Agreement with ``keras.ops.dot_product_attention`` is in ``test_reference_keras.py``;
randomised properties are in ``test_properties.py``.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from course_lib.data import random_qkv
from grader import reference as ref


def _random_mask(shape, seed, fully_masked_rows=()):
    """A boolean mask with about 60 % allowed entries and the given query rows fully masked."""
    mask = np.random.default_rng(seed).random(shape) < 0.6  # (..., Tq, Tk)
    mask[..., 0] = True  # every row allows at least one key...
    for row in fully_masked_rows:
        mask[..., row, :] = False  # ...except these
    return mask


# --- hand-computed values ------------------------------------------------------------------


def test_attention_scores_by_hand():
    q = np.array([[1.0, 0.0], [1.0, 1.0]])  # (2, 2)
    k = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]])  # (3, 2)
    expected = np.array([[2.0, 0.0, 1.0], [2.0, 3.0, 2.0]]) / np.sqrt(2)  # (2, 3)
    np.testing.assert_allclose(ref.attention_scores(q, k), expected, rtol=1e-15)


def test_softmax_by_hand_and_at_logits_of_1000():
    x = np.array([0.0, np.log(3.0)])
    np.testing.assert_allclose(ref.softmax(x), [0.25, 0.75], rtol=1e-15)
    np.testing.assert_allclose(ref.softmax(x + 1000.0), [0.25, 0.75], rtol=1e-12)
    columns = ref.softmax(np.array([[0.0, 0.0], [np.log(3.0), 0.0]]), axis=0)
    np.testing.assert_allclose(columns, [[0.25, 0.5], [0.75, 0.5]], rtol=1e-15)


def test_masked_softmax_by_hand():
    scores = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
    mask = np.array([[True, False, True], [False, False, False]])  # (2, 3)
    e1, e3 = np.exp(1.0), np.exp(3.0)
    expected = np.array([[e1 / (e1 + e3), 0.0, e3 / (e1 + e3)], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(ref.masked_softmax(scores, mask), expected, rtol=1e-15)


def test_scaled_dot_product_attention_by_hand():
    q = np.array([[0.0, 0.0]])  # (1, 2): equal scores for every key
    k = np.array([[1.0, 2.0], [3.0, 4.0]])  # (2, 2)
    v = np.array([[2.0, 0.0, 4.0], [4.0, 2.0, 0.0]])  # (2, 3)
    output, weights = ref.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(weights, [[0.5, 0.5]], rtol=1e-15)
    np.testing.assert_allclose(output, [[3.0, 1.0, 2.0]], rtol=1e-15)


def test_weighted_sum_is_a_matrix_product_over_leading_axes():
    rng = np.random.default_rng(0)
    weights = rng.random((2, 3, 4, 5))  # (B, H, Tq, Tk)
    v = rng.standard_normal((2, 3, 5, 6))  # (B, H, Tk, d_v)
    expected = np.einsum("bhqk,bhkd->bhqd", weights, v)  # (B, H, Tq, d_v)
    np.testing.assert_allclose(ref.weighted_sum(weights, v), expected, rtol=1e-12)


def test_integer_inputs_become_float64_and_float32_stays_float32():
    q = np.arange(6).reshape(2, 3)  # (2, 3) int
    assert ref.attention_scores(q, q).dtype == np.float64
    q32 = q.astype(np.float32)
    output, weights = ref.scaled_dot_product_attention(q32, q32, q32)
    assert output.dtype == weights.dtype == np.float32


# --- masks ---------------------------------------------------------------------------------


def test_causal_mask_values():
    expected = np.array(
        [[True, False, False, False],
         [True, True, False, False],
         [True, True, True, False],
         [True, True, True, True]]
    )
    np.testing.assert_array_equal(ref.causal_mask(4), expected)
    assert ref.causal_mask(4).dtype == np.bool_
    assert ref.causal_mask(0).shape == (0, 0)


def test_padding_mask_values():
    mask = ref.padding_mask(np.array([3, 1, 0, 4]), 4)
    assert mask.shape == (4, 1, 4) and mask.dtype == np.bool_
    expected = np.array(
        [[True, True, True, False],
         [True, False, False, False],
         [False, False, False, False],
         [True, True, True, True]]
    )
    np.testing.assert_array_equal(mask[:, 0, :], expected)


def test_padding_mask_hides_the_padding_of_each_sequence():
    q, k, v = random_qkv(2, 3, 5, 4, 6, seed=1)
    lengths = np.array([5, 2])
    output, weights = ref.scaled_dot_product_attention(q, k, v, ref.padding_mask(lengths, 5))
    assert np.all(weights[1, :, 2:] == 0.0)
    unpadded, _ = ref.scaled_dot_product_attention(q[1], k[1, :2], v[1, :2])
    np.testing.assert_allclose(output[1], unpadded, rtol=1e-12)


def test_fully_masked_rows_give_zero_weights_and_zero_output():
    q, k, v = random_qkv((2, 3), 4, 6, 5, 7, seed=2)
    mask = _random_mask((2, 1, 4, 6), seed=3, fully_masked_rows=(1, 3))
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        output, weights = ref.scaled_dot_product_attention(q, k, v, mask)
    assert np.all(weights[..., [1, 3], :] == 0.0) and np.all(output[..., [1, 3], :] == 0.0)
    np.testing.assert_allclose(weights[..., [0, 2], :].sum(axis=-1), 1.0, rtol=1e-12)


def test_mask_after_softmax_would_differ():
    """Masking must renormalise: the allowed weights of a row sum to 1, not to less."""
    scores = np.random.default_rng(4).standard_normal((3, 5))  # (Tq, Tk)
    mask = _random_mask((3, 5), seed=5)
    weights = ref.masked_softmax(scores, mask)
    after = np.where(mask, ref.softmax(scores), 0.0)  # the wrong order
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    assert not np.allclose(weights, after)


# --- error messages ------------------------------------------------------------------------

q34, k54, v56 = np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 6))


@pytest.mark.parametrize(
    "call, received",
    [
        (lambda: ref.attention_scores(q34, np.ones((5, 3))), "k.shape=(5, 3)"),
        (lambda: ref.attention_scores(np.ones((2, 3, 4)), np.ones((3, 5, 4))), "k.shape=(3, 5, 4)"),
        (lambda: ref.attention_scores(np.ones(4), k54), "q.shape=(4,)"),
        (lambda: ref.weighted_sum(np.ones((3, 5)), np.ones((4, 6))), "v.shape=(4, 6)"),
        (lambda: ref.scaled_dot_product_attention(q34, k54, np.ones((4, 6))), "v.shape=(4, 6)"),
        (lambda: ref.scaled_dot_product_attention(q34, np.ones((5, 2)), v56), "k.shape=(5, 2)"),
        (lambda: ref.scaled_dot_product_attention(q34, k54, v56, np.ones((4, 5), bool)),
         "mask.shape=(4, 5)"),
        (lambda: ref.masked_softmax(np.ones((3, 5)), np.ones((3, 5))), "mask.dtype=float64"),
        (lambda: ref.softmax(np.array(["a", "b"])), "x.dtype=<U1"),
        (lambda: ref.blockwise_attention(q34, k54, np.ones((4, 6)), 2), "v.shape=(4, 6)"),
        (lambda: ref.blockwise_attention(q34, k54, v56, 0), "Received: 0"),
        (lambda: ref.blockwise_attention(q34, k54, v56, 1.5), "Received: 1.5"),
        (lambda: ref.blockwise_attention(q34, k54, v56, 2, np.ones((3, 4), bool)),
         "mask.shape=(3, 4)"),
        (lambda: ref.padding_mask(np.array([[1, 2]]), 3), "lengths.shape=(1, 2)"),
        (lambda: ref.padding_mask(np.array([1, 4]), 3), "lengths=[1 4]"),
        (lambda: ref.causal_mask(-1), "t=-1"),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_bad_inputs_raise_value_error_naming_what_was_received(call, received):
    with pytest.raises(ValueError, match="Received:") as error:
        call()
    assert received in str(error.value)


# --- blockwise attention -------------------------------------------------------------------


@pytest.mark.parametrize("block_size", [1, 3, 4, 11, 12, 50])
@pytest.mark.parametrize("masking", ["none", "random", "fully masked rows", "causal"])
def test_blockwise_attention_equals_full_attention(block_size, masking):
    t_q, t_k = 9, 12  # 3 and 11 do not divide Tk; 12 and 50 are ≥ Tk
    q, k, v = random_qkv((2, 3), t_q, t_k, 5, 7, seed=block_size)
    mask = {
        "none": None,
        "random": _random_mask((2, 1, t_q, t_k), seed=6),
        "fully masked rows": _random_mask((2, 3, t_q, t_k), seed=7, fully_masked_rows=(0, 4)),
        "causal": np.tril(np.ones((t_q, t_k), dtype=bool), k=t_k - t_q),
    }[masking]
    expected, _ = ref.scaled_dot_product_attention(q, k, v, mask)
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        output = ref.blockwise_attention(q, k, v, block_size, mask)
    assert output.shape == expected.shape
    np.testing.assert_allclose(output, expected, rtol=0, atol=1e-10)


def test_blockwise_attention_broadcasts_leading_axes_like_full_attention():
    q, _, _ = random_qkv((2, 3), 4, 6, 5, 7, seed=8)  # (B, H, Tq, d_k)
    _, k, v = random_qkv((1, 3), 4, 6, 5, 7, seed=9)  # (1, H, Tk, d_k) shared over the batch
    expected, _ = ref.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(ref.blockwise_attention(q, k, v, 4), expected, atol=1e-10)


def test_blockwise_attention_is_finite_at_huge_logits():
    q, k, v = random_qkv(2, 5, 8, 4, 3, seed=10)
    q *= 1e3  # scores of order 1e3–1e4: exp overflows without the running max
    expected, _ = ref.scaled_dot_product_attention(q, k, v)
    output = ref.blockwise_attention(q, k, v, 3)
    assert np.all(np.isfinite(output))
    np.testing.assert_allclose(output, expected, atol=1e-10)


def test_blockwise_attention_never_holds_the_full_score_matrix():
    t, block = 2048, 64
    q, k, v = random_qkv((), t, t, 8, 8, seed=11)
    full_scores_bytes = t * t * 8  # one float64 (Tq, Tk) matrix: 32 MiB
    tracemalloc.start()
    try:
        ref.blockwise_attention(q, k, v, block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < full_scores_bytes / 4, f"peak {peak} bytes"
