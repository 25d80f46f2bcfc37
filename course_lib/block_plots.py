"""Pictures and given code of lesson ``06_transformer_block``.

- :func:`plot_gradient_norms`: the gradient at the input of a deep stack, with and without
  residual connections.
- :func:`plot_layer_norm`: what LayerNorm does to a batch, position by position.
- :func:`draw_blocks`: the data flow of a pre-LN and a post-LN block, with and without
  cross-attention.
- :class:`TinyTranslator` and :func:`train_briefly`: a small encoder-decoder for the dates of
  lesson 07, made of any ``TransformerBlock`` class, trained for a few hundred steps while the
  loss and the gradient norm at its first block are recorded; :func:`plot_training` draws them.

Nothing here is an answer: the block itself is the learner's.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops
from matplotlib.patches import FancyBboxPatch

from course_lib.dates import PAD_ID, SOURCE_LEN, SOURCE_VOCAB, START_ID, TARGET_LEN, TARGET_VOCAB
from course_lib.messages import figure_text as _
from course_lib.plotting import pyplot

plt = pyplot()  # with the course's CJK font, for Chinese titles and labels


# -- section 2: residual connections ---------------------------------------------------------
def plot_gradient_norms(depths, norms: dict[str, list[float]], ax=None):
    """``norms[label][i]``: the gradient norm at the input of a stack of ``depths[i]`` layers."""
    if ax is None:
        ax = plt.subplots(figsize=(6, 3.6))[1]
    for (label, values), style in zip(norms.items(), ("o-", "s--", "^-."), strict=False):
        ax.semilogy(depths, values, style, label=label)
    ax.set_xlabel(_("number of layers L"))
    ax.set_ylabel(_("‖∂loss/∂x‖ at the input"))
    ax.set_title(_("The gradient that reaches the first layer"))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return ax


# -- section 3: LayerNorm --------------------------------------------------------------------
def plot_layer_norm(x, y, feature_axis_label: str = "d_model"):
    """Per-position mean and standard deviation (over the features) of ``x`` and ``y``, both
    ``(B, T, d)``, and the histograms of their values."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    positions = np.arange(x.shape[0] * x.shape[1])
    titles = (_("mean over the {features} features"),
              _("standard deviation over the {features} features"))
    for ax, stat, title in zip(axes[:2], (np.mean, np.std), titles, strict=True):
        ax.plot(positions, stat(x, axis=-1).ravel(), "o", label=_("before"))
        ax.plot(positions, stat(y, axis=-1).ravel(), "s", label=_("after LayerNorm"))
        ax.set_xlabel(_("position (batch × time, flattened)"))
        ax.set_title(title.format(features=feature_axis_label))
        ax.legend()
    axes[2].hist(x.ravel(), bins=40, alpha=0.6, label=_("before"))
    axes[2].hist(y.ravel(), bins=40, alpha=0.6, label=_("after LayerNorm"))
    axes[2].set_title(_("all values"))
    axes[2].legend()
    fig.tight_layout()
    return fig


# -- section 5: the block's data flow --------------------------------------------------------
_COLOURS = {"LN": "#fde7a9", "Self-attention": "#b9d7f0", "Cross-attention": "#c9e8c4",
            "FFN": "#f3c3c0", "+": "white"}


def _box(ax, x, y, kind, text=None, width=2.2, height=0.5):
    """A box of ``kind`` (a key of ``_COLOURS``, or notation such as ``x``) at ``(x, y)``,
    holding ``text`` (``kind`` when none)."""
    colour = _COLOURS.get(kind, "#eeeeee")
    text = kind if text is None else text
    if kind == "+":
        ax.add_patch(plt.Circle((x, y), 0.17, facecolor="white", edgecolor="black"))
        ax.text(x, y, "+", ha="center", va="center", fontsize=12)
        return
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.03", facecolor=colour, edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start, end, **style):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", **style})


def _sublayers(cross: bool) -> list[tuple[str, str]]:
    """``(kind, text)`` of each sublayer of a block, bottom to top."""
    names = [("Self-attention", _("Self-attention\n(causal, masked)"))]
    if cross:
        names.append(("Cross-attention", _("Cross-attention\n(keys, values: context)")))
    return [*names, ("FFN", _("FFN") + "\nrelu(xW₁+b₁)W₂+b₂")]


def _draw_block(ax, norm_first: bool, cross: bool) -> None:
    """One block, drawn bottom (x) to top (y)."""
    y = 0.0
    _box(ax, 0, y, "x", width=0.6)
    for sublayer in _sublayers(cross):
        branch = y + 0.35  # the residual leaves here
        steps = [("LN",), sublayer, ("+",)] if norm_first else [sublayer, ("+",), ("LN",)]
        previous = y
        for step in steps:
            y += 0.75
            _arrow(ax, (0, previous + 0.22), (0, y - 0.22))
            _box(ax, 0, y, *step)
            previous = y
            if step == ("+",):
                plus = y
        ax.plot([0, 1.45, 1.45], [branch, branch, plus], color="grey", lw=1.2)
        _arrow(ax, (1.45, plus), (0.17, plus), color="grey")
        if sublayer[0] == "Cross-attention":  # the sublayer's box lies one step below its "+"
            ax.annotate(_("context"), xy=(-1.1, plus - 0.75), xytext=(-2.0, plus - 0.75),
                        arrowprops={"arrowstyle": "->", "color": "green"}, color="green",
                        va="center", ha="right", fontsize=9)
    y += 0.75
    _arrow(ax, (0, y - 0.53), (0, y - 0.22))
    _box(ax, 0, y, "y", width=0.6)
    ax.set_xlim(-2.9, 1.8)
    ax.set_ylim(-0.4, 8.0)
    ax.axis("off")
    titles = {(True, False): _("pre-LN"), (False, False): _("post-LN"),
              (True, True): _("pre-LN, with cross-attention"),
              (False, True): _("post-LN, with cross-attention")}
    ax.set_title(titles[norm_first, cross], fontsize=10)


