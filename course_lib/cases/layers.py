"""Lesson 04's Keras layers: the case of a layer exercise (:class:`LayerCase`), how the probe
runs the learner's layer on it in the kernel (shared with lesson 06's block,
:func:`run_keras_case`), and the plans of ``AttentionLayer`` and ``MultiHeadAttention``.

A case produces one record per call and one per extra, in that order (:meth:`LayerCase.slots`).
An error of the learner's layer is explained in the course's words where it can be told, and a
result that ignores ``return_attention_scores`` or changes between two identical calls is named
(:mod:`course_lib.cases.layer_mistakes`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course_lib.cases.inputs import layer_inputs, lengths_mask, two_sided_mask
from course_lib.cases.layer_mistakes import (
    check_call_result,
    explain_failure,
    output_only,
)
from course_lib.cases.records import Part, Slot, error_record, store
from course_lib.feedback import CheckFailed
from course_lib.keras_harness import checking, mistake, require_layer_class


def keras_slots(start: int, calls: list[dict], extras: tuple[str, ...]) -> tuple[Slot, ...]:
    """One slot per call (its options), then one per extra."""
    return (*(Slot(start + i, options=options) for i, options in enumerate(calls)),
            *(Slot(start + len(calls) + i, extra=extra) for i, extra in enumerate(extras)))


def run_keras_case(cls, case, slots: tuple[Slot, ...], arrays: dict, inputs: tuple,
                   keyword: dict, extras: dict[str, Callable], explain: Callable | None = None,
                   after_call: Callable | None = None) -> tuple[object, list[dict]]:
    """Build the learner's layer ``cls(**case.config)`` on ``inputs`` (and ``keyword``), give it
    the judge's weights, run every call (options by keyword, with
    ``return_attention_scores=True``) and extra (``extras[name](layer, weights)``: ``(result,
    record)``). ``explain(layer or None, options)``: a ``CheckFailed`` that says why a call
    failed, or None; ``after_call(layer, options, result)`` may raise one for a call's result.
    ``(layer, records)``; the layer is None when it could not be built."""
    weights, layer = None, None
    try:
        require_layer_class(cls)
        layer = cls(**case.config)
        layer(*inputs, **keyword)
        weights = {"shapes": [list(np.shape(w)) for w in layer.get_weights()],
                   "names": [str(getattr(w, "path", w.name))[:100] for w in layer.weights]}
        layer.set_weights(case.weights)
    except Exception as error:
        failed = error_record(_explained(explain, layer, {}, error))
        return None, [{"status": "ok", **weights} if slot.extra == "weight_shapes" and weights
                      else failed for slot in slots]
    records = []
    for slot in slots:
        try:
            if slot.extra == "weight_shapes":
                records.append({"status": "ok", **weights})
                continue
            if slot.extra is None:
                result, record = layer(*inputs, **keyword, return_attention_scores=True,
                                       **slot.options), {"status": "ok"}
                if after_call is not None:
                    after_call(layer, slot.options, result)
            else:
                result, record = extras[slot.extra](layer)
            records.append(store(result, record, slot, arrays))
        except Exception as error:
            records.append(error_record(_explained(explain, layer, slot.options or {}, error)))
    return layer, records


def _explained(explain: Callable | None, layer, options: dict, error: Exception) -> Exception:
    """``error``, or the course's explanation of it when ``explain`` finds one."""
    if explain is None or isinstance(error, CheckFailed):
        return error
    try:
        return explain(layer, options) or error
    except Exception:  # the explanation's own retries failed: keep the learner's error
        return error


