"""The NumPy forward passes of the Keras answer key, and their wrong variants
(``grader.reference.numpy_layers``).

- Each forward pass equals ``grader.reference.keras_layers``'s layer holding the same random
  non-zero weights and biases, on random sizes that all differ: without a mask, key omitted,
  an attention mask with a fully masked row, the causal mask with Tq ≠ Tk, both; and
  ``use_bias=False``.
- Every wrong variant overrides one step, gives a wrong output on a case built to expose it,
  and the right one where its mistake cannot show.

Every test here imports TensorFlow, so the file runs on one worker (xdist group "keras").
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

from course_lib.lessons import lesson_04_keras_layer as lesson_04
from grader.reference import keras_layers
from grader.reference import numpy_layer_variants as nlv
from grader.reference import numpy_layers as nl

pytestmark = pytest.mark.xdist_group("keras")

RTOL, ATOL = 1e-4, 1e-5


@pytest.fixture(autouse=True, scope="module")
def full_float32_matmuls():
    """TensorFloat-32 off: these comparisons at 1e-5 need true float32 matmuls on GPUs."""
    was_enabled = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    yield
    tf.config.experimental.enable_tensor_float_32_execution(was_enabled)


# -- helpers ------------------------------------------------------------------------------------
def _nonzero(rng, shape):
    """float32, |x| in [0.2, 1]: no weight or bias is zero."""
    return (rng.uniform(0.2, 1.0, shape) * rng.choice([-1, 1], shape)).astype("float32")


def _inputs(rng, batch, t_q, t_k, d_query, d_value, d_key=None):
    query = rng.standard_normal((batch, t_q, d_query)).astype("float32")  # (B, Tq, d_q)
    value = rng.standard_normal((batch, t_k, d_value)).astype("float32")  # (B, Tk, d_v)
    key = None if d_key is None else rng.standard_normal((batch, t_k, d_key)).astype("float32")
    return query, value, key


def _mask(rng, batch, t_q, t_k, fully_masked_row=False):
    """Boolean ``(B, Tq, Tk)``: every row has a True and a False, except that the last query of
    the first sequence is fully masked when asked."""
    mask = rng.random((batch, t_q, t_k)) < 0.5
    mask[..., 0], mask[..., -1] = True, False
    if fully_masked_row:
        mask[0, -1, :] = False
    return mask


def _answer_key(layer_name, config, query, value, key, rng):
    """The Keras answer-key layer, built on these inputs, holding random non-zero weights."""
    layer = getattr(keras_layers, layer_name)(**config)
    layer(query, value, key=key)
    weights = [_nonzero(rng, w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    return layer, weights


def _keras_outputs(layer, query, value, key, **options):
    out, weights = layer(query, value, key=key, return_attention_scores=True, **options)
    return np.asarray(out), np.asarray(weights)


def _random_sizes(seed, count):
    """``count`` different sizes between 2 and 11."""
    return [int(n) for n in np.random.default_rng(seed).permutation(np.arange(2, 12))[:count]]


def _option_cases(rng, batch, t_q, t_k):
    """(label, keyword arguments, whether the key is passed)."""
    return [
        ("no mask", {}, True),
        ("key omitted", {}, False),
        ("attention_mask with a fully masked row",
         {"attention_mask": _mask(rng, batch, t_q, t_k, fully_masked_row=True)}, True),
        ("use_causal_mask", {"use_causal_mask": True}, True),
        ("both masks", {"attention_mask": _mask(rng, batch, t_q, t_k),
                        "use_causal_mask": True}, True),
    ]


def _configs(seed):
    """Both layers on random sizes that all differ (batch, Tq, Tk, d_q, d_v, d_k, heads, …)."""
    batch, t_q, t_k, d_query, d_value, d_key, units = _random_sizes(seed, 7)
    heads, key_dim, value_dim = _random_sizes(seed + 100, 3)
    sizes = (batch, t_q, t_k, d_query, d_value, d_key)
    mha = {"num_heads": heads, "key_dim": key_dim, "value_dim": value_dim}
    return [
        ("AttentionLayer", {"units": units}, sizes),
        ("MultiHeadAttention", mha, sizes),
        ("MultiHeadAttention", {**mha, "use_bias": False}, sizes),
    ]


# -- the forward passes equal the Keras answer key ---------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_equals_the_keras_answer_key(seed):
    rng = np.random.default_rng(seed)
    for layer_name, config, sizes in _configs(seed):
        query, value, key = _inputs(rng, *sizes)
        with_key = _answer_key(layer_name, config, query, value, key, rng)
        # key omitted: the key's projection is built for the value's features
        without_key = _answer_key(layer_name, config, query, value, None, rng)
        for label, options, key_given in _option_cases(rng, *sizes[:3]):
            k = key if key_given else None
            layer, weights = with_key if key_given else without_key
            expected_out, expected_weights = _keras_outputs(layer, query, value, k, **options)
            out, attention = nl.forward(layer_name, config, weights, query, value, k, **options)
            what = f"{layer_name}({config}), {label}"
            assert out.shape == expected_out.shape and attention.shape == expected_weights.shape
            np.testing.assert_allclose(out, expected_out, rtol=RTOL, atol=ATOL, err_msg=what)
            np.testing.assert_allclose(attention, expected_weights, rtol=RTOL, atol=ATOL,
                                       err_msg=what)


def test_fully_masked_row_gives_zero_weights_and_only_the_output_bias():
    rng = np.random.default_rng(3)
    query, value, key = _inputs(rng, 2, 3, 4, 5, 6, 7)
    mask = _mask(rng, 2, 3, 4, fully_masked_row=True)
    for layer_name, config in (("AttentionLayer", {"units": 8}),
                               ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3})):
        _, weights = _answer_key(layer_name, config, query, value, key, rng)
        out, attention = nl.forward(layer_name, config, weights, query, value, key,
                                    attention_mask=mask)
        assert np.all(attention[0, ..., -1, :] == 0)
        np.testing.assert_allclose(out[0, -1], weights[-1])  # the output bias alone
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(attention))


def test_a_keras_config_is_accepted():
    rng = np.random.default_rng(7)
    query, value, key = _inputs(rng, 2, 3, 4, 5, 6, 7)
    for layer_name, config in (("AttentionLayer", {"units": 8}),
                               ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3})):
        layer, weights = _answer_key(layer_name, config, query, value, key, rng)
        out, _ = nl.forward(layer_name, layer.get_config(), weights, query, value, key)
        np.testing.assert_allclose(out, _keras_outputs(layer, query, value, key)[0],
                                   rtol=RTOL, atol=ATOL)


def test_module_imports_without_tensorflow():
    code = ("import sys, grader.reference.numpy_layers; "
            "heavy = [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the wrong variants --------------------------------------------------------------------------
#: the one mistake made in two steps: the head axis left in place when splitting and merging
TWO_STEPS = {"layer_heads_not_transposed": ["split_heads", "merge_heads"]}


def test_every_variant_overrides_exactly_one_step():
    for layer_name, variants in nlv.VARIANTS.items():
        base = nl.LAYERS[layer_name]
        for key, cls in variants.items():
            assert cls.__bases__ == (base,), key
            overridden = [name for name in vars(cls) if not name.startswith("__")]
            assert len(overridden) == 1 or overridden == TWO_STEPS.get(key), \
                (layer_name, key, overridden)
            assert all(hasattr(base, name) for name in overridden), (layer_name, key, overridden)


def test_variant_keys():
    """Every mistake of the layers' records has its variant, except those the probe names
    (MultiHeadAttention's mask without a head axis has both: a wrong output, or an error)."""
    assert set(nlv.VARIANTS["AttentionLayer"]) == set(lesson_04.SHARED_MISTAKES)
    assert set(nlv.VARIANTS["MultiHeadAttention"]) == {
        *lesson_04.SHARED_MISTAKES, *lesson_04.MULTI_HEAD_MISTAKES, "layer_mask_broadcast",
        "layer_heads_not_transposed"}


# Sizes that let every variant run: value features = units (AttentionLayer) or value_dim and
# query features (MultiHeadAttention), so that unprojected values and keys taken from the query
# fit the kernels. AttentionLayer needs a second size for keys taken from the query (query
# features = value features) that its scale by the query's features can be told from (≠ units).
STANDARD = {
    "AttentionLayer": ({"units": 5}, (2, 3, 4, 6, 5, 7)),
    "MultiHeadAttention": ({"num_heads": 2, "key_dim": 3, "value_dim": 4}, (2, 5, 6, 4, 4, 7)),
}
SECOND = {"AttentionLayer": ({"units": 4}, (2, 3, 4, 6, 6, 7))}


def _standard_cases(layer_name, seed=0, sizes_of=STANDARD):
    """``(label, weights, query, value, key, options)``: the standard cases of ``layer_name``
    (on the sizes of ``sizes_of``)."""
    rng = np.random.default_rng(seed)
    config, sizes = sizes_of[layer_name]
    batch, t_q, t_k = sizes[:3]
    query, value, key = _inputs(rng, *sizes)
    weights = _answer_key(layer_name, config, query, value, key, rng)[1]
    weights_no_key = _answer_key(layer_name, config, query, value, None, rng)[1]
    return [
        ("no mask", weights, query, value, key, {}),
        ("key omitted", weights_no_key, query, value, None, {}),
        ("key omitted, Tq = Tk", weights_no_key, _inputs(rng, batch, t_k, t_k, *sizes[3:])[0],
         value, None, {}),
        ("attention_mask", weights, query, value, key,
         {"attention_mask": _mask(rng, batch, t_q, t_k)}),
        ("use_causal_mask", weights, query, value, key, {"use_causal_mask": True}),
        ("both masks", weights, query, value, key,
         {"attention_mask": _mask(rng, batch, 1, t_k), "use_causal_mask": True}),
        ("a fully masked row", weights, query, value, key,
         {"attention_mask": _mask(rng, batch, t_q, t_k, fully_masked_row=True)}),
    ]


@pytest.mark.parametrize("layer_name", list(nlv.VARIANTS))
def test_every_variant_is_exposed_by_a_standard_case(layer_name):
    exposed, ran = set(), set()
    cases = [(STANDARD[layer_name][0], case) for case in _standard_cases(layer_name)]
    if layer_name in SECOND:
        cases += [(SECOND[layer_name][0], case)
                  for case in _standard_cases(layer_name, sizes_of=SECOND)]
    for config, (_, weights, query, value, key, options) in cases:
        out, attention = nl.forward(layer_name, config, weights, query, value, key, **options)
        for variant, wrong in nlv.variant_outputs(layer_name, config, weights, query, value,
                                                 key, **options).items():
            ran.add(variant)
            if any(got.shape != right.shape or not np.allclose(got, right, rtol=1e-3, atol=1e-3)
                   for got, right in zip(wrong, (out, attention), strict=True)):
                exposed.add(variant)
    assert ran == set(nlv.VARIANTS[layer_name])
    assert exposed == set(nlv.VARIANTS[layer_name])


# Cases on which a variant's mistake cannot show, so that it must give the right answer there.
_CAUSAL = {"layer_causal_ignored", "causal_strict", "layer_causal_one_ahead", "causal_upper",
           "layer_causal_aligned_to_the_end", "layer_causal_replaces_mask",
           "layer_masks_combined_with_or"}
_MASKED = {"layer_mask_ignored", "layer_mask_inverted", "layer_mask_after_softmax",
           "layer_mask_multiplied", "layer_fully_masked_uniform", "layer_fully_masked_nan",
           "layer_mask_broadcast"}
HARMLESS = {
    "no mask": _CAUSAL | _MASKED | {"layer_key_from_query"},
    "attention_mask": _CAUSAL | {"layer_fully_masked_uniform", "layer_fully_masked_nan",
                                 "layer_key_from_query"},
    "use_causal_mask": _MASKED - {"layer_mask_after_softmax", "layer_mask_multiplied"} | {
        "layer_causal_replaces_mask", "layer_masks_combined_with_or"},
}


@pytest.mark.parametrize("layer_name", list(nlv.VARIANTS))
def test_variants_are_right_where_their_mistake_cannot_show(layer_name):
    config = STANDARD[layer_name][0]
    for label, weights, query, value, key, options in _standard_cases(layer_name):
        expected = nl.forward(layer_name, config, weights, query, value, key, **options)
        variants = nlv.variant_outputs(layer_name, config, weights, query, value, key, **options)
        for variant in HARMLESS.get(label, set()) & set(variants):
            for received, right in zip(variants[variant], expected, strict=True):
                np.testing.assert_allclose(received, right, err_msg=f"{variant}, {label}")
    # the fully masked row alone tells the two fully-masked variants from the right answer
    *_, (_, weights, query, value, key, options) = _standard_cases(layer_name)
    _, right = nl.forward(layer_name, config, weights, query, value, key, **options)
    variants = nlv.variant_outputs(layer_name, config, weights, query, value, key, **options)
    uniform = variants["layer_fully_masked_uniform"][1][0, ..., -1, :]
    np.testing.assert_allclose(uniform, 1 / value.shape[1])
    assert np.all(np.isnan(variants["layer_fully_masked_nan"][1][0, ..., -1, :]))
    for variant in ("layer_fully_masked_uniform", "layer_fully_masked_nan"):
        np.testing.assert_allclose(variants[variant][1][1], right[1])  # other sequence: right


def test_biases_ignored_is_right_without_biases():
    rng = np.random.default_rng(4)
    config = {"num_heads": 2, "key_dim": 3, "value_dim": 4, "use_bias": False}
    query, value, key = _inputs(rng, 2, 3, 4, 5, 6, 7)
    _, weights = _answer_key("MultiHeadAttention", config, query, value, key, rng)
    right = nl.forward("MultiHeadAttention", config, weights, query, value, key)
    wrong = nlv.variant_outputs("MultiHeadAttention", config, weights, query, value, key)
    np.testing.assert_allclose(wrong["layer_biases_ignored"][0], right[0])


def test_variant_outputs_runs_quietly_and_leaves_out_what_cannot_run():
    rng = np.random.default_rng(5)
    config = {"units": 3}
    query, value, key = _inputs(rng, 2, 3, 4, 5, 6, 7)  # value features 6 ≠ units 3
    _, weights = _answer_key("AttentionLayer", config, query, value, key, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = nlv.variant_outputs("AttentionLayer", config, weights, query, value, key,
                                     attention_mask=_mask(rng, 2, 3, 4, fully_masked_row=True))
    assert "layer_values_not_projected" not in outputs
    assert np.isnan(outputs["layer_fully_masked_nan"][0]).any()
    assert set(outputs) == set(nlv.VARIANTS["AttentionLayer"]) - {"layer_values_not_projected"}


def test_wrong_weights_are_refused():
    rng = np.random.default_rng(6)
    query, value, key = _inputs(rng, 2, 3, 4, 5, 6, 7)
    _, weights = _answer_key("MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, query,
                             value, key, rng)
    with pytest.raises(ValueError):
        nl.forward("MultiHeadAttention", {"num_heads": 3, "key_dim": 2}, weights, query, value)
    with pytest.raises(ValueError):
        nl.forward("MultiHeadAttention", {"num_heads": 2, "key_dim": 3, "use_bias": False},
                   weights, query, value)
