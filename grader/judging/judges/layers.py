"""The judge of lesson 04's Keras layers (``layer``): every call of the learner's layer against
the NumPy forward pass of the answer key on the judge's weights, a known wrong layer named when
it matches, and the extras (the weights' shapes, the gradients, serialization). Shared with
lesson 06's block: how a case built from a config is shown, and the weights a layer holds.
"""

from __future__ import annotations

import numpy as np

from course_lib.cases.layer_mistakes import weight_shapes_mistake
from course_lib.cases.layers import LayerCase
from course_lib.cases.records import Part, Slot
from course_lib.feedback import CheckFailed, PartialCredit, compare_hidden
from course_lib.keras_harness import KERAS_ATOL, KERAS_RTOL
from grader.judging import policy
from grader.judging.judges.scoring import judging, scored_parts
from grader.judging.probe_data import ProbeData, received_result, text
from grader.reference import numpy_layer_variants, numpy_layers
from grader.reference.numeric_gradients import directional_derivatives, wrong_gradients

DATA_ONLY_EXTRAS = ("weight_shapes",)  # their records hold the data, not arrays
WEIGHT_LAYOUTS = {"MultiHeadAttention": "keras.layers.MultiHeadAttention's",
                  "AttentionLayer": "W_q, b_q, W_k, b_k, W_v, b_v, W_o, b_o"}


def built_text(name: str, case) -> str:
    """``MultiHeadAttention(num_heads=2, key_dim=3)``: a layer as the plan built it."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in case.config.items())})"


def described_options(options: dict) -> str:
    """`` with attention_mask=..., use_causal_mask=True``: a call's options."""
    shown = [f"{name}={'...' if isinstance(value, np.ndarray) else value!r}"
             for name, value in options.items()]
    return f" with {', '.join(shown)}" if shown else ""


def shapes_of(value) -> list[tuple] | None:
    """A list of shapes from the data, or None when it is not one."""
    if isinstance(value, list) and all(
            isinstance(shape, list) and all(isinstance(n, int) for n in shape) for shape in value):
        return [tuple(shape) for shape in value]
    return None


def held_weights(record: dict) -> str:
    """The learner's weights as the probe reported them: names and shapes."""
    shapes, names = record.get("shapes"), record.get("names")
    if isinstance(shapes, list) and isinstance(names, list) and len(names) == len(shapes):
        return text(", ".join(f"{text(n, 60)} {text(s, 40)}"
                              for n, s in zip(names, shapes, strict=True)), 800)
    return text(shapes, 300)


def check_config_values(name: str, case, record: dict) -> None:
    """The config the learner's ``get_config()`` gave holds the constructor's arguments."""
    values = record.get("config")
    if values != case.config:
        raise CheckFailed(f"{name}.get_config() should hold the constructor's arguments "
                          f"{case.config}; it gave {text(values, 300)}. Add them in "
                          "get_config(): config.update(...).")


def _case_text(layer: str, case: LayerCase) -> str:
    inputs = {"query": case.query, "value": case.value, "key": case.key}
    shapes = [f"{n}{tuple(x.shape)}" for n, x in inputs.items() if x is not None]
    return f"{built_text(layer, case)} on {', '.join(shapes)}"


def _layer_call(layer: str, case: LayerCase, options: dict, received) -> None:
    """The learner's ``(output, attention weights)`` equal the answer key's on these weights;
    a known wrong layer that matches is named."""
    inputs = (case.config, case.weights, case.query, case.value, case.key)
    compare_hidden(received, numpy_layers.forward(layer, *inputs, **options),
                   what=f"{built_text(layer, case)}{described_options(options)}",
                   misconceptions=numpy_layer_variants.variant_outputs(layer, *inputs, **options),
                   parts=("output", "attention weights"), rtol=KERAS_RTOL, atol=KERAS_ATOL)


def _layer_output(layer: str, case: LayerCase, received, what: str) -> None:
    expected = numpy_layers.forward(layer, case.config, case.weights, case.query, case.value,
                                    case.key)[0]
    compare_hidden(received, expected, what=f"the output of {layer} {what}", rtol=KERAS_RTOL,
                   atol=KERAS_ATOL)


