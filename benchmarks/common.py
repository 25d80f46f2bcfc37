"""Helpers shared by the benchmark scripts (run them as ``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import os
import statistics


def in_turn(candidates: dict, repeat: int) -> list:
    """The ``(name, candidate)`` pairs, rotated so each candidate goes first in turn.

    Whatever runs first after other work pays for cold caches; rotating spreads that cost.
    """
    items = list(candidates.items())
    shift = repeat % len(items)
    return items[shift:] + items[:shift]


def paired_ratio(numerator, denominator) -> tuple[float, float, float]:
    """Median and quartiles of the ratios of samples taken in pairs (interleaved).

    The spread between the quartiles shows how far the median ratio can be trusted: two runs
    of one identical program differ by about that much on the same machine.
    """
    ratios = [a / b for a, b in zip(numerator, denominator, strict=True)]
    if len(ratios) < 2:
        return ratios[0], ratios[0], ratios[0]
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    return median, q1, q3


def busy_machine_note() -> str | None:
    """A warning when other work shared the CPUs during the last minute, else ``None``."""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load <= 0.5 * cpus:
        return None
    return (
        f"Note: load average {load:.1f} on {cpus} CPUs: other work was running. Interleaving "
        "keeps the ratios roughly fair, but the times are inflated and noisy."
    )
