"""The mistakes lesson 05 · Positions: telling attention where each word stands is the first to
name, by key: what each one is, in a learner's words, completing "it matches ..." and saying
what to do instead.
"""

DESCRIPTIONS = {
    "pe_sin_cos_swapped": (
        "sin and cos swapped: the even columns (0, 2, 4, …) hold the sines, PE[t, 2i] = "
        "sin(t / 10000^(2i/d)), and the odd ones the cosines"
    ),
    "pe_frequency_per_column": (
        "a frequency per column, t / 10000^(j/d) for column j: the sine and the cosine of a pair "
        "share one frequency, t / 10000^(2i/d) in both columns 2i and 2i + 1"
    ),
    "pe_exponent_i_over_d": (
        "the exponent i/d with i the pair's index, so the frequencies fall half as fast as they "
        "should: the exponent is 2i/d, the index of the pair's first column over d"
    ),
    "pe_exponent_doubled": (
        "the exponent doubled, 4i/d (2·2i/d, or 2i over d/2), so the frequencies fall twice as "
        "fast as they should: the exponent is 2i/d, where 2i is the pair's first column "
        "(np.arange(0, d, 2) already holds the 2i)"
    ),
    "pe_exponent_2j_over_d": (
        "the exponent 2j/d with j the column's own index, as in a popular blog post's loop: "
        "both columns of pair i use the exponent 2i/d, where 2i is the index of the pair's "
        "first (even) column: 10000^(2·(j // 2)/d) for column j"
    ),
    "pe_frequency_inverted": (
        "the angle t · 10000^(2i/d), multiplied by the power of 10000 instead of divided by it: "
        "the angle is t / 10000^(2i/d), so that the frequencies fall from 1 and the wavelengths "
        "grow from 2π"
    ),
    "pe_halves_concatenated": (
        "the sines in the first half of the columns and the cosines in the second, [sin | cos]: "
        "a valid encoding, which some libraries use, but not this exercise's convention, which "
        "interleaves them: sin on the even columns, cos on the odd ones (PE[:, 0::2] and "
        "PE[:, 1::2])"
    ),
    "pe_positions_from_one": (
        "positions counted from 1: the first position is t = 0, so PE[0] = (0, 1, 0, 1, …); "
        "use np.arange(T)"
    ),
    "pe_positions_over_length": (
        "positions divided by the sequence's length, t / T: then position 3 means something "
        "else in every sequence; the angle is t / 10000^(2i/d) with t = 0, 1, …, T - 1 itself"
    ),
    "pe_two_pi": (
        "an extra factor 2π, sin(2π t / 10000^(2i/d)): the angle is t / 10000^(2i/d) in "
        "radians, so that the first pair turns by 1 radian per position and its wavelength is 2π"
    ),
    "pe_divided_by_wavelength": (
        "the position divided by the wavelength, t / (2π · 10000^(2i/d)): the angle is "
        "t / 10000^(2i/d), and the wavelength 2π · 10000^(2i/d) is how many positions a full turn"
        " takes, not the divisor"
    ),
    "pe_sines_only": (
        "sines in every column: the odd columns hold the cosines, PE[t, 2i+1] = "
        "cos(t / 10000^(2i/d)), so that each pair is a point (sin, cos) on the unit circle"
    ),
    "pe_odd_d_cosines": (
        "an odd d that does not fit: an odd d has ⌈d/2⌉ sines and ⌊d/2⌋ cosines, the last column "
        "a sine, so take the cosines of the first ⌊d/2⌋ angles only, np.cos(angles[:, : d // 2])"
    ),
    "pe_odd_d_last_column_zero": (
        "an odd d whose last column is left at 0: it is the sine of one more frequency, "
        "PE[t, d-1] = sin(t / 10000^((d-1)/d)), without its cosine"
    ),
    "pe_integer_array": (
        "an array of integers, which cuts every sine and cosine to 0 or ±1: make the array of "
        "floats, np.zeros((T, d)), not np.zeros((T, d), dtype=int) or np.zeros_like of integer "
        "positions"
    ),
    "pe_arguments_swapped": (
        "the arguments swapped, sinusoidal_encoding(d, T): the signature is "
        "sinusoidal_encoding(T, d), T positions first, then d columns"
    ),
    "pe_wrong_frequencies": (
        "sines and cosines of other frequencies than ω_i = 1/10000^(2i/d): pair i (columns 2i "
        "and 2i + 1) turns by ω_i per position, ω_0 = 1 and each pair 10000^(-2/d) times slower;"
        " check the exponent 2i/d, the base 10000, and that nothing else multiplies or divides "
        "the angle t·ω_i"
    ),
    "pe_batch_axis": (
        "an extra batch axis in front, (1, T, d): return the (T, d) table itself; a model adds "
        "it to a batch of embeddings by broadcasting"
    ),
    "pe_transposed": "the encoding transposed, (d, T): one row per position, shape (T, d)",
    "pe_wrong_base": (
        "a base other than 10000: the angle is t / 10000^(2i/d), so that the wavelengths grow "
        "geometrically from 2π to almost 10000·2π"
    ),
    "pe_one_row_too_many": (
        "one row too many, T + 1 positions (np.arange(T + 1), or range(T + 1)): the positions "
        "are t = 0, 1, …, T - 1, np.arange(T), one row each"
    ),
    "pe_one_column_per_pair": (
        "one column per pair, the d/2 sines alone, of shape (T, ⌈d/2⌉): each pair i fills two "
        "columns, its sine in column 2i and its cosine in column 2i + 1, so the table is (T, d)"
    ),
    "pe_positions_reversed": (
        "the positions in reverse order, row 0 for t = T - 1: row t is position t, counted from "
        "0 at the first row, so PE[0] = (0, 1, 0, 1, …)"
    ),
    "pe_cosines_negated": (
        "the cosines negated, -cos(t / 10000^(2i/d)) (as from sin(a - π/2)): the odd columns hold "
        "+cos(t / 10000^(2i/d)), so PE[0] = (0, 1, 0, 1, …); cos(a) = sin(a + π/2)"
    ),
    "pe_scaled_by_sqrt_d": (
        "the encoding multiplied by √d: every entry is a plain sine or cosine, between -1 and 1; "
        "a model that scales its embeddings by √d_model does so before it adds the encoding"
    ),
    "pe_half_precision": (
        "an array of float16, whose 3 significant digits round every sine and cosine: build the "
        "table in float64 (np.zeros((T, d))) or float32, not float16"
    ),
    "pe_odd_d_from_d_plus_one": (
        "an odd d computed as the table of d + 1 columns, cut to d: its frequencies are "
        "1/10000^(2i/(d+1)); the exponent is 2i/d with d itself, and the last column is the sine "
        "of one more frequency, without its cosine"
    ),
}
