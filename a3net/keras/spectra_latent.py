"""A conditional WGAN-GP in a learned latent space: PCA coefficients of spectra (Keras 3).

Twin of ``a3net.torch.spectra_latent``: same names, arguments and parameter counts; the
weights are drawn as PyTorch draws them (``init_like_torch``), so they copy across layer by
layer (Linear (out, in) -> Dense (in, out)).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from .._engine.latent_gan import LatentWassersteinSteps
from .core import ConditionalGenerator, init_like_torch


class LatentSpectrumWGAN(LatentWassersteinSteps, ConditionalGenerator):
    """Conditional WGAN-GP of coefficient vectors (N, n_features) given conditions
    (N, n_conditions), e.g. whitened PCA coefficients of spectra (unit variance each).

    Generator G: [z, c] -> ``hidden`` -> ``hidden`` -> n_features, LeakyReLU(0.2) between,
    linear output; z of ``latent_dim``. Critic: x -> ``hidden`` -> ``hidden``, both
    LeakyReLU(0.2), giving features h; its score is linear(h) + <V c, h> with V a linear map
    (no bias) from the conditions to ``hidden`` (projection discriminator, Miyato & Koyama
    2018). No normalisation layers (the penalty is per sample).

    ``conditioning``: ``"projection"`` (the default: G(z, c) and the projection critic above),
    ``"generator"`` (G(z, c); the critic is blind, linear(h) alone, and has no ``embedding``)
    or ``"none"`` (G(z) and the blind critic: an unconditional GAN). ``latent_dim`` may be 0
    unless conditioning is ``"none"``: the generator is then a function of c. ``noise``:
    ``"normal"`` (N(0, 1)) or ``"uniform"`` (on [-sqrt 3, sqrt 3], unit variance) latent draws,
    in training and in ``generate``.

    Each batch of ``fit`` is split into ``n_critic`` slices: one critic step on each (a fresh
    real batch per step), on mean D(G(z)) - mean D(x) + ``gp_weight`` * mean (|grad D at random
    interpolates| - 1)^2 (Gulrajani et al. 2017), then one generator step on -mean D(G(z));
    Adam(W) with betas (0.0, 0.9) for both. So ``fit(batch_size=n_critic * b)`` gives critic
    batches of b rows and one generator step per batch. The paper's lr is 1e-4; 1e-3 trained
    these small MLPs in a few thousand generator steps.

    ``ema_decay``: the generator's weights are averaged after every generator step with decay
    min(ema_decay, (1 + t) / (10 + t)) at step t; the copy (``average_generator``) is not
    trainable. ``decode_samples`` (hence ``generate``) uses it while ``use_average`` is True
    (default); ema_decay=0 makes it the raw generator.
    """

    def __init__(
        self,
        n_features: int = 16,
        n_conditions: int = 4,
        latent_dim: int = 8,
        hidden: int = 128,
        n_critic: int = 5,
        gp_weight: float = 10.0,
        ema_decay: float = 0.999,
        noise: str = "normal",
        conditioning: str = "projection",
    ):
        super().__init__()
        n_features, hidden, g_inputs = self._check_latent_wgan_arguments(
            n_features, n_conditions, latent_dim, hidden, n_critic, gp_weight, ema_decay,
            noise, conditioning,
        )  # fmt: skip

        def generator():
            return keras.Sequential(
                [
                    layers.Dense(hidden),
                    layers.LeakyReLU(negative_slope=0.2),
                    layers.Dense(hidden),
                    layers.LeakyReLU(negative_slope=0.2),
                    layers.Dense(n_features),
                ]
            )

        self.generator = generator()
        self.critic = keras.Sequential(
            [
                layers.Dense(hidden),
                layers.LeakyReLU(negative_slope=0.2),
                layers.Dense(hidden),
                layers.LeakyReLU(negative_slope=0.2),
            ]
        )
        self.critic_head = layers.Dense(1)
        if conditioning == "projection":  # the critic's embedding of the conditions
            self.embedding = layers.Dense(hidden, use_bias=False)
        self.average_generator = generator()
        self.average_generator.trainable = False
        self.average_steps = keras.Variable(0.0, trainable=False, name="average_steps")
        self.generator(tf.zeros((1, g_inputs)))
        self.average_generator(tf.zeros((1, g_inputs)))
        self(tf.zeros((1, n_features)), tf.zeros((1, self.n_conditions)))
        init_like_torch(self)
        for average, raw in zip(
            self.average_generator.variables, self.generator.variables, strict=True
        ):
            average.assign(raw)

    def call(self, x, c, training=False):
        """Critic scores (N, 1) of coefficients ``x`` (N, n_features) with conditions ``c`` (not
        used by a blind critic: conditioning "generator" or "none")."""
        h = self.critic(x, training=training)
        if self.conditioning != "projection":
            return self.critic_head(h)
        projection = tf.reduce_sum(self.embedding(c) * h, axis=1, keepdims=True)
        return self.critic_head(h) + projection

    def _loop(self, n, body, initial):
        initial = tf.nest.map_structure(lambda v: tf.constant(v, tf.float32), initial)
        # a graph loop: the body is traced once
        _, value = tf.while_loop(
            lambda i, _: i < n, lambda i, v: (i + 1, body(i, v)), (tf.constant(0), initial)
        )
        return value

    def _critic_batch(self, x, c, i):
        rows = tf.shape(x)[0]
        size = (rows + self.n_critic - 1) // self.n_critic
        idx = tf.math.floormod(i * size + tf.range(size), rows)
        return tf.gather(x, idx), tf.gather(c, idx)

    def _update_average(self):
        t = self.average_steps
        decay = tf.minimum((1 + t) / (10 + t), self.ema_decay)
        for average, raw in zip(
            self.average_generator.variables, self.generator.variables, strict=True
        ):
            average.assign(raw + decay * (average - raw))  # exactly raw for decay 0
        t.assign_add(1.0)
