"""The answer key against code we did not write: Keras's attention, op and layer.

- NumPy ``scaled_dot_product_attention`` vs ``keras.ops.dot_product_attention``.
- Our ``MultiHeadAttention`` vs ``keras.layers.MultiHeadAttention`` with weights copied both
  ways, and our ``AttentionLayer`` vs its own equation computed in NumPy.
- Saving and loading both layers in ``.keras`` files.

Every test here imports TensorFlow, so the file runs on one worker (xdist group "keras").
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.data import random_qkv
from grader import reference as ref

pytestmark = pytest.mark.xdist_group("keras")

TOL = 1e-5  # float32, with TensorFloat-32 switched off on GPUs (see the fixture below)


@pytest.fixture(autouse=True, scope="module")
def full_float32_matmuls():
    """On Ampere-or-later GPUs TensorFlow multiplies float32 matrices in TF32 (about 1e-3
    relative error) by default; these comparisons at 1e-5 need true float32."""
    was_enabled = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    yield
    tf.config.experimental.enable_tensor_float_32_execution(was_enabled)


def _random_mask(shape, seed):
    """Boolean mask, about half allowed, with key 0 allowed in every row (no empty row)."""
    mask = np.random.default_rng(seed).random(shape) < 0.5
    mask[..., 0] = True
    return mask


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


# --- NumPy answer key vs keras.ops.dot_product_attention --------------------------------------

B, N, TQ, TK, DK, DV = 2, 3, 5, 7, 4, 6  # every dimension different


def _keras_attention(q, k, v, **kwargs):
    """``keras.ops.dot_product_attention`` in the course's (B, N, T, H) layout."""
    to_bthn = (0, 2, 1, 3)  # (B, N, T, H) <-> (B, T, N, H), Keras's layout
    out = keras.ops.dot_product_attention(  # (B, Tq, N, d_v)
        *(np.transpose(x, to_bthn) for x in (q, k, v)), **kwargs
    )
    return np.transpose(_numpy(out), to_bthn)  # (B, N, Tq, d_v)


@pytest.mark.parametrize(
    "mask_shape", [None, (B, 1, TQ, TK), (B, N, TQ, TK), (1, 1, TQ, TK)], ids=str
)
def test_numpy_attention_matches_keras_ops(mask_shape):
    q, k, v = random_qkv((B, N), TQ, TK, DK, DV, seed=1)  # float64
    mask = None if mask_shape is None else _random_mask(mask_shape, seed=2)
    output, _ = ref.scaled_dot_product_attention(q, k, v, mask)
    keras_mask = None if mask is None else np.broadcast_to(mask, (B, N, TQ, TK))
    expected = _keras_attention(q, k, v, mask=keras_mask)
    assert output.shape == expected.shape == (B, N, TQ, DV)
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_padding", [False, True])
def test_numpy_causal_attention_matches_keras_is_causal(with_padding):
    t = 6
    q, k, v = random_qkv((B, N), t, t, DK, DV, seed=3)
    mask = ref.causal_mask(t)  # (T, T)
    keras_mask = None
    if with_padding:
        padding = ref.padding_mask(np.array([6, 4]), t)[:, None]  # (B, 1, 1, T)
        mask = mask & padding  # (B, 1, T, T); row 0 keeps key 0
        keras_mask = np.broadcast_to(padding, (B, N, t, t))
    output, _ = ref.scaled_dot_product_attention(q, k, v, mask)
    expected = _keras_attention(q, k, v, mask=keras_mask, is_causal=True)
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)


# --- MultiHeadAttention vs keras.layers.MultiHeadAttention -----------------------------------

BATCH, T_QUERY, T_KEY = 3, 4, 6


def _randomise(layer, seed):
    """Random values in every weight, biases included (Keras starts them at zero)."""
    rng = np.random.default_rng(seed)
    layer.set_weights([0.3 * rng.standard_normal(w.shape) for w in layer.get_weights()])


def _layer_inputs(query_dim, value_dim, key_dim=None, seed=0):
    rng = np.random.default_rng(seed)
    query = rng.standard_normal((BATCH, T_QUERY, query_dim)).astype("float32")
    value = rng.standard_normal((BATCH, T_KEY, value_dim)).astype("float32")
    key = None if key_dim is None else rng.standard_normal((BATCH, T_KEY, key_dim))
    return query, value, None if key is None else key.astype("float32")


def _twin_layers(direction, args, kwargs, config, seed=0):
    """Our layer and Keras's with the same configuration, built by the same call, and the
    random weights of one copied into the other."""
    ours, theirs = ref.MultiHeadAttention(**config), keras.layers.MultiHeadAttention(**config)
    for layer in (ours, theirs):
        layer(*args, **kwargs)
    source, target = (theirs, ours) if direction == "keras→ours" else (ours, theirs)
    _randomise(source, seed)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    target.set_weights(source.get_weights())
    return ours, theirs


