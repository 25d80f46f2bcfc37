"""Public checks of lesson 04: ``AttentionLayer``, ``MultiHeadAttention`` and their two
helpers, ``masked_softmax`` and ``combine_masks``.

A layer is compared with ``keras.layers.MultiHeadAttention`` carrying the same weights (a
single-head ``AttentionLayer`` is a one-head ``MultiHeadAttention``), never with the course's
answer key. How a check calls the learner's layer, and the properties it holds the results to,
live in :mod:`course_lib.checks.layer_calls`.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.cases.inputs import layer_inputs, lengths_mask, two_sided_mask
from course_lib.checks.layer_calls import (
    Answer,
    check_call_signature,
    check_fully_masked_rows,
    check_mask_changes_output,
    check_projections_used,
    check_sums,
    scaled_scores,
    without_biases,
)
from course_lib.checks.shared import passed
from course_lib.feedback import CheckFailed, compare, to_numpy
from course_lib.keras_harness import (
    check_weights_sum_to_one,
    checking,
    compare_keras,
    keras_twin,
    mistake,
    run_answer,
    scaled_query,
    twin_outputs,
)
from course_lib.misconceptions import DESCRIPTIONS


def attention_layer_twin(units, query, value, key, weights, factor=1.0):
    """The one-head ``keras.layers.MultiHeadAttention`` equal to an ``AttentionLayer(units)``."""
    return keras_twin(query, value, key, scaled_query(weights, factor), num_heads=1,
                      key_dim=units, output_shape=units)


def check_attention_layer(AttentionLayer) -> None:  # noqa: N803 — the learner's class
    """Public check of lesson 04's ``AttentionLayer(units)``."""
    name, units, n_checks = "AttentionLayer", 8, 0
    answer = Answer(AttentionLayer, name, {"units": units})
    rng = np.random.default_rng(4)
    with checking():
        check_call_signature(AttentionLayer, name)
        # Value features = units, so that the tutorial's version runs and can be recognised.
        query, value, key = layer_inputs(rng, 2, 3, 4, d_query=5, d_value=units, d_key=7)
        layer = answer.build()
        answer.call(layer, query, value, key)
        params = answer.random_weights(rng, layer, query, value, key)
        out, weights = answer.call(layer, query, value, key, scores=True)
        if out.shape != (2, 3, units) or weights.shape != (2, 3, 4):
            raise CheckFailed(
                f"{name}({units}) on query (2, 3, 5), value (2, 4, {units}) should return an "
                f"output (2, 3, {units}) and weights (2, 3, 4). Received: {out.shape} and "
                f"{weights.shape}"
            )
        check_sums(weights, f"the weight matrix of {name}", units,
                   scaled_scores(params, query, key, units))
        n_checks += 2

        twin = attention_layer_twin(units, query, value, key, params)
        check_projections_used(answer, layer, query, value, key, out)
        expected, expected_weights = twin_outputs(twin, query, value, key)
        wrong = {"layer_no_scaling": units, "layer_scale_by_input_dim": units / query.shape[-1],
                 "layer_scale_by_length": units / value.shape[1]}
        compare_keras(out, expected, what=f"the output of {name}", misconceptions=lambda: {
            **{DESCRIPTIONS[key_]: twin_outputs(attention_layer_twin(
                units, query, value, key, params, math.sqrt(ratio)), query, value, key)[0]
               for key_, ratio in wrong.items()},
            DESCRIPTIONS["layer_biases_ignored"]: twin_outputs(attention_layer_twin(
                units, query, value, key, without_biases(params)), query, value, key)[0],
        }, hint="Project queries, keys and values, scale by 1/√units, softmax, weighted sum, W_o.")
        compare_keras(weights, expected_weights[:, 0], what=f"the weight matrix of {name}")
        n_checks += 3

        query, value, _ = layer_inputs(rng, 2, 3, 5, d_query=6, d_value=4)
        layer = answer.build()
        answer.call(layer, query, value)
        twin = attention_layer_twin(units, query, value, None,
                                    answer.random_weights(rng, layer, query, value))
        n_checks += check_layer_options(answer, layer, twin, query, value, head_axis=False)
        n_checks += check_config_round_trip(layer, AttentionLayer, name, answer.config)
    passed(name, n_checks)


