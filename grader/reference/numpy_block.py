"""The answer key's Transformer block (lesson ``06_transformer_block``) as a NumPy forward pass,
with its known wrong variants (``BLOCK_VARIANTS``, keyed as in
:data:`course_lib.misconceptions.DESCRIPTIONS`); its Keras answer key is
:class:`grader.reference.keras_layers.TransformerBlock`. Built on
:class:`grader.reference.numpy_layers.MultiHeadAttentionForward`, with the same conventions.
"""

from __future__ import annotations

import numpy as np

from grader.reference.numpy_layers import MultiHeadAttentionForward, _as_float64

__all__ = ["TransformerBlockForward", "BLOCKS", "BLOCK_VARIANTS", "block_forward",
           "block_variant_outputs"]


class TransformerBlockForward:
    r"""``grader.reference.keras_layers.TransformerBlock`` in NumPy.

    .. math::
        \text{pre-LN:}\ x \leftarrow x + \mathrm{Attn}(\mathrm{LN}(x)),\ \dots,\
        y = x + \mathrm{FFN}(\mathrm{LN}(x));\qquad
        \text{post-LN:}\ x \leftarrow \mathrm{LN}(x + \mathrm{Attn}(x)),\ \dots,\
        y = \mathrm{LN}(x + \mathrm{FFN}(x))

    .. math:: \mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta,
              \qquad \mathrm{FFN}(x) = \max(0, xW_1 + b_1)W_2 + b_2

    with :math:`\mu, \sigma^2` the mean and variance of each position's features.

    Args:
        weights: ``get_weights()`` in the block's order: self-attention (8), its LayerNorm
            (γ, β), with cross-attention the cross-attention (8) and its LayerNorm (2), then
            ``W_1 (d, ff)``, ``b_1``, ``W_2 (ff, d)``, ``b_2`` and the last LayerNorm (2).
        num_heads, key_dim, ff_dim, cross_attention, norm_first, epsilon: the block's config.
        keras_config: the rest of a Keras config (``name``, ``dtype``, …), ignored.
    """

    def __init__(self, weights, num_heads, key_dim, ff_dim, cross_attention=False,
                 norm_first=True, epsilon=1e-6, **keras_config):
        weights = [np.asarray(w, dtype=np.float64) for w in weights]
        expected = 26 if cross_attention else 16
        if len(weights) != expected:
            raise ValueError(f"TransformerBlock(cross_attention={cross_attention}) expects "
                             f"{expected} weight arrays. Received: {len(weights)}")
        self.cross_attention, self.norm_first = bool(cross_attention), bool(norm_first)
        self.epsilon = float(epsilon)
        config = {"num_heads": num_heads, "key_dim": key_dim}
        self.self_attention = MultiHeadAttentionForward(weights[:8], **config)
        self.norms = {"self_attention": weights[8:10]}
        rest = weights[10:]
        if self.cross_attention:
            self.cross_attention_layer = MultiHeadAttentionForward(rest[:8], **config)
            self.norms["cross_attention"] = rest[8:10]
            rest = rest[10:]
        self.ff_params = rest[:4]  # W_1 (d, ff), b_1 (ff,), W_2 (ff, d), b_2 (d,)
        self.norms["ff"] = rest[4:6]
        if self.ff_params[0].shape != (self.ff_params[0].shape[0], int(ff_dim)):
            raise ValueError(f"TransformerBlock: W_1 should be (d_model, {ff_dim}). Received: "
                             f"{self.ff_params[0].shape}")

    # -- the forward pass ---------------------------------------------------------------------
    def forward(self, x, context=None, attention_mask=None, context_mask=None,
                use_causal_mask=False):
        """``(y, attention_weights)``: ``y (B, T, d_model)``; the weights are the
        cross-attention's ``(B, H, T, Tc)`` with ``cross_attention``, else the self-attention's
        ``(B, H, T, T)``."""
        x = _as_float64(x, "x")
        if self.cross_attention:
            context = _as_float64(context, "context")

        def self_attend(h):
            return self.self_attend(h, attention_mask, use_causal_mask)

        def cross_attend(h):
            return self.cross_attend(h, context, context_mask)

        x, self_weights = self.sublayer(x, "self_attention", self_attend)  # (B, T, d)
        cross_weights = None
        if self.cross_attention:
            x, cross_weights = self.sublayer(x, "cross_attention", cross_attend)  # (B, T, d)
        y, _ = self.sublayer(x, "ff", lambda h: (self.feed_forward(h), None))  # (B, T, d)
        return y, self.returned(self_weights, cross_weights)

    # -- the steps ------------------------------------------------------------------------------
    def returned(self, self_weights, cross_weights):
        """The weights returned: the cross-attention's when there is one."""
        return self_weights if cross_weights is None else cross_weights

    def sublayer(self, x, norm, f):
        r"""A residual sublayer: :math:`x + f(\mathrm{LN}(x))` (pre-LN) or
        :math:`\mathrm{LN}(x + f(x))` (post-LN). ``f`` returns ``(out, weights)``."""
        if self.norm_first:
            out, weights = f(self.layer_norm(x, norm))  # (B, T, d)
            return self.residual(x, out), weights
        out, weights = f(x)  # (B, T, d)
        return self.layer_norm(self.residual(x, out), norm), weights

    def residual(self, x, out):
        """The residual connection ``x + out``, ``(B, T, d)``."""
        return x + out

    def layer_norm(self, x, norm, axis=-1):
        r"""LayerNorm of each position's features: :math:`\gamma (x - \mu) /
        \sqrt{\sigma^2 + \epsilon} + \beta`, ``(B, T, d)`` → ``(B, T, d)``."""
        gamma, beta = self.norms[norm]
        mean = x.mean(axis=axis, keepdims=True)  # (B, T, 1)
        variance = x.var(axis=axis, keepdims=True)  # (B, T, 1)
        return gamma * (x - mean) / np.sqrt(variance + self.epsilon) + beta  # (B, T, d)

    def self_attend(self, h, attention_mask, use_causal_mask):
        """Self-attention of ``h (B, T, d)``: ``((B, T, d), (B, H, T, T))``."""
        return self.self_attention.forward(h, h, attention_mask=attention_mask,
                                           use_causal_mask=use_causal_mask)

    def cross_attend(self, h, context, context_mask):
        """``h (B, T, d)`` attends to ``context (B, Tc, dc)``: ``((B, T, d), (B, H, T, Tc))``."""
        return self.cross_attention_layer.forward(h, context, attention_mask=context_mask)

    def activation(self, z):
        """ReLU, :math:`\\max(0, z)`."""
        return np.maximum(z, 0.0)

    def feed_forward(self, h):
        r""":math:`\max(0, hW_1 + b_1)W_2 + b_2`, the same at every position:
        ``(B, T, d)`` → ``(B, T, ff)`` → ``(B, T, d)``."""
        w1, b1, w2, b2 = self.ff_params
        return self.activation(h @ w1 + b1) @ w2 + b2  # (B, T, d)


