"""Pictures and small measurements for lessons 00–03.

Every function here only draws (or times) what it is given: the numbers come from the
lesson's own cells, often from the learner's functions. Nothing here computes attention.
"""

from __future__ import annotations

import time

import numpy as np

from course_lib.messages import figure_text as _

SCALED_COLOUR = "tab:blue"
UNSCALED_COLOUR = "tab:red"


def _new_axes(ax, figsize):
    """``ax`` if given, else the axes of a new figure of ``figsize``."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    if ax is None:
        ax = plt.subplots(figsize=figsize, layout="constrained")[1]
    return ax


def _arrow(ax, vector, colour, width=0.012):
    """An arrow from the origin to the 2-D point ``vector``."""
    ax.arrow(0, 0, vector[0], vector[1], color=colour, width=width, length_includes_head=True,
             head_width=8 * width)


def _label_beyond_tip(ax, vector, text, colour, **text_options):
    """Write ``text`` just past the tip of the arrow ``vector``, away from the origin."""
    direction = np.asarray(vector, float) / (np.linalg.norm(vector) or 1.0)
    ha = "left" if direction[0] > 0.3 else "right" if direction[0] < -0.3 else "center"
    va = "bottom" if direction[1] > 0.3 else "top" if direction[1] < -0.3 else "center"
    ax.annotate(text, vector, xytext=tuple(8 * direction), textcoords="offset points",
                ha=ha, va=va, color=colour, **{"fontsize": 9, **text_options})


def _square_limits(ax, points, margin=0.6):
    """Equal aspect, origin included, every point in view with a margin."""
    points = np.vstack([np.zeros((1, 2)), np.asarray(points, dtype=float)])  # (n + 1, 2)
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)


# -- lesson 00: the dot product ---------------------------------------------------------------
def plot_dot_product_angles(angles_deg=(0, 45, 90, 135, 180)):
    """Two unit vectors at several angles, and ``a·b = cos θ`` as the angle grows.

    The values come from the geometric formula ``‖a‖‖b‖cos θ``, not from code that sums
    products, so the picture gives nothing of the exercise away.
    """
    from course_lib.plotting import pyplot

    plt = pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, len(angles_deg)))
    for angle, colour in zip(angles_deg, colours, strict=True):
        theta = np.deg2rad(angle)
        _arrow(left, (np.cos(theta), np.sin(theta)), colour, width=0.02)
        left.annotate(f"θ = {angle}°\na·b = {np.cos(theta):+.2f}",
                      (1.3 * np.cos(theta), 1.22 * np.sin(theta)), ha="center", va="center",
                      fontsize=8, color=colour)
    _arrow(left, (1.0, 0.0), "black", width=0.008)  # a, on top of b at 0°
    left.annotate("a", (0.5, -0.12), ha="center", fontweight="bold")
    left.set_xlim(-1.7, 1.7)
    left.set_ylim(-0.3, 1.5)
    left.set_aspect("equal")
    left.set_axis_off()
    left.set_title(_("a (black) and unit vectors b at an angle θ"))

    theta = np.linspace(0, 180, 181)
    right.plot(theta, np.cos(np.deg2rad(theta)), color="black")
    right.scatter(angles_deg, np.cos(np.deg2rad(angles_deg)), color=colours, s=50, zorder=3)
    right.axhline(0, color="0.7", lw=0.8)
    right.set_xticks([0, 45, 90, 135, 180])
    right.set_xlabel(_("angle θ between a and b (degrees)"))
    right.set_ylabel(_("a·b = cos θ   (unit vectors)"))
    right.set_title(_("aligned: large · orthogonal: 0 · opposed: negative"))
    return fig


# -- lesson 01: scores ------------------------------------------------------------------------
def plot_query_and_keys(query, keys, scores, key_labels=None, ax=None):
    """One 2-D query (black) and several keys (coloured), each key labelled with its score."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    query, keys = np.asarray(query, float), np.asarray(keys, float)  # (2,), (Tk, 2)
    key_labels = key_labels or [f"k{j + 1}" for j in range(len(keys))]
    ax = _new_axes(ax, (4.5, 4))
    colours = plt.cm.tab10(np.arange(len(keys)) + 1)
    _arrow(ax, query, "black", width=0.03)
    _label_beyond_tip(ax, query, "q", "black", fontsize=12, fontweight="bold")
    for key, label, score, colour in zip(keys, key_labels, scores, colours, strict=True):
        _arrow(ax, key, colour, width=0.03)
        _label_beyond_tip(ax, key, f"{label}\nq·{label} = {score:g}", colour)
    _square_limits(ax, np.vstack([query, keys]), margin=1.0)
    ax.set_title(_("a query and its keys: score = dot product"))
    return ax


