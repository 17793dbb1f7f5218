"""Chapters A/B model (Keras 3): a conditional VAE of 1-D galaxy spectra with a learned noise.

Twin of ``a3net.torch.spectra_vae``: same name, arguments and parameter count, and the same
outputs with the same weights. Spectra x are (N, n_bins), made (N, n_bins, 1) channels last
inside; the strided convolutions pad 2 bins on both sides explicitly and convolve 'valid', as
PyTorch does (Keras' 'same' with stride 2 pads one bin more at the end than at the start).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import layers

from .._engine import checks
from .._engine.vae import LearnedNoiseSteps
from .core import ConditionalGenerator

_LOG_2PI = math.log(2 * math.pi)


def _init_conv1d_like_torch(model) -> None:
    """Conv1D kernels and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default
    (``init_like_torch`` of ``a3net.keras.core`` does the Dense and Conv2D layers)."""
    pending = list(model.layers)
    while pending:
        layer = pending.pop()
        if isinstance(layer, keras.Sequential):
            pending += layer.layers
        elif isinstance(layer, layers.Conv1D):
            bound = 1 / math.sqrt(math.prod(layer.kernel.shape[:-1]))  # (k, in, out)
            for weight in (layer.kernel, layer.bias):
                weight.assign(keras.random.uniform(weight.shape, -bound, bound))


class SpectrumCVAE(LearnedNoiseSteps, ConditionalGenerator):
    """Conditional VAE (Sohn et al. 2015) of spectra with a learned global noise (sigma-VAE).

    Encoder q(z | x, c): the spectrum (N, n_bins) as one channel through three stride-2
    convolutions (kernel 5; channels/4, channels/2, channels wide; n_bins -> n_bins/8),
    flattened, joined with c, a dense ``hidden`` layer, then mean and log-variance
    (N, latent_dim). Decoder p(x | z, c): dense layers from [z, c] to ``hidden`` and to
    (channels, n_bins/8), three stages of (nearest upsampling x2, convolution, kernel 5; channels,
    channels/2, channels/4 wide), a last convolution to one channel: the mean spectrum mu
    (N, n_bins).

    Likelihood: x ~ N(mu, sigma^2) in every bin with one learned global log sigma (Rybkin et al.
    2021), so the reconstruction term per spectrum is the Gaussian negative log-likelihood
    sum_bins [0.5 (x - mu)^2 / sigma^2 + log sigma + 0.5 log 2 pi] (nats). Sigma settles at the
    rms reconstruction error, which weighs the KL term against the data without tuning ``beta``
    (kept, default 1). Loss = reconstruction + beta KL(q || N(0, 1)), batch means. Log sigma has
    its own Adam optimiser, ``sigma_lr_factor`` times the learning rate and no weight decay, so
    it reaches the noise level within a few hundred steps. Metrics: reconstruction, kl, sigma.
    """

    def __init__(
        self,
        n_bins: int = 256,
        n_conditions: int = 4,
        latent_dim: int = 8,
        channels: int = 32,
        hidden: int = 128,
        beta: float = 1.0,
    ):
        super().__init__()
        n_bins, channels, hidden = checks.spectrum_cvae(
            self, n_bins, n_conditions, latent_dim, channels, hidden, beta
        )
        self.length = length = n_bins // 8  # bins after three 2x downsamplings
        c1, c2, c3 = channels // 4, channels // 2, channels
        self.encoder = keras.Sequential(
            [
                layers.Reshape((n_bins, 1)),  # (N, n_bins, 1)
                layers.ZeroPadding1D(2),
                layers.Conv1D(c1, 5, strides=2, activation="relu"),  # n_bins -> n_bins/2
                layers.ZeroPadding1D(2),
                layers.Conv1D(c2, 5, strides=2, activation="relu"),  # -> n_bins/4
                layers.ZeroPadding1D(2),
                layers.Conv1D(c3, 5, strides=2, activation="relu"),  # -> n_bins/8
                layers.Flatten(),  # (N, n_bins/8 * channels)
            ]
        )
        self.enc_dense = layers.Dense(hidden, activation="relu")
        self.to_mean = layers.Dense(self.latent_dim)
        self.to_logvar = layers.Dense(self.latent_dim)
        self.dec_dense = keras.Sequential(
            [
                layers.Dense(hidden, activation="relu"),
                layers.Dense(c3 * length, activation="relu"),
                layers.Reshape((length, c3)),  # (N, n_bins/8, channels)
            ]
        )
        self.decoder = keras.Sequential(
            [
                layers.UpSampling1D(2),  # -> n_bins/4
                layers.Conv1D(c3, 5, padding="same", activation="relu"),
                layers.UpSampling1D(2),  # -> n_bins/2
                layers.Conv1D(c2, 5, padding="same", activation="relu"),
                layers.UpSampling1D(2),  # -> n_bins
                layers.Conv1D(c1, 5, padding="same", activation="relu"),
                layers.Conv1D(1, 5, padding="same"),  # the mean spectrum, one channel
                layers.Flatten(),  # (N, n_bins)
            ]
        )
        # global noise, in units of the flux
        self.log_sigma = self.add_weight(shape=(), initializer="zeros", name="log_sigma")
        self._build_with_zeros(tf.zeros((1, self.n_conditions)))
        _init_conv1d_like_torch(self)

    @property
    def sigma(self) -> float:
        """The learned noise sigma per bin, in the units of the (normalised) flux."""
        return float(keras.ops.convert_to_numpy(keras.ops.exp(self.log_sigma)))

    def encode(self, x, c):
        """Mean and log-variance of q(z | x, c), each (N, latent_dim)."""
        h = self.enc_dense(tf.concat([self.encoder(x), c], axis=1))
        return self.to_mean(h), self.to_logvar(h)

    def decode(self, z, c):
        """Mean spectrum mu (N, n_bins) of p(x | z, c)."""
        return self.decoder(self.dec_dense(tf.concat([z, c], axis=1)))

    def decode_samples(self, z, c):
        """The decoder mean (N, n_bins): the spectra ``generate`` draws for prior z."""
        return self.decode(z, c)

    def call(self, x, c, training=False):
        """Reconstruction mu, mean and log-variance for spectra ``x`` with conditions ``c``."""
        mean, logvar = self.encode(x, c)
        z = mean + self.normal_noise(mean) * tf.exp(0.5 * logvar)
        return self.decode(z, c), mean, logvar

    def training_loss(self, x, c, training=False):
        mu, mean, logvar = self(x, c, training=training)
        log_sigma = tf.cast(self.log_sigma, tf.float32)
        squared = tf.reduce_mean(tf.reduce_sum(tf.square(x - tf.cast(mu, tf.float32)), axis=1))
        n_bins = tf.cast(tf.shape(x)[1], tf.float32)
        rec = 0.5 * squared * tf.exp(-2 * log_sigma) + n_bins * (log_sigma + 0.5 * _LOG_2PI)
        kl = tf.reduce_mean(
            -0.5 * tf.reduce_sum(1 + logvar - tf.square(mean) - tf.exp(logvar), axis=1)
        )
        sigma = tf.stop_gradient(tf.exp(log_sigma))
        return rec + self.beta * kl, {"reconstruction": rec, "kl": kl, "sigma": sigma}
