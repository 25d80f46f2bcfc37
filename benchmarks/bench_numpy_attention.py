"""The NumPy answer key's attention vs its two matrix products alone.

For each size, ``scaled_dot_product_attention(q, k, v)`` is timed against ``q @ kᵀ`` followed
by ``w @ v`` on the same float64 arrays. The ratio says what the softmax, the scaling and the
checks cost on top of the unavoidable matrix products (target: ≤ 1.3 at Tq = Tk = 1024,
d = 64). All sizes are measured in one run, interleaved, and each figure is a median.

The column "floor" is (matmuls + one ``np.exp`` over the weights) ÷ matmuls: no exact float64
softmax can beat it. NumPy has a vectorised float64 ``exp`` only for AVX-512 CPUs; elsewhere
each exponential costs a few nanoseconds and the floor alone can exceed the target.

Run: ``.venv/bin/python benchmarks/bench_numpy_attention.py [--quick] [--repeats N]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from common import busy_machine_note, in_turn, paired_ratio

from course_lib.data import random_qkv
from grader import reference as ref

TARGET = 1.3
# (leading axes, Tq, Tk, d_k, d_v)
SIZES = [
    ((), 256, 256, 64, 64),
    ((), 1024, 1024, 64, 64),
    ((), 1024, 2048, 64, 64),
    ((4, 8), 128, 128, 64, 64),
]
QUICK_SIZES = [SIZES[1]]


def matrix_products_only(q, k, v, weights):
    """The two matrix products every attention must do: ``q kᵀ`` and ``w v``."""
    scores = q @ np.swapaxes(k, -1, -2)  # (..., Tq, Tk)
    return scores, weights @ v  # (..., Tq, Tk), (..., Tq, d_v)


def _seconds(fn, *args, inner):
    start = time.perf_counter()
    for _ in range(inner):
        fn(*args)
    return (time.perf_counter() - start) / inner


def measure(sizes, repeats, masked):
    """Per size, ``{candidate: [seconds per sample]}``, the candidates measured interleaved."""
    cases = []
    for lead, t_q, t_k, d_k, d_v in sizes:
        q, k, v = random_qkv(lead, t_q, t_k, d_k, d_v, seed=0)
        mask = np.tril(np.ones((t_q, t_k), dtype=bool), k=t_k - t_q) if masked else None
        _, weights = ref.scaled_dot_product_attention(q, k, v, mask)  # (..., Tq, Tk)
        flops = 2 * q.size * t_k + 2 * weights.size * d_v
        candidates = {
            "attention": (ref.scaled_dot_product_attention, q, k, v, mask),
            "matmuls": (matrix_products_only, q, k, v, weights),
            "exp": (np.exp, weights, np.empty_like(weights)),  # into a reused output array
        }
        inner = max(1, int(1e9 // flops))  # about 10 ms or more per sample and candidate
        cases.append((candidates, inner))
    samples = [{name: [] for name in candidates} for candidates, _ in cases]
    for repeat in range(repeats):
        for (candidates, inner), case_samples in zip(cases, samples, strict=True):
            for name, (fn, *args) in in_turn(candidates, repeat):
                case_samples[name].append(_seconds(fn, *args, inner=inner))
    return samples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one size, few repeats")
    parser.add_argument("--repeats", type=int, default=None, help="samples per figure")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats or (5 if args.quick else 15)

    print(f"NumPy {np.__version__}; float64; median of {repeats} interleaved samples")
    print(f"{'shape (lead, Tq, Tk, d_k, d_v)':<34}{'mask':<8}{'attention':>11}{'2 matmuls':>11}"
          f"{'ratio':>8}{'(IQR)':>14}{'floor':>7}")
    worst = 0.0
    for masked in (False, True):
        for size, samples in zip(sizes, measure(sizes, repeats, masked), strict=True):
            ratio, q1, q3 = paired_ratio(samples["attention"], samples["matmuls"])
            pairs = zip(samples["matmuls"], samples["exp"], strict=True)
            floor, _, _ = paired_ratio([m + e for m, e in pairs], samples["matmuls"])
            worst = max(worst, ratio) if not masked else worst
            print(
                f"{str(size):<34}{'causal' if masked else 'none':<8}"
                f"{statistics.median(samples['attention']) * 1e3:>9.2f}ms"
                f"{statistics.median(samples['matmuls']) * 1e3:>9.2f}ms"
                f"{ratio:>8.2f}{f'({q1:.2f}–{q3:.2f})':>14}{floor:>7.2f}"
            )
    verdict = "met" if worst <= TARGET else "MISSED"
    print(f"worst unmasked ratio {worst:.2f} (target ≤ {TARGET}: {verdict})")
    note = busy_machine_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
