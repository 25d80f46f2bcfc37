"""Public checks of the Keras lessons: 04 (the attention layers), 06 (the Transformer block),
07 (the date translator) and 11 (decoding with a KV cache).

Each ``check_<name>(answer)`` runs the learner's layer, model or function on fixed inputs,
prints what passed, and raises :class:`~course_lib.feedback.CheckFailed` naming the mistake
when something is wrong. Layers are compared with ``keras.layers.MultiHeadAttention`` carrying
the same weights (a single-head ``AttentionLayer`` is a one-head ``MultiHeadAttention``), never
with the course's answer key.

Float32 and GPUs: on NVIDIA GPUs since Ampere, TensorFlow computes float32 matrix products with
TensorFloat-32 (10-bit mantissas) unless told otherwise, and results move by about 1e-3. The
checks switch TF32 off while they run (:func:`float32_matmuls`, restored afterwards), so that
any correct float32 arithmetic agrees within ``rtol=1e-4, atol=1e-5`` on CPUs and GPUs alike,
and every wrong formula, off by far more, is still caught.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
import re
import warnings

import numpy as np

from course_lib.feedback import CheckFailed, compare, to_numpy
from course_lib.misconceptions import DESCRIPTIONS
from course_lib.probe_cases import layer_inputs, two_sided_mask

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

KERAS_RTOL = 1e-4
KERAS_ATOL = 1e-5

ATTENTION_LAYER_WEIGHTS = (
    "W_q kernel (d_query, units)", "W_q bias (units,)",
    "W_k kernel (d_key, units)", "W_k bias (units,)",
    "W_v kernel (d_value, units)", "W_v bias (units,)",
    "W_o kernel (units, units)", "W_o bias (units,)",
)
CALL_PARAMETERS = ("query", "value", "key", "attention_mask", "return_attention_scores",
                   "use_causal_mask")


def mistake(what: str, key: str) -> CheckFailed:
    """The verdict for an answer that makes a known mistake: ``raise mistake(what, key)``."""
    return CheckFailed(f"{what} is wrong: it matches {DESCRIPTIONS[key]}.", key)


# -- running learners' code quietly and on exact float32 --------------------------------------
@contextlib.contextmanager
def float32_matmuls():
    """Run the block with TensorFloat-32 off (where a GPU has it), restoring the setting after.

    Example::

        with float32_matmuls():
            out = layer(q, v)  # plain float32 on every device
    """
    import tensorflow as tf

    was_enabled = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        yield
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(was_enabled)


@contextlib.contextmanager
def quiet():
    """No warnings and no TensorFlow/absl log lines while checking (stderr fails a graded cell)."""
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl", "keras")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def checking():
    """The setting of every Keras check: quiet, and TF32 off."""
    with quiet(), float32_matmuls():
        yield


def compare_keras(received, expected, *, what: str, misconceptions=None, hint: str = "") -> None:
    """:func:`~course_lib.feedback.compare` at the Keras lessons' float32 tolerance.

    ``misconceptions`` may be a function returning the ``{description: wrong_output}``
    dictionary: it then runs only when the answer is wrong (wrong variants cost time to run).
    """
    received = to_numpy(received, f"The result of {what}")
    if received.shape == np.shape(expected) and np.allclose(received, expected, rtol=KERAS_RTOL,
                                                            atol=KERAS_ATOL):
        return
    if callable(misconceptions):
        misconceptions = misconceptions()
    compare(received, expected, what=what, misconceptions=misconceptions, rtol=KERAS_RTOL,
            atol=KERAS_ATOL, hint=hint)


def _describe(value) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{tuple(value.shape)} {getattr(value.dtype, 'name', value.dtype)}"
    return type(value).__name__ if isinstance(value, list | tuple | dict) else repr(value)


def _short_error(error: Exception) -> str:
    """A Keras error without its colour codes and the long list of arguments it repeats."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).split("Arguments received by")[0]
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n    ".join(lines[:6])


def run_answer(fn, *args, name: str, **kwargs):
    """Call a learner's layer, model or function; its errors become a :class:`CheckFailed` that
    says what was called with which shapes (never the arrays' contents)."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not written yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except CheckFailed:
        raise
    except Exception as error:  # a learner's bug: say where it happened
        shown = [_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()]
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__}: {_short_error(error)}\n"
            f"  It was called with: {', '.join(shown)}"
        ) from None


def passed(name: str, n_checks: int) -> None:
    print(f"✓ {name}: all {n_checks} checks passed.")


# -- calling a learner's layer -----------------------------------------------------------------
def require_layer_class(cls, name: str = "The answer") -> None:
    """A layer exercise's answer is a subclass of ``keras.layers.Layer``: anything else gets
    this reason rather than the error it would raise further on (no ``get_weights``, …)."""
    import keras

    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return
    if isinstance(cls, type):
        received = f"the class {cls.__qualname__}, which does not subclass keras.layers.Layer"
    elif callable(cls):
        received = f"a {type(cls).__name__} ({getattr(cls, '__name__', '?')}), not a class"
    else:
        received = f"{repr(cls)[:60]} (a {type(cls).__name__})"
    raise CheckFailed(
        f"{name} should be a Keras layer: a class that subclasses keras.layers.Layer, as the "
        f"skeleton's `class ...(keras.layers.Layer):` does. Received: {received}."
    )


def check_call_signature(cls, name: str) -> None:
    """``call(query, value, key=None, attention_mask=None, return_attention_scores=False,
    use_causal_mask=False)`` in that order, as ``keras.layers.MultiHeadAttention`` starts."""
    require_layer_class(cls, f"`{name}`")
    try:
        parameters = list(inspect.signature(cls.call).parameters)
    except (TypeError, ValueError) as error:
        raise CheckFailed(f"`{name}.call` cannot be inspected: {error}") from None
    parameters = [p for p in parameters if p != "self"]
    missing = [p for p in CALL_PARAMETERS if p not in parameters]
    if missing:
        raise CheckFailed(
            f"`{name}.call` lacks the argument(s) {', '.join(missing)}. Keep the signature "
            f"call(self, {', '.join(CALL_PARAMETERS)}) so that the layer is called like Keras's."
        )
    if parameters[:3] != list(CALL_PARAMETERS[:3]):
        raise mistake(f"`{name}.call{tuple(parameters)}`", "layer_signature_order")


def make_layer(cls, name: str, *args, **kwargs):
    """``cls(*args, **kwargs)`` with the learner's errors turned into a :class:`CheckFailed`."""
    return run_answer(cls, *args, name=name, **kwargs)


