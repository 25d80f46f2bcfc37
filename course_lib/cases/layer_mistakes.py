"""What a learner's attention layer does wrong beyond its numbers, named in the course's words
(lesson 04's mistake keys): an error explained where it can be told (:func:`explain_failure`:
the call's arguments in another order, weights built in other shapes, values never projected,
a mask that does not broadcast, keys that do not default to the value, heads that only run with
as many queries as keys), a result that ignores ``return_attention_scores`` or changes between
two identical calls (dropout at inference). Shared by the probe (``course_lib.cases.layers``),
the public checks (``course_lib.checks.layer_calls``) and the judge.

Explaining an error may call the learner's layer again on other inputs, in the kernel: what it
finds can only cost points.
"""

from __future__ import annotations

import inspect

import numpy as np

from course_lib.feedback import CheckFailed
from course_lib.keras_harness import KERAS_ATOL, mistake

#: The arguments every layer's ``call`` starts with, in Keras's order.
CALL_ORDER = ("query", "value", "key")
#: The weights of each layer, in the order of ``get_weights()``, with the shape each must have.
WEIGHT_LABELS = {
    "AttentionLayer": ("W_q kernel (d_query, units)", "W_q bias (units,)",
                       "W_k kernel (d_key, units)", "W_k bias (units,)",
                       "W_v kernel (d_value, units)", "W_v bias (units,)",
                       "W_o kernel (units, units)", "W_o bias (units,)"),
    "MultiHeadAttention": ("query_kernel (d_query, H, key_dim)", "query_bias (H, key_dim)",
                           "key_kernel (d_key, H, key_dim)", "key_bias (H, key_dim)",
                           "value_kernel (d_value, H, value_dim)", "value_bias (H, value_dim)",
                           "output_kernel (H, value_dim, d_query)", "output_bias (d_query,)"),
}
#: How each layer's kernels are laid out, for a layer whose weights have other shapes.
WEIGHT_ADVICE = {
    "AttentionLayer": "a Dense(units) is applied to its input's last axis, so its kernel is "
                      "(that input's features, units): build query_dense on the query's shape, "
                      "key_dense on the key's, value_dense on the value's, as the skeleton does",
    "MultiHeadAttention": "each projection's kernel maps its input's last axis to (heads, head "
                          "size): (input features, H, key_dim or value_dim), and the output "
                          "kernel maps them back to the query's width, (H, value_dim, d_query)",
}


def signature_mistake(cls, name: str) -> CheckFailed | None:
    """``call``'s first arguments in another order than Keras's ``(query, value, key)``."""
    try:
        parameters = [p for p in inspect.signature(cls.call).parameters if p != "self"]
    except (TypeError, ValueError, AttributeError):
        return None
    if set(CALL_ORDER) <= set(parameters) and tuple(parameters[:3]) != CALL_ORDER:
        return mistake(f"`{name}.call{tuple(parameters)}`", "layer_signature_order")
    return None


def weight_shapes_mistake(name: str, held: list[tuple], expected: list[tuple]) -> \
        CheckFailed | None:
    """Weights created in other shapes (or another number) than the layer's, each named."""
    held, expected = [tuple(s) for s in held], [tuple(s) for s in expected]
    if held == expected:
        return None
    labels = WEIGHT_LABELS[name]
    labels = labels if len(expected) == len(labels) else labels[0::2]  # no biases
    if len(held) != len(expected):
        detail = (f"it creates {len(held)} weights, of shapes {held}; {name} has "
                  f"{len(expected)}: " + ", ".join(f"{label} = {shape}" for label, shape
                                                 in zip(labels, expected, strict=True)))
    else:
        detail = "; ".join(
            f"{label} is {got}, expected {want}"
            + (" (the same sizes in another order)" if sorted(got) == sorted(want) else "")
            for label, got, want in zip(labels, held, expected, strict=True) if got != want)
    failure = mistake(f"{name}'s weights", "layer_weight_shapes")
    return CheckFailed(f"{failure}\n  {detail}: {WEIGHT_ADVICE[name]}.", failure.misconception)


