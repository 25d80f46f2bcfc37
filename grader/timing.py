"""Seconds spent per stage of grading: ``course submit --profile``, ``course autograde
--profile`` and the benchmarks print them.

Stages are plain ``{name: seconds}`` dicts, so that they travel with a grading worker's result.
A grading kernel's own stages (its start and stop, the notebook's cells, the judge) are
recorded in the autograded notebook's metadata under :data:`NOTEBOOK_KEY` by the preprocessors
that run them.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable

NOTEBOOK_KEY = "course_timing"


@contextlib.contextmanager
def timed(stages: dict[str, float], name: str):
    """Add the time the ``with`` block takes to ``stages[name]``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - started


def add(total: dict[str, float], more: dict[str, float]) -> dict[str, float]:
    for name, seconds in more.items():
        total[name] = total.get(name, 0.0) + seconds
    return total


def record_in_notebook(nb, name: str, seconds: float) -> None:
    """Note a kernel-side stage in the notebook's metadata (read back by :func:`in_notebook`)."""
    nb.metadata.setdefault(NOTEBOOK_KEY, {})[name] = round(seconds, 4)


def in_notebook(nb) -> dict[str, float]:
    return dict(nb.metadata.get(NOTEBOOK_KEY, {}))


def table(rows: Iterable[tuple[str, float]], total: float | None = None) -> str:
    """``stage  seconds  share`` lines; the share is of ``total`` (default: the rows' sum)."""
    rows = list(rows)
    total = total or sum(seconds for _, seconds in rows) or 1.0
    width = max([len(name) for name, _ in rows] + [5])
    lines = [f"  {'stage':<{width}}  {'seconds':>8}  {'share':>6}"]
    lines += [f"  {name:<{width}}  {seconds:8.2f}  {100 * seconds / total:5.1f}%"
              for name, seconds in rows]
    return "\n".join(lines)


def since_process_start() -> float | None:
    """Seconds since this process started (Linux: from /proc), or None."""
    try:
        started_ticks = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
        uptime = float(open("/proc/uptime").read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - started_ticks / os.sysconf("SC_CLK_TCK")


def batch_rows(report, slots: int = 1) -> list[tuple[str, float]]:
    """A batch's stages, summed over its submissions (longest first), then the time its
    ``slots`` spent outside them: starting the grading processes and kernel servers, waiting
    for the kernel's namespace to go, idle at the end of the batch."""
    stages = report.stages()
    rows = sorted(stages.items(), key=lambda row: -row[1])
    outside = max(0.0, report.seconds * slots - sum(stages.values()))
    return [*rows, ("set-up, idle slots, and what no stage counts", outside)]
