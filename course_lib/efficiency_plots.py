"""Measuring what attention costs, and drawing it (lesson ``08_efficiency``).

- :func:`measure_cost`: the time and the peak memory (``tracemalloc``) of a function of
  ``(q, k, v)`` as the sequence grows.
- :func:`plot_cost`: time and peak memory against the length on log-log axes, optionally
  extrapolated to a memory budget.
- :func:`running_statistics` and :func:`plot_running_statistics`: the running max and running
  sum of one query row after each block of keys, from their definitions.

Nothing here computes attention: the functions measure and draw what they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from course_lib.data import random_qkv
from course_lib.feedback import traced_call
from course_lib.lesson_plots import best_time
from course_lib.messages import figure_text as _

GB = 10**9  # bytes in a gigabyte, as laptops are sold


def format_bytes(n_bytes: float) -> str:
    """``134217728`` → ``'134.2 MB'`` (powers of 1000, like the memory of a laptop)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n_bytes) < 1000 or unit == "TB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    raise AssertionError("unreachable")


@dataclass
class Cost:
    """Time and peak memory of one function at several sequence lengths."""

    name: str
    lengths: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    peak_bytes: list[int] = field(default_factory=list)

    def fit(self, what: str = "peak_bytes") -> tuple[float, float]:
        """``(slope, intercept)`` of the straight line through ``log(what)`` against
        ``log(length)``: the cost grows like ``length ** slope``."""
        slope, intercept = np.polyfit(np.log(self.lengths), np.log(getattr(self, what)), 1)
        return float(slope), float(intercept)

    def length_for(self, n_bytes: float) -> float:
        """The length at which the fitted memory curve reaches ``n_bytes``."""
        slope, intercept = self.fit("peak_bytes")
        return float(np.exp((np.log(n_bytes) - intercept) / slope))

    def __str__(self) -> str:
        rows = [f"{self.name}\n{'T':>8}{_('time'):>12}{_('peak memory'):>14}"]
        for t, s, b in zip(self.lengths, self.seconds, self.peak_bytes, strict=True):
            rows.append(f"{t:>8}{s * 1e3:>10.1f}ms{format_bytes(b):>14}")
        return "\n".join(rows)


def measure_cost(
    fn: Callable, lengths: Sequence[int], d: int = 64, name: str | None = None,
    repeats: int = 3, seed: int = 0, **kwargs,
) -> Cost:
    """Time and peak memory of ``fn(q, k, v, **kwargs)`` for self-attention of growing length.

    For each ``T`` in ``lengths``, ``q``, ``k`` and ``v`` are random float64 ``(T, d)``
    arrays. The time is the best of a few samples; the peak memory is what ``tracemalloc``
    saw the call hold at once beyond its inputs (temporaries and result included), measured in
    a separate call, since ``tracemalloc`` slows Python down and must be off while timing.

    Args:
        fn: a function of ``(q, k, v)`` returning the attention output.
        lengths: sequence lengths ``T`` (``Tq = Tk = T``).
        d: size of each query, key and value.
        name: label for tables and plots; the function's name by default.
        repeats: timed samples per length.
        seed: seed of the random inputs.
        **kwargs: more arguments for ``fn``, e.g. ``block_size=128``.

    Returns:
        A :class:`Cost` (``print`` it for a table).
    """
    from tqdm.auto import tqdm

    fn_name = getattr(fn, "__name__", "your function")
    cost = Cost(name or fn_name)

    def call(q, k, v):
        return fn(q, k, v, **kwargs)

    for t in tqdm(lengths, desc=_("measuring {name}").format(name=cost.name), leave=False):
        q, k, v = random_qkv((), t, t, d, d, seed=seed)  # (T, d) each
        peak = traced_call(call, q, k, v, name=fn_name)[1]
        cost.lengths.append(int(t))
        cost.seconds.append(best_time(call, q, k, v, repeats=repeats))
        cost.peak_bytes.append(peak)
    return cost


def _guide_line(ax, cost: Cost, values, power: int) -> None:
    """A grey ``T ** power`` line through the last measured point of ``cost`` (the longest
    sequence, where fixed costs per call matter least)."""
    lengths = np.asarray(cost.lengths, dtype=float)
    style = {2: ":", 1: "-."}[power]
    ax.plot(lengths, values[-1] * (lengths / lengths[-1]) ** power, style, color="grey",
            label="∝ T²" if power == 2 else "∝ T")


