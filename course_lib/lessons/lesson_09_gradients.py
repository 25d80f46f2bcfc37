"""Lesson 09 · Gradients: attention's backward pass: its exercises as the learner's side knows
them.

Its records (:class:`~course_lib.exercise_record.Exercise`), the plans of its functions' inputs
and the inputs of their public fixtures, in one place; the mistakes they name are described in
``course_lib.misconceptions.lesson_09_gradients``. The instructor's side of the same exercises is
``grader.lessons.lesson_09_gradients``.
"""

from __future__ import annotations

from course_lib.cases.calls import Call
from course_lib.cases.inputs import (
    case,
    lengths_mask,
    lower_triangle,
    random_mask,
    random_qkv,
    sizes,
)
from course_lib.cases.records import Part
from course_lib.exercise_record import Exercise

# The plans: from a random generator, the parts each exercise is judged on ----------


def attention_backward_plan(rng) -> list[Part]:
    batch, heads, t_q, t_k, d_k, d_v = sizes(rng, 6)
    lengths = rng.integers(1, t_k, size=batch)
    mask_shape = (batch, 1, t_q, t_k)

    def call(t_q=t_q, mask=None, extreme=False):
        if extreme:  # scores q kᵀ/√16 in steps of 32, about ±3000, exact in float32 too: a
            # row's weights are one-hot or split between tied keys, never 1 - 10⁻⁴ (which
            # float32 cannot hold to more than a few digits)
            inputs = {"q": rng.integers(-8, 9, (batch, heads, t_q, 16)) * 128.0,
                      "k": rng.integers(-8, 9, (batch, heads, t_k, 16)).astype(float),
                      "v": rng.standard_normal((batch, heads, t_k, d_v))}
        else:
            inputs = random_qkv(rng, (batch, heads), t_q, t_k, d_k, d_v)
        d_out = rng.standard_normal((batch, heads, t_q, d_v))  # ∂L/∂O, (B, H, Tq, d_v)
        return Call({**inputs, "d_out": d_out}, {} if mask is None else {"mask": mask})

    return [
        Part("no mask: batch and head axes, Tq ≠ Tk, d_k ≠ d_v", [call()]),
        Part("self-attention (Tq = Tk) with and without a causal mask",
             [call(t_q=t_k), call(t_q=t_k, mask=lower_triangle(t_k, t_k))]),
        Part("a padding mask (B, 1, 1, Tk) and a random mask: no gradient through masked keys",
             [call(mask=lengths_mask(lengths, t_k)), call(mask=random_mask(rng, mask_shape))]),
        Part("fully masked rows: zero gradients, not NaN",
             [call(mask=random_mask(rng, mask_shape, [(0, 0, 0), (batch - 1, 0, t_q - 1)]))]),
        Part("extreme logits (scores of ±1000 and beyond, d_k = 16): a saturated softmax",
             [call(extreme=True), call(extreme=True, mask=random_mask(rng, mask_shape))]),
    ]


# The public checks' fixtures: {case: (args, kwargs)}, hand-worked cases first ---


def attention_backward_fixture(rng):
    def with_d_out(inputs, t_q, d_v, **kwargs):
        return case(**inputs, d_out=rng.standard_normal((*inputs["q"].shape[:-2], t_q, d_v)),
                    kwargs=kwargs)

    fully_masked = random_mask(rng, (2, 4, 6), [(0, 1), (1, 3)])
    return {
        # self-attention first: Tq = Tk, so that the mistakes that need it run and are named
        # by their values (the others fail with an error of their own, which is stored)
        "self_attention": with_d_out(random_qkv(rng, (2,), 5, 5, 4, 3), 5, 3),
        "unmasked": with_d_out(random_qkv(rng, (), 3, 6, 4, 2), 3, 2),
        "causal": with_d_out(random_qkv(rng, (2,), 5, 5, 3, 4), 5, 4,
                             mask=lower_triangle(5, 5)),
        "fully_masked_rows": with_d_out(random_qkv(rng, (2,), 4, 6, 5, 3), 4, 3,
                                        mask=fully_masked),
        # scores q kᵀ/√16 in steps of 32, about ±3000: e^score overflows without the row max
        "extreme_logits": with_d_out({"q": rng.integers(-8, 9, (2, 3, 16)) * 128.0,
                                      "k": rng.integers(-8, 9, (2, 5, 16)).astype(float),
                                      "v": rng.standard_normal((2, 5, 3))}, 3, 3),
    }


EXERCISES = (
    Exercise("attention_backward", "09_gradients", "function", attention_backward_plan,
             "check_attention_backward",
             ("grad_softmax_no_rowsum", "grad_no_scaling", "grad_dk_not_transposed",
              "grad_dv_not_transposed", "grad_scores_as_dq", "grad_mask_ignored",
              "grad_fully_masked_nan", "grad_rowsum_wrong_axis", "grad_rowsum_no_keepdims",
              "grad_rowsum_without_weights", "grad_rowsum_outside_weights",
              "grad_scale_multiplied", "grad_scaled_twice", "grad_weights_unscaled",
              "grad_dv_from_scores", "grad_dq_k_transposed", "grad_da_v_not_transposed",
              "grad_q_k_swapped", "grad_returns_wrong_order", "mask_large_negative",
              "transpose_reverses_batch", "softmax_unstable", "grad_dv_scaled",
              "grad_mask_on_ds", "grad_ds_sign_flipped", "grad_softmax_skipped",
              "mask_after_softmax"),
             attention_backward_fixture,
             compare={
                 "hint": "dv = Aᵀ dO; dA = dO vᵀ; dS = A ⊙ (dA − rowsum(dA ⊙ A)); dq = dS k/√d_k; "
                 "dk = dSᵀ q/√d_k, with A the masked softmax of the forward pass.",
                 "parts": ("dq", "dk", "dv"),
             }),
)
