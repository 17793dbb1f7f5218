"""A conditional Wasserstein GAN of 1-D spectra with ResNet + CBAM blocks (Keras 3).

Twin of ``a3net.torch.spectra_gan``: same names, arguments and parameter counts. Features run
channels last (N, L, C) inside; the generator's first feature map and the critic's flattened
features are ordered channels first, as in PyTorch, so weights copy across layer by layer.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import layers

from .._engine.gan import WassersteinSteps
from .._validation import check_positive_int, check_rate
from .core import ConditionalGenerator


def _init_like_torch(variables) -> None:
    """Draw every kernel and its bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default
    for Linear and Conv1d; Dense kernels are (in, out), Conv1D kernels (k, in, out)."""
    bound = None
    for v in variables:
        name = v.name.split("/")[-1]
        if name == "kernel":
            bound = 1 / math.sqrt(math.prod(v.shape[:-1]))
        elif name != "bias" or bound is None:
            continue
        v.assign(keras.random.uniform(v.shape, -bound, bound))


class CBAM1d(layers.Layer):
    """1-D Convolutional Block Attention Module (Woo et al. 2018) on features (N, L, C).

    Channel attention: sigmoid(MLP(mean over L) + MLP(max over L)), one shared MLP C -> C //
    ``reduction`` (at least 1 unit) -> C with ReLU; then spatial attention: sigmoid of a conv1d
    (``kernel_size``, 2 -> 1 channel) over [mean, max] across channels. Output (N, L, C).
    """

    def __init__(self, channels: int, reduction: int = 8, kernel_size: int = 7):
        super().__init__()
        channels = check_positive_int(channels, "channels")
        units = max(1, channels // check_positive_int(reduction, "reduction"))
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}.")
        self.mlp = keras.Sequential(
            [layers.Dense(units, activation="relu"), layers.Dense(channels)]
        )
        self.spatial = layers.Conv1D(1, kernel_size, padding="same")

    def call(self, x):
        weights = tf.sigmoid(self.mlp(tf.reduce_mean(x, 1)) + self.mlp(tf.reduce_max(x, 1)))
        x = x * weights[:, None, :]  # (N, L, C) scaled per channel
        pooled = tf.concat(
            [tf.reduce_mean(x, -1, keepdims=True), tf.reduce_max(x, -1, keepdims=True)], -1
        )
        return x * tf.sigmoid(self.spatial(pooled))  # scaled per position


class ResidualCBAM1d(layers.Layer):
    """Residual block with CBAM (He et al. 2016; Woo et al. 2018) on features (N, L, C):
    act(x + CBAM(conv(act(conv(x))))), two k=3 'same' convolutions of ``channels`` channels;
    act is LeakyReLU(``negative_slope``), i.e. ReLU for 0. Output (N, L, C)."""

    def __init__(self, channels: int, negative_slope: float = 0.0, reduction: int = 8):
        super().__init__()
        channels = check_positive_int(channels, "channels")
        slope = check_rate(negative_slope, "negative_slope")
        self.conv1 = layers.Conv1D(channels, 3, padding="same")
        self.conv2 = layers.Conv1D(channels, 3, padding="same")
        self.attention = CBAM1d(channels, reduction)
        self.act = layers.LeakyReLU(negative_slope=slope)

    def call(self, x):
        return self.act(x + self.attention(self.conv2(self.act(self.conv1(x)))))


class FiLM1d(layers.Layer):
    """Feature-wise linear modulation (Perez et al. 2018) of features h (N, L, C) by conditions
    c (N, n_conditions): h * (1 + gamma(c)) + beta(c), gamma and beta linear maps (with bias)
    of c to C channels, the same at every position."""

    def __init__(self, n_conditions: int, channels: int):
        super().__init__()
        check_positive_int(n_conditions, "n_conditions")
        self.gamma = layers.Dense(check_positive_int(channels, "channels"))
        self.beta = layers.Dense(channels)

    def call(self, h, c):
        return h * (1 + self.gamma(c)[:, None, :]) + self.beta(c)[:, None, :]


class ConditionedSequential(layers.Layer):
    """A stack of layers whose input's last ``n_conditions`` columns are the conditions c: its
    FiLM1d layers get (h, c), every other layer h alone."""

    def __init__(self, n_conditions: int, *stack):
        super().__init__()
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")
        self.stack = list(stack)

    def call(self, inputs, training=None):
        c, h = inputs[:, -self.n_conditions :], inputs
        for layer in self.stack:
            h = layer(h, c) if isinstance(layer, FiLM1d) else layer(h)
        return h


class SpectrumWGAN(WassersteinSteps, ConditionalGenerator):
    """Conditional WGAN of spectra (N, n_bins) given conditions (N, n_conditions).

    Generator G: dense [z, c] -> ``hidden`` (ReLU) -> ``channels`` x n_bins/8 (ReLU), three
    stages of (nearest upsampling x2, conv1d k=3 + ReLU, ResidualCBAM1d), a conv1d to one
    channel: spectra (N, n_bins), linear. Critic D: conv1d stem + LeakyReLU(0.2), three stages
    of (ResidualCBAM1d, stride-2 conv1d k=4 + LeakyReLU(0.2)), flatten, [features, c], dense
    ``hidden`` LeakyReLU(0.2), one score. No batch normalisation (the penalty is per sample).

    ``conditioning``: ``"both"`` (G(z, c), D(x, c)), ``"generator"`` (c is part of G's input,
    the critic never sees it), ``"none"`` (G(z), D(x)) or ``"projection"``: G(z, c) with its
    three upsampling stages' convolutions modulated by FiLM (Perez et al. 2018), h <- h * (1 +
    gamma(c)) + beta(c) before their ReLU, and a projection critic (Miyato & Koyama 2018),
    D(x, c) = head(phi(x)) + <embed(c), phi(x)>, phi(x) the head's hidden layer (``hidden``
    units) and embed a linear map without bias (``projection``). ``latent_dim`` may be 0 unless
    conditioning is ``"none"``. ``noise``: ``"normal"`` or ``"uniform"`` (on [-sqrt 3, sqrt 3],
    unit variance) latent draws, in training and in ``generate``.

    Each batch takes ``n_critic`` critic steps on mean D(G(z)) - mean D(x) (+ ``gp_weight`` *
    mean (|grad D at random interpolates| - 1)^2), then one generator step on -mean D(G(z)).
    ``clip_value=None``: gradient penalty, Adam(W) with ``betas`` (default (0.5, 0.9); the
    recipe of Gulrajani et al. 2017 is (0.0, 0.9)). A positive
    ``clip_value``: the original WGAN, critic weights clipped to [-clip, clip] after every critic
    step, RMSprop for both parts, no penalty (``gp_weight`` is ignored).

    ``ema_decay``: the generator's weights are averaged after every generator step with decay
    min(ema_decay, (1 + t) / (10 + t)) at step t, starting from the initial weights; the copy
    (``average_generator``) is not trainable. ``decode_samples`` (hence ``generate``) uses it
    while ``use_average`` is True (default); ema_decay=0 makes it the raw generator.

    ``noise_aware=True``: the generator makes noiseless spectra and fit's x is (N, 2, n_bins),
    x[:, 0] the flux and x[:, 1] its noise sigma per pixel in the same units; the critic sees
    the real flux, and each fake spectrum plus sigma * N(0, 1) with the sigma of the real
    spectrum in its batch row (the one whose conditions it was drawn for). ``generate`` returns
    the noiseless spectra (N, n_bins).

    ``fresh_batches=True``: each of the ``n_critic`` critic steps takes its own real rows: a
    batch is cut into n_critic equal chunks (pass fit a batch_size of n_critic times the critic's
    batch), critic step i uses chunk i and fakes on its conditions, and the generator step the
    conditions (and sigmas) of the first chunk. An epoch then has n_critic times fewer generator
    steps than with the same critic batch and fresh_batches=False. A short last batch is cut
    into n_critic smaller chunks (rows // n_critic each, the remainder unused); one of fewer than
    n_critic rows gives one-row chunks, reused in turn.
    """

    def __init__(
        self,
        n_bins: int = 256,
        n_conditions: int = 4,
        latent_dim: int = 16,
        hidden: int = 128,
        channels: int = 32,
        n_critic: int = 5,
        gp_weight: float = 10.0,
        clip_value: float | None = None,
        noise: str = "normal",
        conditioning: str = "both",
        ema_decay: float = 0.999,
        noise_aware: bool = False,
        betas: tuple[float, float] = (0.5, 0.9),
        fresh_batches: bool = False,
    ):
        super().__init__()
        n_bins, hidden, channels, g_inputs, d_inputs = self._check_wgan_arguments(
            n_bins, n_conditions, latent_dim, hidden, channels, n_critic, gp_weight, clip_value,
            noise, conditioning, ema_decay, noise_aware, betas, fresh_batches,
        )  # fmt: skip
        film = conditioning == "projection"  # FiLM after each upsampling convolution

        def generator():
            if film:
                return ConditionedSequential(
                    self.n_conditions,
                    layers.Dense(hidden, activation="relu"),
                    layers.Dense(channels * (n_bins // 8), activation="relu"),
                    layers.Reshape((channels, n_bins // 8)),
                    layers.Permute((2, 1)),  # (N, n_bins/8, channels)
                    *[
                        layer
                        for _ in range(3)  # n_bins/8 -> n_bins/4 -> n_bins/2 -> n_bins
                        for layer in (
                            layers.UpSampling1D(2),
                            layers.Conv1D(channels, 3, padding="same"),
                            FiLM1d(self.n_conditions, channels),
                            layers.ReLU(),
                            ResidualCBAM1d(channels),
                        )
                    ],
                    layers.Conv1D(1, 3, padding="same"),
                    layers.Flatten(),  # (N, n_bins)
                )
            return keras.Sequential(
                [
                    layers.Dense(hidden, activation="relu"),
                    layers.Dense(channels * (n_bins // 8), activation="relu"),
                    layers.Reshape((channels, n_bins // 8)),
                    layers.Permute((2, 1)),  # (N, n_bins/8, channels)
                    *[
                        layer
                        for _ in range(3)  # n_bins/8 -> n_bins/4 -> n_bins/2 -> n_bins
                        for layer in (
                            layers.UpSampling1D(2),
                            layers.Conv1D(channels, 3, padding="same", activation="relu"),
                            ResidualCBAM1d(channels),
                        )
                    ],
                    layers.Conv1D(1, 3, padding="same"),
                    layers.Flatten(),  # (N, n_bins)
                ]
            )

        self.generator = generator()
        self.critic = keras.Sequential(
            [
                layers.Reshape((n_bins, 1)),
                layers.Conv1D(channels, 3, padding="same"),
                layers.LeakyReLU(negative_slope=0.2),
                *[
                    layer
                    for _ in range(3)  # n_bins -> n_bins/2 -> n_bins/4 -> n_bins/8
                    for layer in (
                        ResidualCBAM1d(channels, negative_slope=0.2),
                        layers.Conv1D(channels, 4, strides=2, padding="same"),  # pads 1 each side
                        layers.LeakyReLU(negative_slope=0.2),
                    )
                ],
                layers.Permute((2, 1)),
                layers.Flatten(),  # (N, channels * n_bins/8), channels first
            ]
        )
        self.critic_head = keras.Sequential(
            [layers.Dense(hidden), layers.LeakyReLU(negative_slope=0.2), layers.Dense(1)]
        )
        if film:  # the projection critic's embedding of the conditions
            self.projection = layers.Dense(hidden, use_bias=False)
            self.projection.build((None, self.n_conditions))
            self.critic_head.build((None, d_inputs))  # its layers are called one by one
        self.average_generator = generator()
        self.average_generator.trainable = False
        self.average_steps = keras.Variable(0.0, trainable=False, name="average_steps")
        zeros = tf.zeros((1, n_bins))
        self.generator(tf.zeros((1, g_inputs)))
        self.average_generator(tf.zeros((1, g_inputs)))
        self(zeros, tf.zeros((1, self.n_conditions)))
        _init_like_torch(self.trainable_variables)
        for average, raw in zip(
            self.average_generator.variables, self.generator.variables, strict=True
        ):
            average.assign(raw)

    def call(self, x, c, training=False):
        """Critic scores (N, 1) of spectra ``x`` (N, n_bins) with conditions ``c``."""
        h = self.critic(x, training=training)
        if self.conditioning == "projection":
            dense, act, score = self.critic_head.layers
            phi = act(dense(h))  # (N, hidden)
            return score(phi) + tf.reduce_sum(self.projection(c) * phi, 1, keepdims=True)
        h = tf.concat([h, c], axis=1) if self.conditioning == "both" else h
        return self.critic_head(h, training=training)

    def _repeat_indexed(self, n, body, initial):
        """``body(i)`` for i = 0 .. n - 1 in a graph loop (traced once); returns its last
        value, whose structure is that of ``initial``."""
        initial = tf.nest.map_structure(lambda v: tf.constant(v, tf.float32), initial)
        _, value = tf.while_loop(
            lambda i, _: i < n, lambda i, _: (i + 1, body(i)), (tf.constant(0), initial)
        )
        return value

    def _chunk_size(self, x, n):
        return tf.maximum(tf.shape(x)[0] // n, 1)

    def _update_average(self):
        t = self.average_steps
        decay = tf.minimum((1 + t) / (10 + t), self.ema_decay)
        for average, raw in zip(
            self.average_generator.variables, self.generator.variables, strict=True
        ):
            average.assign(raw + decay * (average - raw))  # exactly raw for decay 0
        t.assign_add(1.0)