def run_layer(layer, name: str, query, value, key=None, scores: bool = False, **options):
    """Call a layer as Keras would (``key`` and options by keyword) and return NumPy arrays:
    the output, or ``(output, weights)`` when ``scores``."""
    if key is not None:
        options["key"] = key
    if scores:
        options["return_attention_scores"] = True
    result = run_answer(layer, query, value, name=f"{name}.call", **options)
    if not scores:
        return to_numpy(result, f"the output of {name}")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise CheckFailed(
            f"With return_attention_scores=True, {name} should return (output, weights). "
            f"Received: {type(result).__name__}"
        )
    out, weights = result
    return to_numpy(out, f"the output of {name}"), to_numpy(weights, f"the weight matrix of {name}")


def learner_weights(layer, name: str) -> list[np.ndarray]:
    with contextlib.suppress(Exception):
        return [np.asarray(w) for w in layer.get_weights()]
    raise CheckFailed(f"{name}.get_weights() failed: is the layer built (called once)?")


def check_weight_shapes(received, expected, name: str, labels=None) -> None:
    """The learner's weights have the expected shapes (arrays or shape tuples), in order."""
    got = [tuple(np.shape(w)) for w in received]
    want = [tuple(np.shape(w)) if hasattr(w, "shape") else tuple(w) for w in expected]
    if got == want:
        return
    rows = "\n".join(
        f"    {labels[i] if labels else f'weight {i}'}: {shape}" for i, shape in enumerate(want)
    )
    raise CheckFailed(
        f"{name} holds weights of shapes {got}; expected, in this order:\n{rows}\n"
        "  Create them in build() as the skeleton does (and do not create others)."
    )


def check_projections_used(layer, name, query, value, key, out) -> None:
    """Zeroing W_v (weights 4 and 5), then W_o's kernel (weight 6), must change the output:
    the tutorial layer creates both but may apply neither."""
    params = learner_weights(layer, name)
    for indices, flaw in (((4, 5), "layer_values_not_projected"),
                          ((6,), "layer_no_output_projection")):
        layer.set_weights([w * 0 if i in indices else w for i, w in enumerate(params)])
        unchanged = np.allclose(run_layer(layer, name, query, value, key), out, atol=KERAS_ATOL)
        layer.set_weights(params)
        if unchanged:
            raise mistake(name, flaw)


def check_weights_sum_to_one(weights, what: str) -> None:
    """Each query's weights over the keys sum to 1; columns that do instead name the mistake."""
    rows, cols = weights.sum(axis=-1), weights.sum(axis=-2)
    if np.allclose(rows, 1.0, atol=1e-4):
        return
    if np.allclose(cols, 1.0, atol=1e-4):
        raise mistake(what, "layer_softmax_wrong_axis")
    if np.all(rows < 1.0 - 1e-4):
        raise mistake(what, "layer_mask_after_softmax")
    raise CheckFailed(
        f"{what}: each row (one query's weights over the keys) should sum to 1; received row sums "
        f"such as {rows.reshape(-1)[:3]}"
    )


def check_mask_changes_output(masked, unmasked, what: str) -> None:
    """Prove the mask took effect (Keras layers ignore masks passed in the wrong place)."""
    if masked.shape == unmasked.shape and np.allclose(masked, unmasked, rtol=KERAS_RTOL,
                                                      atol=KERAS_ATOL):
        raise mistake(what, "layer_mask_ignored")


def check_fully_masked_rows(weights, output, rows, what: str) -> None:
    """Rows with no allowed key: zero weights, finite everywhere."""
    if not np.all(np.isfinite(weights)) or not np.all(np.isfinite(output)):
        raise mistake(what, "layer_fully_masked_nan")
    if not np.allclose(weights[rows], 0.0, atol=KERAS_ATOL):
        raise mistake(what, "layer_fully_masked_uniform")


# -- keras.layers.MultiHeadAttention as the yardstick --------------------------------------------
def keras_twin(query, value, key, weights, **config):
    """A ``keras.layers.MultiHeadAttention`` of this config, built on these inputs, holding
    ``weights`` reshaped to its own shapes (a Dense kernel ``(d, u)`` is ``(d, 1, u)``)."""
    import keras

    twin = keras.layers.MultiHeadAttention(**config)
    twin(query, value, key=key)
    shapes = [w.shape for w in twin.get_weights()]
    twin.set_weights([np.reshape(w, s) for w, s in zip(weights, shapes, strict=True)])
    return twin


def twin_outputs(twin, query, value, key=None, **options):
    """``(output, weights)`` of a Keras layer as NumPy arrays."""
    out, weights = twin(query, value, key=key, return_attention_scores=True, **options)
    return np.asarray(out), np.asarray(weights)


def scaled_query(weights, factor):
    """The same weights with the query projection (kernel and bias) multiplied by ``factor``."""
    return [w * factor if i < 2 else w for i, w in enumerate(weights)]


def attention_layer_shapes(units, query, value, key=None):
    """The shapes of an ``AttentionLayer(units)``'s weights, in order (see
    :data:`ATTENTION_LAYER_WEIGHTS`)."""
    key = value if key is None else key
    return [shape for x in (query, key, value) for shape in ((x.shape[-1], units), (units,))] + [
        (units, units), (units,)]


def attention_layer_twin(units, query, value, key, weights, factor=1.0):
    """The one-head ``keras.layers.MultiHeadAttention`` equal to an ``AttentionLayer(units)``."""
    return keras_twin(query, value, key, scaled_query(weights, factor), num_heads=1,
                      key_dim=units, output_shape=units)


def check_attention_layer(AttentionLayer) -> None:  # noqa: N803 — the learner's class
    """Public check of lesson 04's ``AttentionLayer(units)``."""
    name, units, n_checks = "AttentionLayer", 8, 0
    rng = np.random.default_rng(4)
    with checking():
        check_call_signature(AttentionLayer, name)
        # Value features = units, so that the tutorial's version runs and can be recognised.
        query, value, key = layer_inputs(rng, 2, 3, 4, d_query=5, d_value=units, d_key=7)
        layer = make_layer(AttentionLayer, name, units)
        out, weights = run_layer(layer, name, query, value, key, scores=True)
        if out.shape != (2, 3, units) or weights.shape != (2, 3, 4):
            raise CheckFailed(
                f"{name}({units}) on query (2, 3, 5), value (2, 4, {units}) should return an "
                f"output (2, 3, {units}) and weights (2, 3, 4). Received: {out.shape} and "
                f"{weights.shape}"
            )
        check_weights_sum_to_one(weights, f"the weight matrix of {name}")
        n_checks += 2

        params = learner_weights(layer, name)
        check_weight_shapes(params, attention_layer_shapes(units, query, value, key), name,
                            ATTENTION_LAYER_WEIGHTS)
        twin = attention_layer_twin(units, query, value, key, params)
        check_projections_used(layer, name, query, value, key, out)
        expected, expected_weights = twin_outputs(twin, query, value, key)
        compare_keras(out, expected, what=f"the output of {name}", misconceptions=lambda: {
            DESCRIPTIONS["layer_no_scaling"]: twin_outputs(attention_layer_twin(
                units, query, value, key, params, math.sqrt(units)), query, value, key)[0],
        }, hint="Project queries, keys and values, scale by 1/√units, softmax, weighted sum, W_o.")
        compare_keras(weights, expected_weights[:, 0], what=f"the weight matrix of {name}")
        n_checks += 3

        query, value, _ = layer_inputs(rng, 2, 3, 5, d_query=6, d_value=4)
        layer = make_layer(AttentionLayer, name, units)
        run_layer(layer, name, query, value)
        params = learner_weights(layer, name)
        check_weight_shapes(params, attention_layer_shapes(units, query, value), name,
                            ATTENTION_LAYER_WEIGHTS)
        twin = attention_layer_twin(units, query, value, None, params)
        n_checks += check_layer_options(layer, name, twin, query, value, head_axis=False)
    passed(name, n_checks)