def _runs(layer, query, value, **options) -> bool:
    """Whether the layer runs on these arguments (any error: no)."""
    try:
        layer(query, value, return_attention_scores=True, **options)
    except Exception:
        return False
    return True


def explain_failure(cls, layer, name: str, expected_shapes: list, query, value, key,
                    options: dict) -> CheckFailed | None:
    """Why ``layer`` (of the learner's class ``cls``, ``None`` if not built) failed when called
    on ``query, value`` (``key`` by keyword, unless None) with ``options``, where it can be
    told: the order of ``call``'s arguments, weights of other shapes, a mask that breaks a
    call that runs without it, values that are never projected (the layer runs on values of
    the projection's size), keys that do not default to the value, or heads that only run with
    as many queries as keys (the head axis left in place). None otherwise."""
    wrong_order = signature_mistake(cls, name)
    if wrong_order is not None or layer is None:
        return wrong_order
    held = [tuple(w.shape) for w in layer.weights]
    if held:
        wrong_shapes = weight_shapes_mistake(name, held, expected_shapes)
        if wrong_shapes is not None:
            return wrong_shapes
    given = {} if key is None else {"key": key}
    masks = {k: v for k, v in options.items() if k in ("attention_mask", "use_causal_mask")}
    if masks and _runs(layer, query, value, **given):
        shown = ", ".join(f"{k}={'...' if k == 'attention_mask' else v!r}"
                          for k, v in masks.items())
        failure = mistake(f"{name} with {shown}", "layer_mask_broadcast")
        return CheckFailed(f"{failure}\n  It fails with this mask and runs without it.",
                           failure.misconception)
    kernels = expected_shapes if len(expected_shapes) == 4 else expected_shapes[0::2]
    width = kernels[2][-1]  # the values' projected size: units, or value_dim
    if value.shape[-1] != width and _runs(layer, query, np.zeros((*value.shape[:-1], width),
                                                                 value.dtype),
                                          key=value if key is None else key):
        failure = mistake(name, "layer_values_not_projected")
        return CheckFailed(f"{failure}\n  It fails on values of {value.shape[-1]} features and "
                           f"runs on values of {width}, the size W_v projects them to.",
                           failure.misconception)
    if key is None and _runs(layer, query, value, key=value):
        failure = mistake(f"{name} called without a key", "layer_key_from_query")
        return CheckFailed(f"{failure}\n  It fails without `key` and runs with key=value.",
                           failure.misconception)
    t_q, t_k = query.shape[1], value.shape[1]
    as_many = np.take(query, np.arange(t_k) % t_q, axis=1)  # (B, Tk, d_q): Tq = Tk
    if name == "MultiHeadAttention" and t_q != t_k and _runs(layer, as_many, value, **given):
        failure = mistake(f"{name} with Tq={t_q} queries and Tk={t_k} keys",
                          "layer_heads_not_transposed")
        return CheckFailed(f"{failure}\n  It fails when Tq ≠ Tk and runs when Tq = Tk.",
                           failure.misconception)
    return None


def output_only(result, what: str):
    """A call without ``return_attention_scores`` returns the output alone."""
    if isinstance(result, tuple | list):
        raise mistake(f"{what} (called without return_attention_scores, it returned "
                      f"{len(result)} things)", "layer_return_attention_scores")
    return result


def check_call_result(layer, name: str, query, value, key, options: dict, result) -> None:
    """A call with ``return_attention_scores=True`` returns ``(output, weights)``, and the same
    twice: a layer that draws random numbers at inference (dropout) is wrong."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        came = f"{len(result)} things" if isinstance(result, tuple | list) else \
            type(result).__name__
        raise mistake(f"{name} (with return_attention_scores=True it returned {came})",
                      "layer_return_attention_scores")
    given = {} if key is None else {"key": key}
    again = layer(query, value, return_attention_scores=True, **given, **options)
    if not all(np.allclose(np.asarray(a), np.asarray(b), atol=KERAS_ATOL, equal_nan=True)
               for a, b in zip(result, again, strict=True)):
        raise mistake(f"{name} (called twice on the same inputs, it gave two different results)",
                      "layer_random_at_inference")