def check_layer_options(answer: Answer, layer, twin, query, value, head_axis: bool) -> int:
    """Key defaulting to value, attention_mask, use_causal_mask, both together and fully
    masked rows, each compared with ``twin`` (Keras's layer with the same weights). Returns the
    number of checks."""
    rng = np.random.default_rng(7)
    name, batch, t_q, t_k = answer.name, query.shape[0], query.shape[1], value.shape[1]

    def weights_of(w):  # Keras's weights are (B, H, Tq, Tk); a single-head layer's (B, Tq, Tk)
        return w if head_axis else w[:, 0]

    plain = answer.call(layer, query, value)
    compare_keras(plain, twin_outputs(twin, query, value)[0],
                  what=f"the output of {name} without a key (key defaults to value)")

    mask = two_sided_mask(rng, batch, t_q, t_k)  # (B, Tq, Tk)
    masked, masked_weights = answer.call(layer, query, value, attention_mask=mask, scores=True)
    check_mask_changes_output(masked, plain, f"{name} with attention_mask=")
    check_weights_sum_to_one(masked_weights, f"the weight matrix of {name} with attention_mask=")
    heads = twin.get_weights()[0].shape[1]
    compare_keras(masked, twin_outputs(twin, query, value, attention_mask=mask)[0],
                  what=f"the output of {name} with attention_mask=", misconceptions=lambda: {
                      DESCRIPTIONS["layer_mask_inverted"]:
                          twin_outputs(twin, query, value, attention_mask=~mask)[0],
                      **({DESCRIPTIONS["layer_mask_broadcast"]: twin_outputs(  # head h: mask[h]
                          twin, query, value, attention_mask=np.broadcast_to(
                              mask[None], (batch, *mask.shape)))[0]}
                         if head_axis and heads == batch else {}),
                  }, hint="Masked scores must get zero weight: mask before the softmax.")

    causal = answer.call(layer, query, value, use_causal_mask=True)
    ones = np.ones((batch, t_q, t_k), dtype=bool)  # (B, Tq, Tk)
    shifted = {"causal_strict": np.tril(ones, -1), "layer_causal_one_ahead": np.tril(ones, 1),
               "causal_upper": np.triu(ones),
               "layer_causal_aligned_to_the_end": np.tril(ones, t_k - t_q)}
    compare_keras(causal, twin_outputs(twin, query, value, use_causal_mask=True)[0],
                  what=f"the output of {name} with use_causal_mask=True", misconceptions=lambda: {
                      DESCRIPTIONS["layer_causal_ignored"]: plain, **{
                          DESCRIPTIONS[key]: twin_outputs(twin, query, value, attention_mask=m)[0]
                          for key, m in shifted.items()},
                  }, hint="Query i may attend to keys 0 … i (a lower-triangular mask).")

    padding = lengths_mask(np.linspace(t_k - 1, 2, batch).astype(int), t_k)[:, 0]  # (B, 1, Tk)
    both = answer.call(layer, query, value, attention_mask=padding, use_causal_mask=True)
    compare_keras(both, twin_outputs(twin, query, value, attention_mask=padding,
                                     use_causal_mask=True)[0],
                  what=f"the output of {name} with a padding mask and use_causal_mask=True",
                  misconceptions=lambda: {
                      DESCRIPTIONS["layer_causal_replaces_mask"]: causal,
                      DESCRIPTIONS["layer_masks_combined_with_or"]: twin_outputs(
                          twin, query, value, attention_mask=padding | np.tril(ones))[0],
                      DESCRIPTIONS["layer_causal_ignored"]:
                          twin_outputs(twin, query, value, attention_mask=padding)[0],
                  }, hint="A key may be attended when both masks allow it: a logical and.")

    mask[:, 0, :] = False  # the first query of every sequence may attend to nothing
    out, weights = answer.call(layer, query, value, attention_mask=mask, scores=True)
    check_fully_masked_rows(weights, out, (slice(None), 0) if not head_axis
                            else (slice(None), slice(None), 0), f"{name} on a fully masked row")
    expected, expected_weights = twin_outputs(twin, query, value, attention_mask=mask)
    compare_keras(out[:, 1:], expected[:, 1:],
                  what=f"the output of {name} on the rows that are not fully masked")
    compare_keras(weights[..., 1:, :], weights_of(expected_weights)[..., 1:, :],
                  what=f"the weight matrix of {name} on the rows that are not fully masked")
    return 6