def check_layer_options(layer, name, twin, query, value, head_axis: bool) -> int:
    """Key defaulting to value, attention_mask, use_causal_mask and fully masked rows, each
    compared with ``twin`` (Keras's layer with the same weights). Returns the number of checks."""
    rng = np.random.default_rng(7)
    batch, t_q, t_k = query.shape[0], query.shape[1], value.shape[1]

    def weights_of(w):  # Keras's weights are (B, H, Tq, Tk); a single-head layer's (B, Tq, Tk)
        return w if head_axis else w[:, 0]

    plain = run_layer(layer, name, query, value)
    compare_keras(plain, twin_outputs(twin, query, value)[0],
                  what=f"the output of {name} without a key (key defaults to value)")

    mask = two_sided_mask(rng, batch, t_q, t_k)  # (B, Tq, Tk)
    masked, masked_weights = run_layer(layer, name, query, value, attention_mask=mask,
                                       scores=True)
    check_mask_changes_output(masked, plain, f"{name} with attention_mask=")
    check_weights_sum_to_one(masked_weights, f"the weight matrix of {name} with attention_mask=")
    compare_keras(masked, twin_outputs(twin, query, value, attention_mask=mask)[0],
                  what=f"the output of {name} with attention_mask=", misconceptions=lambda: {
                      DESCRIPTIONS["layer_mask_inverted"]:
                          twin_outputs(twin, query, value, attention_mask=~mask)[0],
                  }, hint="Masked scores must get zero weight: mask before the softmax.")

    causal = run_layer(layer, name, query, value, use_causal_mask=True)
    compare_keras(causal, twin_outputs(twin, query, value, use_causal_mask=True)[0],
                  what=f"the output of {name} with use_causal_mask=True", misconceptions={
                      DESCRIPTIONS["layer_causal_ignored"]: plain,
                  }, hint="Query i may attend to keys 0 … i (a lower-triangular mask).")

    mask[:, 0, :] = False  # the first query of every sequence may attend to nothing
    out, weights = run_layer(layer, name, query, value, attention_mask=mask, scores=True)
    check_fully_masked_rows(weights, out, (slice(None), 0) if not head_axis
                            else (slice(None), slice(None), 0), f"{name} on a fully masked row")
    expected, expected_weights = twin_outputs(twin, query, value, attention_mask=mask)
    compare_keras(out[:, 1:], expected[:, 1:],
                  what=f"the output of {name} on the rows that are not fully masked")
    compare_keras(weights[..., 1:, :], weights_of(expected_weights)[..., 1:, :],
                  what=f"the weight matrix of {name} on the rows that are not fully masked")
    return 5


def check_multi_head_attention(MultiHeadAttention) -> None:  # noqa: N803 — the learner's class
    """Public check of lesson 04's ``MultiHeadAttention(num_heads, key_dim, value_dim=None,
    use_bias=True)``, against ``keras.layers.MultiHeadAttention`` with the same weights."""
    import keras

    name, n_checks = "MultiHeadAttention", 0
    config = {"num_heads": 2, "key_dim": 3, "value_dim": 5}
    rng = np.random.default_rng(5)
    with checking():
        check_call_signature(MultiHeadAttention, name)
        # value features = value_dim, so that a layer that skips W_v runs and can be recognised
        query, value, key = layer_inputs(rng, 2, 4, 6, d_query=6, d_value=5, d_key=8)
        layer = make_layer(MultiHeadAttention, name, **config)
        run_layer(layer, name, query, value, key)
        twin = keras.layers.MultiHeadAttention(**config)
        twin(query, value, key=key)
        check_weight_shapes(learner_weights(layer, name), twin.get_weights(), name)
        count = run_answer(layer.count_params, name=f"{name}.count_params")
        if count != twin.count_params():
            raise CheckFailed(f"{name} has {count} parameters; Keras's has {twin.count_params()}.")
        n_checks += 2

        layer.set_weights(twin.get_weights())
        out, weights = run_layer(layer, name, query, value, key, scores=True)
        check_projections_used(layer, name, query, value, key, out)
        if out.shape != (2, 4, 6) or weights.shape != (2, 2, 4, 6):
            raise CheckFailed(
                f"{name}(**{config}) on query (2, 4, 6), value (2, 6, 5) should return an output "
                f"(2, 4, 6) and weights (B, H, Tq, Tk) = (2, 2, 4, 6). Received: {out.shape} and "
                f"{weights.shape}"
            )
        check_weights_sum_to_one(weights, f"the weight matrix of {name}")
        params = twin.get_weights()
        expected, expected_weights = twin_outputs(twin, query, value, key)
        wrong = {
            "layer_no_scaling": math.sqrt(config["key_dim"]),
            "layer_scale_by_model_dim": 1 / math.sqrt(config["num_heads"]),
        }
        compare_keras(out, expected, what=f"the output of {name}", misconceptions=lambda: {
            DESCRIPTIONS[key_]: twin_outputs(
                keras_twin(query, value, key, scaled_query(params, factor), **config),
                query, value, key,
            )[0]
            for key_, factor in wrong.items()
        }, hint="Project into heads, scale by 1/√key_dim, softmax over the keys, weighted sum per "
                "head, then the output projection sums over heads.")
        compare_keras(weights, expected_weights, what=f"the weight matrix of {name} (B, H, Tq, Tk)")
        n_checks += 3

        query, value, _ = layer_inputs(rng, 2, 3, 5, d_query=4, d_value=6)
        layer = make_layer(MultiHeadAttention, name, **config)
        run_layer(layer, name, query, value)
        twin = keras_twin(query, value, None, learner_weights(layer, name), **config)
        n_checks += check_layer_options(layer, name, twin, query, value, head_axis=True)
        n_checks += check_config_round_trip(layer, MultiHeadAttention, name, config)
    passed(name, n_checks)