def plot_score_histograms(raw, scaled, bins=60):
    """Histograms of dot products of random vectors, one colour per ``d_k``.

    Args:
        raw: ``{d_k: samples of q·k}``.
        scaled: ``{d_k: samples of q·k / √d_k}`` (same keys).
    """
    from course_lib.plotting import pyplot

    plt = pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, len(raw)))
    panels = ((axes[0], raw, _("q·k (not scaled)")), (axes[1], scaled, _("q·k / √d_k (scaled)")))
    for ax, samples_by_dk, title in panels:
        limit = max(np.percentile(np.abs(s), 99.5) for s in samples_by_dk.values())
        edges = np.linspace(-limit, limit, bins + 1)
        for (d_k, samples), colour in zip(samples_by_dk.items(), colours, strict=True):
            ax.hist(samples, bins=edges, density=True, histtype="step", lw=1.8, color=colour,
                    label=_("d_k = {d_k}: std {std:.2f}").format(d_k=d_k, std=np.std(samples)))
        ax.set_title(title)
        ax.set_xlabel(_("score"))
        ax.set_yticks([])
        ax.legend(fontsize=8, frameon=False)
    axes[0].set_ylabel(_("density"))
    return fig


def plot_max_weight(d_ks, unscaled, scaled, n_keys):
    """The largest softmax weight of a row (averaged over rows) as ``d_k`` grows."""
    ax = _new_axes(None, (6, 3.6))
    ax.plot(d_ks, unscaled, "o-", color=UNSCALED_COLOUR, label=_("softmax(q·k): not scaled"))
    ax.plot(d_ks, scaled, "o-", color=SCALED_COLOUR, label=_("softmax(q·k / √d_k): scaled"))
    ax.axhline(1.0, color="0.6", ls="--", lw=1)
    ax.axhline(1.0 / n_keys, color="0.6", ls=":", lw=1)
    ax.annotate(_("one-hot (saturated)"), (d_ks[0], 1.0), xytext=(0, -12),
                textcoords="offset points", fontsize=8, color="0.4")
    ax.annotate(_("uniform (1/{n_keys})").format(n_keys=n_keys), (d_ks[0], 1.0 / n_keys),
                xytext=(0, 4), textcoords="offset points", fontsize=8, color="0.4")
    ax.set_xscale("log", base=2)
    ax.set_xticks(d_ks, [str(d) for d in d_ks])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(_("d_k (size of queries and keys)"))
    ax.set_ylabel(_("largest weight in a row of {n_keys}").format(n_keys=n_keys))
    ax.set_title(_("without the scaling, the softmax saturates as d_k grows"))
    ax.legend(frameon=False, loc="center right")
    return ax


