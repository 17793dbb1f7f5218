"""A small conditional Wasserstein GAN with gradient penalty (Keras 3), for 1-D samples.

Twin of ``a3net.torch.gan``: same name, arguments and parameter count. Two optimisers (critic
and generator) and ``n_critic`` critic steps per generator step, trained by the common ``fit``.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from .._validation import check_non_negative, check_positive_int
from .core import ConditionalGenerator


class ConditionalWGAN(ConditionalGenerator):
    """Conditional WGAN-GP (Arjovsky et al. 2017; Gulrajani et al. 2017) of vectors (N, n_features).

    Generator G(z, c): dense ``hidden``-``hidden`` with ReLU, linear output. Critic D(x, c):
    dense ``hidden``-``hidden`` with LeakyReLU(0.2), one linear score. Each batch takes
    ``n_critic`` critic steps on loss mean D(G(z, c)) - mean D(x) + ``gp_weight`` * GP, where
    GP = mean (|grad D at random interpolates| - 1)^2, then one generator step on -mean D(G(z, c)).
    Both optimisers are Adam with betas (0.5, 0.9).
    """

    def __init__(
        self,
        n_features: int,
        n_conditions: int = 1,
        latent_dim: int = 8,
        hidden: int = 64,
        n_critic: int = 5,
        gp_weight: float = 10.0,
    ):
        super().__init__()
        self.sample_shape = (check_positive_int(n_features, "n_features"),)
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.n_critic = check_positive_int(n_critic, "n_critic")
        self.gp_weight = check_non_negative(gp_weight, "gp_weight")
        hidden = check_positive_int(hidden, "hidden")
        self.generator = keras.Sequential(
            [
                layers.Dense(hidden, activation="relu"),
                layers.Dense(hidden, activation="relu"),
                layers.Dense(n_features),
            ]
        )
        self.critic = keras.Sequential(
            [
                layers.Dense(hidden),
                layers.LeakyReLU(negative_slope=0.2),
                layers.Dense(hidden),
                layers.LeakyReLU(negative_slope=0.2),
                layers.Dense(1),
            ]
        )
        self.generator.build((None, self.latent_dim + self.n_conditions))
        self.critic.build((None, n_features + self.n_conditions))

    def decode_samples(self, z, c):
        """Generated samples (N, n_features) for latent vectors z and conditions c."""
        return self.generator(tf.concat([z, c], axis=1))

    def call(self, x, c, training=False):
        """Critic scores (N, 1) of samples ``x`` with conditions ``c``."""
        return self.critic(tf.concat([x, c], axis=1), training=training)

    def configure_optimizers(self, lr, weight_decay=0.0):
        groups = {}
        for name, part in (("critic", self.critic), ("generator", self.generator)):
            opt_class = keras.optimizers.AdamW if weight_decay else keras.optimizers.Adam
            extra = {"weight_decay": weight_decay} if weight_decay else {}
            opt = opt_class(learning_rate=lr, beta_1=0.5, beta_2=0.9, **extra)
            groups[name] = (opt, list(part.trainable_variables))
        return groups

    def _fake(self, c):
        return self.decode_samples(self.normal_noise(c, (tf.shape(c)[0], self.latent_dim)), c)

    def training_loss(self, x, c, training=False):
        """Critic loss of a batch, with the Wasserstein estimate and the gradient penalty."""
        fake = tf.stop_gradient(self._fake(c))
        eps = self.uniform_noise(x, (tf.shape(x)[0], 1))
        mixed = eps * x + (1 - eps) * fake
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            score = tf.reduce_sum(self(mixed, c, training=training))
        grad = tape.gradient(score, mixed)
        penalty = tf.reduce_mean(tf.square(tf.norm(grad, axis=1) - 1))
        distance = tf.reduce_mean(self(x, c, training=training)) - tf.reduce_mean(
            self(fake, c, training=training)
        )
        return -distance + self.gp_weight * penalty, {
            "wasserstein": distance,
            "gradient_penalty": penalty,
        }

    def training_step(self, x, c, optimizers):
        critic_opt, generator_opt = optimizers["critic"], optimizers["generator"]
        critic_vars = self.critic.trainable_variables
        generator_vars = self.generator.trainable_variables
        for _ in range(self.n_critic):
            with tf.GradientTape() as tape:
                loss, metrics = self.training_loss(x, c, training=True)
            critic_opt.apply_gradients(
                zip(tape.gradient(loss, critic_vars), critic_vars, strict=True)
            )
        with tf.GradientTape() as tape:
            generator_loss = -tf.reduce_mean(self(self._fake(c), c, training=True))
        grads = tape.gradient(generator_loss, generator_vars)
        generator_opt.apply_gradients(zip(grads, generator_vars, strict=True))
        return {"loss": loss, "generator_loss": generator_loss, **metrics}
