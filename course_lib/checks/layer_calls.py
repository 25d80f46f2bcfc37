"""How lesson 04's public checks call a learner's layer (:class:`Answer`: built from a config,
called as Keras would, its errors explained in the course's words) and the properties they hold
its results to: the call's signature, every projection used, masks that take effect, fully
masked rows, weights that sum to 1 over the keys (or the named reason they do not).

Used by :mod:`course_lib.checks.attention_layers`.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from course_lib.cases.layer_mistakes import (
    CALL_ORDER,
    check_call_result,
    explain_failure,
    output_only,
    signature_mistake,
    weight_shapes_mistake,
)
from course_lib.cases.layers import random_layer_weights, weight_shapes
from course_lib.feedback import CheckFailed, to_numpy
from course_lib.keras_harness import (
    KERAS_ATOL,
    KERAS_RTOL,
    check_weights_sum_to_one,
    learner_weights,
    make_layer,
    mistake,
    require_layer_class,
    run_answer,
)

CALL_PARAMETERS = (*CALL_ORDER, "attention_mask", "return_attention_scores", "use_causal_mask")


class Answer:
    """The learner's layer class as a check calls it: built with ``config``, called as Keras
    would (key and options by keyword), its errors explained in the course's words where they
    can be (``course_lib.cases.layers.explain_failure``)."""

    def __init__(self, cls, name: str, config: dict):
        self.cls, self.name, self.config = cls, name, config

    def build(self):
        return make_layer(self.cls, self.name, **self.config)

    def call(self, layer, query, value, key=None, scores: bool = False, **options):
        """The output as a NumPy array, or ``(output, weights)`` when ``scores``; a result that
        ignores ``return_attention_scores`` or changes from one call to the next is named."""
        given = {} if key is None else {"key": key}
        flag = {"return_attention_scores": True} if scores else {}
        try:
            result = run_answer(layer, query, value, name=f"{self.name}.call", **given,
                                **options, **flag)
        except CheckFailed as failure:
            if failure.misconception:
                raise
            shapes = weight_shapes(self.name, self.config, query.shape[-1], value.shape[-1],
                                   (value if key is None else key).shape[-1])
            raise explain_failure(self.cls, layer, self.name, shapes, query, value, key,
                                  options) or failure from None
        if not scores:
            return to_numpy(output_only(result, self.name), f"the output of {self.name}")
        check_call_result(layer, self.name, query, value, key, options, result)
        out, weights = result
        return (to_numpy(out, f"the output of {self.name}"),
                to_numpy(weights, f"the weight matrix of {self.name}"))

    def random_weights(self, rng, layer, query, value, key=None) -> list[np.ndarray]:
        """Give the layer random non-zero weights (biases too: a layer that drops them must
        show it) after checking that its weights have the skeleton's shapes (else named)."""
        params = learner_weights(layer, self.name)
        expected = weight_shapes(self.name, self.config, query.shape[-1], value.shape[-1],
                                 (value if key is None else key).shape[-1])
        wrong = weight_shapes_mistake(self.name, [np.shape(w) for w in params], expected)
        if wrong is not None:
            raise wrong
        params = random_layer_weights(rng, expected)
        run_answer(layer.set_weights, params, name=f"{self.name}.set_weights")
        return params


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
    wrong_order = signature_mistake(cls, name)
    if wrong_order is not None:
        raise wrong_order


def check_projections_used(answer: Answer, layer, query, value, key, out) -> None:
    """Zeroing W_v (weights 4 and 5), then W_o's kernel (weight 6), must change the output:
    the tutorial layer creates both but may apply neither."""
    params = learner_weights(layer, answer.name)
    for indices, flaw in (((4, 5), "layer_values_not_projected"),
                          ((6,), "layer_no_output_projection")):
        layer.set_weights([w * 0 if i in indices else w for i, w in enumerate(params)])
        unchanged = np.allclose(answer.call(layer, query, value, key), out, atol=KERAS_ATOL)
        layer.set_weights(params)
        if unchanged:
            raise mistake(answer.name, flaw)


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


def scaled_scores(params, query, key, depth: int) -> np.ndarray:
    """The scores ``q kᵀ / √depth`` of a layer holding ``params`` (2-D kernels: one head),
    ``(B, [H,] Tq, Tk)``."""
    def heads(x, kernel, bias):  # (B, T, d) -> (B, H, T, h)
        kernel, bias = kernel.reshape(kernel.shape[0], -1, kernel.shape[-1]), \
            bias.reshape(-1, kernel.shape[-1])
        return np.einsum("btd,dhk->bhtk", x, kernel) + bias[:, None]

    q, k = heads(query, *params[0:2]), heads(key, *params[2:4])
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(depth)  # (B, H, Tq, Tk)
    return scores if params[0].ndim == 3 else scores[:, 0]


def check_sums(weights, what: str, depth: int, scores) -> None:
    """Each query's weights over the keys sum to 1; weights that are the scores, rows that sum
    to 1/√depth (the scale after the softmax) or sums over the heads are named."""
    rows = weights.sum(axis=-1)
    if np.allclose(rows, 1.0, atol=1e-4):
        return
    if weights.shape == scores.shape and np.allclose(weights, scores, rtol=KERAS_RTOL,
                                                     atol=KERAS_ATOL):
        raise mistake(what, "layer_scores_as_weights")
    if np.allclose(rows, 1 / math.sqrt(depth), atol=1e-4):
        raise mistake(what, "layer_scaled_after_softmax")
    if weights.ndim == 4 and np.allclose(weights.sum(axis=1), 1.0, atol=1e-4):
        raise mistake(what, "layer_softmax_over_heads")
    check_weights_sum_to_one(weights, what)


def without_biases(params) -> list[np.ndarray]:
    """The same weights with every bias (the 1-D and the (H, h) ones: the odd ones) zero."""
    return [w * 0 if i % 2 else w for i, w in enumerate(params)]


