"""Given code of lesson ``11_kv_cache``: lesson 07's translator as parts a decoder can step
through, and the pictures of the lesson.

- :class:`PositionalEmbedding`: token embedding plus the position encodings of positions
  ``start … start + T - 1`` (a decoder step embeds one token at its own position).
- :class:`Translator`: lesson 07's encoder–decoder (post-LN, one block on each side), with its
  parts as attributes: ``encode`` runs once per source, ``embed_target``, ``decoder`` and
  ``to_logits`` are what a decoding step needs. Calling it on ``[source, decoder_input]`` is the
  full, uncached pass of lesson 07.
- :func:`run_block` (from ``course_lib.blocks``): lesson 06's data flow around given attention
  steps, so that a decoding step can put its cached self-attention in place of the block's own.
- :func:`count_work`: how many positions a decoder embeds and how many sources it encodes.
- :func:`plot_decoding_costs`: run time and score entries of cached and uncached decoding.

Nothing here is an answer: the cache is the learner's.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from course_lib.blocks import KerasBlock, learned_positions, run_block  # noqa: F401 (given)
from course_lib.dates import PAD_ID, SOURCE_LEN, SOURCE_VOCAB, TARGET_LEN, TARGET_VOCAB
from course_lib.messages import figure_text as _
from course_lib.plotting import pyplot

plt = pyplot()  # with the course's CJK font, for Chinese titles and labels


class PositionalEmbedding(layers.Layer):
    """Token embedding plus position encodings: ids ``(B, T)`` at positions ``start … start + T
    - 1`` -> ``(B, T, d)``.

    ``positions(length, d_model)`` gives a fixed ``(length, d_model)`` table, such as lesson 05's
    ``sinusoidal_encoding``, or ``None`` (``learned_positions``): a vector is then learned for
    each of the ``length`` positions.
    """

    def __init__(self, vocab_size, length, d_model, positions, **kwargs):
        super().__init__(**kwargs)
        self.token = layers.Embedding(vocab_size, d_model)
        table = positions(length, d_model)  # (length, d) or None
        if table is None:
            self.position = layers.Embedding(length, d_model)  # learned
        else:
            self.table = ops.convert_to_tensor(np.asarray(table, dtype="float32"))  # fixed

    def call(self, ids, start=0):
        where = start + ops.arange(ops.shape(ids)[-1])  # (T,): the positions of the ids
        if hasattr(self, "position"):
            return self.token(ids) + self.position(where)  # (B, T, d) + (T, d)
        return self.token(ids) + ops.take(self.table, where, axis=0)  # (B, T, d) + (T, d)


class Translator(keras.Model):
    """Lesson 07's date translator, its parts in reach: ``[source (B, Ts), decoder_input (B, T)]
    -> logits (B, T, V)``.

    Args:
        block: the Transformer block class (lesson 06's ``TransformerBlock``, or ``KerasBlock``).
        positions: ``positions(T, d)``, a fixed table, or ``learned_positions``.
        d_model: width of every vector; ``num_heads`` heads of ``d_model // num_heads``.
        max_length: the most target positions it can decode (lesson 07: ``TARGET_LEN``).

    Parts, in the order of ``get_weights()``: ``embed_source``, ``encoder`` (post-LN block),
    ``embed_target``, ``decoder`` (post-LN block with cross-attention), ``to_logits`` (Dense).
    """

    def __init__(self, block=KerasBlock, positions=learned_positions, d_model=64, num_heads=4,
                 max_length=TARGET_LEN, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim = num_heads, d_model // num_heads
        self.max_length = max_length
        ff_dim = 2 * d_model
        self.embed_source = PositionalEmbedding(len(SOURCE_VOCAB), SOURCE_LEN, d_model, positions)
        self.encoder = block(num_heads, self.key_dim, ff_dim, norm_first=False,
                             name="encoder_block")
        self.embed_target = PositionalEmbedding(len(TARGET_VOCAB), max_length, d_model, positions)
        self.decoder = block(num_heads, self.key_dim, ff_dim, cross_attention=True,
                             norm_first=False, name="decoder_block")
        self.to_logits = layers.Dense(len(TARGET_VOCAB), name="logits")
        self([np.zeros((1, SOURCE_LEN), "int32"), np.zeros((1, 1), "int32")])  # build

    def encode(self, source):
        """``(context, context_mask)``: the encoder output ``(B, Ts, d)`` and where the source is
        not padding, ``(B, 1, Ts)`` (True = may attend). Once per source."""
        context_mask = ops.expand_dims(ops.not_equal(source, PAD_ID), 1)  # (B, 1, Ts)
        context = self.encoder(self.embed_source(source), attention_mask=context_mask)
        return context, context_mask  # (B, Ts, d), (B, 1, Ts)

    def call(self, inputs):
        """The full pass: every position of ``decoder_input`` at once, causal self-attention."""
        source, decoder_input = inputs  # (B, Ts), (B, T)
        context, context_mask = self.encode(source)  # (B, Ts, d), (B, 1, Ts)
        y = self.decoder(self.embed_target(decoder_input), context=context,
                         context_mask=context_mask, use_causal_mask=True)  # (B, T, d)
        return self.to_logits(y)  # (B, T, V)

    def empty_cache(self, batch):
        """A cache of nothing yet: ``(2, B, 0, H, key_dim)``, keys at ``[0]``, values at
        ``[1]``."""
        return ops.zeros((2, batch, 0, self.num_heads, self.key_dim))


def count_work(translator) -> dict:
    """Count what ``translator`` computes from now on: ``{"embedded": target positions
    embedded, "encoded": sources encoded}``, each a ``tf.Variable`` that also counts inside
    ``tf.function`` (a compiled step counts at every run, not only when traced). A cached
    decoder of ``T`` tokens embeds ``T`` positions and encodes once; one that runs the prefix
    again embeds ``T(T+1)/2``."""
    import tensorflow as tf

    counts = {"embedded": tf.Variable(0), "encoded": tf.Variable(0)}
    embed, encode = translator.embed_target.call, translator.encode

    def counted_embed(ids, start=0):
        counts["embedded"].assign_add(ops.shape(ids)[-1])
        return embed(ids, start=start)

    def counted_encode(source):
        counts["encoded"].assign_add(1)
        return encode(source)

    translator.embed_target.call, translator.encode = counted_embed, counted_encode
    return counts


def score_entries(length: int, cached: bool) -> int:
    """How many self-attention scores decoding ``length`` tokens computes: ``t + 1`` at step
    ``t`` with a cache, ``(t + 1)²`` when the prefix is run again."""
    steps = np.arange(1, length + 1)
    return int(steps.sum() if cached else (steps**2).sum())


def plot_decoding_costs(lengths, seconds: dict[str, list[float]]):
    """Run time per decode (left) and score entries (right) against the output length."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for (label, values), style in zip(seconds.items(), ("o-", "s--"), strict=False):
        left.loglog(lengths, values, style, label=label)
    left.set_xlabel(_("output length T"))
    left.set_ylabel(_("seconds to decode a batch"))
    left.set_title(_("Run time"))
    left.legend()
    for cached, style in ((False, "s--"), (True, "o-")):
        right.loglog(lengths, [score_entries(n, cached) for n in lengths], style,
                     label=_("cached: T(T+1)/2") if cached else _("uncached: ≈ T³/3"))
    right.set_xlabel(_("output length T"))
    right.set_ylabel(_("self-attention scores computed"))
    right.set_title(_("Work"))
    right.legend()
    for ax in (left, right):
        ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig
