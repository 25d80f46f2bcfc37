"""Lesson 05 · Positions: telling attention where each word stands: its exercises as the learner's
side knows them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_05_positions``. The instructor's side of the same exercises is
``grader.lessons.lesson_05_positions``.
"""

from __future__ import annotations

from course_lib.cases.calls import Call, ShiftCall
from course_lib.cases.inputs import case
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise

# The plans: from a random generator, the parts each exercise is judged on ----------


def sinusoidal_encoding_plan(rng) -> list[Part]:
    def sizes_t_d(t_range, d_range, parity):
        d = 2 * int(rng.integers(*d_range)) + parity
        t = int(rng.integers(*t_range))
        return {"T": t + (t == d), "d": d}  # T ≠ d, so that a transpose cannot hide

    even, odd = sizes_t_d((10, 60), (4, 17), 0), sizes_t_d((3, 30), (2, 8), 1)
    long, shifted = sizes_t_d((80, 121), (24, 33), 0), sizes_t_d((20, 50), (3, 12), 0)
    shifts = (1, int(rng.integers(2, 10)))
    return [
        Part(f"T = {even['T']}, d = {even['d']}", [Call(even)]),
        Part(f"odd d = {odd['d']}: the last column is a sin", [Call(odd)]),
        Part(f"a long sequence, T = {long['T']}, d = {long['d']}", [Call(long)]),
        Part(f"a shift by k = {shifts[0]} and {shifts[1]} positions rotates each (sin, cos) pair: "
             "PE[t + k] = M_k PE[t]", [ShiftCall(shifted, shifts=shifts)]),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def sinusoidal_encoding_fixture(rng):
    return {
        # rows (0, 1, 0, 1), (sin 1, cos 1, sin 0.01, cos 0.01), (sin 2, cos 2, sin 0.02, …)
        "hand_worked": case(T=3, d=4),
        "odd_d": case(T=6, d=5),
        "long": case(T=64, d=16),
    }


EXERCISES = (
    Exercise("sinusoidal_encoding", "05_positions", "encoding", sinusoidal_encoding_plan,
             "check_sinusoidal_encoding",
             ("pe_sin_cos_swapped", "pe_frequency_per_column", "pe_exponent_i_over_d",
              "pe_exponent_doubled", "pe_exponent_2j_over_d", "pe_frequency_inverted",
              "pe_halves_concatenated", "pe_batch_axis",
              "pe_positions_from_one", "pe_positions_over_length", "pe_two_pi",
              "pe_divided_by_wavelength", "pe_sines_only", "pe_odd_d_cosines",
              "pe_odd_d_last_column_zero", "pe_integer_array", "pe_transposed",
              "pe_arguments_swapped", "pe_wrong_base", "pe_wrong_frequencies",
              "pe_one_row_too_many", "pe_one_column_per_pair", "pe_positions_reversed",
              "pe_cosines_negated", "pe_scaled_by_sqrt_d", "pe_half_precision",
              "pe_odd_d_from_d_plus_one"),
             sinusoidal_encoding_fixture,
             compare={
                 "hint": "Row t is position t = 0 … T-1; column 2i holds sin(t / 10000^(2i/d)) and "
                 "column 2i + 1 cos(t / 10000^(2i/d)).",
                 # float32 angles of up to a few hundred radians are off by about 1e-5
                 "rtol": 1e-4,
                 "atol": 1e-6,
             }),
)
