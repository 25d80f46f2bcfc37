"""Helpers shared by the benchmark scripts (run them as ``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import os


def busy_machine_note() -> str | None:
    """A warning when other work shared the CPUs during the last minute, else ``None``."""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load <= 0.5 * cpus:
        return None
    return (
        f"Note: load average {load:.1f} on {cpus} CPUs: other work was running. Interleaving "
        "keeps the ratios roughly fair, but the times are inflated and noisy."
    )