def check_config_round_trip(layer, cls, name: str, config: dict) -> int:
    """``get_config`` holds the constructor's arguments and ``from_config`` rebuilds the layer."""
    layer_config = run_answer(layer.get_config, name=f"{name}.get_config")
    expected = dict(config)
    if "key_dim" in config:  # MultiHeadAttention: its defaults are part of its config
        expected = {"value_dim": config["key_dim"], "use_bias": True, **config}
    wrong = {k: layer_config.get(k, "missing") for k, v in expected.items()
             if layer_config.get(k, "missing") != v}
    if wrong:
        raise CheckFailed(
            f"{name}.get_config() should hold the constructor's arguments {expected}; these "
            f"differ: {wrong}. Return {{**super().get_config(), ...}} with every argument."
        )
    copy = run_answer(cls.from_config, layer_config, name=f"{name}.from_config")
    if copy.get_config() != layer_config:
        raise CheckFailed(f"{name}.from_config(config).get_config() differs from config.")
    return 1


# -- lesson 04: the two helpers ----------------------------------------------------------------
def _softmax_rows(scores, allowed=None):
    """NumPy softmax over the last axis; ``allowed`` (boolean) zeroes the other keys first."""
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    row_max = np.max(scores, axis=-1, keepdims=True)  # (..., Tq, 1)
    exp = np.exp(scores - np.where(np.isfinite(row_max), row_max, 0.0))  # (..., Tq, Tk)
    total = exp.sum(axis=-1, keepdims=True)  # (..., Tq, 1)
    return exp / np.where(total > 0, total, 1.0)  # fully masked rows: zeros


def check_masked_softmax_keras(masked_softmax) -> None:
    """Public check of lesson 04's ``masked_softmax(scores, mask=None)`` on tensors: no mask,
    a mask with a fully masked row and large scores, and masks that broadcast."""
    import keras

    name, rng = "masked_softmax", np.random.default_rng(8)
    scores = (10.0 * rng.standard_normal((2, 3, 5))).astype("float32")  # (B, Tq, Tk)
    with checking():
        plain = run_answer(masked_softmax, keras.ops.convert_to_tensor(scores), name=name)
        compare_keras(plain, _softmax_rows(scores), what=f"{name}(scores) without a mask",
                      misconceptions={"layer_softmax_wrong_axis": np.swapaxes(
                          _softmax_rows(np.swapaxes(scores, -1, -2)), -1, -2)})

        mask = two_sided_mask(rng, 2, 3, 5)  # (B, Tq, Tk)
        mask[1, 2] = False  # a query that may attend to nothing
        large = scores + 1000.0  # exp(1000) overflows: the max must be subtracted
        received = run_answer(masked_softmax, keras.ops.convert_to_tensor(large),
                              keras.ops.convert_to_tensor(mask), name=name)
        what = f"{name}(scores + 1000, mask) with a fully masked row"
        received = to_numpy(received, f"The result of {what}")
        if not np.all(np.isfinite(received)):
            raise mistake(what, "layer_fully_masked_nan")
        expected = _softmax_rows(large, mask)
        uniform = _softmax_rows(np.where(mask, large, -1e9))  # -1e9 alone: the empty row uniform
        compare_keras(received, expected, what=what, misconceptions={
            "layer_fully_masked_uniform": uniform,
            "layer_mask_inverted": _softmax_rows(large, ~mask),
            "layer_mask_after_softmax": np.where(mask, _softmax_rows(large), 0.0),
            "layer_mask_ignored": _softmax_rows(large),
        }, hint="Put -1e9 where the mask is False, take the softmax, then set the weights to 0 "
                "where the mask is False.")

        heads = np.repeat(scores[:, None], 2, axis=1)  # (B, H=2, Tq, Tk)
        broadcasting = [(scores, mask[:, :1]),  # padding-like (B, 1, Tk)
                        (heads, mask[:, None]),  # (B, 1, Tq, Tk) over the heads
                        (scores, mask[0])]  # (Tq, Tk), as a causal mask
        for target, small in broadcasting:
            received = run_answer(masked_softmax, keras.ops.convert_to_tensor(target),
                                  keras.ops.convert_to_tensor(small), name=name)
            compare_keras(received, _softmax_rows(target, np.broadcast_to(small, target.shape)),
                          what=f"{name}(scores {target.shape}, mask {small.shape})",
                          hint="The mask broadcasts to the scores: ops.where broadcasts it.")
    passed(name, 5)


def check_combine_masks(combine_masks) -> None:
    """Public check of lesson 04's ``combine_masks(attention_mask, use_causal_mask, t_q, t_k)``:
    None, the mask alone, the causal mask alone (Tq != Tk), and both."""
    name, rng = "combine_masks", np.random.default_rng(9)
    t_q, t_k = 3, 5
    lower = np.tril(np.ones((t_q, t_k), dtype=bool))  # (Tq, Tk): key j <= query i

    def as_mask(result, what, shape):
        result = to_numpy(result, f"The result of {what}")
        try:
            result = np.broadcast_to(result, shape)
        except ValueError:
            raise CheckFailed(f"{what} has shape {result.shape}, which does not broadcast to "
                              f"(B, Tq, Tk) = {shape}.") from None
        if result.dtype != np.bool_ and not np.isin(result, (0, 1)).all():
            raise CheckFailed(f"{what} should be boolean (True = may attend). Received values "
                              f"such as {np.unique(result)[:4]}")
        return result.astype(bool)

    with checking():
        if run_answer(combine_masks, None, False, t_q, t_k, name=name) is not None:
            raise CheckFailed(f"{name}(None, False, {t_q}, {t_k}) should return None: no mask.")
        mask = two_sided_mask(rng, 2, t_q, t_k)  # (B, Tq, Tk)
        what = f"{name}(mask, False, {t_q}, {t_k})"
        compare(as_mask(run_answer(combine_masks, mask, False, t_q, t_k, name=name), what,
                        mask.shape), mask, what=what,
                misconceptions={"layer_mask_inverted": ~mask},
                hint="Without the causal mask, the attention_mask is the mask.")

        what = f"{name}(None, True, {t_q}, {t_k})"
        causal = run_answer(combine_masks, None, True, t_q, t_k, name=name)
        if causal is None:
            raise mistake(what, "layer_causal_ignored")
        causal = as_mask(causal, what, mask.shape)
        compare(causal, np.broadcast_to(lower, mask.shape), what=what, misconceptions={
            key: np.broadcast_to(wrong, mask.shape) for key, wrong in (
                ("causal_upper", np.triu(np.ones((t_q, t_k), dtype=bool))),
                ("causal_inverted", ~lower),
                ("causal_strict", np.tril(np.ones((t_q, t_k), dtype=bool), -1)))
        }, hint="Query i may attend to keys 0 … i: ops.tril of a (t_q, t_k) matrix of ones.")

        what = f"{name}(mask, True, {t_q}, {t_k})"
        both = as_mask(run_answer(combine_masks, mask, True, t_q, t_k, name=name), what,
                       mask.shape)
        compare(both, mask & lower, what=what, misconceptions={
            "layer_causal_ignored": mask,
            "layer_mask_ignored": np.broadcast_to(lower, mask.shape),
        }, hint="A key may be attended when both masks allow it: ops.logical_and.")
    passed(name, 4)


