"""Hidden tests: the learner's function against the answer key on fresh random inputs.

A hidden test cell in a lesson is one call, e.g. ``grade_attention_scores(attention_scores)``,
whose value (points earned) is the cell's partial credit; every failed part prints its reason
and, when the answer matches a known wrong variant, names the mistake. The inputs are new on
every run (``seed=None``), so no answer can be hard-coded, and every dimension differs
(batch > 1, heads > 1 as a leading axis, Tq ≠ Tk, d_k ≠ d_v) so transposes cannot hide.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.checks import (
    COMPARE_OPTIONS,
    check_blockwise_memory,
    memory_test_inputs,
    memory_test_masks,
)
from course_lib.feedback import PartialCredit, call_answer, compare, describe_call
from course_lib.misconceptions import DESCRIPTIONS
from grader import reference as ref
from grader.misconceptions import wrong_outputs

__all__ = [
    "grade_dot_product",
    "grade_attention_scores",
    "grade_softmax",
    "grade_masked_softmax",
    "grade_causal_mask",
    "grade_padding_mask",
    "grade_weighted_sum",
    "grade_scaled_dot_product_attention",
    "grade_blockwise_attention",
]

# Random inputs --------------------------------------------------------------------------------


def case(kwargs=None, **args):
    """One call of an exercise: its positional arguments by name, and its keyword arguments."""
    return args, kwargs or {}


def sizes(rng, n: int, low: int = 2, high: int = 12) -> list[int]:
    """``n`` different sizes in ``[low, high)``, so that no two axes can be confused."""
    return [int(size) for size in rng.choice(np.arange(low, high), n, replace=False)]


def random_qkv(rng, batch, t_q, t_k, d_k, d_v, scale=1.0) -> dict[str, np.ndarray]:
    """``{"q", "k", "v"}`` with leading axes ``batch``; ``scale`` makes the scores larger."""
    return {
        "q": rng.standard_normal((*batch, t_q, d_k)) * scale,
        "k": rng.standard_normal((*batch, t_k, d_k)) * scale,
        "v": rng.standard_normal((*batch, t_k, d_v)),
    }


def random_weights(rng, shape) -> np.ndarray:
    """Attention weights: rows of a softmax, each summing to 1."""
    return ref.softmax(rng.standard_normal(shape) * 2)


def random_mask(rng, shape, empty_rows=()) -> np.ndarray:
    """A boolean mask in which every row allows a key, except the ``empty_rows`` (index tuples
    of the leading axes and the row), which allow none."""
    mask = rng.random(shape) < 0.5
    rows = np.indices(shape[:-1]).reshape(len(shape) - 1, -1)
    mask[(*rows, rng.integers(shape[-1], size=rows.shape[1]))] = True
    for row in empty_rows:
        mask[row] = False
    return mask


def extreme_logits(rng, shape) -> np.ndarray:
    """Logits around ±1000 and ±1e4 in steps of 1/4, exactly representable in float32 too."""
    return rng.choice([-1e4, -1e3, 0.0, 1e3, 1e4], shape) + rng.integers(-8, 9, shape) / 4


# Grading --------------------------------------------------------------------------------------


def _rng(seed=None):
    return np.random.default_rng(seed)


def _named(exercise: str, *args, **kwargs) -> dict:
    return {DESCRIPTIONS[key]: out for key, out in wrong_outputs(exercise, *args, **kwargs).items()}


def _expect(fn, exercise: str, args: dict, kwargs: dict) -> None:
    """Compare the learner's ``fn`` with the answer key on one call; name a known mistake."""
    values = list(args.values())
    compare(
        call_answer(fn, *values, name=exercise, **kwargs),
        getattr(ref, exercise)(*values, **kwargs),
        what=describe_call(exercise, args, kwargs),
        misconceptions=_named(exercise, *values, **kwargs),
        **COMPARE_OPTIONS[exercise],
    )


def _calls(fn, exercise: str, *calls) -> Callable[[], None]:
    """A part of a hidden test made of calls (see :func:`case`), each compared with the key."""

    def run() -> None:
        for args, kwargs in calls:
            _expect(fn, exercise, args, kwargs)

    return run


def _grade(exercise: str, points: float, parts: dict[str, Callable[[], None]]) -> float:
    """Run the parts, each worth an equal share of ``points``; the points earned."""
    credit = PartialCredit(exercise)
    for label, run in parts.items():
        with credit.part(points / len(parts), label):
            run()
    print(credit.summary())
    return credit.points


# One hidden test per exercise -----------------------------------------------------------------


