"""A conditional WGAN-GP in a learned latent space: PCA coefficients of spectra (PyTorch).

A cheap generator for a CPU: it draws K whitened principal-component coefficients (K about 8 to
24, e.g. ``SpectrumFeatures(K).transform(spectra)``) instead of the B bins of a spectrum, and
``SpectrumFeatures.inverse_transform`` turns its draws back into spectra. Small MLPs, a
projection critic (Miyato & Koyama 2018), the gradient penalty and Adam(0, 0.9) of Gulrajani et
al. (2017), and a moving average of the generator's weights (Yazici et al. 2019) for drawing.
The Keras twin in ``a3net.keras.spectra_latent`` has the same names, arguments and parameter
counts.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .._engine.latent_gan import LatentWassersteinSteps
from .core import ConditionalGenerator


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
        self.generator = nn.Sequential(
            nn.Linear(g_inputs, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, n_features),
        )
        self.critic = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
        )
        self.critic_head = nn.Linear(hidden, 1)
        if conditioning == "projection":  # the critic's embedding of the conditions
            self.embedding = nn.Linear(self.n_conditions, hidden, bias=False)
        self.average_generator = copy.deepcopy(self.generator).requires_grad_(False)
        self.register_buffer("average_steps", torch.zeros(()))

    def forward(self, x, c):
        """Critic scores (N, 1) of coefficients ``x`` (N, n_features) with conditions ``c`` (not
        used by a blind critic: conditioning "generator" or "none")."""
        h = self.critic(x)
        if self.conditioning != "projection":
            return self.critic_head(h)
        return self.critic_head(h) + (self.embedding(c) * h).sum(dim=1, keepdim=True)

    def _optimizer(self, parameters, lr, *, weight_decay=0.0, kind="adam", betas=(0.9, 0.999)):
        # A3Model's, with PyTorch's fused AdamW kernel on CPU and CUDA (the same update): on a
        # CPU, the per-tensor Adam was a quarter of a step of these small MLPs, the fused one is
        # about 3x faster
        parameters = list(parameters)
        if kind == "adam" and all(p.device.type in ("cpu", "cuda") for p in parameters):
            return torch.optim.AdamW(
                parameters, lr=lr, betas=betas, weight_decay=weight_decay, fused=True
            )
        return super()._optimizer(parameters, lr, weight_decay=weight_decay, kind=kind, betas=betas)

    def _loop(self, n, body, initial):
        value = initial
        for i in range(n):
            value = body(i, value)
        return value

    def _critic_batch(self, x, c, i):
        rows = len(x)
        size = -(-rows // self.n_critic)
        if rows == size * self.n_critic:  # the usual case: contiguous slices, no copy
            return x[i * size : (i + 1) * size], c[i * size : (i + 1) * size]
        idx = (i * size + torch.arange(size, device=x.device)) % rows
        return x[idx], c[idx]

    @torch.no_grad()
    def _update_average(self):
        t = self.average_steps
        decay = torch.clamp((1 + t) / (10 + t), max=self.ema_decay)
        average, raw = list(self.average_generator.parameters()), list(self.generator.parameters())
        torch._foreach_lerp_(average, raw, 1 - decay)  # a <- a + (1 - d)(p - a)
        t += 1
