"""Tools and pictures for lesson ``09_gradients``: gradients measured without any formula.

Nothing here knows the backward pass of attention. :func:`numerical_gradient` differentiates any
function by central differences; :func:`tape_gradients` lets TensorFlow differentiate a Keras
attention layer; :func:`score_gradient` reads ``∂L/∂S`` out of *your* ``attention_backward``;
the plots only draw what they are given.
"""

from __future__ import annotations

import os

import numpy as np

from course_lib.messages import figure_text as _


def numerical_gradient(loss, x, eps: float = 1e-6) -> np.ndarray:
    r"""``∂loss/∂x`` by central differences, one entry of ``x`` at a time.

    .. math:: \frac{\partial L}{\partial x_i} \approx \frac{L(x + \varepsilon e_i)
              - L(x - \varepsilon e_i)}{2\varepsilon}

    The error is of order ``ε²`` (the Taylor terms of order 1 cancel) plus the rounding of the
    two values of ``L``, about ``10⁻¹⁶ / ε``: with float64 and ``ε = 10⁻⁶`` both are near
    ``10⁻¹⁰``. Two calls of ``loss`` per entry: keep ``x`` small.

    Args:
        loss: a function of one array, shaped like ``x``, that returns a number.
        x: the point, any shape; used as float64.
        eps: the step ``ε``.

    Returns:
        float64 array shaped like ``x``.
    """
    x = np.array(x, dtype=np.float64)  # a copy: the entries are moved in place below
    gradient = np.zeros_like(x)  # (x.shape)
    flat, flat_gradient = x.reshape(-1), gradient.reshape(-1)  # views of x and gradient
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        above = float(loss(x))
        flat[i] = saved - eps
        below = float(loss(x))
        flat[i] = saved
        flat_gradient[i] = (above - below) / (2 * eps)
    return gradient


def identity_attention(layer_class, d: int):
    """A one-head attention layer ``layer_class(num_heads=1, key_dim=d)`` on inputs of size
    ``d`` whose four projections are the identity and whose biases are 0, so that it computes
    ``softmax(q kᵀ / √d) v`` of its raw inputs: the attention core, nothing else.

    ``layer_class``: ``keras.layers.MultiHeadAttention`` or your lesson-04 layer (the same
    weights, in the same order: query kernel ``(d, 1, d)`` and bias ``(1, d)``, key, value, and
    the output kernel ``(1, d, d)`` and bias ``(d,)``)."""
    layer = layer_class(num_heads=1, key_dim=d)
    probe = np.zeros((1, 2, d), dtype="float32")  # (B, T, d): builds the weights (T = 2: a
    # softmax over a single key makes Keras warn)
    layer(probe, probe, probe)
    identity = np.eye(d, dtype="float32")  # (d, d)
    weights = []
    for weight in layer.get_weights():
        if weight.ndim == 1 or (weight.ndim == 2 and weight.shape[0] == 1):
            weights.append(np.zeros_like(weight))  # a bias: (1, d) or (d,)
        else:
            weights.append(identity.reshape(weight.shape))  # (d, 1, d) or (1, d, d)
    layer.set_weights(weights)
    return layer


def tape_gradients(layer, query, key, value, d_out, **options):
    """``∂L/∂query``, ``∂L/∂key``, ``∂L/∂value`` of ``L = Σ layer(query, value, key) ⊙ d_out``,
    as TensorFlow's ``GradientTape`` records and differentiates the layer's own computation.

    Args:
        layer: a Keras attention layer, called as ``layer(query, value, key, **options)``.
        query: ``(B, Tq, d)``; key ``(B, Tk, d)``; value ``(B, Tk, d)``; d_out ``(B, Tq, d)``.
        options: keyword options of the call, e.g. ``attention_mask=...``.

    Returns:
        ``(d_query, d_key, d_value)`` as float64 NumPy arrays.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up logs quiet
    import tensorflow as tf

    inputs = [tf.constant(x, dtype=tf.float32) for x in (query, key, value)]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        output = layer(inputs[0], inputs[2], inputs[1], **options)  # (B, Tq, d)
        loss = tf.reduce_sum(output * tf.constant(d_out, dtype=tf.float32))
    return tuple(np.asarray(g, dtype=np.float64) for g in tape.gradient(loss, inputs))


def score_gradient(attention_backward, scores, v, d_out) -> np.ndarray:
    r"""``∂L/∂S`` for given scores ``S (Tq, Tk)``, read out of your ``attention_backward``.

    With ``q = S`` and ``k = √Tk · I`` (``Tk`` keys of size ``d_k = Tk``), the scores your
    function recomputes are ``q kᵀ / √d_k = S`` itself, and its ``dq = dS k / √d_k = dS``. So
    any scores, scaled or not, can be differentiated by your own backward pass.
    """
    scores = np.asarray(scores, dtype=np.float64)
    t_k = scores.shape[-1]
    keys = np.sqrt(t_k) * np.eye(t_k)  # (Tk, Tk): q kᵀ / √Tk = q
    d_scores = attention_backward(scores, keys, v, d_out)[0]
    return np.asarray(d_scores, dtype=np.float64)  # (Tq, Tk)


def plot_gradient_norms(d_ks, norms: dict, ax=None, ylabel=None):
    """Log-log plot of a size of ``∂L/∂S`` against ``d_k``: one line per entry of ``norms``
    (``{label: values, one per d_k}``); ``ylabel`` names that size (by default, the median over
    the queries of ``‖∂L/∂s_i‖``, in the learner's language)."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    if ax is None:
        ax = plt.subplots(figsize=(6, 3.6), layout="constrained")[1]
    for (label, values), marker in zip(norms.items(), "os^v", strict=False):
        ax.loglog(d_ks, values, marker=marker, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("$d_k$")
    ax.set_ylabel(_(r"median over the queries of $\|\partial L / \partial s_i\|$")
                  if ylabel is None else ylabel)
    ax.set_title(_("How much gradient reaches the scores"))
    ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_gradient_check(found: dict, reference: dict, ax=None):
    """Scatter each gradient of ``found`` against the same one of ``reference``
    (``{"dq": array, …}``): every point on the diagonal when they agree."""
    from course_lib.plotting import pyplot

    plt = pyplot()

    if ax is None:
        ax = plt.subplots(figsize=(4, 4), layout="constrained")[1]
    for name, values in found.items():
        ax.plot(np.ravel(reference[name]), np.ravel(values), ".", label=name)
    low = min(float(np.min(v)) for v in reference.values())
    high = max(float(np.max(v)) for v in reference.values())
    ax.plot([low, high], [low, high], "k-", lw=0.8, zorder=0)
    ax.set_xlabel(_("central differences"))
    ax.set_ylabel("attention_backward")
    ax.legend()
    ax.set_aspect("equal")
    return ax
