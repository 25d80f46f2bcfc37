"""Given code of lesson ``12_language_model``: the texts, a decoder-only model made of your parts,
a training loop packaged as a function, and the lesson's pictures.

- :func:`load_text`: one of the texts shipped in ``course_lib/data`` (see its ``LICENSE.md``):
  ``"austen"``, the first 28 chapters of Jane Austen's *Pride and Prejudice*, or ``"tang"``,
  the 313 poems of 唐诗三百首 (*Three Hundred Tang Poems*).
- :data:`LESSON_RUN`, :data:`POEM_RUN`: the lesson's model sizes and training settings, on
  Austen and on the poems.
- :class:`CharVocab`: characters to ids and back.
- :func:`random_windows`: a batch of windows of the text and the same windows one character on,
  the next-character targets.
- :class:`LanguageModel` (:func:`build_language_model`): token embedding plus positions
  (``course_lib.decoding.PositionalEmbedding``), a stack of pre-LN causal Transformer blocks of
  the class it is given, a last LayerNorm and a ``Dense`` to the vocabulary.
- :func:`train`: lesson 12's training loop (next-character loss, AdamW with global-norm
  clipping, a learning rate per step) for ``steps`` steps; the losses it saw.
- :func:`generation_step`: one step of the whole model with lesson 11's ``decode_step``, block
  after block (:class:`LayerAsTranslator` shows it one block as lesson 11's translator), and
  :func:`checked_step`, the learner's step where it gives the full pass's logits.
- :func:`draw`: one id per row from given probabilities.
- :func:`plot_losses`, :func:`plot_schedule`, :func:`plot_distribution`: the pictures.

Nothing here is an answer: the schedule, the sampling distribution and the AdamW step are the
learner's, and so is the cached step (lesson 11's ``decode_step``) that generation runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from course_lib.blocks import KerasBlock, learned_positions
from course_lib.decoding import PositionalEmbedding
from course_lib.messages import figure_text as _
from course_lib.messages import say
from course_lib.plotting import pyplot

plt = pyplot()  # with the course's CJK font, for Chinese titles and labels

DATA = Path(__file__).parent / "data"
TEXTS = {"austen": "pride_and_prejudice.txt", "tang": "tang300.txt"}


@dataclass(frozen=True)
class LessonRun:
    """The sizes and the training of lesson 12's model (the lesson and
    ``benchmarks/bench_language_model.py`` both train with these): about two minutes on two
    CPU cores."""

    d_model: int = 96
    num_heads: int = 4
    num_layers: int = 3
    window: int = 64  # characters per window, and the model's positions
    batch: int = 48
    steps: int = 1000
    warmup: int = 100
    peak: float = 3e-3  # the learning rate at the end of the warm-up
    weight_decay: float = 0.01
    clip_norm: float = 1.0

    @property
    def sizes(self) -> dict:
        """The model's sizes, as :func:`build_language_model` takes them."""
        return {"max_length": self.window, "d_model": self.d_model,
                "num_heads": self.num_heads, "num_layers": self.num_layers}


LESSON_RUN = LessonRun()
# The poems' smaller model: a vocabulary of 2,579 characters makes the last layer 35 times wider
# than Austen's; 300 steps take about half a minute on two CPU cores.
POEM_RUN = LessonRun(d_model=64, num_heads=4, num_layers=2, batch=32, steps=300, warmup=30)


def load_text(name: str = "austen") -> str:
    """The whole text ``name`` (one of :data:`TEXTS`), read from ``course_lib/data``."""
    if name not in TEXTS:
        raise ValueError(f"name should be one of {sorted(TEXTS)}. Received: name={name!r}")
    return (DATA / TEXTS[name]).read_text(encoding="utf-8")


class CharVocab:
    """The characters of a text, sorted, and their ids ``0 … size - 1``."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.ids = {char: i for i, char in enumerate(self.chars)}

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """``(len(text),)`` int32 ids; a character the vocabulary lacks raises a ValueError."""
        missing = sorted(set(text) - set(self.ids))
        if missing:
            raise ValueError(f"characters outside the vocabulary. Received: {missing[:10]}")
        return np.array([self.ids[char] for char in text], dtype="int32")

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))


def split(ids: np.ndarray, validation: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``(train, validation)``: the text's first ``1 - validation`` and its last part. The
    validation part is text the model never trains on, later in the book."""
    cut = int(len(ids) * (1 - validation))
    return ids[:cut], ids[cut:]