@dataclass
class LayerCase:
    """The learner's layer built with ``config`` on these inputs, holding ``weights`` (the
    judge's, in the answer key's order), then called once per entry of ``calls`` (options such
    as ``attention_mask``) with ``return_attention_scores=True``. ``extras`` asks for more:
    ``"weight_shapes"`` (before the judge's weights go in), ``"gradients"`` (of
    ``sum(output · cotangent)`` with respect to every weight and input, the judge recomputing
    them), ``"positional_key"`` (``layer(query, value, key)``), ``"config"``
    (``from_config(get_config())``) and ``"keras_file"`` (a model saved and loaded back).
    ``gradient_seed``: the seed of the cotangent, and of the judge's directions; ``layer``: the
    exercise (``"AttentionLayer"`` or ``"MultiHeadAttention"``)."""

    config: dict
    query: np.ndarray
    value: np.ndarray
    key: np.ndarray | None
    weights: list[np.ndarray]
    calls: list[dict] = field(default_factory=lambda: [{}])
    extras: tuple[str, ...] = ()
    gradient_seed: int = 0
    layer: str = "MultiHeadAttention"

    def cotangent(self, shape: tuple) -> np.ndarray:
        """The weights of the outputs in the loss whose gradients ``"gradients"`` asks for."""
        return np.random.default_rng(self.gradient_seed).standard_normal(shape).astype("float32")

    def slots(self, start: int) -> tuple[Slot, ...]:
        return keras_slots(start, self.calls, self.extras)

    def expected_shapes(self) -> list:
        """The shapes the layer's weights must have on these inputs."""
        key = self.value if self.key is None else self.key
        return weight_shapes(self.layer, self.config, self.query.shape[-1], self.value.shape[-1],
                             key.shape[-1])

    def run(self, cls, slots: tuple[Slot, ...], arrays: dict) -> list[dict]:
        """Build the learner's layer, give it the judge's weights, run every call and extra;
        the first record also lists the classes of the layer and of the layers inside it."""
        keyword = {} if self.key is None else {"key": self.key}
        extras = {"gradients": lambda layer: (self._gradients(layer), {"status": "ok"}),
                  "positional_key": lambda layer: (output_only(
                      layer(self.query, self.value, self.key), f"{self.layer}(query, value, key)"),
                      {"status": "ok"}),
                  "config": lambda layer: self._from_config(cls, layer, keyword),
                  "keras_file": lambda layer: (self._through_keras_file(cls, layer),
                                               {"status": "ok"})}

        def explain(layer, options):
            return explain_failure(cls, layer, self.layer, self.expected_shapes(), self.query,
                                   self.value, self.key, options)

        def after_call(layer, options, result):
            check_call_result(layer, self.layer, self.query, self.value, self.key, options,
                              result)

        with checking():  # quiet, and exact float32 (no TF32) on GPUs
            layer, records = run_keras_case(cls, self, slots, arrays, (self.query, self.value),
                                            keyword, extras, explain, after_call)
            if layer is not None:
                records[0]["classes"] = _classes(layer)[:200]  # every case has a slot
        return records

    def _gradients(self, layer) -> tuple:
        """The gradients of ``sum(output · cotangent(output's shape))`` with respect to each of
        the layer's weights, then to its inputs (query, value[, key]); zeros where none flows."""
        import tensorflow as tf

        inputs = [tf.constant(x) for x in (self.query, self.value, self.key) if x is not None]
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            output = output_only(layer(inputs[0], inputs[1], **(
                {"key": inputs[2]} if self.key is not None else {})), f"{self.layer}(...)")
            loss = tf.reduce_sum(output * self.cotangent(tuple(output.shape)))
        targets = [*layer.weights, *inputs]
        return tuple(np.zeros(t.shape) if g is None else tf.convert_to_tensor(g)
                     for t, g in zip(targets, tape.gradient(loss, targets), strict=True))

    def _from_config(self, cls, layer, keyword: dict) -> tuple[object, dict]:
        """The output of ``cls.from_config(layer.get_config())``, and a record of the config's
        values; a config without the constructor's arguments is named before it is used."""
        config, values = self._config(layer)
        copy = cls.from_config(config)
        copy(self.query, self.value, **keyword)
        copy.set_weights(self.weights)
        output = output_only(copy(self.query, self.value, **keyword),
                             f"{self.layer}.from_config(...)(...)")
        return output, {"status": "ok", "config": values}

    def _config(self, layer) -> tuple[dict, dict]:
        """The layer's ``get_config()`` and the values it gives the constructor's arguments; a
        config without them is named before it is used."""
        config = layer.get_config()
        values = {name: config.get(name) for name in self.config
                  if isinstance(config.get(name), int | bool | type(None))}
        if values != self.config:
            failure = mistake(f"{self.layer}.get_config()", "layer_config_incomplete")
            differ = {name: config.get(name, "missing") for name in self.config
                      if config.get(name, "missing") != self.config[name]}
            raise CheckFailed(f"{failure}\n  The layer was built with {self.config}; its config "
                              f"differs in {differ}.", failure.misconception)
        return config, values

    def _through_keras_file(self, cls, layer):
        """The output of a functional model holding ``layer`` after ``save`` and
        ``load_model`` (a config without the constructor's arguments is named first)."""
        import keras

        self._config(layer)
        inputs = [keras.Input(batch_shape=x.shape) for x in (self.query, self.value)]
        extra = {} if self.key is None else {"key": keras.Input(batch_shape=self.key.shape)}
        output = output_only(layer(*inputs, **extra), f"{self.layer}(...) in a model")
        model = keras.Model([*inputs, *extra.values()], output)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "attention.keras")
            model.save(path)
            loaded = keras.saving.load_model(path, custom_objects={cls.__name__: cls})
        return loaded([self.query, self.value, *([] if self.key is None else [self.key])])


