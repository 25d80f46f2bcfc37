"""Given code of lesson ``13_modern_block``: a Transformer block whose normalisation and
feed-forward network can be swapped, for the lesson's training runs, and the lesson's pictures.

- :class:`SwappableBlock`: lesson 06's pre-LN block (``course_lib.blocks.run_block``'s data
  flow) around a given attention layer (lesson 04's ``MultiHeadAttention``, or Keras's), with
  Keras's ``LayerNormalization`` or ``RMSNormalization`` and a ReLU or a gated SiLU
  feed-forward network (:class:`GatedHidden` then ``Dense`` without a bias), of the contract
  ``course_lib.language_model.LanguageModel`` builds its blocks with.
- :func:`matched_gated_width`: the hidden width of a gated network with as many weights as a
  ReLU network of a given width.
- :func:`plot_offset_scores`, :func:`plot_histories`, :func:`plot_cache_sizes`,
  :func:`plot_alibi`, :func:`plot_receptive_field`: the pictures.

Nothing here is an answer: the lesson's exercises are NumPy functions, and these layers are
Keras's own (the attention excepted, which is given), for the training runs only.
"""

from __future__ import annotations

import functools

import numpy as np
from keras import layers, ops

from course_lib.blocks import run_block
from course_lib.messages import figure_text as _
from course_lib.plotting import pyplot

plt = pyplot()  # with the course's CJK font, for Chinese titles and labels


class GatedHidden(layers.Layer):
    """The hidden layer of a gated SiLU feed-forward network: ``x (..., d) -> SiLU(x W_gate) ⊙
    x W_up (..., units)``, two ``Dense`` layers without biases."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.gate = layers.Dense(units, use_bias=False, name="gate")
        self.up = layers.Dense(units, use_bias=False, name="up")

    def call(self, x):
        return ops.silu(self.gate(x)) * self.up(x)  # (..., units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class SwappableBlock(layers.Layer):
    """A causal self-attention block, pre-LN or post-LN: ``x (B, T, d) -> (B, T, d)``.

    Args:
        num_heads, key_dim, ff_dim: as ``course_lib.blocks.KerasBlock``.
        norm: ``"layer"`` (``keras.layers.LayerNormalization``) or ``"rms"``
            (``keras.layers.RMSNormalization``).
        feed_forward: ``"relu"`` (``Dense(ff_dim, relu)``, ``Dense(d)``) or ``"gated"``
            (:class:`GatedHidden` of ``ff_dim`` units, ``Dense(d)`` without a bias).
        norm_first, epsilon: as ``KerasBlock``.
        attention: the self-attention's class, built as ``attention(num_heads=, key_dim=)`` and
            called as lesson 04's ``MultiHeadAttention``: ``keras.layers.MultiHeadAttention``
            or the learner's.

    Sublayers as ``KerasBlock``'s without cross-attention: ``self_attention``,
    ``self_attention_norm``, ``ff_hidden``, ``ff_output``, ``ff_norm``.
    """

    def __init__(self, num_heads, key_dim, ff_dim, norm="layer", feed_forward="relu",
                 norm_first=True, epsilon=1e-6, attention=layers.MultiHeadAttention, **kwargs):
        super().__init__(**kwargs)
        if norm not in ("layer", "rms") or feed_forward not in ("relu", "gated"):
            raise ValueError("norm should be 'layer' or 'rms' and feed_forward 'relu' or "
                             f"'gated'. Received: norm={norm!r}, feed_forward={feed_forward!r}")
        self.num_heads, self.key_dim, self.ff_dim = num_heads, key_dim, ff_dim
        self.norm, self.feed_forward = norm, feed_forward
        self.norm_first, self.epsilon = norm_first, epsilon
        self.self_attention = attention(num_heads=num_heads, key_dim=key_dim)
        self.self_attention_norm = self._normalisation()
        self.ff_hidden = GatedHidden(ff_dim) if feed_forward == "gated" else \
            layers.Dense(ff_dim, activation="relu")

    def _normalisation(self):
        kind = layers.RMSNormalization if self.norm == "rms" else layers.LayerNormalization
        return kind(epsilon=self.epsilon)

    def build(self, input_shape):
        self.ff_output = layers.Dense(input_shape[-1], use_bias=self.feed_forward == "relu")
        self.ff_norm = self._normalisation()

    def call(self, x, use_causal_mask=False):
        def self_attend(h):  # (B, T, d) -> (B, T, d)
            return self.self_attention(h, h, use_causal_mask=use_causal_mask)

        return run_block(self, x, self_attend)  # (B, T, d)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "ff_dim": self.ff_dim, "norm": self.norm, "feed_forward": self.feed_forward,
                "norm_first": self.norm_first, "epsilon": self.epsilon}


def swappable(norm: str = "layer", feed_forward: str = "relu", attention=layers.MultiHeadAttention):
    """The block class ``LanguageModel`` needs, ``block(num_heads, key_dim, ff_dim, ...)``,
    with this normalisation, feed-forward network and attention layer's class."""
    return functools.partial(SwappableBlock, norm=norm, feed_forward=feed_forward,
                             attention=attention)