def grade_dot_product(dot_product, points: float = 1, seed=None) -> float:
    """Hidden test for lesson 00: vectors of a random length, then long ones with large entries."""
    rng = _rng(seed)
    n = int(rng.integers(5, 20))
    return _grade("dot_product", points, {
        f"random vectors of length {n}": _calls(
            dot_product, "dot_product", case(a=rng.standard_normal(n), b=rng.standard_normal(n))
        ),
        "long vectors (n = 1000) with large entries": _calls(
            dot_product,
            "dot_product",
            case(a=rng.standard_normal(1000) * 1e3, b=rng.standard_normal(1000) * 1e3),
        ),
    })


def grade_attention_scores(attention_scores, points: float = 2, seed=None) -> float:
    """Hidden test for lesson 01: batches, heads, Tq ≠ Tk."""
    rng = _rng(seed)
    batch, heads, t_q, t_k, d_k = sizes(rng, 5)

    def part(leading):
        q = rng.standard_normal((*leading, t_q, d_k))
        k = rng.standard_normal((*leading, t_k, d_k))
        return _calls(attention_scores, "attention_scores", case(q=q, k=k))

    return _grade("attention_scores", points, {
        "batched input, Tq ≠ Tk": part([batch]),
        "batch and head axes": part([batch, heads]),
    })


def grade_softmax(softmax, points: float = 3, seed=None) -> float:
    """Hidden test for lesson 02: rows, other axes, and logits of ±1000 and ±1e4."""
    rng = _rng(seed)
    batch, heads, t_q, t_k = sizes(rng, 4, low=3)
    x = rng.standard_normal((batch, t_q, t_k)) * 3
    return _grade("softmax", points, {
        "rows of a square (T, T) array, then of (B, H, Tq, Tk) scores": _calls(
            softmax,
            "softmax",
            case(x=rng.standard_normal((t_q, t_q)) * 3),
            case(x=rng.standard_normal((batch, heads, t_q, t_k)) * 3),
        ),
        "axis=0 and axis=1 of a 3-D array": _calls(
            softmax, "softmax", case(x=x, kwargs={"axis": 0}), case(x=x, kwargs={"axis": 1})
        ),
        "extreme logits (±1000, ±1e4)": _calls(
            softmax, "softmax", case(x=extreme_logits(rng, (batch, t_q, t_k)))
        ),
    })


def grade_masked_softmax(masked_softmax, points: float = 4, seed=None) -> float:
    """Hidden test for lesson 02: partial credit for no mask, a padding mask, a causal mask
    (with logits of ±1000) and fully masked rows (zeros, not NaN)."""
    rng = _rng(seed)
    batch, heads, t_q, t_k = sizes(rng, 4, low=3)
    shape = (batch, heads, t_q, t_k)
    lengths = rng.integers(1, t_k, size=batch)  # every sequence padded, none empty
    empty_rows = [(0, 0, t_q - 1), (batch - 1, 0, 0)]

    def part(scores, mask):
        return _calls(masked_softmax, "masked_softmax", case(scores=scores, mask=mask))

    return _grade("masked_softmax", points, {
        "no key masked (an all-True mask)": part(
            rng.standard_normal(shape) * 3, np.ones((t_q, t_k), dtype=bool)
        ),
        "padding mask (B, 1, 1, Tk)": part(
            rng.standard_normal(shape) * 3, ref.padding_mask(lengths, t_k)[:, None]
        ),
        "causal mask (Tq = Tk) with logits of ±1000 and ±1e4": part(
            extreme_logits(rng, (batch, heads, t_q, t_q)), ref.causal_mask(t_q)
        ),
        "fully masked rows give zeros, not NaN": part(
            rng.standard_normal(shape) * 3, random_mask(rng, (batch, 1, t_q, t_k), empty_rows)
        ),
    })


def grade_causal_mask(causal_mask, points: float = 1, seed=None) -> float:
    """Hidden test for lesson 02: a random length, then a length of 1."""
    t = int(_rng(seed).integers(5, 13))
    return _grade("causal_mask", points, {
        f"t = {t}": _calls(causal_mask, "causal_mask", case(t=t)),
        "t = 1": _calls(causal_mask, "causal_mask", case(t=1)),
    })


def grade_padding_mask(padding_mask, points: float = 1, seed=None) -> float:
    """Hidden test for lesson 02: random lengths from 0 to t, then one unpadded sequence."""
    rng = _rng(seed)
    batch, t = sizes(rng, 2, low=3)
    lengths = rng.integers(0, t + 1, size=batch)
    lengths[:2] = 0, t  # an empty and a full sequence
    return _grade("padding_mask", points, {
        f"lengths {lengths.tolist()} padded to t = {t}": _calls(
            padding_mask, "padding_mask", case(lengths=lengths, t=t)
        ),
        "one sequence without padding": _calls(
            padding_mask, "padding_mask", case(lengths=np.array([t]), t=t)
        ),
    })


