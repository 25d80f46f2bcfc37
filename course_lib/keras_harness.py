"""The Keras test harness: how the course runs a learner's Keras code, shared by the public
checks (``course_lib.checks``), the probes of graded cells (``course_lib.probes``) and the judge
(``grader.judging``).

It runs a learner's layer, model or function quietly (no warnings or log lines: stderr fails a
graded cell) and on exact float32 matrix products, turns the learner's errors into a
:class:`~course_lib.feedback.CheckFailed` that says what was called with which shapes, builds
``keras.layers.MultiHeadAttention`` twins holding a learner's weights, and builds and reads a
learner's date translator (lesson 07) with a recording Transformer block.

Float32 and GPUs: on NVIDIA GPUs since Ampere, TensorFlow computes float32 matrix products with
TensorFloat-32 (10-bit mantissas) unless told otherwise, and results move by about 1e-3. The
harness switches TF32 off while it runs (:func:`float32_matmuls`, restored afterwards), so that
any correct float32 arithmetic agrees within ``rtol=1e-4, atol=1e-5`` on CPUs and GPUs alike,
and every wrong formula, off by far more, is still caught.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings

import numpy as np

from course_lib.dates import TARGET_LEN, TARGET_VOCAB, date_dataset
from course_lib.feedback import CheckFailed, compare, to_numpy
from course_lib.misconceptions import DESCRIPTIONS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


#: The Keras lessons' float32 tolerance, of the public checks and of the judge alike.
KERAS_RTOL = 1e-4
KERAS_ATOL = 1e-5

#: What TensorFlow says when a step keeps tensors of one trace in Python state for the next.
TRACING_ERRORS = ("out of scope", "Graph tensor", "graph tensor", "different graph")


def mistake(what: str, key: str) -> CheckFailed:
    """The verdict for an answer that makes a known mistake: ``raise mistake(what, key)``."""
    return CheckFailed(f"{what} is wrong: it matches {DESCRIPTIONS[key]}.", key)


# -- running learners' code quietly and on exact float32 -------------------------------------------
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


def describe_value(value) -> str:
    """An argument as an error message shows it: a tensor's shape and dtype, a container's type,
    anything else's repr."""
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
        shown = [describe_value(a) for a in args]
        shown += [f"{k}={describe_value(v)}" for k, v in kwargs.items()]
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__}: {_short_error(error)}\n"
            f"  It was called with: {', '.join(shown)}"
        ) from None


# -- calling a learner's layer ---------------------------------------------------------------------
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


# -- keras.layers.MultiHeadAttention as the yardstick ----------------------------------------------
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


# -- lesson 07's date translator: a stand-in model, a recording block ------------------------------
def chain_model(multiplier: int = 3):
    """A stand-in translator for checking decoders: the logits at step ``i`` point at
    ``(multiplier · d[i] + 2 · d[i-1] + source[i] + i) mod V``, where ``d`` is the decoder
    input, so every step depends on the steps before. A causal ``keras.Model``:
    ``model([source, decoder_input])``, ``predict`` and ``predict_on_batch`` all work.
    """
    import keras
    from keras import ops

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


def spy_block():
    """A fresh subclass of ``course_lib.blocks.KerasBlock`` (a Transformer block of Keras's
    layers) that records its instances and how each was called (``SpyBlock.calls``:
    ``(name, positional dtypes, the keyword options given, neither None nor False)``)."""
    from course_lib.blocks import KerasBlock

    class SpyBlock(KerasBlock):
        instances: list = []
        calls: list = []

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            SpyBlock.instances.append(self)

        def __call__(self, *args, **kwargs):
            dtypes = [str(getattr(a, "dtype", type(a).__name__)) for a in args]
            given = sorted(key for key, value in kwargs.items()
                           if value is not None and value is not False)
            SpyBlock.calls.append((self.name, dtypes, given))
            return super().__call__(*args, **kwargs)

    return SpyBlock


def translator_batch(batch: int = 4, seed: int = 0):
    """``(source, decoder_input)``: real source dates (with padding) and random decoder ids."""
    source = date_dataset(batch, seed=seed)["source"]  # (B, Ts)
    rng = np.random.default_rng(seed)
    decoder_input = rng.integers(len(TARGET_VOCAB), size=(batch, TARGET_LEN)).astype("int32")
    return source, decoder_input  # (B, Ts), (B, Tt)


def predict(model, source, decoder_input, what="the model") -> np.ndarray:
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
    return predict(reader, source, decoder_input, "the cross-attention weights")