class BlockNoResidual(TransformerBlockForward):
    """No residual connections: each sublayer's output replaces its input."""

    def residual(self, x, out):
        return out


class BlockNormFirstIgnored(TransformerBlockForward):
    """Always post-LN: ``norm_first=True`` ignored."""

    def sublayer(self, x, norm, f):
        out, weights = f(x)
        return self.layer_norm(x + out, norm), weights


class BlockAlwaysPreNorm(TransformerBlockForward):
    """Always pre-LN: ``norm_first=False`` ignored."""

    def sublayer(self, x, norm, f):
        out, weights = f(self.layer_norm(x, norm))
        return x + out, weights


class BlockResidualNormalised(TransformerBlockForward):
    """Pre-LN with the sum normalised too: ``LN(x + f(LN(x)))``."""

    def sublayer(self, x, norm, f):
        if not self.norm_first:
            return super().sublayer(x, norm, f)
        out, weights = f(self.layer_norm(x, norm))
        return self.layer_norm(x + out, norm), weights


class BlockResidualFromNormalised(TransformerBlockForward):
    """Pre-LN whose residual starts from the normalised input: ``LN(x) + f(LN(x))``."""

    def sublayer(self, x, norm, f):
        if not self.norm_first:
            return super().sublayer(x, norm, f)
        h = self.layer_norm(x, norm)
        out, weights = f(h)
        return h + out, weights


