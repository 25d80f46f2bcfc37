"""Public check of lesson 09: the gradients of scaled dot-product attention."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import check_cases, fresh_rng, passed, random_qkv, require
from course_lib.feedback import call_answer, compare, to_numpy


def check_attention_backward(attention_backward) -> None:
    """Public check for lesson 09: ``attention_backward(q, k, v, d_out, mask=None)`` returns
    ``(dq, dk, dv)``, the gradients of a loss through scaled dot-product attention."""
    name = "attention_backward"
    n_cases = check_cases(attention_backward, name)
    rng = fresh_rng()
    q, k, v = random_qkv(rng, 4, 6, 3, 5)
    d_out = rng.standard_normal((4, 5))  # (Tq, d_v)
    mask = rng.random((4, 6)) < 0.6
    mask[:, 0] = True  # every query may attend to a key
    dq, dk, dv = (to_numpy(g, what=f"The result of {name} on a new example")
                  for g in call_answer(attention_backward, q, k, v, d_out, mask=mask, name=name))
    compare(dv.sum(axis=0), d_out.sum(axis=0), what=f"dv summed over the keys, for {name}",
            hint="Each row of A sums to 1, so Σ_j dv_j = Σ_j Σ_i A_ij dO_i = Σ_i dO_i.")
    compare(dk.sum(axis=0), np.zeros(3), what=f"dk summed over the keys, for {name}",
            hint="Each row of dS sums to 0 (adding a constant to a row of scores changes no "
            "weight), so Σ_j dk_j = Σ_i (Σ_j dS_ij) q_i / √d_k = 0.")
    require(np.all(dk[~mask.any(axis=0)] == 0) and np.all(dv[~mask.any(axis=0)] == 0),
             f"{name}: a key that no query may attend to gets a gradient. Its weights are all 0, "
             "so its dk and dv rows must be 0.")
    passed(name, n_cases + 3)
