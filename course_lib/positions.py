"""Pictures for lesson ``05_positions``, and Keras's attention as a stand-in for your own.

Every plotting function only draws what it is given: the encodings come from the lesson's own
cells, from your ``sinusoidal_encoding``. Nothing here computes an encoding.

:func:`keras_attention` is what lesson 05 uses in place of your lesson-03
``scaled_dot_product_attention`` until you have exported it: ``keras.ops.dot_product_attention``
on one sequence, imported only when it is first called.
"""

from __future__ import annotations

import os

import numpy as np

from course_lib.messages import figure_text as _

ENCODING_COLOURS = "RdBu_r"  # -1 blue, 0 white, +1 red


def keras_attention(q, k, v):
    """Scaled dot-product attention of one sequence by ``keras.ops.dot_product_attention``.

    ``softmax(q kᵀ / √d_k) v`` for ``q (Tq, d_k)``, ``k (Tk, d_k)``, ``v (Tk, d_v)``. Keras
    returns the output only, so the pair it gives back is ``(output (Tq, d_v), None)``, in the
    place of lesson 03's ``(output, weights)``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up logs quiet
    from keras import ops

    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    if q.ndim != 2 or k.ndim != 2 or v.ndim != 2:
        raise ValueError("keras_attention takes one sequence: q (Tq, d_k), k (Tk, d_k), "
                         f"v (Tk, d_v). Received: q={q.shape}, k={k.shape}, v={v.shape}")
    batch_and_heads = [x[None, :, None, :] for x in (q, k, v)]  # (1, T, 1, d): Keras's layout
    output = ops.dot_product_attention(*batch_and_heads)  # (1, Tq, 1, d_v)
    return np.asarray(ops.convert_to_numpy(output))[0, :, 0, :], None  # (Tq, d_v), no weights


def _new_axes(ax, figsize):
    from course_lib.plotting import pyplot

    plt = pyplot()

    if ax is None:
        ax = plt.subplots(figsize=figsize, layout="constrained")[1]
    return ax


def plot_pair_on_circle(pair, shift: int, omega: float, ax=None):
    """One pair of columns ``(sin ωt, cos ωt)``, ``pair (T, 2)``, as points on the unit circle.

    Position ``t`` is drawn at ``(cos ωt, sin ωt)``, at the angle ``ωt``. Arcs inside the circle
    go from a few positions to the position ``shift`` later: the same turn by ``ω · shift``
    wherever it starts.
    """
    pair = np.asarray(pair, dtype=float)  # (T, 2): column 0 the sine, column 1 the cosine
    ax = _new_axes(ax, (4.8, 5.0))
    circle = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(circle), np.sin(circle), color="0.85", lw=1, zorder=0)
    x, y = pair[:, 1], pair[:, 0]  # (T,), (T,)
    ax.scatter(x, y, c=np.arange(len(pair)), cmap="viridis", s=28, zorder=2)
    for t in range(len(pair)):
        ax.annotate(f"t={t}", (x[t], y[t]), xytext=(1.2 * x[t], 1.2 * y[t]), fontsize=7,
                    ha="center", va="center", color="0.3")
    angles = np.arctan2(y, x)  # (T,): the angle of each point, ωt up to full turns
    turn = omega * shift
    for t in range(0, len(pair) - shift, 2 * shift):
        arc = angles[t] + np.linspace(0, turn, 30)  # (30,): from ωt to ω(t + shift)
        radius = 0.8
        ax.plot(radius * np.cos(arc[:-1]), radius * np.sin(arc[:-1]), color="tab:red", lw=1.4)
        ax.annotate("", (radius * np.cos(arc[-1]), radius * np.sin(arc[-1])),
                    xytext=(radius * np.cos(arc[-2]), radius * np.sin(arc[-2])),
                    arrowprops={"arrowstyle": "-|>", "color": "tab:red", "lw": 1.4})
    ax.set_aspect("equal")
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    ax.axhline(0, color="0.9", lw=0.8, zorder=0)
    ax.axvline(0, color="0.9", lw=0.8, zorder=0)
    ax.set_xlabel("cos ωt")
    ax.set_ylabel("sin ωt")
    ax.set_title(_("ω = {omega:g}: a shift by k = {shift} turns every point\n"
                   "by the same angle ωk = {turn:.2f} rad").format(omega=omega, shift=shift,
                                                                  turn=turn), fontsize=10)
    return ax


def plot_encoding(encoding, title: str | None = None, ax=None):
    """The encodings ``(T, d)`` as an image: one row per position, one column per dimension;
    ``title``: "sinusoidal position encodings" (in the learner's language) by default."""
    encoding = np.asarray(encoding, dtype=float)  # (T, d)
    t, d = encoding.shape
    ax = _new_axes(ax, (7, 4))
    image = ax.imshow(encoding, cmap=ENCODING_COLOURS, vmin=-1, vmax=1, aspect="auto",
                      interpolation="nearest")
    ax.set_xlabel(_("dimension (column) of the encoding, 0 … {last}").format(last=d - 1))
    ax.set_ylabel(_("position t, 0 … {last}").format(last=t - 1))
    ax.set_title(_("sinusoidal position encodings") if title is None else title)
    ax.figure.colorbar(image, ax=ax, label="PE[t, j]")
    return ax


def plot_columns(encoding, columns, ax=None):
    """Some columns of the encodings ``(T, d)`` as curves over the positions."""
    encoding = np.asarray(encoding, dtype=float)  # (T, d)
    ax = _new_axes(ax, (7, 3.4))
    positions = np.arange(len(encoding))
    for column in columns:
        kind = "sin" if column % 2 == 0 else "cos"
        ax.plot(positions, encoding[:, column], lw=1.6,
                ls="-" if kind == "sin" else "--",
                label=_("column {column} ({kind}, pair {pair})").format(column=column, kind=kind,
                                                                         pair=column // 2))
    ax.set_xlabel(_("position t"))
    ax.set_ylabel(_("PE[t, column]"))
    ax.set_ylim(-1.15, 1.15)
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(_("one frequency per pair: the higher the pair, the slower it turns"))
    return ax


def plot_similarity(similarity, offsets, by_offset):
    """Left: the dot products ``PE[t]·PE[s]``, ``(T, T)``. Right: ``by_offset``, the dot product
    as a function of the offset ``t - s`` (``offsets`` and ``by_offset`` of one length)."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    similarity = np.asarray(similarity, dtype=float)  # (T, T)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    image = left.imshow(similarity, cmap="viridis", interpolation="nearest")
    left.set_xlabel(_("position s"))
    left.set_ylabel(_("position t"))
    left.set_title(_("PE[t]·PE[s]: constant along each diagonal"))
    fig.colorbar(image, ax=left)
    right.plot(offsets, by_offset, color="tab:blue")
    right.axvline(0, color="0.8", lw=0.8)
    right.set_xlabel(_("offset t - s"))
    right.set_ylabel("PE[t]·PE[s]")
    right.set_title(_("a function of t - s alone, largest at 0"))
    return fig