def check_multi_head_attention(MultiHeadAttention) -> None:  # noqa: N803 — the learner's class
    """Public check of lesson 04's ``MultiHeadAttention(num_heads, key_dim, value_dim=None,
    use_bias=True)``, against ``keras.layers.MultiHeadAttention`` with the same weights."""
    import keras

    name, n_checks = "MultiHeadAttention", 0
    config = {"num_heads": 2, "key_dim": 3, "value_dim": 5}
    answer = Answer(MultiHeadAttention, name, config)
    rng = np.random.default_rng(5)
    with checking():
        check_call_signature(MultiHeadAttention, name)
        # value features = value_dim, so that a layer that skips W_v runs and can be recognised
        query, value, key = layer_inputs(rng, 2, 4, 6, d_query=7, d_value=5, d_key=8)
        layer = answer.build()
        answer.call(layer, query, value, key)
        twin = keras.layers.MultiHeadAttention(**config)
        twin(query, value, key=key)
        twin.set_weights(answer.random_weights(rng, layer, query, value, key))
        count = run_answer(layer.count_params, name=f"{name}.count_params")
        if count != twin.count_params():
            raise CheckFailed(f"{name} has {count} parameters; Keras's has {twin.count_params()}.")
        n_checks += 2

        out, weights = answer.call(layer, query, value, key, scores=True)
        check_projections_used(answer, layer, query, value, key, out)
        for shape, layout, wrong_layout in (((2, 4, 6), "(B, Tq, Tk)",
                                             "layer_weights_averaged_over_heads"),
                                            ((2, 4, 2, 6), "(B, Tq, H, Tk)",
                                             "layer_weights_heads_last")):
            if weights.shape == shape:
                raise mistake(f"the weight matrix of {name}, of shape {layout} = {shape}",
                              wrong_layout)
        if out.shape != (2, 4, 7) or weights.shape != (2, 2, 4, 6):
            raise CheckFailed(
                f"{name}(**{config}) on query (2, 4, 7), value (2, 6, 5) should return an output "
                f"(2, 4, 7) and weights (B, H, Tq, Tk) = (2, 2, 4, 6). Received: {out.shape} and "
                f"{weights.shape}"
            )
        params = twin.get_weights()
        check_sums(weights, f"the weight matrix of {name}", config["key_dim"],
                   scaled_scores(params, query, key, config["key_dim"]))
        expected, expected_weights = twin_outputs(twin, query, value, key)
        wrong = {
            "layer_no_scaling": math.sqrt(config["key_dim"]),
            "layer_scale_by_model_dim": 1 / math.sqrt(config["num_heads"]),
            "layer_scale_by_input_dim": math.sqrt(config["key_dim"] / query.shape[-1]),
            "layer_scale_by_value_dim": math.sqrt(config["key_dim"] / config["value_dim"]),
        }
        compare_keras(out, expected, what=f"the output of {name}", misconceptions=lambda: {
            **{DESCRIPTIONS[key_]: twin_outputs(
                keras_twin(query, value, key, scaled_query(params, factor), **config),
                query, value, key)[0] for key_, factor in wrong.items()},
            DESCRIPTIONS["layer_biases_ignored"]: twin_outputs(
                keras_twin(query, value, key, without_biases(params), **config),
                query, value, key)[0],
        }, hint="Project into heads, scale by 1/√key_dim, softmax over the keys, weighted sum per "
                "head, then the output projection sums over heads.")
        compare_keras(weights, expected_weights, what=f"the weight matrix of {name} (B, H, Tq, Tk)")
        n_checks += 3

        query, value, _ = layer_inputs(rng, 2, 3, 5, d_query=4, d_value=6)
        layer = answer.build()
        answer.call(layer, query, value)
        twin = keras_twin(query, value, None, answer.random_weights(rng, layer, query, value),
                          **config)
        n_checks += check_layer_options(answer, layer, twin, query, value, head_axis=True)
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
        failure = mistake(f"{name}.get_config()", "layer_config_incomplete")
        raise CheckFailed(f"{failure}\n  It should hold the constructor's arguments {expected}; "
                          f"these differ: {wrong}.", failure.misconception)
    copy = run_answer(cls.from_config, layer_config, name=f"{name}.from_config")
    if copy.get_config() != layer_config:
        raise CheckFailed(f"{name}.from_config(config).get_config() differs from config.")
    return 1


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
