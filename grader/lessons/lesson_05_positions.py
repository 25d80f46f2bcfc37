"""Lesson 05_positions: its exercises as the instructor's side knows them: their records
(:class:`~grader.graded.Graded`: the answer key, the wrong variants, the refused calls) and the
wrong variants of its functions, as live code. Each variant makes exactly one mistake and is
otherwise right, so that its output tells it apart; the judge runs them on the learner's inputs
to name the mistake an answer makes, and ``grader.make_fixtures`` stores their outputs for the
public checks. The learner's side of the same exercises is
``course_lib.lessons.lesson_05_positions``.
"""

from __future__ import annotations

import numpy as np

from grader import reference as ref
from grader.graded import Graded


def _angles(T, d, *, base=10000.0, first=0, exponent=lambda column: column - column % 2):
    """``(T, d)``: the angle of every position and column, ``t / base^(exponent(j) / d)``; with
    the defaults, ``t / 10000^(2i/d)`` for both columns ``2i`` and ``2i + 1`` of pair ``i``."""
    positions = np.arange(first, first + T, dtype=np.float64)[:, None]  # (T, 1)
    return positions / base ** (exponent(np.arange(d)) / d)  # (T, d)


def _interleaved(angles, even=np.sin, odd=np.cos):
    """Sines on the even columns and cosines on the odd ones (or ``even`` and ``odd``)."""
    encoding = even(angles)  # (T, d)
    encoding[:, 1::2] = odd(angles[:, 1::2])
    return encoding


def _halves(T, d):
    """``[sin | cos]``: the sines of every pair's frequency, then their cosines."""
    angles = _angles(T, d)[:, 0::2]  # (T, ⌈d/2⌉): t / 10000^(2i/d), one column per pair
    return np.concatenate([np.sin(angles), np.cos(angles[:, : d // 2])], axis=1)  # (T, d)


SINUSOIDAL_ENCODING = {
    "pe_sin_cos_swapped": lambda T, d: _interleaved(_angles(T, d), even=np.cos, odd=np.sin),
    "pe_frequency_per_column": lambda T, d: _interleaved(_angles(T, d, exponent=lambda j: j)),
    "pe_exponent_i_over_d": lambda T, d: _interleaved(_angles(T, d, exponent=lambda j: j // 2)),
    "pe_halves_concatenated": _halves,
    "pe_positions_from_one": lambda T, d: _interleaved(_angles(T, d, first=1)),
    "pe_transposed": lambda T, d: ref.sinusoidal_encoding(T, d).T,
    "pe_wrong_base": lambda T, d: _interleaved(_angles(T, d, base=1000.0)),
}

def encoding_with_its_own_base(received, T, d):
    """The encoding of base ``b``, where ``b`` is the base ``received`` would have if it were a
    sinusoidal encoding of another base than 10000 (read from ``PE[1, 2] = sin(b^(-2/d))``), or
    None. It names the mistake whatever base an answer used, not 1000 alone."""
    received = np.asarray(received, dtype=np.float64)
    if received.shape != (T, d) or T < 2 or d < 3 or not 0 < received[1, 2] < 1:
        return None
    base = np.arcsin(received[1, 2]) ** (-d / 2)  # ω_1 = b^(-2/d) ≤ 1, read back
    if not np.isfinite(base) or base <= 1:
        return None
    return _interleaved(_angles(T, d, base=base))


GRADED = (
    Graded("sinusoidal_encoding", ref.sinusoidal_encoding, SINUSOIDAL_ENCODING,
           ("positions",), "np.sin and np.cos of the angles t / 10000^(2i/d)"),
)