# -- lesson 07: the date translator -----------------------------------------------------------
def check_teacher_forcing(teacher_forcing) -> None:
    """Public check of lesson 07's ``teacher_forcing(targets)``."""
    from course_lib.dates import START_ID, encode_targets

    targets = encode_targets(["1979-05-03", "2001-12-31"])  # (2, 10)
    result = run_answer(teacher_forcing, targets, name="teacher_forcing")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise CheckFailed("teacher_forcing should return a pair (decoder_inputs, decoder_targets).")
    decoder_inputs, decoder_targets = (to_numpy(r, f"teacher_forcing's {what}")
                                       for r, what in zip(result, ("decoder_inputs", "targets"),
                                                          strict=True))
    expected = np.array([[0, 2, 10, 8, 10, 11, 1, 6, 11, 1],
                         [0, 3, 1, 1, 2, 11, 2, 3, 11, 4]])
    start = np.full((2, 1), START_ID)
    compare(decoder_inputs, expected, what="decoder_inputs for '1979-05-03' and '2001-12-31'",
            misconceptions={
                DESCRIPTIONS["no_shift"]: targets,
                DESCRIPTIONS["shift_left"]: np.concatenate([targets[:, 1:], start], axis=1),
                DESCRIPTIONS["start_at_end"]: np.concatenate([targets[:, :-1], start], 1),
            }, hint="Put START_ID in front and drop the last character: the decoder reads "
                    "START, t₀, …, t₈ and predicts t₀, …, t₉.")
    compare(decoder_targets, targets, what="decoder_targets", misconceptions={
        DESCRIPTIONS["targets_shifted"]: targets[:, 1:],
    })
    passed("teacher_forcing", 2)


def chain_model(multiplier: int = 3):
    """A stand-in translator for checking decoders: the logits at step ``i`` point at
    ``(multiplier · d[i] + 2 · d[i-1] + source[i] + i) mod V``, where ``d`` is the decoder
    input, so every step depends on the steps before. A causal ``keras.Model``:
    ``model([source, decoder_input])``, ``predict`` and ``predict_on_batch`` all work.
    """
    import keras
    from keras import ops

    from course_lib.dates import TARGET_LEN, TARGET_VOCAB

    vocab = len(TARGET_VOCAB)

    class ChainModel(keras.Model):
        def call(self, inputs):
            source, decoder_input = inputs
            current = ops.cast(decoder_input, "int32")  # (B, Tt)
            previous = ops.pad(current[:, :-1], ((0, 0), (1, 0)))  # (B, Tt): d[i-1], 0 at i=0
            steps = ops.arange(TARGET_LEN)  # (Tt,)
            pointer = (multiplier * current + 2 * previous
                       + ops.cast(source[:, :TARGET_LEN], "int32") + steps) % vocab  # (B, Tt)
            return 5.0 * ops.one_hot(pointer, vocab)  # (B, Tt, V)

    return ChainModel()


def check_greedy_decode(greedy_decode) -> None:
    """Public check of lesson 07's ``greedy_decode(model, source)`` on a :func:`chain_model`."""
    source = np.array([[8, 10, 35, 23, 1, 30, 21, 1, 51, 16, 29, 36],
                       [16, 13, 4, 17, 16, 4, 8, 10, 0, 0, 0, 0]], dtype="int32")
    source = np.pad(source, ((0, 0), (0, 20)))  # (2, SOURCE_LEN)
    with checking():
        result = to_numpy(run_answer(greedy_decode, chain_model(), source, name="greedy_decode"),
                          "the result of greedy_decode")
    expected = np.array([[8, 11, 2, 6, 3, 8, 9, 3, 2, 1],
                         [4, 2, 8, 0, 0, 9, 5, 2, 0, 1]])
    compare(result, expected, what="greedy_decode on a stand-in model", misconceptions={
        DESCRIPTIONS["start_kept"]: np.concatenate([np.zeros((2, 1), int), expected[:, :-1]],
                                                         axis=1),
    }, hint="Start from START_ID; at step i read the logits at position i, take the argmax, and "
            "write it into the decoder input at position i + 1.")
    passed("greedy_decode", 1)


#: What each known mistake of ``alignment`` returns on the weights of :func:`check_alignment`.
ALIGNMENT_MISTAKES = {
    "head_zero_only": np.array([[0, 1, 3]]),
    "max_not_argmax": np.array([[0.4, 0.55, 0.5]]),
    "argmax_over_outputs": np.array([[0, 1, 0, 2]]),
    "per_head_argmax": np.array([[[0, 1, 3], [2, 1, 2]]]),
}


def check_alignment(alignment) -> None:
    """Public check of lesson 07's ``alignment(weights)``."""
    weights = np.array([[[[0.6, 0.2, 0.1, 0.1], [0.1, 0.5, 0.2, 0.2], [0.1, 0.1, 0.1, 0.7]],
                         [[0.1, 0.1, 0.7, 0.1], [0.1, 0.6, 0.2, 0.1], [0.1, 0.1, 0.5, 0.3]]]])
    # (B=1, H=2, Tt=3, Ts=4); averaged over the heads, the rows peak at sources 2, 1, 3
    result = to_numpy(run_answer(alignment, weights, name="alignment"), "the result of alignment")
    compare(result, np.array([[2, 1, 3]]), what="alignment of weights (1, 2, 3, 4)",
            misconceptions=ALIGNMENT_MISTAKES,
            hint="Average the weights over the heads (axis 1), then take the argmax over the "
                 "source positions (the last axis).")
    if not np.issubdtype(result.dtype, np.integer):
        raise CheckFailed(f"alignment should return integer positions. Received: {result.dtype}")
    passed("alignment", 2)


