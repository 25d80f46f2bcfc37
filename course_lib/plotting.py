"""Pictures of attention weights: one heatmap, or one per head side by side; and the course's
CJK font, so that Matplotlib draws Chinese labels.

Rows are queries, columns are keys, and each row of the weights is what that query reads.
The functions only draw what they are given; they compute nothing.

Importing this module registers the course's CJK font (:func:`use_cjk_font`): Matplotlib's own
font, DejaVu Sans, has no Chinese characters. The font ships in ``course_lib/fonts/`` with its
licence (a subset of Noto Sans SC, built by ``grader/cjk_font.py``); nothing is downloaded. The
course's other plotting modules get Matplotlib's ``pyplot`` through :func:`pyplot`, so that the
Chinese of their titles and labels (``course_lib.messages.figure_text``) is drawn too.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import font_manager

from course_lib.messages import figure_text as _

ANNOTATE_UP_TO = 12  # write each weight in its cell when both axes are at most this long
CJK_FONT = Path(__file__).resolve().parent / "fonts" / "CourseSansSC-Regular.otf"
CJK_FAMILY = "Course Sans SC"  # the font's family name: a subset of Noto Sans SC, renamed


def use_cjk_font() -> None:
    """Let Matplotlib draw Chinese: register the course's CJK font and add its family after
    the families of ``font.family``, so that each glyph the default font lacks (every Chinese
    character) is drawn from it (Matplotlib's fallback, glyph by glyph). English text keeps
    DejaVu Sans, so every English figure is drawn as before. Calling it again changes nothing."""
    fonts = font_manager.fontManager
    if CJK_FAMILY not in {entry.name for entry in fonts.ttflist}:
        fonts.addfont(str(CJK_FONT))
        regular = fonts.ttflist[-1]
        # Its one face stands for every weight: Matplotlib draws a bold Chinese label with it
        # instead of logging, on stderr, that it found no bold (which scores a graded cell 0).
        fonts.ttflist += [dataclasses.replace(regular, weight=weight)
                          for weight in range(100, 1000, 100) if weight != regular.weight]
    families = list(matplotlib.rcParams["font.family"])
    if CJK_FAMILY not in families:
        matplotlib.rcParams["font.family"] = [*families, CJK_FAMILY]


use_cjk_font()


def pyplot():
    """``matplotlib.pyplot``, with the course's CJK font registered (:func:`use_cjk_font`), so
    that the Chinese of the course's figures (``course_lib.messages.figure_text``) is drawn.
    The plotting modules draw with it; those kept light to import (the memory check's limited
    process and the judge import them) import it only when they draw."""
    import matplotlib.pyplot as plt

    use_cjk_font()
    return plt


def _as_weights(weights, rank: int, what: str) -> np.ndarray:
    """Weights as a NumPy array of the given rank (accepts Keras/TF tensors and lists)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != rank:
        raise ValueError(f"`{what}` must have {rank} axes. Received: {what}.shape={weights.shape}")
    return weights


def _check_labels(labels, size: int, axis_name: str):
    if labels is not None and len(labels) != size:
        raise ValueError(
            f"Expected one {axis_name} label per {axis_name}: {size}. "
            f"Received: {len(labels)} labels"
        )


def _draw(ax, weights, query_labels, key_labels, title, annotate, vmax):
    """Draw one ``(Tq, Tk)`` heatmap on ``ax``; returns the image for a colorbar."""
    t_q, t_k = weights.shape
    _check_labels(query_labels, t_q, "query")
    _check_labels(key_labels, t_k, "key")
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=vmax, aspect="auto")
    ax.set_xlabel(_("key (attended to)"))
    ax.set_ylabel(_("query (attending)"))
    ax.set_xticks(range(t_k), key_labels if key_labels is not None else range(t_k))
    ax.set_yticks(range(t_q), query_labels if query_labels is not None else range(t_q))
    if key_labels is not None:
        ax.tick_params(axis="x", labelrotation=45)
    if title is not None:
        ax.set_title(title)
    if annotate is None:
        annotate = max(t_q, t_k) <= ANNOTATE_UP_TO
    if annotate:
        for i in range(t_q):
            for j in range(t_k):
                dark_cell = weights[i, j] < 0.5 * vmax
                ax.text(
                    j, i, f"{weights[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if dark_cell else "black",
                )
    return image