def draw_blocks():
    """Four blocks side by side: pre-LN and post-LN, without and with cross-attention."""
    fig, axes = plt.subplots(1, 4, figsize=(14, 6))
    for ax, (norm_first, cross) in zip(axes, ((True, False), (False, False), (True, True),
                                              (False, True)), strict=True):
        _draw_block(ax, norm_first, cross)
    fig.tight_layout()
    return fig


# -- section 7: pre-LN against post-LN on the dates --------------------------------------------
def translator_batches(dataset: dict, batch_size: int, seed: int = 0):
    """Endless ``(source, decoder_input, target)`` batches drawn from ``dataset``
    (``course_lib.dates.date_dataset``); the decoder input is the target shifted right behind
    the start token (teacher forcing)."""
    rng = np.random.default_rng(seed)
    source, target = dataset["source"], dataset["target"]  # (n, Ts), (n, Tt)
    decoder_input = np.concatenate(
        [np.full((len(target), 1), START_ID, dtype=target.dtype), target[:, :-1]], axis=1)
    while True:
        rows = rng.choice(len(source), batch_size, replace=False)
        yield source[rows], decoder_input[rows], target[rows]


class TinyTranslator(keras.Model):
    """An encoder of ``depth`` blocks and a decoder of ``depth`` blocks with cross-attention,
    made of ``block`` (a ``TransformerBlock`` class), with learned position embeddings. A pre-LN
    stack ends with a LayerNorm (its blocks have none at their output).

    Call: ``model((source (B, Ts), decoder_input (B, Tt)))`` → logits
    ``(B, Tt, len(TARGET_VOCAB))``.
    """

    def __init__(self, block, norm_first: bool, d_model: int = 32, num_heads: int = 2,
                 ff_dim: int = 64, depth: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.norm_first = norm_first
        self.source_tokens = layers.Embedding(len(SOURCE_VOCAB), d_model)
        self.source_positions = layers.Embedding(SOURCE_LEN, d_model)
        self.target_tokens = layers.Embedding(len(TARGET_VOCAB), d_model)
        self.target_positions = layers.Embedding(TARGET_LEN, d_model)
        key_dim = d_model // num_heads
        self.encoder = [block(num_heads, key_dim, ff_dim, norm_first=norm_first)
                        for _repeat in range(depth)]
        self.decoder = [block(num_heads, key_dim, ff_dim, cross_attention=True,
                              norm_first=norm_first) for _repeat in range(depth)]
        self.encoder_norm = layers.LayerNormalization(epsilon=1e-6)
        self.decoder_norm = layers.LayerNormalization(epsilon=1e-6)
        self.to_logits = layers.Dense(len(TARGET_VOCAB))

    def build(self, input_shape):
        pass  # every sublayer builds itself on its first call

    def call(self, inputs):
        source, decoder_input = inputs  # (B, Ts), (B, Tt)
        source_mask = ops.expand_dims(ops.not_equal(source, PAD_ID), 1)  # (B, 1, Ts)
        h = self.source_tokens(source) + self.source_positions(ops.arange(SOURCE_LEN))
        for block in self.encoder:
            h = block(h, attention_mask=source_mask)  # (B, Ts, d)
        if self.norm_first:
            h = self.encoder_norm(h)
        g = self.target_tokens(decoder_input) + self.target_positions(ops.arange(TARGET_LEN))
        for block in self.decoder:
            g = block(g, context=h, context_mask=source_mask, use_causal_mask=True)  # (B, Tt, d)
        if self.norm_first:
            g = self.decoder_norm(g)
        return self.to_logits(g)  # (B, Tt, V)


def train_briefly(model, batches, steps: int, learning_rate: float):
    """Adam at a constant ``learning_rate`` (no warm-up) for ``steps`` steps. Returns
    ``{"loss": [...], "gradient norm": [...]}``: the loss of each step and the norm of the
    gradient of the weights of the model's first block (``model.encoder[0]``)."""
    import tensorflow as tf

    model(next(batches)[:2])  # build every weight
    watched = {id(v) for v in model.encoder[0].trainable_variables}
    optimizer = keras.optimizers.Adam(learning_rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(source, decoder_input, target):
        with tf.GradientTape() as tape:
            loss = loss_fn(target, model((source, decoder_input), training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        first = [g for g, v in zip(gradients, model.trainable_variables, strict=True)
                 if id(v) in watched and g is not None]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss, tf.linalg.global_norm(first)

    history = {"loss": [], "gradient norm": []}
    for _repeat in range(steps):
        loss, norm = step(*next(batches))
        history["loss"].append(float(loss))
        history["gradient norm"].append(float(norm))
    return history


def plot_training(histories: dict[str, dict[str, list[float]]], title: str = ""):
    """The loss and the first block's gradient norm of each run, step by step."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for label, history in histories.items():
        for ax, what in zip(axes, ("loss", "gradient norm"), strict=True):
            ax.plot(history[what], label=label, lw=1)
    axes[0].set_ylabel(_("training loss (cross-entropy)"))
    axes[1].set_ylabel(_("‖gradient‖ of the first block"))
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel(_("step"))
        ax.legend()
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