def random_windows(ids: np.ndarray, batch: int, length: int, rng) -> tuple[np.ndarray, ...]:
    """``(x, y)``, each ``(batch, length)``: windows starting at random places of ``ids``, and
    the same windows one character later: ``y[b, t]`` is the character after ``x[b, t]``."""
    starts = rng.integers(0, len(ids) - length - 1, size=batch)  # (batch,)
    rows = starts[:, None] + np.arange(length + 1)  # (batch, length + 1)
    windows = ids[rows]  # (batch, length + 1)
    return windows[:, :-1], windows[:, 1:]


class LanguageModel(keras.Model):
    """A decoder-only language model: ids ``(B, T)`` -> logits ``(B, T, V)`` of the next id.

    Args:
        block: the Transformer block class (lesson 06's ``TransformerBlock``, or ``KerasBlock``),
            built as ``block(num_heads, key_dim, ff_dim, norm_first=True)``; any layer of that
            contract that takes ``use_causal_mask=True`` (lesson 13 swaps in its own).
        positions: ``positions(T, d)``, a fixed table (lesson 05's ``sinusoidal_encoding``), or
            ``learned_positions``.
        vocab_size, max_length: ids ``0 … vocab_size - 1``, at most ``max_length`` positions.
        d_model, num_heads, num_layers, ff_dim: the sizes; heads of ``d_model // num_heads``.
        final_norm: the normalisation after the last block (a pre-LN stack ends with one);
            ``None``: a ``LayerNormalization``.

    Parts: ``embed`` (token embedding plus positions, ``embed(ids, start=t)``), ``blocks``,
    ``final_norm`` and ``to_logits``.
    """

    def __init__(self, block=KerasBlock, positions=learned_positions, vocab_size=64,
                 max_length=128, d_model=96, num_heads=4, num_layers=2, ff_dim=None,
                 final_norm=None, **kwargs):
        super().__init__(**kwargs)
        if d_model % num_heads:
            raise ValueError("d_model must be a multiple of num_heads. Received: "
                             f"d_model={d_model}, num_heads={num_heads}")
        self.num_heads, self.key_dim = num_heads, d_model // num_heads
        self.max_length = max_length
        self.embed = PositionalEmbedding(vocab_size, max_length, d_model, positions)
        self.blocks = [block(num_heads, self.key_dim, ff_dim or 4 * d_model, norm_first=True,
                             name=f"block_{i}") for i in range(num_layers)]
        self.final_norm = final_norm or layers.LayerNormalization(epsilon=1e-6)
        self.to_logits = layers.Dense(vocab_size, name="logits")
        self(np.zeros((1, 1), "int32"))  # build

    def call(self, ids):
        x = self.embed(ids)  # (B, T, d)
        for block in self.blocks:
            x = block(x, use_causal_mask=True)  # (B, T, d): position t sees 0 … t
        return self.to_logits(self.final_norm(x))  # (B, T, V)

    def empty_cache(self, batch: int):
        """A cache of nothing yet, one per block: ``(layers, 2, B, 0, H, key_dim)``, the keys
        at ``[:, 0]`` and the values at ``[:, 1]`` (lesson 11's layout, block by block)."""
        return keras.ops.zeros((len(self.blocks), 2, batch, 0, self.num_heads, self.key_dim))


def build_language_model(block, positions, vocab_size: int, **sizes) -> LanguageModel:
    """:class:`LanguageModel` of ``block`` and ``positions``; ``sizes``: its other arguments."""
    return LanguageModel(block, positions, vocab_size, **sizes)


def next_character_loss(targets, logits):
    """The mean cross-entropy of the next character: ``targets (B, T)`` ids, ``logits (B, T, V)``
    -> a number, ``-mean(log softmax(logits)[target])``."""
    return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(
        targets, logits, from_logits=True))


@dataclass
class History:
    """What :func:`train` saw: the training loss of every step, the validation loss every
    ``eval_every`` steps (at ``val_steps``), and the seconds training took, on the clock and of
    this process's CPU time (all its threads)."""

    train: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def validation_loss(model, ids: np.ndarray, length: int, batch: int = 64) -> float:
    """The mean next-character loss over ``batch`` windows spread evenly over ``ids``."""
    starts = np.linspace(0, len(ids) - length - 1, batch).astype(int)  # (batch,)
    windows = ids[starts[:, None] + np.arange(length + 1)]  # (batch, length + 1)
    return float(next_character_loss(windows[:, 1:], model(windows[:, :-1])))


