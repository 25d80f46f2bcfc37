"""Public check of lesson 05: the sinusoidal positional encoding."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import COMPARE_OPTIONS, check_cases, passed, require
from course_lib.feedback import call_answer, compare, to_numpy


def check_sinusoidal_encoding(sinusoidal_encoding) -> None:
    """Public check for lesson 05: ``sinusoidal_encoding(T, d)``, ``(T, d)``, sin on the even
    and cos on the odd columns, ``PE[t, 2i] = sin(t / 10000^(2i/d))``."""
    name = "sinusoidal_encoding"
    n_cases = check_cases(sinusoidal_encoding, name)
    t, d = 30, 10
    what = f"{name}({t}, {d})"
    encoding = to_numpy(call_answer(sinusoidal_encoding, t, d, name=name),
                        what=f"The result of {what}")
    require(encoding.shape == (t, d), f"{what} has shape {encoding.shape}, expected (T, d) = "
             f"{(t, d)}: one row per position.")
    require(np.all(np.isfinite(encoding)), f"{what} contains NaN or inf.")
    options = {key: COMPARE_OPTIONS[name][key] for key in ("rtol", "atol")}
    compare(encoding[0], np.tile([0.0, 1.0], d // 2), what=f"row 0 of {what}",
            hint="Position t = 0 is an angle of 0 in every pair: sin 0 = 0, cos 0 = 1.", **options)
    pairs = encoding.astype(np.float64).reshape(t, d // 2, 2)  # (T, d/2, 2): (sin, cos)
    compare(np.sum(pairs**2, axis=-1), np.ones((t, d // 2)),
            what=f"sin² + cos² of each pair of columns (2i, 2i + 1) of {what}",
            hint="Columns 2i and 2i + 1 are the sine and the cosine of one angle.", **options)
    similarity = encoding.astype(np.float64) @ encoding.T.astype(np.float64)  # (T, T)
    compare(similarity[1:, 1:], similarity[:-1, :-1],
            what=f"PE[t + 1]·PE[s + 1] vs PE[t]·PE[s] for {what}",
            hint="PE[t]·PE[s] = Σ_i cos(ω_i (t - s)) depends only on t - s.", **options)
    passed(name, n_cases + 4)
