"""Lesson 06 (the Transformer block): its answer key, its NumPy twin for the judge, its plan
and its policy.

The answer key's NumPy forward pass (what the judge compares with) equals the Keras answer key,
pre-LN and post-LN, with and without cross-attention, masks and the causal mask; and every
named wrong block differs from it on the plan's inputs. What every lesson promises (structure,
points, a batch of real autogrades) is ``tests/test_lesson_contract.py``'s; its answers
(``block_variants``) are judged in ``test_answer_corpus.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from nbgrader_utils import solution_notebook

from course_lib.cases.blocks import random_block_weights
from course_lib.cases.inputs import two_sided_mask
from course_lib.exercises import plan
from course_lib.misconceptions import DESCRIPTIONS
from grader.judging import policy
from grader.lessons.lesson_06_transformer_block import BLOCK_VARIANTS
from grader.reference import numpy_block

LESSON = "06_transformer_block"
EXERCISE = "TransformerBlock"


# == the lesson's structure ========================================================================
def test_the_lesson_uses_the_learners_attention_and_exports_its_block():
    sources = [cell.source for cell in solution_notebook(LESSON).cells
               if cell.cell_type == "code"]
    assert 'mine("keras_layer", "MultiHeadAttention"' in sources[0]
    assert 'export("transformer_block", TransformerBlock)' in sources[-1]


def test_library_blocks_are_refused():
    for source in ("import keras_hub\nTransformerBlock = keras_hub.layers.TransformerEncoder\n",
                   "from keras_nlp.layers import TransformerDecoder\n\n"
                   "class TransformerBlock(TransformerDecoder):\n    pass\n",
                   "from course_lib import blocks\nTransformerBlock = blocks.TransformerBlock\n"):
        assert policy.stand_ins(EXERCISE, source).refused, source
    allowed = "x = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)\n"
    assert not policy.stand_ins(EXERCISE, "import keras\n" + allowed).refused


# == the answer key: Keras and its NumPy twin =====================================================
def _keras_case(config, d_model, d_context, seed):
    from grader.reference.keras_layers import TransformerBlock

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 5, d_model)).astype("float32")
    context = rng.standard_normal((3, 7, d_context)).astype("float32") \
        if config["cross_attention"] else None
    block = TransformerBlock(**config)
    block(x, context=context)
    weights = random_block_weights(rng, config, d_model, d_context)
    assert [w.shape for w in block.get_weights()] == [w.shape for w in weights]
    block.set_weights(weights)
    return block, weights, x, context, rng


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("norm_first", [True, False])
def test_numpy_twin_equals_the_keras_answer_key(cross, norm_first):
    config = {"num_heads": 2, "key_dim": 4, "ff_dim": 10, "cross_attention": cross,
              "norm_first": norm_first, "epsilon": 1e-5}
    block, weights, x, context, rng = _keras_case(config, 6, 9, seed=int(cross) + 2 * norm_first)
    mask = two_sided_mask(rng, 3, 5, 5)
    mask[0, -1] = False  # a fully masked row: zeros, as the course's attention gives
    context_mask = two_sided_mask(rng, 3, 5, 7) if cross else None
    for options in ({}, {"use_causal_mask": True},
                    {"attention_mask": mask, "context_mask": context_mask}):
        options = {k: v for k, v in options.items() if v is not None}
        y, scores = block(x, context=context, return_attention_scores=True, **options)
        expected_y, expected_scores = numpy_block.block_forward(config, weights, x, context,
                                                                 **options)
        np.testing.assert_allclose(np.asarray(y), expected_y, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(scores), expected_scores, rtol=1e-4, atol=1e-5)


def test_a_block_holding_keras_attention_equals_the_twin(monkeypatch):
    """While graded, a block holds keras.layers.MultiHeadAttention (the fallback of ``mine``):
    it equals the twin too, a fully masked row included (Keras's softmax zeroes it)."""
    import keras

    from grader.reference import keras_layers

    monkeypatch.setattr(keras_layers, "MultiHeadAttention", keras.layers.MultiHeadAttention)
    config = {"num_heads": 2, "key_dim": 4, "ff_dim": 10, "cross_attention": True,
              "norm_first": False, "epsilon": 1e-6}
    block, weights, x, context, rng = _keras_case(config, 6, 9, seed=7)
    assert isinstance(block.self_attention, keras.layers.MultiHeadAttention)
    mask = two_sided_mask(rng, 3, 5, 5)
    mask[1, 2] = False
    context_mask = two_sided_mask(rng, 3, 5, 7)
    context_mask[0, 0] = False
    options = {"attention_mask": mask, "context_mask": context_mask, "use_causal_mask": True}
    y, scores = block(x, context=context, return_attention_scores=True, **options)
    expected_y, expected_scores = numpy_block.block_forward(config, weights, x, context,
                                                             **options)
    np.testing.assert_allclose(np.asarray(y), expected_y, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(scores), expected_scores, rtol=1e-4, atol=1e-5)


def test_every_wrong_block_differs_somewhere_on_the_plan():
    """Each wrong block gives another output than the right one on some call of the plan, or
    fails where the right one runs (a shape error, named from the failure)."""
    caught = set()
    for part in plan(EXERCISE, seed=11):
        for case in part.calls:
            inputs = (case.config, case.weights, case.x, case.context)
            for options in case.calls:
                right = numpy_block.block_forward(*inputs, **options)
                caught.update(numpy_block.failing_variants(BLOCK_VARIANTS, *inputs, **options))
                for key, wrong in numpy_block.block_variant_outputs(BLOCK_VARIANTS, *inputs,
                                                                     **options).items():
                    if any(a.shape != b.shape or not np.allclose(a, b, rtol=1e-3, atol=1e-4)
                           for a, b in zip(wrong, right, strict=True)):
                        caught.add(key)
    assert caught == set(BLOCK_VARIANTS)
    assert set(BLOCK_VARIANTS) <= set(DESCRIPTIONS)


def test_the_plan_has_every_dimension_different_and_nonzero_weights():
    parts = plan(EXERCISE, seed=3)
    cross = next(case for part in parts for case in part.calls if case.context is not None)
    batch, t, d_model = cross.x.shape
    _, t_c, d_context = cross.context.shape
    assert len({batch, t, t_c, d_model, d_context, cross.config["num_heads"],
                cross.config["key_dim"], cross.config["ff_dim"]}) == 8
    for weight in cross.weights:
        assert np.all(weight != 0) and not np.allclose(weight, 1.0)
    options = [o for part in parts for case in part.calls for o in case.calls]
    assert any("context_mask" in o for o in options) and any("attention_mask" in o
                                                             for o in options)
    assert any(o.get("use_causal_mask") for o in options)
    assert any(not np.any(o["attention_mask"], axis=-1).all() for o in options
               if "attention_mask" in o)  # a fully masked row