def train(model, train_ids, val_ids, learning_rates, *, batch=LESSON_RUN.batch,
          length=LESSON_RUN.window, weight_decay=LESSON_RUN.weight_decay,
          clip_norm=LESSON_RUN.clip_norm, eval_every=100, seed=0) -> History:
    """Lesson 12's training loop: one step per entry of ``learning_rates`` (the schedule, one
    learning rate per step), each on a batch of ``batch`` random windows of ``length``
    characters of ``train_ids``; ``keras.optimizers.AdamW`` with ``weight_decay`` and the
    gradients clipped to a global norm of ``clip_norm``; the validation loss every
    ``eval_every`` steps and at the end."""
    optimizer = keras.optimizers.AdamW(learning_rate=float(learning_rates[0]),
                                       weight_decay=weight_decay, global_clipnorm=clip_norm)

    @tf.function
    def train_step(x, y):  # (B, T), (B, T) -> the batch's loss
        with tf.GradientTape() as tape:
            loss = next_character_loss(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    rng, history = np.random.default_rng(seed), History()
    start, cpu_start = time.perf_counter(), time.process_time()
    for step, rate in enumerate(learning_rates):
        optimizer.learning_rate.assign(float(rate))
        history.train.append(float(train_step(*random_windows(train_ids, batch, length, rng))))
        if (step + 1) % eval_every == 0 or step + 1 == len(learning_rates):
            history.val_steps.append(step + 1)
            history.val.append(validation_loss(model, val_ids, length))
    history.seconds = time.perf_counter() - start
    history.cpu_seconds = time.process_time() - cpu_start
    return history


# -- generation with lesson 11's cache -----------------------------------------------------------
class _WithoutSource:
    """A block of the model as lesson 11's step sees its translator's decoder: the block's own
    parts, and a cross-attention that adds nothing (a language model reads no source) behind a
    normalisation that changes nothing, so that ``run_block`` with a ``cross_attend`` leaves the
    hidden state as it is, pre-LN (``x + 0``) or post-LN (``x``)."""

    def __init__(self, block):
        self._block = block

    def __getattr__(self, name):
        return getattr(self._block, name)

    @staticmethod
    def cross_attention_layer(h, context=None, **kwargs):
        return keras.ops.zeros_like(h)  # (B, 1, d)

    @staticmethod
    def cross_attention_norm(h):
        return h


class LayerAsTranslator:
    """Block ``layer`` of a :class:`LanguageModel` as lesson 11's ``Translator``, so that lesson
    11's ``decode_step(translator, token, cache, context, context_mask)`` runs it unchanged.

    ``decoder``: the block, with no cross-attention. ``embed_target(ids, start)``: the first
    block embeds the ids at positions ``start …``; a later one is given the hidden vectors
    ``(B, 1, d)`` of the block before as its "ids" and passes them on. ``to_logits(y)``: the last
    block gives the logits ``(B, 1, V)``, the others their hidden vectors, which the step returns
    as ``y[:, 0]`` ``(B, d)``, the next block's "token"."""

    def __init__(self, model: LanguageModel, layer: int):
        self.model, self.layer = model, layer
        self.decoder = _WithoutSource(model.blocks[layer])
        self.num_heads, self.key_dim = model.num_heads, model.key_dim
        self.max_length = model.max_length

    def embed_target(self, ids, start=0):
        return self.model.embed(ids, start=start) if self.layer == 0 else ids  # (B, 1, d)

    def to_logits(self, y):  # (B, 1, d) -> (B, 1, V) after the last block, else (B, 1, d)
        if self.layer + 1 < len(self.model.blocks):
            return y
        return self.model.to_logits(self.model.final_norm(y))


def generation_step(decode_step, model: LanguageModel, token, cache):
    """One step of the whole model with lesson 11's ``decode_step``, one block after the other:
    ``token (B,)`` at position ``t`` (the cache's length), ``cache (L, 2, B, t, H, key_dim)``
    -> ``(logits (B, V) of the next token, cache (L, 2, B, t + 1, H, key_dim))``."""
    x, grown = token, []
    for layer in range(len(model.blocks)):
        x, kv = decode_step(LayerAsTranslator(model, layer), x, cache[layer], None, None)
        grown.append(kv)  # (2, B, t + 1, H, key_dim)
    return x, keras.ops.stack(grown)  # (B, V), (L, 2, B, t + 1, H, key_dim)


def step_gap(decode_step, model: LanguageModel, ids) -> float:
    """The largest difference between the logits of :func:`generation_step` with
    ``decode_step``, fed ``ids (B, T)`` one position at a time, and the full pass's."""
    full = np.asarray(model(ids))  # (B, T, V)
    cache, gaps = model.empty_cache(ids.shape[0]), []
    for t in range(ids.shape[1]):
        logits, cache = generation_step(decode_step, model, ids[:, t], cache)  # (B, V)
        gaps.append(np.abs(np.asarray(logits) - full[:, t]).max())
    return float(np.max(gaps))  # NaN if a step gave NaN


def checked_step(decode_step, given, model: LanguageModel, ids, tolerance: float = 1e-4):
    """``(step, gap)``: ``decode_step`` when :func:`generation_step` with it gives the full
    pass's logits on ``ids (B, T)`` to ``tolerance``, else ``given`` (saying why); ``gap``, the
    largest difference of the step chosen."""
    if decode_step is not given:
        try:
            gap = step_gap(decode_step, model, ids)
        except Exception as error:  # the learner's saved code: any error at all
            say(f"Your decode_step does not run on this model ({type(error).__name__}: "
                f"{error}): the given step writes instead.")
        else:
            if gap <= tolerance:
                return decode_step, gap
            say(f"Your decode_step's logits differ from the full pass's by {gap:.1e} on this "
                "model: the given step writes instead.")
    return given, step_gap(given, model, ids)


def draw(probabilities, rng) -> np.ndarray:
    """One id per row of ``probabilities (..., V)``, drawn with those probabilities (the inverse
    of the cumulative distribution at a uniform number): ``(...,)`` int32."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    cumulative = np.cumsum(probabilities, axis=-1)  # (..., V)
    u = rng.random(probabilities.shape[:-1] + (1,)) * cumulative[..., -1:]  # (..., 1)
    return np.minimum((cumulative <= u).sum(axis=-1), probabilities.shape[-1] - 1).astype(
        "int32")


# -- pictures --------------------------------------------------------------------------------
def plot_schedule(steps, rates, warmup: int, total: int, ax=None):
    """The learning rate of every step, with the end of the warm-up and ``total`` marked."""
    ax = ax or plt.subplots(figsize=(7, 3))[1]
    ax.plot(steps, rates)
    for x, label in ((warmup, _("end of warm-up")), (total, _("total"))):
        ax.axvline(x, color="grey", linestyle=":", linewidth=1)
        ax.text(x, max(rates) * 1.02, label, ha="center", fontsize=8)
    ax.set_xlabel(_("step"))
    ax.set_ylabel(_("learning rate"))
    ax.grid(alpha=0.3)
    return ax


def plot_losses(history: History, uniform: float | None = None, ax=None):
    """The training loss of every step (and its running mean) and the validation loss;
    ``uniform``: the loss of guessing every character evenly, ``ln V``."""
    ax = ax or plt.subplots(figsize=(7, 3.5))[1]
    steps = np.arange(1, len(history.train) + 1)
    ax.plot(steps, history.train, alpha=0.3, label=_("training batch"))
    window = min(25, len(history.train))
    smooth = np.convolve(history.train, np.ones(window) / window, mode="valid")
    ax.plot(steps[window - 1:], smooth,
            label=_("training (mean of {window})").format(window=window))
    ax.plot(history.val_steps, history.val, "o-", label=_("validation"))
    if uniform is not None:
        ax.axhline(uniform, color="grey", linestyle=":", label=_("uniform guess, ln V"))
    ax.set_xlabel(_("step"))
    ax.set_ylabel(_("next-character loss (nats)"))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_distribution(labels, distributions: dict[str, np.ndarray], top: int = 12):
    """Bars of each distribution over the ``top`` most probable labels of the first one."""
    first = np.asarray(next(iter(distributions.values())))
    order = np.argsort(-first)[:top]
    fig, axes = plt.subplots(1, len(distributions), figsize=(3.2 * len(distributions), 3),
                             sharey=True, squeeze=False)
    for ax, (title, probs) in zip(axes[0], distributions.items(), strict=True):
        ax.bar(range(len(order)), np.asarray(probs)[order])
        ax.set_xticks(range(len(order)), [repr(labels[i])[1:-1] for i in order])
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(_("probability"))
    fig.tight_layout()
    return fig
