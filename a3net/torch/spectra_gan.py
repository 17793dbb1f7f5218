"""A conditional Wasserstein GAN of 1-D spectra with ResNet + CBAM blocks (PyTorch).

Chapter A's model (the student hack's WCGAN of SDSS spectra): convolutional generator and critic
built from residual blocks (He et al. 2016) with 1-D CBAM attention (Woo et al. 2018), trained
as the original WGAN with weight clipping (Arjovsky et al. 2017) or with a gradient penalty
(Gulrajani et al. 2017), and an exponential moving average of the generator's weights (Yazici et
al. 2019) for drawing samples. The Keras twin in ``a3net.keras.spectra_gan`` has the same
names, arguments and parameter counts.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .._engine.gan import WassersteinSteps
from .._validation import check_positive_int, check_rate
from .core import ConditionalGenerator


class CBAM1d(nn.Module):
    """1-D Convolutional Block Attention Module (Woo et al. 2018) on features (N, C, L).

    Channel attention: sigmoid(MLP(mean over L) + MLP(max over L)), one shared MLP C -> C //
    ``reduction`` (at least 1 unit) -> C with ReLU; then spatial attention: sigmoid of a conv1d
    (``kernel_size``, 2 -> 1 channel) over [mean, max] across channels. Output (N, C, L).
    """

    def __init__(self, channels: int, reduction: int = 8, kernel_size: int = 7):
        super().__init__()
        channels = check_positive_int(channels, "channels")
        units = max(1, channels // check_positive_int(reduction, "reduction"))
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}.")
        self.mlp = nn.Sequential(nn.Linear(channels, units), nn.ReLU(), nn.Linear(units, channels))
        self.spatial = nn.Conv1d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x):
        weights = torch.sigmoid(self.mlp(x.mean(dim=2)) + self.mlp(x.amax(dim=2)))
        x = x * weights[:, :, None]  # (N, C, L) scaled per channel
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(pooled))  # scaled per position


class ResidualCBAM1d(nn.Module):
    """Residual block with CBAM (He et al. 2016; Woo et al. 2018) on features (N, C, L):
    act(x + CBAM(conv(act(conv(x))))), two k=3 'same' convolutions of ``channels`` channels;
    act is LeakyReLU(``negative_slope``), i.e. ReLU for 0. Output (N, C, L)."""

    def __init__(self, channels: int, negative_slope: float = 0.0, reduction: int = 8):
        super().__init__()
        channels = check_positive_int(channels, "channels")
        slope = check_rate(negative_slope, "negative_slope")
        self.conv1 = nn.Conv1d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)
        self.attention = CBAM1d(channels, reduction)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x):
        return self.act(x + self.attention(self.conv2(self.act(self.conv1(x)))))


class FiLM1d(nn.Module):
    """Feature-wise linear modulation (Perez et al. 2018) of features h (N, C, L) by conditions
    c (N, n_conditions): h * (1 + gamma(c)) + beta(c), gamma and beta linear maps (with bias)
    of c to C channels, the same at every position."""

    def __init__(self, n_conditions: int, channels: int):
        super().__init__()
        self.gamma = nn.Linear(check_positive_int(n_conditions, "n_conditions"), channels)
        self.beta = nn.Linear(n_conditions, check_positive_int(channels, "channels"))

    def forward(self, h, c):
        return h * (1 + self.gamma(c)[:, :, None]) + self.beta(c)[:, :, None]


class ConditionedSequential(nn.Sequential):
    """A Sequential of layers whose input's last ``n_conditions`` columns are the conditions c:
    its FiLM1d layers get (h, c), every other layer h alone."""

    def __init__(self, n_conditions: int, *stack):
        super().__init__(*stack)
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")

    def forward(self, inputs):
        c, h = inputs[:, -self.n_conditions :], inputs
        for layer in self:
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
        self.generator = ConditionedSequential(
            self.n_conditions,
            nn.Linear(g_inputs, hidden),
            nn.ReLU(),
            nn.Linear(hidden, channels * (n_bins // 8)),
            nn.ReLU(),
            nn.Unflatten(1, (channels, n_bins // 8)),
            *[
                layer
                for _ in range(3)  # n_bins/8 -> n_bins/4 -> n_bins/2 -> n_bins
                for layer in (
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv1d(channels, channels, 3, padding=1),
                    *([FiLM1d(self.n_conditions, channels)] if film else []),
                    nn.ReLU(),
                    ResidualCBAM1d(channels),
                )
            ],
            nn.Conv1d(channels, 1, 3, padding=1),
            nn.Flatten(),  # (N, n_bins)
        )
        self.critic = nn.Sequential(
            nn.Unflatten(1, (1, n_bins)),
            nn.Conv1d(1, channels, 3, padding=1),
            nn.LeakyReLU(0.2),
            *[
                layer
                for _ in range(3)  # n_bins -> n_bins/2 -> n_bins/4 -> n_bins/8
                for layer in (
                    ResidualCBAM1d(channels, negative_slope=0.2),
                    nn.Conv1d(channels, channels, 4, stride=2, padding=1),
                    nn.LeakyReLU(0.2),
                )
            ],
            nn.Flatten(),  # (N, channels * n_bins/8), channels first
        )
        self.critic_head = nn.Sequential(
            nn.Linear(d_inputs, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        )
        if film:  # the projection critic's embedding of the conditions
            self.projection = nn.Linear(self.n_conditions, hidden, bias=False)
        self.average_generator = copy.deepcopy(self.generator).requires_grad_(False)
        self.register_buffer("average_steps", torch.zeros(()))

    def forward(self, x, c):
        """Critic scores (N, 1) of spectra ``x`` (N, n_bins) with conditions ``c``."""
        h = self.critic(x)
        if self.conditioning == "projection":
            phi = self.critic_head[1](self.critic_head[0](h))  # (N, hidden)
            return self.critic_head[2](phi) + (self.projection(c) * phi).sum(1, keepdim=True)
        return self.critic_head(torch.cat([h, c], dim=1) if self.conditioning == "both" else h)

    def _repeat_indexed(self, n, body, initial):
        """``body(i)`` for i = 0 .. n - 1; returns its last value."""
        value = initial
        for i in range(n):
            value = body(i)
        return value

    def _chunk_size(self, x, n):
        return max(len(x) // n, 1)

    @torch.no_grad()
    def _update_average(self):
        t = self.average_steps
        decay = torch.clamp((1 + t) / (10 + t), max=self.ema_decay)
        average, raw = list(self.average_generator.parameters()), list(self.generator.parameters())
        torch._foreach_lerp_(average, raw, 1 - decay)  # a <- a + (1 - d)(p - a)
        t += 1