class BlockNormOverPositions(TransformerBlockForward):
    """LayerNorm's mean and variance taken over the positions (axis 1), not the features."""

    def layer_norm(self, x, norm, axis=-1):
        return super().layer_norm(x, norm, axis=-2)


class BlockEpsilonIgnored(TransformerBlockForward):
    """LayerNorms with Keras's default epsilon, 1e-3, whatever ``epsilon`` says."""

    def layer_norm(self, x, norm, axis=-1):
        gamma, beta = self.norms[norm]
        mean, variance = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
        return gamma * (x - mean) / np.sqrt(variance + 1e-3) + beta


class BlockNoRelu(TransformerBlockForward):
    """A feed-forward network without its ReLU: two linear maps, one linear map in effect."""

    def activation(self, z):
        return z


class BlockContextMaskIgnored(TransformerBlockForward):
    """``context_mask`` never passed to the cross-attention."""

    def cross_attend(self, h, context, context_mask):
        return super().cross_attend(h, context, None)


class BlockMaskIgnored(TransformerBlockForward):
    """``attention_mask`` never passed to the self-attention."""

    def self_attend(self, h, attention_mask, use_causal_mask):
        return super().self_attend(h, None, use_causal_mask)


class BlockCausalIgnored(TransformerBlockForward):
    """``use_causal_mask`` never passed to the self-attention."""

    def self_attend(self, h, attention_mask, use_causal_mask):
        return super().self_attend(h, attention_mask, False)


class BlockSelfAttentionScores(TransformerBlockForward):
    """With cross-attention, the self-attention's weights returned instead of the
    cross-attention's."""

    def returned(self, self_weights, cross_weights):
        return self_weights


BLOCKS: dict[str, type[TransformerBlockForward]] = {"TransformerBlock": TransformerBlockForward}

BLOCK_VARIANTS: dict[str, type[TransformerBlockForward]] = {
    "block_no_residual": BlockNoResidual,
    "block_norm_first_ignored": BlockNormFirstIgnored,
    "block_always_pre_norm": BlockAlwaysPreNorm,
    "block_residual_normalised": BlockResidualNormalised,
    "block_residual_from_normalised": BlockResidualFromNormalised,
    "block_norm_over_positions": BlockNormOverPositions,
    "block_epsilon_ignored": BlockEpsilonIgnored,
    "block_no_relu": BlockNoRelu,
    "block_context_mask_ignored": BlockContextMaskIgnored,
    "block_mask_ignored": BlockMaskIgnored,
    "block_causal_ignored": BlockCausalIgnored,
    "block_self_attention_scores": BlockSelfAttentionScores,
}


def block_forward(config, weights, x, context=None, **options):
    """``(y, attention_weights)`` of the answer key's ``TransformerBlock`` built with
    ``config`` and holding ``weights``; ``options``: ``attention_mask``, ``context_mask``,
    ``use_causal_mask``."""
    return TransformerBlockForward(weights, **config).forward(x, context, **options)


def block_variant_outputs(config, weights, x, context=None,
                          **options) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{key: (y, attention_weights)}`` of every wrong block that runs on these inputs."""
    outputs = {}
    for name, cls in BLOCK_VARIANTS.items():
        try:
            with np.errstate(all="ignore"):
                outputs[name] = cls(weights, **config).forward(x, context, **options)
        except ValueError:  # a shape this variant cannot handle
            continue
    return outputs