def _classes(layer) -> list[str]:
    """Every class of the layer and of the layers inside it, as ``module.name``."""
    try:
        layers = [layer, *layer._flatten_layers(include_self=False)]
    except Exception:  # not a Keras layer, or one that breaks Keras's own walk
        layers = [layer]
    return sorted({f"{c.__module__}.{c.__qualname__}" for one in layers
                   for c in type(one).__mro__})


# The plans of lesson 04 ----------------------------------------------------------------------


def weight_shapes(layer: str, config: dict, d_query: int, d_value: int, d_key: int) -> list:
    """The shapes of a layer's weights, in the order of ``get_weights()`` (for
    ``MultiHeadAttention``, that of ``keras.layers.MultiHeadAttention``)."""
    if layer == "AttentionLayer":
        units = config["units"]
        return [(d_query, units), (units,), (d_key, units), (units,), (d_value, units), (units,),
                (units, units), (units,)]
    heads, key_dim = config["num_heads"], config["key_dim"]
    value_dim = config.get("value_dim") or key_dim
    shapes = [((d_query, heads, key_dim), (heads, key_dim)),
              ((d_key, heads, key_dim), (heads, key_dim)),
              ((d_value, heads, value_dim), (heads, value_dim)),
              ((heads, value_dim, d_query), (d_query,))]
    if not config.get("use_bias", True):
        return [kernel for kernel, _ in shapes]
    return [shape for pair in shapes for shape in pair]


def random_layer_weights(rng, shapes) -> list[np.ndarray]:
    """Non-zero kernels of unit-variance outputs, and non-zero biases: every weight matters."""
    weights = []
    for shape in shapes:
        scale = 0.5 if len(shape) == 1 or shape == shapes[-1] else 1 / np.sqrt(shape[0])
        weights.append((rng.standard_normal(shape) * scale).astype("float32"))
    return weights



def _layer_case(rng, layer, config, dims, calls=({},), extras=()) -> LayerCase:
    """``dims``: ``(B, Tq, Tk, d_query, d_value, d_key or None)``."""
    batch, t_q, t_k, d_query, d_value, d_key = dims
    query, value, key = layer_inputs(rng, batch, t_q, t_k, d_query, d_value, d_key)
    shapes = weight_shapes(layer, config, d_query, d_value, d_key or d_value)
    return LayerCase(config, query, value, key, random_layer_weights(rng, shapes), list(calls),
                     tuple(extras), int(rng.integers(1 << 30)), layer)


def _self_attention_case(rng, layer, config, batch, length, width) -> LayerCase:
    """Self-attention, ``layer(x, x)``: the query is the value, Tq = Tk."""
    case = _layer_case(rng, layer, config, (batch, length, length, width, width, None))
    case.value = case.query
    return case


