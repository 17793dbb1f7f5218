"""Chapters A/B model (PyTorch): a conditional VAE of 1-D galaxy spectra with a learned noise.

Spectra x are (N, n_bins) float32 rest-frame fluxes, already normalised; conditions c are
(N, n_conditions) standardised labels (z, log10 age, log10 Z, log10 smass in the notebook). The
Keras twin in ``a3net.keras.spectra_vae`` has the same name, arguments and parameter count, and
the same outputs with the same weights.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._engine import checks
from .._engine.vae import LearnedNoiseSteps
from .core import ConditionalGenerator

_LOG_2PI = math.log(2 * math.pi)


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
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, n_bins)),  # (N, 1, n_bins)
            nn.Conv1d(1, c1, 5, stride=2, padding=2),  # n_bins -> n_bins/2
            nn.ReLU(),
            nn.Conv1d(c1, c2, 5, stride=2, padding=2),  # -> n_bins/4
            nn.ReLU(),
            nn.Conv1d(c2, c3, 5, stride=2, padding=2),  # -> n_bins/8
            nn.ReLU(),
            nn.Flatten(),  # (N, channels * n_bins/8)
        )
        self.enc_dense = nn.Sequential(
            nn.Linear(c3 * length + self.n_conditions, hidden), nn.ReLU()
        )
        self.to_mean = nn.Linear(hidden, self.latent_dim)
        self.to_logvar = nn.Linear(hidden, self.latent_dim)
        self.dec_dense = nn.Sequential(
            nn.Linear(self.latent_dim + self.n_conditions, hidden),
            nn.ReLU(),
            nn.Linear(hidden, c3 * length),
            nn.ReLU(),
            nn.Unflatten(1, (c3, length)),  # (N, channels, n_bins/8)
        )
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),  # -> n_bins/4
            nn.Conv1d(c3, c3, 5, padding=2),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),  # -> n_bins/2
            nn.Conv1d(c3, c2, 5, padding=2),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),  # -> n_bins
            nn.Conv1d(c2, c1, 5, padding=2),
            nn.ReLU(),
            nn.Conv1d(c1, 1, 5, padding=2),  # the mean spectrum, one channel
            nn.Flatten(),  # (N, n_bins)
        )
        self.log_sigma = nn.Parameter(torch.zeros(()))  # global noise, in units of the flux

    @property
    def sigma(self) -> float:
        """The learned noise sigma per bin, in the units of the (normalised) flux."""
        return float(self.log_sigma.detach().exp())

    def encode(self, x, c):
        """Mean and log-variance of q(z | x, c), each (N, latent_dim)."""
        h = self.enc_dense(torch.cat([self.encoder(x), c], dim=1))
        return self.to_mean(h), self.to_logvar(h)

    def decode(self, z, c):
        """Mean spectrum mu (N, n_bins) of p(x | z, c)."""
        return self.decoder(self.dec_dense(torch.cat([z, c], dim=1)))

    def decode_samples(self, z, c):
        """The decoder mean (N, n_bins): the spectra ``generate`` draws for prior z."""
        return self.decode(z, c)

    def forward(self, x, c):
        """Reconstruction mu, mean and log-variance for spectra ``x`` with conditions ``c``."""
        mean, logvar = self.encode(x, c)
        z = mean + self.normal_noise(mean) * torch.exp(0.5 * logvar)
        return self.decode(z, c), mean, logvar

    def training_loss(self, x, c, training=False):
        mu, mean, logvar = self(x, c)
        log_sigma = self.log_sigma.float()
        squared = ((x - mu.float()) ** 2).sum(dim=1).mean()
        rec = 0.5 * squared * torch.exp(-2 * log_sigma) + x.shape[1] * (log_sigma + 0.5 * _LOG_2PI)
        kl = (-0.5 * (1 + logvar - mean**2 - logvar.exp()).sum(dim=1)).mean()
        sigma = torch.exp(log_sigma).detach()
        return rec + self.beta * kl, {"reconstruction": rec, "kl": kl, "sigma": sigma}