def spy_block():
    """A fresh subclass of ``course_lib.blocks.KerasBlock`` (a Transformer block of Keras's
    layers) that records its instances and how each was called (``SpyBlock.calls``:
    ``(name, positional dtypes, keyword names)``)."""
    from course_lib.blocks import KerasBlock

    class SpyBlock(KerasBlock):
        instances: list = []
        calls: list = []

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            SpyBlock.instances.append(self)

        def __call__(self, *args, **kwargs):
            dtypes = [str(getattr(a, "dtype", type(a).__name__)) for a in args]
            SpyBlock.calls.append((self.name, dtypes, sorted(kwargs)))
            return super().__call__(*args, **kwargs)

    return SpyBlock


def translator_batch(batch: int = 4, seed: int = 0):
    """``(source, decoder_input)``: real source dates (with padding) and random decoder ids."""
    from course_lib.dates import TARGET_LEN, TARGET_VOCAB, date_dataset

    source = date_dataset(batch, seed=seed)["source"]  # (B, Ts)
    rng = np.random.default_rng(seed)
    decoder_input = rng.integers(len(TARGET_VOCAB), size=(batch, TARGET_LEN)).astype("int32")
    return source, decoder_input  # (B, Ts), (B, Tt)


def _predict(model, source, decoder_input, what="the model") -> np.ndarray:
    return to_numpy(run_answer(model, [source, decoder_input], name=what), f"the output of {what}")


def build_with_spy(build_translator, **kwargs):
    """``(model, SpyBlock)``: the learner's model built with ``block=`` a recording Transformer
    block; checks that the blocks came from it (an encoder block and a decoder block with
    cross-attention) and got their masks by keyword."""
    import keras

    spy = spy_block()
    try:
        model = run_answer(build_translator, block=spy, name="build_translator", **kwargs)
    except CheckFailed:
        _check_masks_by_keyword(spy)  # a mask passed by position often ends in an error
        raise
    _check_masks_by_keyword(spy)
    if not isinstance(model, keras.Model):
        raise CheckFailed(f"build_translator should return a keras.Model. Received: "
                          f"{type(model).__name__}")
    if not spy.instances:
        raise mistake("build_translator", "block_not_used")
    if len(spy.instances) < 2 or not any(block.cross_attention for block in spy.instances):
        raise CheckFailed(
            f"build_translator made {len(spy.instances)} block(s) with `block(...)`, "
            f"{sum(block.cross_attention for block in spy.instances)} with cross-attention; it "
            "needs 2: the encoder's block and the decoder's block (cross_attention=True), each "
            "made with the `block` argument."
        )
    return model, spy


def _check_masks_by_keyword(spy) -> None:
    """A block called with more than (x, context) by position, or with a boolean tensor among
    them, was given a mask by position."""
    for block_name, dtypes, _ in spy.calls:
        if "bool" in dtypes or len(dtypes) > 2:
            raise mistake(f"build_translator (`{block_name}` got {len(dtypes)} positional "
                          "arguments)", "mask_passed_positionally")


def cross_attention_scores(model, source, decoder_input) -> np.ndarray:
    """The cross-attention weights ``(B, H, Tt, Ts)``: the second result of the layer named
    ``decoder_block``."""
    import keras

    try:
        layer = model.get_layer("decoder_block")
    except ValueError:
        raise CheckFailed("The model has no layer named 'decoder_block': create the decoder's "
                          "block with name=\"decoder_block\".") from None
    output = layer.output
    if not isinstance(output, tuple | list) or len(output) != 2:
        raise CheckFailed("Call the decoder block with return_attention_scores=True, so that "
                          "its cross-attention weights can be read (and use only the first "
                          "result downstream).")
    reader = keras.Model(model.inputs, output[1])
    return _predict(reader, source, decoder_input, "the cross-attention weights")


def check_translator_model(build_translator, d_model: int = 64, num_heads: int = 4) -> int:
    """Properties of the model ``build_translator`` returns; the number of checks passed."""
    from course_lib.dates import PAD_ID, SOURCE_LEN, TARGET_LEN, TARGET_VOCAB

    model, _ = build_with_spy(build_translator, d_model=d_model, num_heads=num_heads)
    source, decoder_input = translator_batch()
    logits = _predict(model, source, decoder_input)
    expected_shape = (len(source), TARGET_LEN, len(TARGET_VOCAB))
    if logits.shape != expected_shape:
        raise CheckFailed(f"The model's output should be (B, TARGET_LEN, len(TARGET_VOCAB)) = "
                          f"{expected_shape}. Received: {logits.shape}")
    scores = cross_attention_scores(model, source, decoder_input)
    if scores.shape == (len(source), num_heads, SOURCE_LEN, TARGET_LEN):
        raise mistake("build_translator", "swapped_cross_attention")
    if scores.shape != (len(source), num_heads, TARGET_LEN, SOURCE_LEN):
        raise CheckFailed(f"The cross-attention weights should be (B, num_heads, TARGET_LEN, "
                          f"SOURCE_LEN). Received: {scores.shape}")
    if np.all(logits >= 0) and np.allclose(logits.sum(-1), 1.0, atol=1e-4):
        raise mistake("build_translator", "softmax_output")

    changed = decoder_input.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % len(TARGET_VOCAB)  # change the characters from 5 on
    if not np.allclose(_predict(model, source, changed)[:, :5], logits[:, :5], atol=KERAS_ATOL):
        raise mistake("build_translator", "not_causal")
    other_source = np.roll(source, 1, axis=0)
    if np.allclose(_predict(model, other_source, decoder_input), logits, atol=KERAS_ATOL):
        raise CheckFailed("The model's output does not depend on the source: the decoder block "
                          "must read the encoder's output as its context.")
    pads = np.broadcast_to((source == PAD_ID)[:, None, None, :], scores.shape)
    if not np.allclose(scores[pads], 0.0, atol=1e-6):
        raise mistake("build_translator", "padding_not_masked")
    return 6


def check_build_translator(build_translator) -> None:
    """Public check of lesson 07's ``build_translator(block, positions, d_model, num_heads)``."""
    with checking():
        n_checks = check_translator_model(build_translator)
    passed("build_translator", n_checks)


# -- lesson 06: the Transformer block -----------------------------------------------------------
BLOCK_PARAMETERS = ("x", "context", "attention_mask", "context_mask", "use_causal_mask",
                    "return_attention_scores")


def _run_block(block, x, scores: bool = False, **options):
    """The block's output (NumPy), or ``(output, weights)`` when ``scores``; options by keyword."""
    name = "TransformerBlock"
    if scores:
        options["return_attention_scores"] = True
    result = run_answer(block, x, name=f"{name}.call", **options)
    if not scores:
        return to_numpy(result, f"the output of {name}")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise CheckFailed(f"With return_attention_scores=True, {name} should return (y, "
                          f"weights). Received: {type(result).__name__}")
    return to_numpy(result[0], f"the output of {name}"), to_numpy(result[1], "the weights")


