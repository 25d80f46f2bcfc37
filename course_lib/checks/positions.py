"""Public check of lesson 05: the sinusoidal positional encoding."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import COMPARE_OPTIONS, check_cases, passed, require
from course_lib.feedback import CheckFailed, call_answer, compare, to_numpy
from course_lib.misconceptions import DESCRIPTIONS


def _encoding_of(turns, T: int, d: int) -> np.ndarray:
    """``(T, d)``: sin on the even columns and cos on the odd ones of the angles ``t·θ_i``,
    positions ``t`` from 0, pair ``i`` turning by ``turns[i]`` per position (``⌈d/2⌉``)."""
    angles = np.arange(T, dtype=np.float64)[:, None] * turns[None, :]  # (T, ⌈d/2⌉)
    encoding = np.empty((T, d))  # (T, d)
    encoding[:, 0::2], encoding[:, 1::2] = np.sin(angles), np.cos(angles[:, : d // 2])
    return encoding


def encoding_of_its_own_frequencies(encoding, T: int, d: int):
    """The sinusoidal encoding whose pair ``i`` turns per position by the angle ``encoding``
    turns it from position 0 to 1, read back as ``atan2(PE[1, 2i], PE[1, 2i+1])``; None where
    ``encoding`` cannot be one (a shape other than ``(T, d)``, an odd ``d``, fewer than 3
    positions). An encoding that equals it, but not the right one, is a sinusoidal encoding of
    other frequencies than ``1/10000^(2i/d)``, whatever the mistake that changed them."""
    encoding = np.asarray(encoding, dtype=np.float64)
    if encoding.shape != (T, d) or d % 2 or T < 3 or not np.all(np.isfinite(encoding)):
        return None
    return _encoding_of(np.arctan2(encoding[1, 0::2], encoding[1, 1::2]), T, d)


def encoding_of_its_own_base(encoding, T: int, d: int):
    """The sinusoidal encoding of base ``b``, the base ``encoding`` would have if it were one of
    another base than 10000 (read back from ``PE[1, 2] = sin(b^(-2/d))``), or None: it names
    that mistake whatever base an answer used."""
    encoding = np.asarray(encoding, dtype=np.float64)
    if encoding.shape != (T, d) or T < 2 or d < 3 or not 0 < encoding[1, 2] < 1:
        return None
    base = np.arcsin(encoding[1, 2]) ** (-d / 2)  # ω_1 = b^(-2/d) ≤ 1, read back
    if not np.isfinite(base) or base <= 1:
        return None
    return _encoding_of(base ** (-np.arange(0, d, 2) / d), T, d)


def _check_frequencies(sinusoidal_encoding, name: str, failure: CheckFailed) -> None:
    """After a stored case failed and named no mistake: when the answer is a sinusoidal
    encoding all the same, of another base or of frequencies of its own, say so."""
    if any(description in str(failure) for description in DESCRIPTIONS.values()):
        raise failure
    t, d = 30, 10
    try:
        encoding = np.asarray(sinusoidal_encoding(t, d), dtype=np.float64)
    except Exception:  # noqa: BLE001 — the stored case's failure says more
        raise failure from None
    tolerance = {key: COMPARE_OPTIONS[name][key] for key in ("rtol", "atol")}
    for key, own in (("pe_wrong_base", encoding_of_its_own_base(encoding, t, d)),
                     ("pe_wrong_frequencies", encoding_of_its_own_frequencies(encoding, t, d))):
        if own is not None and np.allclose(encoding, own, **tolerance):
            raise CheckFailed(f"{failure}\n  It matches {DESCRIPTIONS[key]}.", key) from None
    raise failure


def _check_odd_d(sinusoidal_encoding, name: str) -> None:
    """An odd ``d`` runs: a failure on the columns' counts (``⌈d/2⌉`` sines, ``⌊d/2⌋``
    cosines) is named, any other is left to the stored cases."""
    try:
        sinusoidal_encoding(6, 5)
    except (ValueError, IndexError) as error:
        if "broadcast" in str(error) or "out of bounds" in str(error):
            raise CheckFailed(f"{name}(6, 5) raised {type(error).__name__}: {error}\n  It "
                              f"matches {DESCRIPTIONS['pe_odd_d_cosines']}.",
                              "pe_odd_d_cosines") from None
    except Exception:  # noqa: BLE001 — the stored cases report it with its inputs
        return


def check_sinusoidal_encoding(sinusoidal_encoding) -> None:
    """Public check for lesson 05: ``sinusoidal_encoding(T, d)``, ``(T, d)``, sin on the even
    and cos on the odd columns, ``PE[t, 2i] = sin(t / 10000^(2i/d))``."""
    name = "sinusoidal_encoding"
    _check_odd_d(sinusoidal_encoding, name)
    try:
        n_cases = check_cases(sinusoidal_encoding, name)
    except CheckFailed as failure:
        _check_frequencies(sinusoidal_encoding, name, failure)
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
