"""The mistakes lesson 00 · Welcome to *Attention, step by step* is the first to name, by key: what
each one is, in a learner's words, completing "it matches ..." and saying what to do instead.
"""

DESCRIPTIONS = {
    "dot_elementwise": (
        "the elementwise product a * b: a dot product adds those products up into one number"
    ),
    "dot_sum_times_sum": "sum(a) × sum(b): multiply matching entries first, then add the products",
    "dot_sum_of_sums": "the sum of a + b: multiply matching entries (a * b), do not add them",
    "dot_norm_product": (
        "the product of the lengths ‖a‖·‖b‖: that is the dot product only when a and b point "
        "the same way"
    ),
    "dot_cosine": (
        "the cosine similarity a·b / (‖a‖ ‖b‖): the dot product is not divided by the lengths"
    ),
}