def score_heatmap(scores, query_labels=None, key_labels=None, ax=None, title=None):
    """Scores ``(Tq, Tk)`` on a diverging colour scale centred at 0, each cell annotated.

    Scores can be negative and are not bounded by 1, so the weights' heatmap
    (:func:`course_lib.plotting.attention_heatmap`) does not suit them.
    """
    scores = np.asarray(scores, dtype=float)  # (Tq, Tk)
    t_q, t_k = scores.shape
    ax = _new_axes(ax, (1.2 + 0.65 * t_k, 0.9 + 0.5 * t_q))
    limit = float(np.max(np.abs(scores))) or 1.0
    image = ax.imshow(scores, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks(range(t_k), key_labels if key_labels is not None else range(t_k),
                  rotation=45 if key_labels is not None else 0)
    ax.set_yticks(range(t_q), query_labels if query_labels is not None else range(t_q))
    ax.set_xlabel(_("key"))
    ax.set_ylabel(_("query"))
    for i in range(t_q):
        for j in range(t_k):
            text = f"{scores[i, j]:.1f}".replace("-0.0", "0.0")
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if abs(scores[i, j]) > 0.6 * limit else "black")
    ax.figure.colorbar(image, ax=ax, label=_("score"))
    if title:
        ax.set_title(title)
    return ax


# -- lesson 02: softmax and masks -------------------------------------------------------------
def plot_temperature(logits, weights_by_temperature):
    """Bars of ``softmax(logits / τ)`` for several temperatures τ, side by side.

    Args:
        logits: ``(n,)``, the scores being turned into weights.
        weights_by_temperature: ``{τ: weights (n,)}``.
    """
    from course_lib.plotting import pyplot

    plt = pyplot()

    logits = np.asarray(logits, dtype=float)  # (n,)
    n = len(logits)
    fig, axes = plt.subplots(1, len(weights_by_temperature), sharey=True,
                             figsize=(2.6 * len(weights_by_temperature), 3), layout="constrained")
    for ax, (tau, weights) in zip(np.atleast_1d(axes), weights_by_temperature.items(),
                                  strict=True):
        ax.bar(range(n), weights, color=plt.cm.viridis(0.35))
        ax.axhline(1.0 / n, color="0.6", ls=":", lw=1)
        ax.set_xticks(range(n), [f"{x:g}" for x in logits], fontsize=8)
        ax.set_title(f"τ = {tau:g}")
        ax.set_xlabel(_("logit"))
    np.atleast_1d(axes)[0].set_ylabel(_("weight"))
    np.atleast_1d(axes)[0].set_ylim(0, 1)
    fig.suptitle(_("softmax(x / τ): low temperature sharpens, high temperature flattens"))
    return fig


def show_masks(masks, titles, row_label=None, col_label=None):
    """Boolean masks as grids: filled = True = may attend, empty = masked.

    Args:
        masks: a list of 2-D boolean arrays.
        titles: one title per mask.
        row_label, col_label: the axes' labels; ``query i`` and ``key j`` (in the learner's
            language) by default.
    """
    from course_lib.plotting import pyplot

    plt = pyplot()
    from matplotlib.colors import ListedColormap

    row_label = _("query i") if row_label is None else row_label
    col_label = _("key j") if col_label is None else col_label
    cmap = ListedColormap(["#f3f3f3", plt.cm.viridis(0.35)])
    fig, axes = plt.subplots(1, len(masks), squeeze=False, layout="constrained",
                             figsize=(2.4 * len(masks) + 0.5, 2.6))
    for ax, mask, title in zip(axes[0], masks, titles, strict=True):
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(f"each mask must be 2-D. Received: shape {mask.shape}")
        ax.imshow(mask.astype(float), cmap=cmap, vmin=0, vmax=1)
        for (i, j), allowed in np.ndenumerate(mask):
            ax.text(j, i, "✓" if allowed else "·", ha="center", va="center",
                    fontsize=10 if allowed else 16, color="white" if allowed else "0.55")
        ax.set_xticks(range(mask.shape[1]))
        ax.set_yticks(range(mask.shape[0]))
        ax.set_xlabel(col_label)
        ax.set_ylabel(row_label)
        ax.set_title(title, fontsize=10)
    return fig