CALLS = {
    "self-attention": lambda q, v, k, m: ((q, q), {}),
    "causal self-attention": lambda q, v, k, m: ((q, q), {"use_causal_mask": True}),
    "cross-attention, value as key": lambda q, v, k, m: ((q, v), {}),
    "separate key": lambda q, v, k, m: ((q, v), {"key": k}),
    "attention_mask": lambda q, v, k, m: ((q, v), {"key": k, "attention_mask": m}),
    "causal": lambda q, v, k, m: ((q, v), {"key": k, "use_causal_mask": True}),
    "causal and mask": lambda q, v, k, m: (
        (q, v), {"key": k, "attention_mask": m, "use_causal_mask": True}
    ),
}
CONFIGS = {
    "1 head": {"num_heads": 1, "key_dim": 4},
    "3 heads, value_dim≠key_dim": {"num_heads": 3, "key_dim": 4, "value_dim": 6},
    "4 heads, no bias": {"num_heads": 4, "key_dim": 2, "value_dim": 3, "use_bias": False},
}


@pytest.mark.parametrize("direction", ["keras→ours", "ours→keras"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_multi_head_attention_matches_keras(call, config, direction):
    query, value, key = _layer_inputs(8, 5, 3)
    mask = _random_mask((BATCH, T_QUERY, T_KEY), seed=4)
    args, kwargs = call(query, value, key, mask)
    ours, theirs = _twin_layers(direction, args, kwargs, config)
    output, scores = ours(*args, **kwargs, return_attention_scores=True)
    expected_output, expected_scores = theirs(*args, **kwargs, return_attention_scores=True)
    assert output.shape == expected_output.shape == (BATCH, T_QUERY, 8)
    assert scores.shape == expected_scores.shape
    np.testing.assert_allclose(_numpy(output), _numpy(expected_output), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(_numpy(scores), _numpy(expected_scores), rtol=TOL, atol=TOL)
    plain = ours(*args, **kwargs)  # without return_attention_scores: the output alone
    np.testing.assert_allclose(_numpy(plain), _numpy(output), rtol=TOL, atol=TOL)


# Keras's EinsumDense computes fans by input and output axes since VarianceScaling took
# `input_axes` (keras-team/keras#22789); before that its MultiHeadAttention used the 3-D
# kernels' convolution-style fans too.
KERAS_FANS_BY_AXES = (
    "input_axes" in inspect.signature(keras.initializers.VarianceScaling).parameters
)
INIT_CONFIGS = {
    "d=64, 4 heads of 16": (64, {"num_heads": 4, "key_dim": 16}),
    "d=48, 2 heads of 8, values of 20": (48, {"num_heads": 2, "key_dim": 8, "value_dim": 20}),
}


def _initial_statistics(layer_class, d_model, config, seed):
    """A fresh layer's starting point on unit-variance inputs: the variance of the projected
    queries, and the variance of the output kernel's entries."""
    keras.utils.set_random_seed(seed)
    layer = layer_class(**config)
    x = np.random.default_rng(seed).standard_normal((4, 256, d_model)).astype("float32")
    layer(x, x)
    query_kernel, _, _, _, _, _, output_kernel, _ = layer.get_weights()
    queries = x.reshape(-1, d_model) @ query_kernel.reshape(d_model, -1)  # (B T, H d_k)
    return float(queries.var()), float(output_kernel.var())


@pytest.mark.parametrize("d_model, config", INIT_CONFIGS.values(), ids=INIT_CONFIGS.keys())
def test_multi_head_attention_starts_like_keras(d_model, config):
    """Kernels start Glorot-uniform over the projection's fans, as Keras's EinsumDense does
    (fan_in = the input axes, fan_out = the output axes), not over a 3-D kernel's
    convolution-style fans: unit-variance inputs give queries of variance 2d / (d + H d_k)
    (1 when H d_k = d, lesson 01's premise), not 2 / (H + d_k)."""
    heads, key_dim = config["num_heads"], config["key_dim"]
    value_dim = config.get("value_dim", key_dim)
    query_variance = 2 * d_model / (d_model + heads * key_dim)
    output_variance = 2 / (heads * value_dim + d_model)
    for seed in range(3):
        ours = _initial_statistics(ref.MultiHeadAttention, d_model, config, seed)
        theirs = _initial_statistics(keras.layers.MultiHeadAttention, d_model, config, seed)
        # sampling error: a few percent for these sizes; a wrong fan is off by a factor >= 2
        np.testing.assert_allclose(ours, [query_variance, output_variance], rtol=0.15)
        if KERAS_FANS_BY_AXES:
            np.testing.assert_allclose(ours, theirs, rtol=0.25)
    assert abs(query_variance - 2 / (heads + key_dim)) > 0.5 * query_variance


@pytest.mark.parametrize("layer_class", [ref.MultiHeadAttention, keras.layers.MultiHeadAttention])
def test_attention_mask_by_keyword_changes_the_output(layer_class):
    query, value, _ = _layer_inputs(8, 5)
    layer = layer_class(num_heads=2, key_dim=4)
    mask = _random_mask((BATCH, T_QUERY, T_KEY), seed=5)
    unmasked = _numpy(layer(query, value))
    masked = _numpy(layer(query, value, attention_mask=mask))
    assert np.abs(masked - unmasked).max() > 1e-3
    causal = _numpy(layer(query, value, use_causal_mask=True))
    assert np.abs(causal - unmasked).max() > 1e-3


def test_multi_head_attention_gives_fully_masked_rows_zero_weights():
    """Keras gives such rows uniform weights; the course's layer gives zeros (its contract)."""
    query, value, _ = _layer_inputs(8, 5)
    layer = ref.MultiHeadAttention(num_heads=2, key_dim=4, use_bias=False)
    mask = _random_mask((BATCH, T_QUERY, T_KEY), seed=6)
    mask[:, 2, :] = False
    output, scores = layer(query, value, attention_mask=mask, return_attention_scores=True)
    assert np.all(_numpy(scores)[:, :, 2, :] == 0.0)
    assert np.all(_numpy(output)[:, 2, :] == 0.0)
    assert np.all(np.isfinite(_numpy(output)))


def test_multi_head_attention_compute_output_shape_and_bad_ranks():
    layer = ref.MultiHeadAttention(num_heads=2, key_dim=4)
    assert layer.compute_output_shape((BATCH, T_QUERY, 8), (BATCH, T_KEY, 5)) == (BATCH, T_QUERY, 8)
    with pytest.raises(ValueError, match=r"Received: value.shape=\(3, 6\)"):
        layer(np.ones((BATCH, T_QUERY, 8)), np.ones((BATCH, T_KEY)))
    with pytest.raises(ValueError, match="Received: num_heads=0"):
        ref.MultiHeadAttention(num_heads=0, key_dim=4)


# --- AttentionLayer ------------------------------------------------------------------------


def _dense(x, layer):
    kernel, bias = layer.get_weights()
    return x @ kernel + bias  # (B, T, units)


def _attention_layer_in_numpy(layer, query, value, key=None, mask=None):
    """The layer's equation, W_o · attention(X W_q, Y W_k, Y W_v), in the NumPy answer key."""
    key = value if key is None else key
    q = _dense(query.astype(np.float64), layer.query_dense)  # (B, Tq, u)
    k = _dense(key.astype(np.float64), layer.key_dense)  # (B, Tk, u)
    v = _dense(value.astype(np.float64), layer.value_dense)  # (B, Tk, u)
    heads, weights = ref.scaled_dot_product_attention(q, k, v, mask)  # (B,Tq,u), (B,Tq,Tk)
    return _dense(heads, layer.output_dense), weights  # (B, Tq, u), (B, Tq, Tk)


def _built_attention_layer(query, value, key):
    """An ``AttentionLayer(6)`` built for these inputs, with random weights and biases."""
    layer = ref.AttentionLayer(units=6)
    layer(query, value, key=key)
    _randomise(layer, seed=7)
    return layer


@pytest.fixture
def attention_layer():
    return _built_attention_layer(*_layer_inputs(8, 5, 3))


@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("masking", ["none", "attention_mask", "causal"])
def test_attention_layer_computes_its_equation(with_key, masking):
    query, value, key = _layer_inputs(8, 5, 3 if with_key else None, seed=8)
    attention_layer = _built_attention_layer(query, value, key)
    mask = {
        "none": None,
        "attention_mask": _random_mask((BATCH, T_QUERY, T_KEY), seed=9),
        "causal": np.tril(np.ones((T_QUERY, T_KEY), dtype=bool)),
    }[masking]
    kwargs = {"use_causal_mask": True} if masking == "causal" else {"attention_mask": mask}
    output, weights = attention_layer(query, value, key=key, return_attention_scores=True, **kwargs)
    expected_output, expected_weights = _attention_layer_in_numpy(
        attention_layer, query, value, key, mask
    )
    assert output.shape == (BATCH, T_QUERY, 6) and weights.shape == (BATCH, T_QUERY, T_KEY)
    np.testing.assert_allclose(_numpy(output), expected_output, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(_numpy(weights), expected_weights, rtol=TOL, atol=TOL)


def test_attention_layer_mask_by_keyword_changes_the_output(attention_layer):
    query, value, key = _layer_inputs(8, 5, 3)
    unmasked = _numpy(attention_layer(query, value, key=key))
    mask = _random_mask((BATCH, T_QUERY, T_KEY), seed=10)
    masked = _numpy(attention_layer(query, value, key=key, attention_mask=mask))
    assert np.abs(masked - unmasked).max() > 1e-3


def test_attention_layer_is_causal_when_asked():
    """With use_causal_mask, position i never sees what comes after it."""
    rng = np.random.default_rng(11)
    layer = ref.AttentionLayer(units=4)
    sequence = rng.standard_normal((BATCH, 6, 5)).astype("float32")  # (B, T, d)
    changed = sequence.copy()
    changed[:, 3:] += 1.0  # change the future of positions 0, 1, 2
    before = _numpy(layer(sequence, sequence, use_causal_mask=True))
    after = _numpy(layer(changed, changed, use_causal_mask=True))
    np.testing.assert_allclose(after[:, :3], before[:, :3], rtol=TOL, atol=TOL)
    assert np.abs(after[:, 3:] - before[:, 3:]).max() > 1e-3


def test_attention_layer_applies_the_value_projection(attention_layer):
    query, value, key = _layer_inputs(8, 5, 3)
    before = _numpy(attention_layer(query, value, key=key))
    kernel, bias = attention_layer.value_dense.get_weights()
    attention_layer.value_dense.set_weights([2.0 * kernel, bias])
    after = _numpy(attention_layer(query, value, key=key))
    assert np.abs(after - before).max() > 1e-3


def test_attention_layer_compute_output_shape():
    layer = ref.AttentionLayer(units=6)
    query, value, key = _layer_inputs(8, 5, 3)
    shape = layer.compute_output_shape(query.shape, value.shape, key.shape)
    assert tuple(shape) == tuple(layer(query, value, key=key).shape) == (BATCH, T_QUERY, 6)


@pytest.mark.parametrize(
    "shapes",
    [((4, 8), (BATCH, T_KEY, 5)), ((BATCH, T_QUERY, 8), (2, BATCH, T_KEY, 5))],
    ids=["query rank 2", "value rank 4"],
)
def test_attention_layer_bad_ranks_raise(shapes):
    query_shape, value_shape = shapes
    with pytest.raises(ValueError, match="Received:"):
        ref.AttentionLayer(units=6)(np.ones(query_shape), np.ones(value_shape))


def test_attention_layer_rejects_bad_units():
    with pytest.raises(ValueError, match="Received: units=0"):
        ref.AttentionLayer(units=0)


# --- saving and loading ---------------------------------------------------------------------

LAYERS = {
    "AttentionLayer": lambda: ref.AttentionLayer(units=6, name="attention"),
    "MultiHeadAttention": lambda: ref.MultiHeadAttention(
        num_heads=2, key_dim=3, value_dim=4, use_bias=False, name="attention"
    ),
}


@pytest.mark.parametrize("make_layer", LAYERS.values(), ids=LAYERS.keys())
def test_keras_file_round_trip(make_layer, tmp_path):
    query_in = keras.Input((T_QUERY, 8), name="query")
    value_in = keras.Input((T_KEY, 5), name="value")
    key_in = keras.Input((T_KEY, 3), name="key")
    attended = make_layer()(query_in, value_in, key=key_in, use_causal_mask=True)
    model = keras.Model([query_in, value_in, key_in], keras.layers.Dense(2)(attended))
    inputs = _layer_inputs(8, 5, 3, seed=12)
    expected = _numpy(model(list(inputs)))

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # registered: no custom_objects needed

    assert type(loaded.get_layer("attention")) is type(model.get_layer("attention"))
    np.testing.assert_allclose(_numpy(loaded(list(inputs))), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make_layer", LAYERS.values(), ids=LAYERS.keys())
def test_get_config_from_config_round_trip(make_layer):
    layer = make_layer()
    query, value, key = _layer_inputs(8, 5, 3, seed=13)
    expected = _numpy(layer(query, value, key=key))
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(query, value, key=key)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_numpy(clone(query, value, key=key)), expected, rtol=1e-6)


@pytest.mark.parametrize("make_layer", [lambda: ref.AttentionLayer(6),
                                        lambda: ref.MultiHeadAttention(2, 4, value_dim=3)])
def test_functional_model_returns_output_and_weights(make_layer):
    query, value = keras.Input((5, 8)), keras.Input((7, 6))  # (B, Tq, d_q), (B, Tk, d_v)
    output, weights = make_layer()(query, value, return_attention_scores=True)
    model = keras.Model([query, value], [output, weights])
    q, v = np.ones((2, 5, 8), "float32"), np.ones((2, 7, 6), "float32")
    got_output, got_weights = model([q, v])
    assert tuple(got_output.shape) == (2, *output.shape[1:])
    assert tuple(got_weights.shape) == (2, *weights.shape[1:])
    np.testing.assert_allclose(np.asarray(got_weights).sum(-1), 1.0, rtol=1e-5)