def _standardised(x, epsilon):
    """Each position's features with mean 0 and variance 1: a LayerNorm with γ = 1, β = 0."""
    mean, variance = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon)


def _silenced(weights):
    """A block's weights (in the order of ``block_weight_shapes``) with every sublayer's output
    zeroed (the attention output kernels and biases, and the feed-forward network's W_2, b_2),
    and every LayerNorm's γ = 1, β = 0."""
    n = len(weights)  # 16, or 26 with cross-attention
    cross = n == 26
    zeroed = {6, 7, n - 4, n - 3} | ({16, 17} if cross else set())
    gammas = {8, n - 2} | ({18} if cross else set())
    silenced = [np.array(w, dtype="float32") for w in weights]
    for index in range(n):
        if index in gammas:
            silenced[index] = np.ones_like(silenced[index])
        elif index in zeroed or index - 1 in gammas:
            silenced[index] = np.zeros_like(silenced[index])
    return silenced


def check_transformer_block(TransformerBlock) -> None:  # noqa: N803 — the learner's class
    """Public check of lesson 06's ``TransformerBlock``: shapes, the weights' order, the
    identity path of pre-LN and the normalised output of post-LN, the feed-forward network,
    masks by keyword, cross-attention, and ``get_config``. Properties only: no other block is
    its yardstick."""
    from course_lib.probe_cases import block_weight_shapes

    name, n_checks = "TransformerBlock", 0
    rng = np.random.default_rng(6)
    batch, t, t_c, d_model, d_context = 2, 5, 7, 8, 6
    config = {"num_heads": 2, "key_dim": 4, "ff_dim": 12}
    x = rng.standard_normal((batch, t, d_model)).astype("float32") * 2 + 1  # (B, T, d)
    context = rng.standard_normal((batch, t_c, d_context)).astype("float32")  # (B, Tc, dc)
    with checking():
        try:
            parameters = [p for p in inspect.signature(TransformerBlock.call).parameters
                          if p != "self"]
        except (TypeError, ValueError) as error:
            raise CheckFailed(f"`{name}.call` cannot be inspected: {error}") from None
        if parameters[:len(BLOCK_PARAMETERS)] != list(BLOCK_PARAMETERS):
            raise CheckFailed(f"`{name}.call` should be call(self, {', '.join(BLOCK_PARAMETERS)})"
                              f". Received: call(self, {', '.join(parameters)})")
        block = make_layer(TransformerBlock, name, **config)
        y, weights = _run_block(block, x, scores=True)
        if y.shape != x.shape or weights.shape != (batch, 2, t, t):
            raise CheckFailed(f"{name}(**{config}) on x {x.shape} should return y {x.shape} and "
                              f"self-attention weights (B, H, T, T) = {(batch, 2, t, t)}. "
                              f"Received: {y.shape} and {weights.shape}")
        shapes = block_weight_shapes(config, d_model)
        check_weight_shapes(learner_weights(block, name), shapes, name)
        n_checks += 2

        # Every sublayer silenced: pre-LN keeps x itself (the identity path), post-LN
        # normalises it twice (LN of LN is LN).
        params = learner_weights(block, name)
        block.set_weights(_silenced(params))
        y = _run_block(block, x)
        if np.allclose(y, 0.0, atol=KERAS_ATOL):
            raise mistake(f"{name}(norm_first=True)", "block_no_residual")
        if not np.allclose(y, x, rtol=KERAS_RTOL, atol=KERAS_ATOL):
            raise CheckFailed(
                f"{name}(norm_first=True) with every sublayer's output set to zero should return "
                "x unchanged: x + 0 at each residual connection. It does not: is x itself (not "
                "LN(x)) added back, and is the sum left unnormalised in pre-LN?")
        post = make_layer(TransformerBlock, name, **config, norm_first=False)
        _run_block(post, x)
        post.set_weights(_silenced(learner_weights(post, name)))
        if np.allclose(_run_block(post, x), x, rtol=KERAS_RTOL, atol=KERAS_ATOL):
            raise mistake(f"{name}(norm_first=False)", "block_always_pre_norm")
        compare(_run_block(post, x), _standardised(x, 1e-6), what=f"{name}(norm_first=False) "
                "with every sublayer's output zero (LN(x + 0), three times)", rtol=KERAS_RTOL,
                atol=KERAS_ATOL, misconceptions={"block_epsilon_ignored": _standardised(x, 1e-3)})
        n_checks += 2

        # The feed-forward network alone (attention silenced): y = x + FFN(LN(x)).
        w1, b1, w2, b2 = (rng.standard_normal(s).astype("float32") * 0.5 for s in shapes[10:14])
        alone = _silenced(params)
        alone[10:14] = w1, b1, w2, b2
        block.set_weights(alone)
        h = _standardised(x.astype(np.float64), 1e-6)
        compare(_run_block(block, x) - x, np.maximum(h @ w1 + b1, 0) @ w2 + b2,
                what=f"y - x of {name} with its attention silenced: FFN(LN(x))",
                misconceptions={"block_no_relu": (h @ w1 + b1) @ w2 + b2},
                rtol=KERAS_RTOL, atol=KERAS_ATOL)
        block.set_weights(params)
        n_checks += 1

        # Masks, by keyword.
        y = _run_block(block, x, use_causal_mask=True)
        later = x.copy()
        later[:, 3:] += 1.0  # positions 3 and after change
        if not np.allclose(_run_block(block, later, use_causal_mask=True)[:, :3], y[:, :3],
                           atol=KERAS_ATOL):
            raise mistake(f"{name}(x, use_causal_mask=True)", "block_causal_ignored")
        mask = two_sided_mask(rng, batch, t, t)  # (B, T, T)
        if np.allclose(_run_block(block, x, attention_mask=mask), _run_block(block, x),
                       atol=KERAS_ATOL):
            raise mistake(f"{name}(x, attention_mask=mask)", "block_mask_ignored")
        n_checks += 2

        # Cross-attention: the weights over the context; context_mask blocks context positions.
        cross = make_layer(TransformerBlock, name, **config, cross_attention=True)
        y, weights = _run_block(cross, x, scores=True, context=context)
        check_weight_shapes(learner_weights(cross, name),
                            block_weight_shapes({**config, "cross_attention": True}, d_model,
                                                d_context), name)
        if weights.shape == (batch, 2, t, t):
            raise mistake(f"{name}(cross_attention=True)", "block_self_attention_scores")
        if weights.shape != (batch, 2, t, t_c):
            raise CheckFailed(f"With cross_attention=True, {name} should return the "
                              f"cross-attention's weights (B, H, T, Tc) = {(batch, 2, t, t_c)}. "
                              f"Received: {weights.shape}")
        check_weights_sum_to_one(weights, f"the cross-attention weights of {name}")
        changed = context.copy()
        changed[:, -2:] += 1.0  # the last two context positions change
        if np.allclose(_run_block(cross, x, context=changed), y, atol=KERAS_ATOL):
            raise CheckFailed(f"{name}(cross_attention=True)'s output does not depend on its "
                              "context: the cross-attention's keys and values come from it.")
        context_mask = np.ones((batch, 1, t_c), dtype=bool)
        context_mask[..., -2:] = False  # those two positions may not be attended to
        kept = _run_block(cross, x, context=context, context_mask=context_mask)
        if not np.allclose(_run_block(cross, x, context=changed, context_mask=context_mask),
                           kept, atol=KERAS_ATOL):
            raise mistake(f"{name}(x, context, context_mask=...)", "block_context_mask_ignored")
        n_checks += 3

        # get_config and from_config: a copy with the same weights computes the same.
        full = {**config, "cross_attention": True, "norm_first": True, "epsilon": 1e-6}
        layer_config = run_answer(cross.get_config, name=f"{name}.get_config")
        wrong = {k: layer_config.get(k, "missing") for k, v in full.items()
                 if layer_config.get(k, "missing") != v}
        if wrong:
            raise CheckFailed(f"{name}.get_config() should hold the constructor's arguments "
                              f"{full}; these differ: {wrong}. Return "
                              "{**super().get_config(), ...} with every argument.")
        copy = run_answer(TransformerBlock.from_config, layer_config, name=f"{name}.from_config")
        _run_block(copy, x, context=context)
        copy.set_weights(learner_weights(cross, name))
        compare_keras(_run_block(copy, x, context=context), y,
                      what=f"{name}.from_config(get_config()) holding the same weights")
        n_checks += 1
    passed(name, n_checks)


