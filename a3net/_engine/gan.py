"""The conditional WGAN's training, written once for both frameworks' ``SpectrumWGAN``.

The model class supplies its layers (``generator``, ``average_generator``, ``critic``,
``critic_head``), its critic's forward pass and ``_update_average`` (the moving average of the
generator's weights); :class:`WassersteinSteps` supplies the rest over the primitives of
``a3net._engine.contract.ModelContract``: the argument checks, the optimisers, the latent draws,
the critic loss with its gradient penalty and the batch step of ``n_critic`` critic steps and one
generator step (Arjovsky et al. 2017; Gulrajani et al. 2017).
"""

from __future__ import annotations

from .._validation import check_non_negative, check_option, check_positive_int, check_rate
from .checks import _conv_stack, _dense_stack, check_model_size
from .latent import LATENT_NOISES

CONDITIONINGS = ("both", "generator", "none")


class WassersteinSteps:
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
        self.sample_shape = (n_bins,)
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
        stacks = (  # the generator (twice: the average), its upsampling convolutions, the critic
            _dense_stack(g_inputs, (hidden, channels * (n_bins // 8))),
            _dense_stack(g_inputs, (hidden, channels * (n_bins // 8))),
            _conv_stack(channels, n_bins, (channels,) * 3, convs=3, dims=1),
            _conv_stack(channels, n_bins, (channels,) * 3, convs=3, dims=1),
            _dense_stack(d_inputs, (hidden, 1)),
        )
        check_model_size(self, sum(w for w, _ in stacks), sum(v for _, v in stacks))
        return n_bins, hidden, channels, g_inputs, d_inputs

    def _generator_input(self, z, c):
        return z if self.conditioning == "none" else self._concat([z, c])

    def decode_samples(self, z, c):
        """Spectra (N, n_bins) for latent vectors z (N, latent_dim) and conditions c, from the
        averaged generator while ``use_average`` is True."""
        generator = self.average_generator if self.use_average else self.generator
        return generator(self._generator_input(z, c))

    def configure_optimizers(self, lr, weight_decay=0.0):
        """Critic and generator optimisers: RMSprop when clipping, else Adam(W) with betas
        (0.5, 0.9)."""
        critic = self._parameters_of(self.critic, self.critic_head)
        generator = self._parameters_of(self.generator)
        if self.clip_value is not None:
            if weight_decay:
                raise ValueError(
                    "weight_decay must be 0 with weight clipping (clip_value), got "
                    f"{weight_decay!r}; the clip already bounds the critic's weights."
                )
            options = dict(kind="rmsprop")
        else:
            options = dict(betas=(0.5, 0.9), weight_decay=weight_decay)
        return {
            "critic": (self._optimizer(critic, lr, **options), critic),
            "generator": (self._optimizer(generator, lr, **options), generator),
        }

    def _latent(self, c):
        """Latent draws (N, latent_dim) from the model's own stream, unit variance."""
        shape = (self._rows(c), self.latent_dim)
        if self.latent_noise == "uniform":
            return (2 * self.uniform_noise(c, shape) - 1) * 3**0.5
        return self.normal_noise(c, shape)

    def _fake(self, c, training=False):
        return self._call(
            self.generator, self._generator_input(self._latent(c), c), training=training
        )

    def _score(self, x, c, training=False):
        return self._call(self, x, c, training=training)

    def training_loss(self, x, c, training=False):
        """Critic loss of a batch, with the Wasserstein estimate and the gradient penalty (0
        when clipping)."""
        fake = self._stop_gradient(self._fake(c, training))
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

    def training_step(self, x, c, optimizers):
        """``n_critic`` critic steps (clipping the critic's weights after each when
        ``clip_value`` is set), then one generator step on -mean D(G(z)) and the average's."""
        critic = [(optimizers["critic"], self._parameters_of(self.critic, self.critic_head))]
        generator = [(optimizers["generator"], self._parameters_of(self.generator))]

        def critic_step():
            loss, metrics = self._gradient_step(
                critic, lambda: self.training_loss(x, c, training=True)
            )
            if self.clip_value is not None:
                self._clip(critic[0][1], self.clip_value)
            return loss, metrics

        zero = (0.0, {"wasserstein": 0.0, "gradient_penalty": 0.0})
        loss, metrics = self._repeat(self.n_critic, critic_step, zero)
        generator_loss, _ = self._gradient_step(
            generator, lambda: (-self._mean(self._score(self._fake(c, True), c, True)), {})
        )
        self._update_average()
        return {"loss": loss, "generator_loss": generator_loss, **metrics}
