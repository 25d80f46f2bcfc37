"""Blockwise (online-softmax) attention vs full attention: peak memory and time.

Both functions come from the answer key, ``grader.reference``: ``scaled_dot_product_attention``
(builds the ``Tq × Tk`` scores) and ``blockwise_attention`` (one ``Tq × block_size`` block of
scores at a time). Inputs are float64 self-attention, ``Tq = Tk = T``, ``d_k = d_v = 64``.
Peak memory is ``tracemalloc``'s: the most a call allocates at once beyond its inputs. Time is
the median of samples taken interleaved (full, blockwise, full, ...), without tracemalloc.

Targets at ``T = 4096``: full ÷ blockwise peak memory ≥ 8, blockwise ÷ full time ≤ 2.
Also printed: the same figures over growing ``T``, with a causal mask, and over block sizes.
The memory figures are exact and repeatable; the times need an otherwise idle machine.

Run: ``.venv/bin/python benchmarks/bench_blockwise.py [--quick] [--block-size B] [--repeats N]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from common import busy_machine_note

from course_lib.data import random_qkv
from course_lib.feedback import traced_call
from grader import reference as ref

T_TARGET = 4096
MEMORY_TARGET = 8.0  # full ÷ blockwise peak memory, at least
TIME_TARGET = 2.0  # blockwise ÷ full time, at most
BLOCK_SIZE = 128  # FlashAttention's tiles hold 64–128 keys; here Tq × 128 is 1/32 of T = 4096
D = 64
LENGTHS = [512, 1024, 2048, 4096, 8192]
QUICK_LENGTHS = [1024, 4096]
BLOCK_SIZES = [64, 128, 256, 512, 1024]
MiB = 2**20


def full_attention(q, k, v, mask=None):
    return ref.scaled_dot_product_attention(q, k, v, mask)[0]  # (..., Tq, d_v)


def median_seconds(candidates: dict, repeats: int) -> dict[str, float]:
    """Median wall-clock time of each ``name: (fn, args)``, samples interleaved."""
    samples = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, (fn, args) in candidates.items():
            start = time.perf_counter()
            fn(*args)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}


def compare(t: int, block_size: int, repeats: int, masked: bool = False) -> dict[str, float]:
    """Peak memory and time of full and blockwise attention at length ``t``."""
    q, k, v = random_qkv((), t, t, D, D, seed=0)  # (T, 64) each
    mask = ref.causal_mask(t) if masked else None  # (T, T) bool, an input: not counted
    full_args, block_args = (q, k, v, mask), (q, k, v, block_size, mask)
    full_output, full_peak = traced_call(full_attention, *full_args)
    block_output, block_peak = traced_call(ref.blockwise_attention, *block_args)
    error = float(np.abs(full_output - block_output).max())
    del full_output, block_output
    seconds = median_seconds(
        {"full": (full_attention, full_args), "block": (ref.blockwise_attention, block_args)},
        repeats,
    )
    return {
        "full_peak": full_peak, "block_peak": block_peak,
        "memory_ratio": full_peak / block_peak,
        "full_s": seconds["full"], "block_s": seconds["block"],
        "time_ratio": seconds["block"] / seconds["full"],
        "max_error": error,
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_row(label: str, r: dict[str, float]) -> None:
    print(
        f"{label:<14}{r['full_peak'] / MiB:>10.1f}{r['block_peak'] / MiB:>10.1f}"
        f"{r['memory_ratio']:>8.1f}×{r['full_s'] * 1e3:>10.1f}{r['block_s'] * 1e3:>10.1f}"
        f"{r['time_ratio']:>8.2f}×{r['max_error']:>10.1e}"
    )


def print_header(first: str) -> None:
    print(f"{first:<14}{'full MiB':>10}{'block MiB':>10}{'mem ÷':>9}"
          f"{'full ms':>10}{'block ms':>10}{'time ×':>9}{'max |Δ|':>10}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer lengths, no block sweep")
    parser.add_argument("--block-size", type=int, default=BLOCK_SIZE, help="keys per block")
    parser.add_argument("--repeats", type=int, default=None, help="timed samples per figure")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    b = args.block_size

    print(f"NumPy {np.__version__}; float64, d_k = d_v = {D}; peak memory by tracemalloc; "
          f"time: median of {repeats} interleaved samples")
    headline = compare(T_TARGET, b, repeats)
    print(f"\nAt Tq = Tk = {T_TARGET}, block_size = {b}:")
    print(f"  peak memory: full {headline['full_peak'] / MiB:.1f} MiB, blockwise "
          f"{headline['block_peak'] / MiB:.1f} MiB -> {headline['memory_ratio']:.1f}× less "
          f"(target ≥ {MEMORY_TARGET:g}×: {verdict(headline['memory_ratio'] >= MEMORY_TARGET)})")
    print(f"  time: full {headline['full_s'] * 1e3:.1f} ms, blockwise "
          f"{headline['block_s'] * 1e3:.1f} ms -> {headline['time_ratio']:.2f}× "
          f"(target ≤ {TIME_TARGET:g}×: {verdict(headline['time_ratio'] <= TIME_TARGET)})")
    print(f"  one Tq × block_size block of float64 scores: {T_TARGET * b * 8 / MiB:.1f} MiB; "
          f"the full Tq × Tk matrix: {T_TARGET**2 * 8 / MiB:.1f} MiB")

    print(f"\nGrowing T, block_size = {b}, no mask:")
    print_header("T")
    for t in QUICK_LENGTHS if args.quick else LENGTHS:
        print_row(str(t), headline if t == T_TARGET else compare(t, b, repeats))
    print(f"\nCausal mask (a T × T bool input), block_size = {b}:")
    print_header("T")
    print_row(str(T_TARGET), compare(T_TARGET, b, repeats, masked=True))
    if not args.quick:
        print(f"\nBlock sizes at T = {T_TARGET}, no mask:")
        print_header("block_size")
        for size in BLOCK_SIZES:
            print_row(str(size), headline if size == b else compare(T_TARGET, size, repeats))
    note = busy_machine_note()
    if note:
        print(f"\n{note} The memory figures are not affected.")


if __name__ == "__main__":
    main()
