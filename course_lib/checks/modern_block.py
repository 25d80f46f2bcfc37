"""Public checks of lesson 13: RoPE, RMSNorm, SwiGLU and grouped-query attention.

Each compares the learner's function with the stored cases of its fixture, then tests
properties the right answer must have on inputs no fixture holds: the rotation of RoPE keeps
lengths and makes ``q · k`` depend on the offset alone; RMSNorm ignores the scale of its input;
SwiGLU is linear in ``w_up`` and ``w_down``; a group's query heads share their key–value head.
"""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import check_cases, fresh_rng, passed, require
from course_lib.feedback import call_answer, compare, describe_array, to_numpy


def _result(fn, name: str, what: str, *args, **kwargs) -> np.ndarray:
    return to_numpy(call_answer(fn, *args, name=name, **kwargs),
                    what=f"The result of {name} on {what}")


def check_apply_rope(apply_rope) -> None:
    """Public check for lesson 13: ``apply_rope(x, positions, base=10000)`` rotates pair
    ``(2i, 2i + 1)`` of each row by ``position · base^(-2i/d)``."""
    name = "apply_rope"
    n_cases = check_cases(apply_rope, name)
    rng = fresh_rng()
    x = rng.standard_normal((2, 7, 12))  # (B, T, d)
    compare(call_answer(apply_rope, x, np.zeros(7), name=name), x,
            what=f"{name}(x, positions of zeros)",
            hint="At position 0 every angle is 0: a rotation by 0 leaves x as it is.")
    rotated = _result(apply_rope, name, "a new example", x, np.arange(7) + 5.0)
    require(rotated.shape == x.shape, f"{name} should keep the shape of x, (2, 7, 12). "
            f"Received: {describe_array(rotated)}")
    compare(rotated[..., 0::2] ** 2 + rotated[..., 1::2] ** 2, x[..., 0::2] ** 2 + x[..., 1::2]
            ** 2, what=f"the length of each pair (2i, 2i + 1) after {name}",
            hint="A rotation keeps lengths: x_2i² + x_2i+1² must not change.")
    q, k = rng.standard_normal((2, 16)), rng.standard_normal((2, 16))  # one query, one key
    scores = []
    for shift in (0, 11, 250):  # the query at 3 + shift, the key at 9 + shift: offset -6
        positions = np.array([3.0, 9.0]) + shift
        scores.append(_result(apply_rope, name, "two positions", q[:1], positions[:1])[0]
                      @ _result(apply_rope, name, "two positions", k[1:], positions[1:])[0])
    compare(np.array(scores), np.full(3, scores[0]),
            what=f"q·k after {name}, the query and key moved on together by 0, 11 and 250",
            hint="Rotated queries and keys give q_m·k_n = q·R((n - m)ω)k, which depends on the "
            "offset n - m alone: rotate by +θ = position · base^(-2i/d) for both.")
    passed(name, n_cases + 3)


def check_rms_norm(rms_norm) -> None:
    """Public check for lesson 13: ``rms_norm(x, gain, eps=1e-6)`` is ``x / sqrt(mean(x²) +
    eps) · gain`` over the last axis."""
    name = "rms_norm"
    n_cases = check_cases(rms_norm, name)
    rng = fresh_rng()
    x, gain = rng.standard_normal((3, 5, 8)) + 0.7, rng.uniform(0.5, 2, 8)  # (B, T, d), (d,)
    y = _result(rms_norm, name, "a new example", x, np.ones(8))
    require(y.shape == x.shape, f"{name} should keep the shape of x, (3, 5, 8). "
            f"Received: {describe_array(y)}")
    compare(np.mean(y**2, axis=-1), np.ones((3, 5)), what=f"mean(y²) of each vector of "
            f"{name}(x, gain of ones)", rtol=1e-4,
            hint="Dividing x by its root mean square leaves vectors whose mean square is 1.")
    compare(call_answer(rms_norm, 1000 * x, gain, name=name),
            call_answer(rms_norm, x, gain, name=name), what=f"{name}(1000 · x, gain)",
            rtol=1e-4, hint="Scaling x scales its root mean square alike: the result stays.")
    compare(call_answer(rms_norm, x, 3 * gain, name=name),
            3 * to_numpy(call_answer(rms_norm, x, gain, name=name), what=name),
            what=f"{name}(x, 3 · gain)", hint="The gain multiplies the result, feature by "
            "feature.")
    passed(name, n_cases + 3)


