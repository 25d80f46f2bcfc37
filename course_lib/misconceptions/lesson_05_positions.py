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
    "pe_transposed": "the encoding transposed, (d, T): one row per position, shape (T, d)",
    "pe_wrong_base": (
        "a base other than 10000: the angle is t / 10000^(2i/d), so that the wavelengths grow "
        "geometrically from 2π to almost 10000·2π"
    ),
}
