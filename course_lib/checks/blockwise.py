"""Public check of lesson 08: blockwise attention equals full attention and never holds the
full ``Tq × Tk`` scores (its peak memory, measured with ``tracemalloc``)."""

from __future__ import annotations

import numpy as np

from course_lib.checks.shared import (
    COMPARE_OPTIONS,
    check_cases,
    fresh_rng,
    passed,
    random_qkv,
    require,
)
from course_lib.feedback import call_answer, compare, describe_array, to_numpy, traced_call
from course_lib.messages import say
from course_lib.misconceptions import DESCRIPTIONS

# The memory test of blockwise attention: so many keys that the full float64 scores (16 MiB)
# dwarf one block of them, and products small enough to stay fast.
MEMORY_TEST = {"t_q": 512, "t_k": 4096, "d_k": 8, "d_v": 6, "block_size": 64}


def memory_test_inputs(rng) -> dict:
    """``q``, ``k``, ``v`` and ``block_size`` of the memory test (sizes in ``MEMORY_TEST``)."""
    sizes = MEMORY_TEST
    q, k, v = random_qkv(rng, sizes["t_q"], sizes["t_k"], sizes["d_k"], sizes["d_v"])
    return {"q": q, "k": k, "v": v, "block_size": sizes["block_size"]}


def memory_test_masks(t_q: int, t_k: int) -> dict[str, np.ndarray | None]:
    """The masks the memory test runs with: none, and a causal one (queries at the end)."""
    return {"no mask": None, "a causal mask": np.tri(t_q, t_k, k=t_k - t_q, dtype=bool)}


def check_blockwise_memory(blockwise_attention, q, k, v, block_size, mask=None):
    """Run ``blockwise_attention`` once under ``tracemalloc``; fail when its peak memory reaches a
    quarter of what the full ``Tq × Tk`` float64 scores take. Returns its result."""
    options = {} if mask is None else {"mask": mask}
    output, peak = traced_call(
        blockwise_attention, q, k, v, block_size, name="blockwise_attention", **options
    )
    t_q, t_k = q.shape[-2], k.shape[-2]
    full_scores = int(np.prod(np.broadcast_shapes(q.shape[:-2], k.shape[:-2]))) * t_q * t_k * 8
    memory = (
        f"{peak / 2**20:.1f} MiB at its peak, while the full scores take "
        f"{full_scores / 2**20:.0f} MiB"
    )
    require(
        peak < full_scores / 4,
        f"blockwise_attention(Tq={t_q}, Tk={t_k}, block_size={block_size}"
        f"{'' if mask is None else ', mask=...'}) held {memory}: "
        f"it matches {DESCRIPTIONS['full_score_matrix']}.",
    )
    say(f"✓ blockwise_attention on Tq={t_q}, Tk={t_k} held {memory}.")
    return output


def check_blockwise_attention(blockwise_attention) -> None:
    """Public check for lesson 08: ``blockwise_attention(q, k, v, block_size, mask=None)`` equals
    full attention and never holds the full ``Tq × Tk`` scores."""
    name = "blockwise_attention"
    n_cases = check_cases(blockwise_attention, name)
    rng = fresh_rng()
    q, k, v = random_qkv(rng, 4, 11, 3, 2)
    outputs = {b: call_answer(blockwise_attention, q, k, v, b, name=name) for b in (2, 5, 11)}
    for block_size in (5, 11):
        compare(
            outputs[block_size],
            to_numpy(outputs[2], what=f"The result of {name}(..., block_size=2)"),
            what=f"{name}(..., block_size={block_size}) vs block_size=2",
            hint="The block size changes the order of the work, never the result.",
            rtol=COMPARE_OPTIONS[name]["rtol"],
            atol=COMPARE_OPTIONS[name]["atol"],
        )
    inputs = memory_test_inputs(rng)
    shape = (MEMORY_TEST["t_q"], MEMORY_TEST["d_v"])
    masks = memory_test_masks(MEMORY_TEST["t_q"], MEMORY_TEST["t_k"])
    for label, mask in masks.items():
        what = f"The result of {name} on a long sequence (Tk = {MEMORY_TEST['t_k']}, {label})"
        output = check_blockwise_memory(blockwise_attention, **inputs, mask=mask)
        output = to_numpy(output, what=what)
        require(
            output.shape == shape and np.all(np.isfinite(output)),
            f"{what} should be finite, of shape {shape}. Received: {describe_array(output)}",
        )
    passed(name, n_cases + 2 + len(masks))