def attention_heatmap(
    weights, query_labels=None, key_labels=None, ax=None, title=None, annotate=None
):
    """Draw attention weights ``(Tq, Tk)`` as a heatmap with labelled axes and a colorbar.

    Args:
        weights: ``(Tq, Tk)``, e.g. the second result of ``scaled_dot_product_attention`` for
            one sequence. NumPy arrays, Keras/TF tensors and nested lists all work.
        query_labels: ``Tq`` tick labels for the rows, e.g. the query words.
        key_labels: ``Tk`` tick labels for the columns.
        ax: a Matplotlib ``Axes`` to draw on; a new figure when ``None``.
        title: title above the heatmap.
        annotate: write each weight in its cell; by default only when the matrix is small.

    Returns:
        The ``Axes`` drawn on.

    Example:

    >>> ax = attention_heatmap([[0.9, 0.1], [0.5, 0.5]], ["I", "am"], ["ich", "bin"])
    """
    import matplotlib.pyplot as plt

    weights = _as_weights(weights, 2, "weights")  # (Tq, Tk)
    if ax is None:
        size = (1.0 + 0.6 * weights.shape[1], 0.8 + 0.5 * weights.shape[0])
        ax = plt.subplots(figsize=size)[1]
    vmax = max(1.0, float(np.nanmax(weights, initial=0.0)))
    image = _draw(ax, weights, query_labels, key_labels, title, annotate, vmax)
    ax.figure.colorbar(image, ax=ax, label=_("weight"))
    return ax


def attention_grid(
    weights_per_head, query_labels=None, key_labels=None, titles=None, ncols=4, annotate=None
):
    """Draw one heatmap per head, side by side, sharing one colour scale and colorbar.

    Args:
        weights_per_head: ``(H, Tq, Tk)``, e.g. the scores of ``MultiHeadAttention`` for one
            sequence (``scores[0]``).
        query_labels: ``Tq`` tick labels for the rows.
        key_labels: ``Tk`` tick labels for the columns.
        titles: one title per head; ``"head 0"``, ``"head 1"``… by default.
        ncols: heads per row of the grid.
        annotate: write each weight in its cell; by default only when the matrices are small.

    Returns:
        The Matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    weights = _as_weights(weights_per_head, 3, "weights_per_head")  # (H, Tq, Tk)
    num_heads, t_q, t_k = weights.shape
    if num_heads == 0:
        raise ValueError("`weights_per_head` holds no head. Received: shape (0, Tq, Tk)")
    titles = ([_("head {head}").format(head=h) for h in range(num_heads)] if titles is None
              else list(titles))
    if len(titles) != num_heads:
        raise ValueError(f"Expected one title per head: {num_heads}. Received: {len(titles)}")
    ncols = max(1, min(int(ncols), num_heads))
    nrows = -(-num_heads // ncols)  # ceil
    fig, axes = plt.subplots(
        nrows, ncols, squeeze=False,
        figsize=(ncols * (1.0 + 0.5 * t_k), nrows * (0.8 + 0.45 * t_q)),
        layout="constrained",
    )
    vmax = max(1.0, float(np.nanmax(weights, initial=0.0)))
    for head, ax in enumerate(axes.flat):
        if head >= num_heads:
            ax.set_axis_off()
            continue
        image = _draw(ax, weights[head], query_labels, key_labels, titles[head], annotate, vmax)
    fig.colorbar(image, ax=axes, label=_("weight"))
    return fig