def check_swiglu(swiglu) -> None:
    """Public check for lesson 13: ``swiglu(x, w_gate, w_up, w_down)`` is
    ``(SiLU(x @ w_gate) * (x @ w_up)) @ w_down``."""
    name = "swiglu"
    n_cases = check_cases(swiglu, name)
    rng = fresh_rng()
    x = rng.standard_normal((4, 6))  # (T, d)
    w_gate, w_up = rng.standard_normal((6, 10)), rng.standard_normal((6, 10))  # (d, f)
    w_down = rng.standard_normal((10, 6))  # (f, d)
    out = _result(swiglu, name, "a new example", x, w_gate, w_up, w_down)
    require(out.shape == (4, 6), f"{name} of x (4, 6) and w_down (10, 6) should return "
            f"(4, 6). Received: {describe_array(out)}")
    compare(call_answer(swiglu, x, w_gate, -w_up, w_down, name=name), -out,
            what=f"{name}(x, w_gate, -w_up, w_down)",
            hint="x @ w_up is linear, without an activation: negating w_up negates the result.")
    compare(call_answer(swiglu, x, w_gate, w_up, 2 * w_down, name=name), 2 * out,
            what=f"{name}(x, w_gate, w_up, 2 · w_down)", hint="w_down is the last, linear step.")
    compare(call_answer(swiglu, np.zeros((4, 6)), w_gate, w_up, w_down, name=name),
            np.zeros((4, 6)), what=f"{name} of x = 0", hint="SiLU(0) = 0 and 0 @ w_up = 0.")
    passed(name, n_cases + 3)


def check_grouped_query_attention(grouped_query_attention) -> None:
    """Public check for lesson 13: ``grouped_query_attention(q, k, v, mask=None)``, query head
    ``h`` attending with key–value head ``h // (H // G)``."""
    name = "grouped_query_attention"
    n_cases = check_cases(grouped_query_attention, name)
    rng = fresh_rng()
    q = rng.standard_normal((2, 6, 3, 4))  # (B, H, Tq, d_k): 6 query heads
    k, v = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 2, 5, 3))  # 2 groups
    out = _result(grouped_query_attention, name, "a new example", q, k, v)
    require(out.shape == (2, 6, 3, 3), f"{name} of q (2, 6, 3, 4) and v (2, 2, 5, 3) should "
            f"return (2, 6, 3, 3). Received: {describe_array(out)}")
    compare(call_answer(grouped_query_attention, q, np.repeat(k, 3, axis=1),
                        np.repeat(v, 3, axis=1), name=name), out,
            what=f"{name} with each key–value head copied for its 3 query heads (G = H = 6)",
            hint="Query heads 0, 1, 2 share key–value head 0 and heads 3, 4, 5 head 1: "
            "h // (H // G).")
    mask = np.ones((2, 1, 3, 5), dtype=bool)  # (B, 1, Tq, Tk)
    mask[1, 0, 2] = False  # batch 1, query 2: no key allowed
    masked = _result(grouped_query_attention, name, "a mask with a fully masked row", q, k, v,
                     mask=mask)
    require(np.all(np.isfinite(masked)) and np.all(masked[1, :, 2] == 0),
            f"{name}: a query row that may attend to no key should give a zero output, never "
            "NaN. Set its weights to 0 (lesson 02's masked softmax).")
    passed(name, n_cases + 2)