def _mask_parts(rng, layer, config, dims, shares) -> list[Part]:
    """attention_mask by keyword, use_causal_mask (Tq ≠ Tk), both, and a fully masked row."""
    batch, t_q, t_k = dims[:3]
    mask = two_sided_mask(rng, batch, t_q, t_k)  # (B, Tq, Tk)
    padding = lengths_mask(rng.integers(2, t_k + 1, size=batch), t_k)[:, 0]  # (B, 1, Tk)
    empty = two_sided_mask(rng, batch, t_q, t_k)
    empty[0, -1, :] = False  # query Tq-1 of the first sequence may attend to nothing
    options = [
        (f"attention_mask= (B={batch}, Tq={t_q}, Tk={t_k})", {"attention_mask": mask}),
        ("use_causal_mask=True, Tq ≠ Tk", {"use_causal_mask": True}),
        ("a padding mask and the causal mask together",
         {"attention_mask": padding, "use_causal_mask": True}),
        ("a fully masked row: zero weights, never NaN", {"attention_mask": empty}),
    ]
    case = _layer_case(rng, layer, config, dims, calls=[o for _, o in options])
    return [Part(label, [LayerCase(case.config, case.query, case.value, case.key, case.weights,
                                   [o], layer=layer)], share)
            for (label, o), share in zip(options, shares, strict=True)]


def attention_layer(rng) -> list[Part]:
    layer = "AttentionLayer"
    return [
        Part("every size different (B=3, Tq=4, Tk=6), a separate key", [_layer_case(
            rng, layer, {"units": 5}, (3, 4, 6, 7, 5, 9), extras=("weight_shapes", "gradients"))],
             3),
        Part("key omitted (= value)",
             [_layer_case(rng, layer, {"units": 6}, (2, 5, 3, 4, 7, None))], 3),
        *_mask_parts(rng, layer, {"units": 4}, (2, 5, 7, 3, 6, 8), (3.5, 1.75, 1.75, 3)),
        Part("get_config() and from_config()", [_layer_case(
            rng, layer, {"units": 3}, (2, 3, 4, 5, 6, 7), calls=[], extras=("config",))], 2),
        Part("saved to a .keras file and loaded back", [_layer_case(
            rng, layer, {"units": 3}, (2, 3, 4, 5, 6, 7), calls=[], extras=("keras_file",))], 2),
    ]


def multi_head_attention(rng) -> list[Part]:
    layer = "MultiHeadAttention"
    config = {"num_heads": 3, "key_dim": 4, "value_dim": 5}
    return [
        Part("3 heads, key_dim 4 ≠ value_dim 5, Tq 5 ≠ Tk 7", [_layer_case(
            rng, layer, config, (2, 5, 7, 6, 5, 8), extras=("gradients",))], 3),
        Part("self-attention, layer(x, x): 3 heads over T = 5 positions", [
            _self_attention_case(rng, layer, config, 2, 5, 6)], 2),
        Part("key given by position, as layer(q, v, k)", [_layer_case(
            rng, layer, config, (2, 4, 6, 5, 7, 3), calls=[], extras=("positional_key",))], 2),
        Part("weights in the shapes and order of keras.layers.MultiHeadAttention", [_layer_case(
            rng, layer, {"num_heads": 2, "key_dim": 3, "value_dim": 6}, (3, 2, 5, 4, 7, 8),
            extras=("weight_shapes",))], 2),
        Part("use_bias=False, key omitted (= value)", [_layer_case(
            rng, layer, {"num_heads": 2, "key_dim": 6, "value_dim": 3, "use_bias": False},
            (3, 4, 2, 5, 7, None), extras=("weight_shapes",))], 2),
        *_mask_parts(rng, layer, {"num_heads": 2, "key_dim": 3, "value_dim": 4},
                     (2, 5, 7, 4, 7, 5), (2.5, 1.25, 1.25, 2)),
        Part("get_config() and from_config()", [_layer_case(
            rng, layer, {"num_heads": 2, "key_dim": 3, "value_dim": 4, "use_bias": True},
            (2, 3, 4, 5, 6, 7), calls=[], extras=("config",))], 2),
        Part("saved to a .keras file and loaded back", [_layer_case(
            rng, layer, {"num_heads": 2, "key_dim": 3}, (2, 3, 4, 5, 6, 7), calls=[],
            extras=("keras_file",))], 2),
    ]