def _layer_extra(layer: str, case: LayerCase, extra: str, record: dict, received) -> None:
    """Judge one of a layer case's extras (see ``course_lib.cases.layers.LayerCase``)."""
    if extra == "weight_shapes":
        expected, held = case.expected_shapes(), shapes_of(record.get("shapes"))
        if held is not None and (named := weight_shapes_mistake(layer, held, expected)):
            raise named
        if held != expected:
            raise CheckFailed(
                f"{built_text(layer, case)} holds the weights {held_weights(record)}; "
                f"expected, in the order of {WEIGHT_LAYOUTS[layer]}: {expected}.\n  Create them "
                "in build() as the skeleton does (and no others).")
    elif extra == "gradients":
        _check_layer_gradients(layer, case, received)
    elif extra == "positional_key":
        _layer_output(layer, case, received, "called as layer(query, value, key)")
    elif extra == "config":
        check_config_values(layer, case, record)
        _layer_output(layer, case, received, "rebuilt with from_config(get_config())")
    elif extra == "keras_file":
        _layer_output(layer, case, received, "in a model saved to a .keras file and loaded back")


def _check_layer_gradients(layer: str, case: LayerCase, received) -> None:
    """The gradients the learner's layer computed, of ``sum(output · cotangent)`` with respect
    to each weight and input, equal the grader's own: central differences of the answer key's
    forward pass along a random direction (``grader.reference.numeric_gradients``)."""
    inputs = [x for x in (case.query, case.value, case.key) if x is not None]
    names = [f"weight {i}" for i in range(len(case.weights))] + \
        ["query", "value", "key"][:len(inputs)]
    if not isinstance(received, tuple) or len(received) != len(names):
        raise CheckFailed(f"the gradients of {layer}'s {len(case.weights)} weights and "
                          f"{len(inputs)} inputs are missing from the data")
    output_shape = numpy_layers.forward(layer, case.config, case.weights, *inputs[:2],
                                        case.key)[0].shape
    cotangent = case.cotangent(output_shape).astype(np.float64)

    def loss(arrays) -> float:
        weights, (query, value, *key) = arrays[:len(case.weights)], arrays[len(case.weights):]
        output = numpy_layers.forward(layer, case.config, weights, query, value,
                                      key[0] if key else None)[0]
        return float(np.sum(output * cotangent))

    slopes, directions = directional_derivatives(loss, [*case.weights, *inputs],
                                                 case.gradient_seed + 1)
    wrong = wrong_gradients(received, slopes, directions)
    if wrong:
        raise CheckFailed(f"The gradients {layer} computes for {', '.join(names[i] for i in wrong)}"
                          " are not those of its output: a weight or input that gets no "
                          "gradient (stop_gradient, a value computed outside TensorFlow) never "
                          "learns. Is every projection used, on the path from the inputs to "
                          "the output?")


def _refuse_keras_layers(layer: str, record: dict) -> None:
    """A layer that is, or holds, one of Keras's own attention layers does not count. (The
    classes come from the kernel: this can only take points away.)"""
    classes = record.get("classes")
    found = [policy.refused_class(layer, c) for c in classes if isinstance(c, str)] \
        if isinstance(classes, list) else []
    found = [entry for entry in found if entry is not None]
    if found:
        raise CheckFailed(f"{layer} is, or holds, {text(found[0], 100)}: Keras's own layer does "
                          f"this exercise for you. Write it with {policy.advice(layer)}.")


def _judge_slot(layer: str, case: LayerCase, slot: Slot, data: ProbeData) -> None:
    received = received_result(data, slot, layer, _case_text(layer, case),
                               holds_arrays=slot.extra not in DATA_ONLY_EXTRAS)
    if slot.extra is None:
        _layer_call(layer, case, slot.options, received)
    else:
        _layer_extra(layer, case, slot.extra, data.records[slot.index], received)


def judge_layer(exercise: str, parts: list[Part], data: ProbeData, credit: PartialCredit,
                points: float) -> None:
    """Judge a Keras layer's probe: every call against the NumPy forward pass of the answer
    key on the judge's weights, and the extras (weights, gradients, serialization)."""
    for laid_out, part_points in scored_parts(parts, points):
        with judging(credit, part_points, laid_out.part.label):
            for placed in laid_out.placed:
                _refuse_keras_layers(exercise, data.records[placed.slots[0].index])
                for slot in placed.slots:
                    _judge_slot(exercise, placed.case, slot, data)