def grade_weighted_sum(weighted_sum, points: float = 2, seed=None) -> float:
    """Hidden test for lesson 03: batch and head axes with Tq ≠ Tk ≠ d_v, then square shapes."""
    rng = _rng(seed)
    batch, heads, t_q, t_k, d_v = sizes(rng, 5)

    def part(weights_shape, v_shape):
        weights, v = random_weights(rng, weights_shape), rng.standard_normal(v_shape)
        return _calls(weighted_sum, "weighted_sum", case(weights=weights, v=v))

    return _grade("weighted_sum", points, {
        "batch and head axes, Tq ≠ Tk ≠ d_v": part(
            (batch, heads, t_q, t_k), (batch, heads, t_k, d_v)
        ),
        "square shapes, Tq = Tk = d_v": part((batch, t_k, t_k), (batch, t_k, t_k)),
    })


def grade_scaled_dot_product_attention(
    scaled_dot_product_attention, points: float = 3, seed=None
) -> float:
    """Hidden test for lesson 03: partial credit for no mask, masks, and fully masked rows
    (zero weights and zero output)."""
    rng = _rng(seed)
    batch, heads, t_q, t_k, d_k, d_v = sizes(rng, 6)
    lengths = rng.integers(1, t_k, size=batch)
    mask_shape = (batch, 1, t_q, t_k)

    def qkv(mask=None):
        return case(
            **random_qkv(rng, (batch, heads), t_q, t_k, d_k, d_v),
            kwargs=None if mask is None else {"mask": mask},
        )

    def part(*calls):
        return _calls(scaled_dot_product_attention, "scaled_dot_product_attention", *calls)

    return _grade("scaled_dot_product_attention", points, {
        "no mask: batch and head axes, Tq ≠ Tk, d_k ≠ d_v": part(qkv()),
        "a padding mask (B, 1, 1, Tk) and a random mask": part(
            qkv(ref.padding_mask(lengths, t_k)[:, None]), qkv(random_mask(rng, mask_shape))
        ),
        "fully masked rows: zero weights and zero output": part(
            qkv(random_mask(rng, mask_shape, [(0, 0, 0), (batch - 1, 0, t_q - 1)]))
        ),
    })


def _memory_part(blockwise_attention, rng) -> Callable[[], None]:
    """The memory part of the blockwise test: small peak memory on a long sequence, and right."""

    def run() -> None:
        inputs = memory_test_inputs(rng)
        q, k, v = inputs["q"], inputs["k"], inputs["v"]
        for label, mask in memory_test_masks(q.shape[-2], k.shape[-2]).items():
            compare(
                check_blockwise_memory(blockwise_attention, **inputs, mask=mask),
                ref.scaled_dot_product_attention(q, k, v, mask)[0],
                what=f"blockwise_attention on a long sequence (Tk = {k.shape[-2]}, {label})",
                **COMPARE_OPTIONS["blockwise_attention"],
            )

    return run


def grade_blockwise_attention(blockwise_attention, points: float = 4, seed=None) -> float:
    """Hidden test for lesson 06: equal to full attention (within 1e-10) for every block size,
    with masks and extreme logits, on batch and head axes; and never the full Tq × Tk scores."""
    rng = _rng(seed)
    batch, heads, t_q, d_k, d_v = sizes(rng, 5, high=9)
    t_k = int(rng.integers(10, 20))
    uneven = next(b for b in range(3, t_k) if t_k % b)  # a block size that does not divide Tk
    leading = (batch, heads)

    mask = random_mask(rng, (batch, 1, t_q, t_k), [(0, 0, 0)])
    mask[-1, 0, -1, : 2 * uneven] = False  # a row whose first two blocks are fully masked…
    mask[-1, 0, -1, -1] = True  # …and that may attend to the last key
    padding = ref.padding_mask(rng.integers(1, t_k, size=batch), t_k)[:, None]

    def part(block_sizes, masks=(None,), scale=1.0):
        inputs = random_qkv(rng, leading, t_q, t_k, d_k, d_v, scale)
        calls = [
            case(**inputs, block_size=b, kwargs=None if m is None else {"mask": m})
            for m in masks
            for b in block_sizes
        ]
        return _calls(blockwise_attention, "blockwise_attention", *calls)

    return _grade("blockwise_attention", points, {
        f"block sizes {uneven} (not dividing Tk = {t_k}), 1, Tk and more than Tk": part(
            [uneven, 1, t_k, t_k + 5]
        ),
        "masks: fully masked blocks and rows, padding": part([uneven], masks=(mask, padding)),
        "extreme logits (scores beyond ±1000)": part([uneven, 1], scale=40.0),
        "memory: never holds the full Tq × Tk scores": _memory_part(blockwise_attention, rng),
    })
