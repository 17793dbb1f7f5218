"""The conditional WGAN's training, written once for both frameworks' ``SpectrumWGAN``.

The model class supplies its layers (``generator``, ``average_generator``, ``critic``,
``critic_head``), its critic's forward pass and ``_update_average`` (the moving average of the
generator's weights); :class:`WassersteinSteps` supplies the rest over the primitives of
``a3net._engine.contract.ModelContract``: the argument checks, the optimisers, the latent draws,
the critic loss with its gradient penalty and the batch step of ``n_critic`` critic steps and one
generator step (Arjovsky et al. 2017; Gulrajani et al. 2017).

The options of the literature's recipe live here too: the projection critic (Miyato & Koyama
2018) with a FiLM-conditioned generator (Perez et al. 2018), the noise-aware critic that sees
the generator's noiseless spectra with the real spectra's noise added, Adam's ``betas`` and
fresh real rows for every critic step (``fresh_batches``). Besides the contract's primitives,
the model class supplies ``_repeat_indexed`` (a loop whose body gets the step's index) and
``_chunk_size`` for the last one.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_non_negative, check_option, check_positive_int, check_rate
from .checks import _conv_stack, _dense_stack, check_model_size
from .latent import LATENT_NOISES, GeneratorDraws

CONDITIONINGS = ("both", "generator", "none", "projection")


def check_betas(betas) -> tuple[float, float]:
    """Adam's (beta_1, beta_2) as two floats in [0, 1)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise ValueError(
            f"betas must be a pair (beta_1, beta_2) such as (0.0, 0.9), got {betas!r}."
        )
    return tuple(check_rate(b, f"betas[{i}]") for i, b in enumerate(betas))


def check_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}.")
    return bool(value)


