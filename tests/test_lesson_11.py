"""Lesson 11 (the KV cache): its answer keys, step by step against full causal attention, its
NumPy twin of the cached decoder, its plans and its policy. What every lesson promises
(structure, points, a batch of real autogrades) is ``tests/test_lesson_contract.py``'s; its
answers (``answer_variants``, ``decoding_variants``) are judged in ``test_answer_corpus.py``."""

from __future__ import annotations

import decoding_variants
import numpy as np
import pytest
from answer_variants import VARIANTS

import grader.reference as ref
from course_lib.cases.decoding import random_translator_weights
from course_lib.cases.inputs import random_qkv, random_step
from course_lib.exercises import EXERCISES, plan
from grader.exercises import MEASURED
from grader.judging import policy
from grader.reference import decoding

LESSON = "11_kv_cache"

# attend_step -------------------------------------------------------------------------------------

STEP = "attend_step"
STEP_RIGHT = VARIANTS[STEP]["right"]
STEP_WRONG = VARIANTS[STEP]["wrong"]


def _sequence(seed=0, batch=(2, 3), length=6, d_k=4, d_v=5):
    """``q, k, v`` of a whole sequence: ``(*batch, length, d_k | d_v)``."""
    rng = np.random.default_rng(seed)
    return random_qkv(rng, batch, length, length, d_k, d_v).values()


def test_attend_step_by_hand():
    q_t = np.array([2.0, 0, 0, 0])  # scores q_t·k_j / √4 = k_j0 = (0, ln 2, ln 3)
    k_cache = np.array([[0, 1, 0, 0], [np.log(2), 0, 1, 0], [np.log(3), 0, 0, 1]])
    v_cache = np.array([[6.0, 0], [0, 6], [0, 0]])
    np.testing.assert_allclose(ref.attend_step(q_t, k_cache, v_cache), [1.0, 2.0],
                               rtol=1e-15)  # weights 1/6, 2/6, 3/6


def test_each_step_is_a_row_of_causal_attention():
    """Decoding with a cache gives, step by step, the rows of full causal attention."""
    q, k, v = _sequence()
    length = q.shape[-2]
    full, _ = ref.scaled_dot_product_attention(q, k, v, ref.causal_mask(length))
    for t in range(length):
        step = ref.attend_step(q[..., t, :], k[..., : t + 1, :], v[..., : t + 1, :])
        assert step.shape == (2, 3, 5)
        np.testing.assert_allclose(step, full[..., t, :], rtol=1e-12, atol=1e-15)


def test_attend_step_of_one_position_and_of_extreme_logits():
    q, k, v = _sequence(seed=1)
    np.testing.assert_array_equal(ref.attend_step(q[..., 0, :], k[..., :1, :], v[..., :1, :]),
                                  v[..., 0, :])  # t = 0: the only value, weight 1
    step = random_step(np.random.default_rng(2), (2,), 7, 16, 3, extreme=True)
    output = ref.attend_step(*step.values())
    assert np.all(np.isfinite(output))
    full, _ = ref.scaled_dot_product_attention(step["q_t"][:, None, :], step["k_cache"],
                                               step["v_cache"])
    np.testing.assert_allclose(output, full[:, 0], rtol=1e-12)


def test_the_wrong_attend_steps_cover_every_mistake():
    """One wrong answer per mistake: those of the wrong variants, and those the judge tells
    from the result itself (a float32 result, a tuple)."""
    from grader.exercises import WRONG_VARIANTS

    assert {key for _, key in STEP_WRONG} == set(EXERCISES[STEP].mistakes)
    assert set(WRONG_VARIANTS[STEP]) | {"float32_result", "tuple_returned"} == set(
        EXERCISES[STEP].mistakes)
    assert len(STEP_WRONG) >= 4 and len(STEP_RIGHT) >= 3


def test_the_attend_step_plan_has_every_dimension_different_and_extreme_logits():
    for seed in (0, 1, 2):
        parts = plan(STEP, seed)
        first = parts[0].calls[0].args
        (b, h, d_k), (length, d_v) = first["q_t"].shape, first["v_cache"].shape[-2:]
        assert len({b, h, length, d_k, d_v}) == 5
        assert first["k_cache"].shape == (b, h, length, d_k)
        assert parts[1].calls[0].args["k_cache"].shape[-2] == 1  # t = 0
        assert parts[2].calls[0].args["q_t"].shape == (b, d_k)  # no head axis
        extreme = parts[3].calls[0].args
        scores = np.einsum("...d,...td->...t", extreme["q_t"], extreme["k_cache"]) / 4
        assert np.abs(scores).max() > 1000
        np.testing.assert_array_equal(scores.astype(np.float32), scores)  # exact in float32


def test_library_attention_is_refused_as_an_attend_step():
    for source, name in [
        ("import keras\nkeras.ops.dot_product_attention(q, k, v)\n",
         "keras.ops.dot_product_attention"),
        ("import torch.nn.functional as F\nF.scaled_dot_product_attention(q, k, v)\n",
         "torch.nn.functional.scaled_dot_product_attention"),
        ("from scipy.special import softmax\nsoftmax(scores, axis=-1)\n",
         "scipy.special.softmax"),
    ]:
        assert policy.stand_ins(STEP, source).refused == [name], source
    assert policy.stand_ins(STEP, "import numpy as np\nnp.einsum('...d,...td->...t', q, k)\n"
                            ).refused == []


# decode_step and cached_greedy_decode ---------------------------------------------------------

KERAS = ("decode_step", "cached_greedy_decode")


def test_the_numpy_twin_decodes_step_by_step_as_the_full_pass():
    rng = np.random.default_rng(0)
    weights = random_translator_weights(rng, 12, 3, 8)
    model = decoding.TranslatorForward(weights, 3)
    source = rng.integers(1, 40, size=(2, 32))
    source[:, 20:] = 0  # padded, as dates are
    tokens = rng.integers(1, 12, size=(2, 7))  # 7 of the 8 positions: t + 1 stays in the table
    logits, cache = decoding.CachedDecoder(model).run(source, tokens)
    np.testing.assert_allclose(logits, model.logits(source, tokens), rtol=1e-12, atol=1e-12)
    assert cache.shape == (2, 2, 7, 3, 4)
    ids = model.greedy(source, 8)
    np.testing.assert_array_equal(model.logits(source, decoding.start_and(ids)).argmax(-1), ids)
    for key, variant in decoding.DECODE_VARIANTS.items():
        wrong, _ = variant(model).run(source, tokens)
        assert np.abs(wrong - logits).max() > 1e-3, key


@pytest.mark.parametrize("exercise", KERAS)
def test_the_keras_wrong_answers_cover_every_mistake(exercise):
    keys = [key for _, key in decoding_variants.VARIANTS[exercise]["wrong"]]
    named = decoding.DECODE_VARIANTS if exercise == "decode_step" else decoding.GREEDY_VARIANTS
    assert sorted(keys) == sorted([*named, *MEASURED[exercise]])
    assert len(keys) >= 4 and len(decoding_variants.VARIANTS[exercise]["right"]) >= 2


def test_the_decoding_plans_differ_in_every_size():
    for seed in (0, 1):
        case = plan("decode_step", seed)[0].calls[0]
        batch, steps = case.tokens.shape
        key_dim = case.d_model // case.num_heads
        assert len({batch, steps, case.d_model, case.num_heads, key_dim}) == 5
        assert case.weights[-1].any() and all(w.any() for w in case.weights)  # biases ≠ 0
        greedy = plan("cached_greedy_decode", seed)
        assert [part.calls[0].length for part in greedy] == [12]