def matched_gated_width(ff_dim: int, multiple: int = 8) -> int:
    """The hidden width of a gated network (three ``d × f`` matrices) with about the weights of
    a ReLU network of width ``ff_dim`` (two ``d × ff_dim``): ``2/3 · ff_dim``, rounded to a
    multiple of ``multiple``."""
    return max(multiple, int(round(2 * ff_dim / 3 / multiple)) * multiple)


def count_weights(model) -> int:
    """The number of trainable numbers of a Keras model."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# -- pictures ------------------------------------------------------------------------------------
def plot_offset_scores(scores, title: str, ax=None):
    """``scores (T, T)``, ``q_m · k_n`` for every query position ``m`` and key position ``n``."""
    ax = ax or plt.subplots(figsize=(4.2, 3.6), layout="constrained")[1]
    image = ax.imshow(np.asarray(scores), cmap="coolwarm", interpolation="nearest")
    ax.set_xlabel(_("key position n"))
    ax.set_ylabel(_("query position m"))
    ax.set_title(title, fontsize=10)
    ax.figure.colorbar(image, ax=ax, shrink=0.85)
    return ax


def plot_histories(histories: dict, ax=None):
    """The validation loss of each training run, ``{label: History}``, against the step."""
    ax = ax or plt.subplots(figsize=(6.5, 3.4), layout="constrained")[1]
    for (label, history), style in zip(histories.items(), ("o-", "s--", "^-", "v--"),
                                       strict=False):
        ax.plot(history.val_steps, history.val, style, label=label)
    ax.set_xlabel(_("step"))
    ax.set_ylabel(_("validation loss (nats per character)"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_cache_sizes(lengths, sizes: dict, ax=None):
    """The KV cache's size in MiB against the number of cached tokens, one line per entry of
    ``sizes`` (``{label: one size per length}``)."""
    ax = ax or plt.subplots(figsize=(6, 3.4), layout="constrained")[1]
    for (label, values), marker in zip(sizes.items(), "os^v", strict=False):
        ax.plot(lengths, values, marker=marker, label=label)
    ax.set_xlabel(_("tokens in the cache"))
    ax.set_ylabel(_("cache size (MiB)"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_alibi(biases, slopes, weights):
    """ALiBi: ``biases (H, T, T)``, the bias of each head (masked entries NaN), drawn for the
    first and the last head; and ``weights (H, T)``, one query's weights over the keys behind
    it in each head when every content score is 0."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained")
    for ax, head in zip(axes[:2], (0, len(slopes) - 1), strict=True):
        image = ax.imshow(biases[head], cmap="viridis", interpolation="nearest")
        ax.set_title(_("head {head}: bias -{slope:.3g}·(i - j)").format(head=head,
                                                                        slope=slopes[head]),
                     fontsize=10)
        ax.set_xlabel(_("key j"))
        ax.set_ylabel(_("query i"))
        fig.colorbar(image, ax=ax, shrink=0.85)
    distance = np.arange(weights.shape[-1])[::-1]  # the last query: distance i - j to key j
    for head in range(len(slopes)):
        axes[2].plot(distance, weights[head],
                     label=_("head {head}, m = {slope:.3g}").format(head=head, slope=slopes[head]))
    axes[2].set_xlabel(_("distance i - j"))
    axes[2].set_ylabel(_("weight (all content scores 0)"))
    axes[2].set_title(_("the last query's weights"), fontsize=10)
    axes[2].legend(fontsize=7)
    return fig


def plot_receptive_field(reach, window: int, ax=None):
    """``reach (L, T)``: True where the last position's output after layer ``l + 1`` depends on
    position ``t``, for a sliding window of ``window`` positions."""
    ax = ax or plt.subplots(figsize=(7, 2.8), layout="constrained")[1]
    ax.imshow(np.asarray(reach, dtype=float), cmap="Blues", aspect="auto", vmin=0, vmax=1.3,
              interpolation="nearest")
    ax.set_yticks(range(len(reach)), [_("after layer {layer}").format(layer=layer + 1)
                                      for layer in range(len(reach))])
    ax.set_xlabel(_("position t"))
    ax.set_title(_("what the last position can read: window {window}, one more window per layer")
                 .format(window=window), fontsize=10)
    return ax
