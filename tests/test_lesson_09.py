"""Lesson 09 (gradients): its answer key against central differences, its plan, its policy and
its learner-side helpers. What every lesson promises (structure, points, a batch of real
autogrades) is ``tests/test_lesson_contract.py``'s; its answers are judged in
``test_answer_corpus.py``."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from answer_variants import VARIANTS
from nbgrader_utils import solution_notebook

import grader.reference as ref
from course_lib.cases.inputs import random_qkv
from course_lib.exercises import plan
from course_lib.gradients import (
    numerical_gradient,
    plot_gradient_check,
    plot_gradient_norms,
    score_gradient,
)
from grader.judging import policy
from grader.reference.gradients import softmax_backward

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LESSON = "09_gradients"
EXERCISE = "attention_backward"
RIGHT = VARIANTS[EXERCISE]["right"]
WRONG = VARIANTS[EXERCISE]["wrong"]


def _loss(q, k, v, d_out, mask=None):
    """``L = Σ O ⊙ d_out``, so that ``∂L/∂O = d_out``."""
    return np.sum(ref.scaled_dot_product_attention(q, k, v, mask)[0] * d_out)


def _inputs(seed=0, batch=(2,), t_q=3, t_k=5, d_k=4, d_v=2):
    rng = np.random.default_rng(seed)
    q, k, v = random_qkv(rng, batch, t_q, t_k, d_k, d_v).values()
    return q, k, v, rng.standard_normal((*batch, t_q, d_v))


# The answer key ----------------------------------------------------------------------------------


@pytest.mark.parametrize("masked", [False, True])
def test_answer_key_equals_central_differences(masked):
    q, k, v, d_out = _inputs()
    mask = None
    if masked:
        mask = np.random.default_rng(1).random((2, 3, 5)) < 0.5
        mask[:, :, 0] = True
        mask[1, 2] = False  # a fully masked row
    gradients = ref.attention_backward(q, k, v, d_out, mask)
    for index, x in enumerate((q, k, v)):
        def loss(y, index=index):
            args = [q, k, v]
            args[index] = y
            return _loss(*args, d_out, mask)

        np.testing.assert_allclose(gradients[index], numerical_gradient(loss, x), atol=1e-8)
        assert gradients[index].shape == x.shape


def test_masked_keys_and_fully_masked_rows_get_no_gradient():
    q, k, v, d_out = _inputs(t_q=4, t_k=6)
    mask = np.ones((2, 4, 6), dtype=bool)
    mask[..., 5] = False  # key 5 hidden from every query
    mask[0, 1] = False  # batch 0, query 1: no key
    dq, dk, dv = ref.attention_backward(q, k, v, d_out, mask)
    assert np.all(np.isfinite(dq)) and np.all(dq[0, 1] == 0)
    assert np.all(dk[:, 5] == 0) and np.all(dv[:, 5] == 0)


def test_softmax_backward_is_the_jacobian_product_and_rows_sum_to_zero():
    rng = np.random.default_rng(3)
    weights = ref.softmax(rng.standard_normal((3, 5)))
    d_weights = rng.standard_normal((3, 5))
    d_scores = softmax_backward(weights, d_weights)
    for a, da, ds in zip(weights, d_weights, d_scores, strict=True):
        np.testing.assert_allclose(ds, (np.diag(a) - np.outer(a, a)) @ da, atol=1e-15)
    np.testing.assert_allclose(d_scores.sum(axis=-1), 0, atol=1e-15)


def test_shared_leading_axes_collect_their_gradients():
    """An input broadcast over the heads receives the sum of its heads' gradients."""
    q, k, v, d_out = _inputs(batch=(2, 3))
    dq, dk, dv = ref.attention_backward(q, k[:, :1], v[:, :1], d_out)
    full = ref.attention_backward(q, np.repeat(k[:, :1], 3, 1), np.repeat(v[:, :1], 3, 1), d_out)
    assert dk.shape == (2, 1, 5, 4) and dv.shape == (2, 1, 5, 2)
    np.testing.assert_allclose(dk, full[1].sum(axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(dv, full[2].sum(axis=1, keepdims=True), atol=1e-12)


def test_bad_shapes_are_refused_with_the_shapes_received():
    q, k, v, d_out = _inputs()
    with pytest.raises(ValueError, match="Received"):
        ref.attention_backward(q, k, v, d_out[..., :1])


# The public check, the judge and the policy ------------------------------------------------------


def test_the_lessons_wrong_answers_cover_every_mistake():
    from grader.exercises import WRONG_VARIANTS

    assert sorted(key for _, key in WRONG) == sorted(WRONG_VARIANTS[EXERCISE])
    assert len(WRONG) >= 4 and len(RIGHT) >= 2


def test_the_plan_has_every_dimension_different_and_fully_masked_rows():
    for seed in (0, 1, 2):
        parts = plan(EXERCISE, seed)
        first = parts[0].calls[0].args
        (b, h, t_q, d_k), (t_k, d_v) = first["q"].shape, first["v"].shape[-2:]
        assert len({b, h, t_q, t_k, d_k, d_v}) == 6
        masks = [c.kwargs["mask"] for p in parts for c in p.calls if "mask" in c.kwargs]
        assert any((~np.broadcast_to(m, m.shape).any(axis=-1)).any() for m in masks)
        extreme = parts[-1].calls[0].args
        scores = extreme["q"] @ np.swapaxes(extreme["k"], -1, -2) / 4
        assert np.abs(scores).max() > 1000
        np.testing.assert_array_equal(scores.astype(np.float32), scores)  # exact in float32


def test_autodiff_libraries_are_refused():
    for source, name in [
        ("import tensorflow as tf\nwith tf.GradientTape() as tape:\n    pass\n",
         "tensorflow.GradientTape"),
        ("import jax\ngrads = jax.vjp(f, q)\n", "jax.vjp"),
        ("from torch.autograd import grad\ngrad(y, x)\n", "torch.autograd.grad"),
        ("from course_lib.gradients import numerical_gradient\nnumerical_gradient(f, q)\n",
         "course_lib.gradients.numerical_gradient"),
    ]:
        assert policy.stand_ins(EXERCISE, source).refused == [name], source
    assert policy.stand_ins(EXERCISE, "import numpy as np\nx = np.swapaxes(q, -1, -2)\n"
                            ).refused == []


# The learner-side helpers ------------------------------------------------------------------------


def test_numerical_gradient_of_a_known_function_and_leaves_its_input_alone():
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    before = x.copy()
    gradient = numerical_gradient(lambda y: np.sum(np.sin(y) * y), x)
    np.testing.assert_allclose(gradient, np.cos(x) * x + np.sin(x), atol=1e-9)
    np.testing.assert_array_equal(x, before)


def test_score_gradient_reads_ds_out_of_the_backward_pass():
    rng = np.random.default_rng(5)
    scores, v, d_out = rng.standard_normal((4, 6)) * 3, rng.standard_normal((6, 2)), \
        rng.standard_normal((4, 2))
    weights = ref.softmax(scores)
    expected = softmax_backward(weights, d_out @ v.T)
    np.testing.assert_allclose(score_gradient(ref.attention_backward, scores, v, d_out), expected,
                               atol=1e-12)


def test_the_lesson_measurement_shows_saturation_without_scaling():
    """The claim of section 6: with the scaling the median ‖∂L/∂s_i‖ keeps its size from
    d_k = 4 to 1024, without it it falls hundreds of times below."""
    rng = np.random.default_rng(0)
    scaled, unscaled = [], []
    for d_k in (4, 16, 64, 256, 1024):
        q, k = rng.standard_normal((64, d_k)), rng.standard_normal((64, d_k))
        v, g = rng.standard_normal((64, 16)), rng.standard_normal((64, 16))
        for values, scores in ((scaled, q @ k.T / np.sqrt(d_k)), (unscaled, q @ k.T)):
            d_scores = score_gradient(ref.attention_backward, scores, v, g)
            values.append(np.median(np.linalg.norm(d_scores, axis=-1)))
    assert max(scaled) < 2 * min(scaled)
    assert unscaled[-1] * 100 < scaled[-1] and unscaled[-1] * 100 < unscaled[0]


@pytest.mark.xdist_group("keras")
def test_keras_gradient_tape_equals_the_answer_key_on_an_identity_layer():
    keras = pytest.importorskip("keras")
    from course_lib.gradients import identity_attention, tape_gradients

    rng = np.random.default_rng(2)
    query, key, value = (rng.standard_normal((2, t, 5)) for t in (3, 6, 6))
    d_out = rng.standard_normal((2, 3, 5))
    mask = np.tri(3, 6, k=2, dtype=bool)[None].repeat(2, axis=0)
    layer = identity_attention(keras.layers.MultiHeadAttention, 5)
    taped = tape_gradients(layer, query, key, value, d_out, attention_mask=mask)
    for got, expected in zip(taped, ref.attention_backward(query, key, value, d_out, mask),
                             strict=True):
        np.testing.assert_allclose(got, expected, atol=2e-5)


def test_the_plots_draw_what_they_are_given():
    ax = plot_gradient_norms([4, 16], {"a": [1.0, 2.0], "b": [1.0, 0.1]})
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    ax = plot_gradient_check({"dq": np.ones(3)}, {"dq": np.ones(3)})
    assert ax.get_lines()[0].get_label() == "dq"
    plt.close("all")


# The lesson's structure --------------------------------------------------------------------------


def test_the_lesson_uses_the_learners_layer_for_the_tape():
    code = [c.source for c in solution_notebook(LESSON).cells if c.cell_type == "code"]
    assert any('mine("keras_layer", "MultiHeadAttention",' in c
               and "fallback=keras.layers.MultiHeadAttention" in c for c in code)