def _label_lengths(ax, lengths) -> None:
    """Tick the measured lengths themselves (256, 512, ...) instead of powers of ten."""
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(lengths, [str(t) for t in lengths])
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_cost(costs: Cost | Sequence[Cost], budget: float | None = None):
    """Time and peak memory against the sequence length, on log-log axes.

    On log-log axes, a cost growing like ``T ** p`` is a straight line of slope ``p``. Grey
    guide lines: slope 2 through the first function's last point; with several functions,
    slope 1 through the last one's last memory point.

    Args:
        costs: one :class:`Cost` or several (drawn on the same axes).
        budget: a memory budget in bytes (e.g. ``16 * GB``): the memory axis then extends to
            where each fitted curve reaches it, and the budget is drawn as a line.

    Returns:
        The Matplotlib ``Figure``.
    """
    from course_lib.plotting import pyplot

    plt = pyplot()

    costs = [costs] if isinstance(costs, Cost) else list(costs)
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, what, unit in ((ax_time, "seconds", 1.0), (ax_mem, "peak_bytes", 1.0 / GB)):
        for cost in costs:
            values = np.asarray(getattr(cost, what)) * unit
            ax.loglog(cost.lengths, values, "o-", label=cost.name)
        _guide_line(ax, costs[0], np.asarray(getattr(costs[0], what)) * unit, 2)
    if len(costs) > 1:  # memory that grows like T: one block of scores per query
        _guide_line(ax_mem, costs[-1], np.asarray(costs[-1].peak_bytes) / GB, 1)
    for ax in (ax_time, ax_mem):
        ax.set_xlabel(_("sequence length T (Tq = Tk = T)"))
        ax.grid(True, which="both", alpha=0.3)
    if budget is None:
        _label_lengths(ax_mem, costs[0].lengths)
    _label_lengths(ax_time, costs[0].lengths)
    ax_time.set_ylabel(_("time (s)"))
    ax_time.set_title(_("time"))
    ax_mem.set_ylabel(_("peak memory (GB)"))
    ax_mem.set_title(_("peak memory (tracemalloc)"))
    if budget is not None:
        for cost in costs:
            t_max = cost.length_for(budget)
            slope, intercept = cost.fit("peak_bytes")
            ts = np.geomspace(cost.lengths[-1], t_max, 20)
            ax_mem.loglog(ts, np.exp(intercept) * ts**slope / GB, "--", color="grey")
            ax_mem.annotate(f"T ≈ {t_max:,.0f}", (t_max, budget / GB), textcoords="offset points",
                            xytext=(-6, -6), ha="right", va="top")
        ax_mem.axhline(budget / GB, color="crimson",
                       label=_("{size} budget").format(size=format_bytes(budget)))
    ax_time.legend()
    ax_mem.legend()
    return fig


def running_statistics(scores_row, block_size: int):
    r"""The running max and running sum of one query row after each block of keys.

    Straight from their definitions, recomputed from scratch for each prefix of the row
    (the keys ``0 .. stop-1`` of the first ``n`` blocks):

    .. math:: m_n = \max_{j < \mathrm{stop}_n} s_j, \qquad
              \ell_n = \sum_{j < \mathrm{stop}_n} e^{s_j - m_n}

    Args:
        scores_row: the scores of one query against all keys, shape ``(Tk,)``.
        block_size: keys per block.

    Returns:
        ``(stops, running_max, running_sum)``, three arrays of one entry per block; ``stops``
        is the number of keys seen after each block.
    """
    scores_row = np.asarray(scores_row, dtype=np.float64).reshape(-1)  # (Tk,)
    stops = np.minimum(np.arange(block_size, len(scores_row) + block_size, block_size),
                       len(scores_row))  # (n_blocks,)
    running_max = np.array([scores_row[:stop].max() for stop in stops])  # (n_blocks,)
    running_sum = np.array(
        [np.exp(scores_row[:stop] - m).sum() for stop, m in zip(stops, running_max, strict=True)]
    )  # (n_blocks,)
    return stops, running_max, running_sum


def plot_running_statistics(
    scores_row, block_size: int, running_output: Sequence[float] | None = None,
    final_output: float | None = None,
):
    """Draw the running max, the running sum and (optionally) the running output of one
    query row, one point per block of keys.

    Args:
        scores_row: the scores of one query against all keys, shape ``(Tk,)``.
        block_size: keys per block.
        running_output: one number per block: an output coordinate of attention over the
            keys seen so far (e.g. ``blockwise_attention`` on the first ``n`` blocks).
        final_output: the same coordinate of full attention, drawn as a dashed line.

    Returns:
        The Matplotlib ``Figure``.
    """
    from course_lib.plotting import pyplot

    plt = pyplot()

    scores_row = np.asarray(scores_row, dtype=np.float64).reshape(-1)  # (Tk,)
    stops, running_max, running_sum = running_statistics(scores_row, block_size)
    blocks = np.arange(1, len(stops) + 1)  # (n_blocks,)
    n_panels = 3 if running_output is not None else 2
    fig, axes = plt.subplots(1, n_panels, figsize=(4.2 * n_panels, 3.6), layout="constrained")

    ax = axes[0]
    keys = np.arange(len(scores_row))  # (Tk,)
    key_x = keys // block_size + 1 + 0.7 * (keys % block_size / block_size - 0.5)  # in block n
    ax.plot(key_x, scores_row, ".", color="silver", label=_("scores $s_j$ of block n"))
    ax.step(blocks, running_max, where="post", color="C0", label=_("running max $m_n$"))
    ax.plot(blocks, running_max, "o", color="C0")
    jumps = blocks[1:][np.diff(running_max) > 0]
    for jump in jumps:
        ax.axvline(jump, color="C3", alpha=0.25)
    ax.set_title(_("running max: jumps at red lines"))
    ax.set_xlabel(_("after block n"))
    ax.legend(fontsize=8)

    ax = axes[1]
    ax.plot(blocks, running_sum, "o-", color="C1")
    for jump in jumps:
        ax.axvline(jump, color="C3", alpha=0.25)
    ax.set_title(_(r"running sum $\ell_n$: drops when the max jumps"))
    ax.set_xlabel(_("after block n"))

    if running_output is not None:
        ax = axes[2]
        ax.plot(blocks, np.asarray(running_output, dtype=float), "o-", color="C2",
                label=_("attention over blocks 1..n"))
        if final_output is not None:
            ax.axhline(float(final_output), ls="--", color="black", label=_("full attention"))
        ax.set_title(_("running output $o_n / \\ell_n$"))
        ax.set_xlabel(_("after block n"))
        ax.legend(fontsize=8)
    for ax in axes:
        ax.set_xticks(blocks)
        ax.grid(True, alpha=0.3)
    return fig
