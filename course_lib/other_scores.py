"""Data, measurements and pictures for lesson ``10_other_scores``.

Nothing here computes a Nadaraya–Watson fit or an additive score: :func:`nw_weights` reads the
weights out of *your* ``nadaraya_watson``, :func:`best_time` times whatever it is given, and the
plots only draw what they receive.
"""

from __future__ import annotations

import time

import numpy as np

from course_lib.messages import figure_text as _


def toy_curve(x, rng=None, noise=0.5):
    """The lesson's 1-D regression toy: ``y = 2 sin x + x^0.8``, plus Gaussian noise of standard
    deviation ``noise`` when a random generator ``rng`` is given. ``x ≥ 0``."""
    y = 2 * np.sin(x) + x**0.8
    return y if rng is None else y + noise * rng.standard_normal(np.shape(x))


def nw_weights(nadaraya_watson, x_query, x_train, width) -> np.ndarray:
    """The attention weights ``(n_query, n_train)`` behind your ``nadaraya_watson``.

    ``ŷ = Σ_i α_i y_i`` is linear in the targets: with ``y_train`` the unit vector ``e_i`` it is
    column ``i`` of the weights. One batched call with the ``n_train`` unit vectors (the rows of
    the identity) gives all the columns at once."""
    x_query, x_train = np.asarray(x_query, dtype=float), np.asarray(x_train, dtype=float)
    n_train = x_train.shape[-1]
    queries = np.tile(x_query.reshape(1, -1), (n_train, 1))  # (n_train, n_query), a copy
    keys = np.tile(x_train.reshape(1, -1), (n_train, 1))  # (n_train, n_train)
    columns = nadaraya_watson(queries, keys, np.eye(n_train), width)  # row i: column i
    return np.asarray(columns, dtype=float).T  # (n_query, n_train)


def best_time(fn, *args, repeats: int = 5) -> float:
    """The shortest of ``repeats`` wall-clock times of ``fn(*args)``, in seconds."""
    times = []
    for _repeat in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def plot_fits(x_train, y_train, x_query, fits: dict, truth=None):
    """One panel per entry of ``fits`` (``{title: ŷ on x_query}``): the training points, the fit,
    and the noiseless curve ``truth`` (on ``x_query``) when given."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    fig, axes = plt.subplots(1, len(fits), figsize=(3.6 * len(fits), 2.8), sharey=True,
                             layout="constrained")
    for ax, (title, y_hat) in zip(np.atleast_1d(axes), fits.items(), strict=True):
        ax.plot(x_train, y_train, "o", ms=3, alpha=0.5, label=_("training points"))
        if truth is not None:
            ax.plot(x_query, truth, "k--", lw=1, label="2 sin x + x^0.8")
        ax.plot(x_query, y_hat, lw=2, label="ŷ")
        ax.set_title(title)
        ax.set_xlabel("x")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    return fig


def plot_weights(weights: dict, x_query, x_train):
    """One heatmap per entry of ``weights`` (``{title: (n_query, n_train) array}``): row = a
    query, column = a training point, both sorted by position."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    fig, axes = plt.subplots(1, len(weights), figsize=(3.6 * len(weights), 3.0),
                             layout="constrained")
    extent = (x_train.min(), x_train.max(), x_query.max(), x_query.min())
    for ax, (title, w) in zip(np.atleast_1d(axes), weights.items(), strict=True):
        image = ax.imshow(w, aspect="auto", cmap="Reds", extent=extent)
        ax.set_title(title)
        ax.set_xlabel(_("training point x_i"))
        fig.colorbar(image, ax=ax, shrink=0.8)
    np.atleast_1d(axes)[0].set_ylabel(_("query x"))
    return fig


def plot_costs(ts, seconds: dict, megabytes: dict):
    """Time (left) and the size of the largest array (right) against the sequence length, one
    line per entry of each dict (``{label: one value per T}``); both axes logarithmic."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    for ax, values, unit in ((left, seconds, _("seconds")), (right, megabytes, "MB")):
        for (label, ys), marker in zip(values.items(), "os^v", strict=False):
            ax.loglog(ts, ys, marker=marker, label=label)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("T (= Tq = Tk)")
        ax.set_ylabel(unit)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    left.set_title(_("time of the scores"))
    right.set_title(_("largest array"))
    return fig


def plot_spread(d_ks, spreads: dict, ax=None):
    """Log-log plot of the scores' standard deviation against ``d_k``, one line per entry of
    ``spreads`` (``{label: one value per d_k}``)."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    if ax is None:
        ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")[1]
    for (label, values), marker in zip(spreads.items(), "os^v", strict=False):
        ax.loglog(d_ks, values, marker=marker, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("$d_k$ (= $d_q$)")
    ax.set_ylabel(_("standard deviation of the scores"))
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    return ax
