"""Public checks of lesson 10: Nadaraya-Watson kernel regression and additive scores."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import check_cases, fresh_rng, load_fixture, passed, require
from course_lib.feedback import call_answer, compare, describe_array, to_numpy


def check_nadaraya_watson(nadaraya_watson) -> None:
    """Public check for lesson 10: ``nadaraya_watson(x_query, x_train, y_train, width)``
    returns ``ŷ (..., n_query)``, a softmax-weighted average of ``y_train``."""
    name = "nadaraya_watson"
    n_cases = check_cases(nadaraya_watson, name)
    rng = fresh_rng()
    x_train, y_train = rng.uniform(0, 5, 9), rng.standard_normal(9)  # (n_train,) each
    x_query = rng.uniform(0, 5, 4)  # (n_query,)

    def predict(x_query, x_train, y_train, width, what):
        return to_numpy(call_answer(nadaraya_watson, x_query, x_train, y_train, width,
                                    name=name), what=f"The result of {name} on {what}")

    y_hat = predict(x_query, x_train, y_train, 0.8, "a new example")
    require(y_hat.shape == (4,) and np.all(np.isfinite(y_hat)),
             f"{name} of 4 queries should return 4 finite numbers. Received: "
             f"{describe_array(y_hat)}")
    require(np.all((y_hat >= y_train.min() - 1e-9) & (y_hat <= y_train.max() + 1e-9)),
             f"{name}: a prediction lies outside [min y_train, max y_train]. The weights are a "
             "softmax over the training points: positive and summing to 1, so ŷ is an average.")
    order = rng.permutation(9)
    compare(predict(x_query, x_train[order], y_train[order], 0.8, "shuffled training points"),
            y_hat, what=f"{name} with the training points shuffled",
            hint="The order of the (x_i, y_i) pairs must not matter: each keeps its weight.")
    nearest = y_train[np.argmin(np.abs(x_query[:, None] - x_train), axis=-1)]  # (n_query,)
    compare(predict(x_query, x_train, y_train, 1e-3, "a width of 0.001"), nearest,
            what=f"{name} with a width of 0.001",
            hint="A tiny width makes the softmax one-hot: ŷ is the target of the nearest x_i. "
            "Subtract the max score of each query before np.exp, or every e^score is 0.")
    passed(name, n_cases + 3)


def check_additive_scores(additive_scores) -> None:
    """Public check for lesson 10: ``additive_scores(q, k, w_q, w_k, v)`` returns the
    ``(..., Tq, Tk)`` scores ``tanh(q_i W_q + k_j W_k) v``."""
    name = "additive_scores"
    n_cases = check_cases(additive_scores, name)
    case = load_fixture(name)["batched"]
    q, k, w_q, w_k, v = case["args"].values()
    order = np.array([3, 0, 4, 1, 2])
    compare(call_answer(additive_scores, q, k[..., order, :], w_q, w_k, v, name=name),
            case["expected"][..., order], what=f"{name}(q, k with its keys reordered, …)",
            hint="Reordering the keys should reorder the columns of the scores, nothing else.")
    compare(call_answer(additive_scores, q, k, w_q, w_k, -v, name=name), -case["expected"],
            what=f"{name}(q, k, w_q, w_k, -v)",
            hint="v reads each score out of the tanh features linearly: -v negates it.")
    large = to_numpy(call_answer(additive_scores, 100 * q, 100 * k, w_q, w_k, v, name=name),
                     what=f"The result of {name} on inputs 100 times larger")
    require(np.all(np.abs(large) <= np.abs(v).sum() + 1e-9),
             f"{name}: a score of inputs 100 times larger exceeds Σ|v| = "
             f"{np.abs(v).sum():.3f}. tanh lies in [-1, 1], so |tanh(…) v| ≤ Σ|v|: apply the "
             "tanh before the product with v.")
    passed(name, n_cases + 3)
