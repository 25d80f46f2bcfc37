"""Lesson 05 (``05_positions``): its exercises as the instructor's side knows them: their records
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


def _interleaved_of(T, d, **angles):
    """The interleaved encoding (sin on the even columns, cos on the odd) of :func:`_angles`."""
    return _interleaved(_angles(T, d, **angles))


def _odd_last_column_zero(T, d):
    """An odd ``d`` whose last column, the sine without its cosine, is left at 0."""
    encoding = ref.sinusoidal_encoding(T, d)
    if d % 2:
        encoding[:, -1] = 0.0
    return encoding


SINUSOIDAL_ENCODING = {
    "pe_sin_cos_swapped": lambda T, d: _interleaved(_angles(T, d), even=np.cos, odd=np.sin),
    "pe_frequency_per_column": lambda T, d: _interleaved_of(T, d, exponent=lambda j: j),
    "pe_exponent_i_over_d": lambda T, d: _interleaved_of(T, d, exponent=lambda j: j // 2),
    "pe_exponent_doubled": lambda T, d: _interleaved_of(T, d, exponent=lambda j: 2 * (j - j % 2)),
    "pe_exponent_2j_over_d": lambda T, d: _interleaved_of(T, d, exponent=lambda j: 2 * j),
    "pe_frequency_inverted": lambda T, d: _interleaved_of(T, d, exponent=lambda j: j % 2 - j),
    "pe_halves_concatenated": _halves,
    "pe_positions_from_one": lambda T, d: _interleaved_of(T, d, first=1),
    "pe_positions_over_length": lambda T, d: _interleaved(_angles(T, d) / T),
    "pe_two_pi": lambda T, d: _interleaved(2 * np.pi * _angles(T, d)),
    "pe_divided_by_wavelength": lambda T, d: _interleaved(_angles(T, d) / (2 * np.pi)),
    "pe_sines_only": lambda T, d: np.sin(_angles(T, d)),
    "pe_odd_d_last_column_zero": _odd_last_column_zero,
    "pe_integer_array": lambda T, d: ref.sinusoidal_encoding(T, d).astype(np.int64),
    "pe_transposed": lambda T, d: ref.sinusoidal_encoding(T, d).T,
    "pe_batch_axis": lambda T, d: ref.sinusoidal_encoding(T, d)[None],
    "pe_arguments_swapped": lambda T, d: ref.sinusoidal_encoding(d, T),
    "pe_odd_d_from_d_plus_one": lambda T, d: ref.sinusoidal_encoding(T, d + d % 2)[:, :d],
    "pe_wrong_base": lambda T, d: _interleaved_of(T, d, base=1000.0),
    "pe_one_row_too_many": lambda T, d: ref.sinusoidal_encoding(T + 1, d),
    "pe_one_column_per_pair": lambda T, d: np.sin(_angles(T, d)[:, 0::2]),
    "pe_positions_reversed": lambda T, d: ref.sinusoidal_encoding(T, d)[::-1],
    "pe_cosines_negated": lambda T, d: _interleaved(_angles(T, d), odd=lambda a: -np.cos(a)),
    "pe_scaled_by_sqrt_d": lambda T, d: np.sqrt(d) * ref.sinusoidal_encoding(T, d),
    "pe_half_precision": lambda T, d: ref.sinusoidal_encoding(T, d).astype(np.float16),
}


GRADED = (
    Graded("sinusoidal_encoding", ref.sinusoidal_encoding, SINUSOIDAL_ENCODING,
           ("positions",), "np.sin and np.cos of the angles t / 10000^(2i/d)"),
)