# -- lesson 03: weighted sums -----------------------------------------------------------------
def convex_hull(points):
    """Corners of the convex hull of 2-D points, counter-clockwise (Andrew's monotone chain)."""
    points = sorted(map(tuple, np.asarray(points, dtype=float).tolist()))
    if len(points) <= 2:
        return np.array(points)

    def turns_left(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]) > 0

    def half(sequence):
        chain = []
        for p in sequence:
            while len(chain) >= 2 and not turns_left(chain[-2], chain[-1], p):
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(points), half(reversed(points))
    return np.array(lower[:-1] + upper[:-1])  # (corners, 2)


def plot_convex_combination(values, outputs=None, value_labels=None, ax=None, title=None,
                            output_label=None):
    """Values as labelled points, their convex hull shaded, and outputs as dots on top.

    Args:
        values: ``(Tk, 2)``, 2-D values.
        outputs: ``(n, 2)`` points to draw inside (or, for a wrong answer, outside) the hull.
        value_labels: one label per value; ``v1, v2, …`` by default.
        output_label: the outputs' legend entry; ``outputs`` (in the learner's language) by
            default.
    """
    from matplotlib.patches import Polygon

    values = np.asarray(values, dtype=float)  # (Tk, 2)
    value_labels = value_labels or [f"v{j + 1}" for j in range(len(values))]
    ax = _new_axes(ax, (4.8, 4.2))
    ax.add_patch(Polygon(convex_hull(values), closed=True, facecolor="tab:blue", alpha=0.12,
                         edgecolor="tab:blue", label=_("convex hull of the values")))
    if outputs is not None:
        outputs = np.asarray(outputs, dtype=float).reshape(-1, 2)  # (n, 2)
        ax.scatter(outputs[:, 0], outputs[:, 1], s=10 if len(outputs) > 5 else 60,
                   color="tab:orange", alpha=0.7, zorder=3,
                   label=_("outputs") if output_label is None else output_label)
    ax.scatter(values[:, 0], values[:, 1], s=60, color="tab:blue", zorder=4)
    for value, label in zip(values, value_labels, strict=True):
        ax.annotate(label, value, xytext=(6, 4), textcoords="offset points", fontweight="bold")
    all_points = values if outputs is None else np.vstack([values, outputs])
    _square_limits(ax, all_points, margin=0.5)
    ax.legend(frameon=False, fontsize=8, loc="best")
    ax.set_title(title or _("outputs are weighted averages of the values"))
    return ax


def best_time(fn, *args, repeats: int = 5, min_seconds: float = 0.02) -> float:
    """Seconds per call of ``fn(*args)``: the fastest of ``repeats`` samples, each sample long
    enough (``min_seconds``) that the clock's resolution and one-off delays do not matter."""

    def sample(number: int) -> float:
        start = time.perf_counter()
        for _repeat in range(number):
            fn(*args)
        return time.perf_counter() - start

    number, first = 1, sample(1)
    while first < min_seconds:
        number = max(2 * number, int(number * 1.2 * min_seconds / max(first, 1e-9)))
        first = sample(number)
    return min([first] + [sample(number) for _repeat in range(repeats - 1)]) / number


def plot_cost_vs_length(lengths, seconds):
    """Run time against sequence length on log-log axes, with a T² guide through the last
    point (doubling the length quadruples the work)."""
    lengths, seconds = np.asarray(lengths, dtype=float), np.asarray(seconds, dtype=float)
    ax = _new_axes(None, (5.5, 3.8))
    ax.loglog(lengths, seconds * 1e3, "o-", color=SCALED_COLOUR, label=_("measured"))
    guide = seconds[-1] * 1e3 * (lengths / lengths[-1]) ** 2
    ax.loglog(lengths, guide, "--", color="0.5", label="∝ T²  (T_q = T_k = T)")
    ax.set_xticks(lengths, [f"{int(t)}" for t in lengths])
    ax.minorticks_off()
    ax.set_xlabel(_("sequence length T"))
    ax.set_ylabel(_("time (ms)"))
    ax.set_title(_("attention's cost grows as T_q · T_k"))
    ax.legend(frameon=False)
    return ax