# -- lesson 11: decoding with a KV cache --------------------------------------------------------
#: What TensorFlow says when a step keeps tensors of one trace in Python state for the next.
TRACING_ERRORS = ("out of scope", "Graph tensor", "graph tensor", "different graph")


def small_translator(seed: int = 0, max_length: int = 12):
    """``(translator, counts, source)``: a small translator of Keras's blocks (d_model=24, 3
    heads of 8) with random weights, its work counters, and 4 source dates."""
    import keras

    from course_lib.blocks import KerasBlock, learned_positions
    from course_lib.dates import date_dataset
    from course_lib.decoding import Translator, count_work

    keras.utils.set_random_seed(seed)
    translator = Translator(KerasBlock, learned_positions, d_model=24, num_heads=3,
                            max_length=max_length)
    return translator, count_work(translator), date_dataset(4, seed=seed)["source"]


def check_decode_step(decode_step) -> None:
    """Public check of lesson 11's ``decode_step(translator, token, cache, context,
    context_mask)``: fed 8 tokens one at a time inside ``tf.function``, its logits equal the
    full causal pass's at every step, and its cache grows by one position per step."""
    import tensorflow as tf

    from course_lib.dates import START_ID

    translator, _, source = small_translator()
    tokens = np.random.default_rng(0).integers(1, 12, size=(len(source), 8)).astype("int32")
    tokens[:, 0] = START_ID
    with checking(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's softmax over a single key, at step 0
        full = np.asarray(translator([source, tokens]))  # (B, T, V), the full pass
        context, context_mask = translator.encode(source)
        step = tf.function(decode_step, reduce_retracing=True)
        cache = translator.empty_cache(len(source))
        for t in range(tokens.shape[1]):
            try:
                result = run_answer(step, translator, tf.constant(tokens[:, t]), cache, context,
                                    context_mask, name="decode_step")
            except CheckFailed as failure:
                if any(words in str(failure) for words in TRACING_ERRORS):
                    raise mistake("decode_step", "decode_python_state") from None
                raise
            if not isinstance(result, tuple | list) or len(result) != 2:
                raise CheckFailed("decode_step should return (logits, cache). Received: "
                                  f"{_describe(result)}")
            logits, cache = result
            expected_cache = (2, len(source), t + 1, translator.num_heads, translator.key_dim)
            if tuple(cache.shape) != expected_cache:
                raise CheckFailed(f"After step {t} the cache should be (2, B, t + 1, H, key_dim) "
                                  f"= {expected_cache}. Received: {tuple(cache.shape)}")
            compare_keras(logits, full[:, t], what=f"the logits of decode_step at step {t}",
                          hint="Step 0 right and later steps wrong: look at what the cache holds "
                               "and at the position the token is embedded at." if t else
                               "The first step attends to its own key alone: check the "
                               "projections, the scale and the rest of the block.")
    passed("decode_step", 3)


def check_cached_greedy_decode(cached_greedy_decode) -> None:
    """Public check of lesson 11's ``cached_greedy_decode(translator, source, length)``: the
    ids of greedy decoding, the source encoded once and each position embedded once."""
    from course_lib.dates import START_ID

    translator, counts, source = small_translator(seed=1)
    length = 10
    with checking(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = run_answer(cached_greedy_decode, translator, source, length,
                         name="cached_greedy_decode")
        ids = to_numpy(ids, "the result of cached_greedy_decode")
        if ids.shape != (len(source), length):
            raise CheckFailed(f"cached_greedy_decode should return ids (n, length) = "
                              f"{(len(source), length)}. Received: {ids.shape}")
        work = {name: int(count.numpy()) for name, count in counts.items()}
        inputs = np.concatenate([np.full((len(source), 1), START_ID), ids[:, :-1]], axis=1)
        logits = np.asarray(translator([source, inputs.astype("int32")]))  # (n, length, V)
    chosen = np.take_along_axis(logits, ids[..., None].astype(int), axis=-1)[..., 0]
    if np.any(chosen < logits.max(axis=-1) - 1e-4):
        step = int(np.argmax(np.any(chosen < logits.max(axis=-1) - 1e-4, axis=0)))
        raise CheckFailed(f"At step {step} the ids are not the most likely tokens given the ids "
                          "before them. Feed each step's argmax back as the next step's token, "
                          "and return the chosen tokens, not START.")
    if work["embedded"] != length:
        raise mistake("cached_greedy_decode", "greedy_prefix_recomputed")
    if work["encoded"] != 1:
        raise mistake("cached_greedy_decode", "greedy_encoder_per_step")
    passed("cached_greedy_decode", 3)