class WassersteinSteps(GeneratorDraws):
    """Critic and generator steps of a conditional WGAN (weight clipping or gradient penalty)."""

    def _check_wgan_arguments(
        self,
        n_bins,
        n_conditions,
        latent_dim,
        hidden,
        channels,
        n_critic,
        gp_weight,
        clip_value,
        noise,
        conditioning,
        ema_decay,
        noise_aware=False,
        betas=(0.5, 0.9),
        fresh_batches=False,
    ) -> tuple[int, int, int, int, int]:
        """Check the constructor's arguments and keep them on the model; returns ``n_bins``,
        ``hidden``, ``channels`` and the widths of the generator's and the critic head's
        inputs."""
        n_bins = check_positive_int(n_bins, "n_bins", minimum=8)
        if n_bins % 8:
            raise ValueError(
                f"n_bins must be a multiple of 8 (three x2 up/downsamplings), got {n_bins}; "
                "resample the spectra onto such a grid."
            )
        self.n_bins = n_bins
        self.noise_aware = check_flag(noise_aware, "noise_aware")
        self.sample_shape = (2, n_bins) if self.noise_aware else (n_bins,)
        self.betas = check_betas(betas)
        self.fresh_batches = check_flag(fresh_batches, "fresh_batches")
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")
        self.conditioning = check_option(conditioning, "conditioning", CONDITIONINGS)
        self.latent_noise = check_option(noise, "noise", LATENT_NOISES)
        self.latent_dim = check_positive_int(
            latent_dim, "latent_dim", minimum=1 if conditioning == "none" else 0
        )
        self.n_critic = check_positive_int(n_critic, "n_critic")
        self.gp_weight = check_non_negative(gp_weight, "gp_weight")
        self.clip_value = (
            None if clip_value is None else check_non_negative(clip_value, "clip_value")
        )
        if self.clip_value == 0:
            raise ValueError("clip_value must be positive (or None for the gradient penalty).")
        self.ema_decay = check_rate(ema_decay, "ema_decay")
        self.use_average = True
        hidden = check_positive_int(hidden, "hidden")
        channels = check_positive_int(channels, "channels")
        g_inputs = self.latent_dim + (self.n_conditions if conditioning != "none" else 0)
        d_inputs = channels * (n_bins // 8) + (self.n_conditions if conditioning == "both" else 0)
        film = 2 * (self.n_conditions + 1) * channels if conditioning == "projection" else 0
        stacks = (  # the generator (twice: the average), its upsampling convolutions, the critic
            _dense_stack(g_inputs, (hidden, channels * (n_bins // 8))),
            _dense_stack(g_inputs, (hidden, channels * (n_bins // 8))),
            _conv_stack(channels, n_bins, (channels,) * 3, convs=3, dims=1),
            _conv_stack(channels, n_bins, (channels,) * 3, convs=3, dims=1),
            _dense_stack(d_inputs, (hidden, 1)),
            (2 * 3 * film + self.n_conditions * hidden, 0),  # FiLM (twice), the projection
        )
        check_model_size(self, sum(w for w, _ in stacks), sum(v for _, v in stacks))
        return n_bins, hidden, channels, g_inputs, d_inputs

    def _generator_input(self, z, c):
        return z if self.conditioning == "none" else self._concat([z, c])

    def _critic_parts(self) -> list:
        """The critic's layers: its features, its head and, for the projection critic, the
        embedding of the conditions."""
        parts = [self.critic, self.critic_head]
        return parts + [self.projection] if self.conditioning == "projection" else parts

    def check_inputs(self, x, name: str = "x"):
        """``x`` as float32 (N, n_bins), or (N, 2, n_bins) [flux, sigma] when ``noise_aware``;
        a clear error for the other layout."""
        shape = getattr(x, "shape", None)
        if isinstance(shape, tuple) and shape[1:] != tuple(self.sample_shape):
            if self.noise_aware:
                raise ValueError(
                    f"{name} must have shape (N, 2, {self.n_bins}) for a noise-aware "
                    f"{type(self).__name__}: {name}[:, 0] the flux and {name}[:, 1] its noise "
                    f"sigma in the same units; got {shape}. Stack them with "
                    "np.stack([flux, sigma], axis=1), or build the model with noise_aware=False."
                )
            if shape[1:] == (2, self.n_bins):
                raise ValueError(
                    f"{name} has shape {shape}, [flux, sigma] pairs, but this "
                    f"{type(self).__name__} is not noise-aware: pass the flux {name}[:, 0] "
                    f"(N, {self.n_bins}) alone, or build the model with noise_aware=True."
                )
        x = super().check_inputs(x, name)
        if self.noise_aware and not (x[:, 1] >= 0).all():
            raise ValueError(
                f"{name}[:, 1] holds the noise sigma of each pixel: it must be finite and "
                "non-negative (give masked pixels a large sigma, or drop those spectra)."
            )
        return x

    def _flux_and_sigma(self, x):
        """The flux (N, n_bins) the critic sees and its sigma (None unless noise-aware)."""
        return (x[:, 0], x[:, 1]) if self.noise_aware else (x, None)

    def _observed(self, spectra, sigma):
        """Noiseless ``spectra`` as observed: plus sigma * N(0, 1) when noise-aware."""
        return spectra if sigma is None else spectra + sigma * self.normal_noise(spectra)

    def decode_samples(self, z, c):
        """Spectra (N, n_bins) for latent vectors z (N, latent_dim) and conditions c, from the
        averaged generator while ``use_average`` is True (noiseless when noise-aware)."""
        generator = self.average_generator if self.use_average else self.generator
        return generator(self._generator_input(z, c))

    def configure_optimizers(self, lr, weight_decay=0.0):
        """Critic and generator optimisers: RMSprop when clipping, else Adam(W) with the model's
        ``betas`` (default (0.5, 0.9))."""
        critic = self._parameters_of(*self._critic_parts())
        generator = self._parameters_of(self.generator)
        if self.clip_value is not None:
            if weight_decay:
                raise ValueError(
                    "weight_decay must be 0 with weight clipping (clip_value), got "
                    f"{weight_decay!r}; the clip already bounds the critic's weights."
                )
            options = dict(kind="rmsprop")
        else:
            options = dict(betas=self.betas, weight_decay=weight_decay)
        return {
            "critic": (self._optimizer(critic, lr, **options), critic),
            "generator": (self._optimizer(generator, lr, **options), generator),
        }

    def training_loss(self, x, c, training=False):
        """Critic loss of a batch, with the Wasserstein estimate and the gradient penalty (0
        when clipping). Noise-aware: x is (N, 2, n_bins), and each fake spectrum gets the noise
        of the real one in its row."""
        x, sigma = self._flux_and_sigma(x)
        fake = self._stop_gradient(self._observed(self._fake(c, training), sigma))
        distance = self._mean(self._score(x, c, training)) - self._mean(
            self._score(fake, c, training)
        )
        if self.clip_value is not None:
            return -distance, {
                "wasserstein": distance,
                "gradient_penalty": self._zeros_like(distance),
            }
        eps = self.uniform_noise(x, (self._rows(x), 1))
        mixed = eps * x + (1 - eps) * fake
        grad = self._input_gradient(
            lambda m: self._sum(self._score(m, c, training)), mixed, create_graph=training
        )
        penalty = self._mean((self._row_norm(grad) - 1) ** 2)
        return -distance + self.gp_weight * penalty, {
            "wasserstein": distance,
            "gradient_penalty": penalty,
        }

    def _chunks(self, x):
        """``fresh_batches``: chunk(t, i), the rows of t that critic step i uses. The batch is
        cut into n_critic equal chunks of max(rows // n_critic, 1) rows (the rows left over are
        not used); a batch of fewer than n_critic rows gives chunks of one row, reused in
        turn."""
        size = self._chunk_size(x, self.n_critic)
        count = self._rows(x) // size

        def chunk(t, i):
            start = (i % count) * size
            return t[start : start + size]

        return chunk

    def training_step(self, x, c, optimizers):
        """``n_critic`` critic steps (clipping the critic's weights after each when
        ``clip_value`` is set), then one generator step on -mean D(G(z)) and the average's.
        With ``fresh_batches`` each critic step takes its own chunk of the batch (the fakes on
        that chunk's conditions) and the generator step the first chunk's conditions."""
        critic = [(optimizers["critic"], self._parameters_of(*self._critic_parts()))]
        generator = [(optimizers["generator"], self._parameters_of(self.generator))]

        def critic_step(xb, cb):
            loss, metrics = self._gradient_step(
                critic, lambda: self.training_loss(xb, cb, training=True)
            )
            if self.clip_value is not None:
                self._clip(critic[0][1], self.clip_value)
            return loss, metrics

        zero = (0.0, {"wasserstein": 0.0, "gradient_penalty": 0.0})
        if self.fresh_batches:
            chunk = self._chunks(x)
            loss, metrics = self._repeat_indexed(
                self.n_critic, lambda i: critic_step(chunk(x, i), chunk(c, i)), zero
            )
            x, c = chunk(x, 0), chunk(c, 0)
        else:
            loss, metrics = self._repeat(self.n_critic, lambda: critic_step(x, c), zero)
        sigma = self._flux_and_sigma(x)[1]

        def generator_loss():
            fake = self._observed(self._fake(c, True), sigma)
            return -self._mean(self._score(fake, c, True)), {}

        generator_loss, _ = self._gradient_step(generator, generator_loss)
        self._update_average()
        return {"loss": loss, "generator_loss": generator_loss, **metrics}
