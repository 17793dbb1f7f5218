"""The latent-space WGAN-GP's training, written once for both frameworks' ``LatentSpectrumWGAN``.

The model class supplies its layers (``generator``, ``average_generator``, ``critic``,
``critic_head`` and, for the projection critic, ``embedding``), its critic's forward pass,
``_update_average`` (the moving average of the generator's weights) and two primitives:
``_loop(n, body, initial)`` (``body(i, value)`` n times; a graph loop in Keras) and
``_critic_batch(x, c, i)`` (the i-th of the ``n_critic`` slices of a batch).
:class:`LatentWassersteinSteps` supplies the rest over the primitives of
``a3net._engine.contract.ModelContract``: the argument checks, the latent draws (``noise``), where
the conditions go (``conditioning``), the optimisers (Adam with betas (0, 0.9), Gulrajani et al.
2017), the critic loss with its gradient penalty and the batch step: ``n_critic`` critic steps,
each on its own slice of the batch, then one generator step. It is kept apart from
``a3net._engine.gan`` (SpectrumWGAN's steps, with another optimiser and options), so that either
can change without the other; the two share the meaning of ``noise`` and of the conditionings
they both have.
"""

from __future__ import annotations

from .._validation import check_non_negative, check_option, check_positive_int, check_rate
from .checks import _dense_stack, check_model_size
from .latent import LATENT_NOISES, GeneratorDraws

# where the conditions c go: "projection" (the generator's input and the critic's projection
# term), "generator" (the generator's input only: a blind critic), "none" (nowhere)
LATENT_CONDITIONINGS = ("generator", "none", "projection")


class LatentWassersteinSteps(GeneratorDraws):
    """Critic and generator steps of a conditional WGAN-GP on coefficient vectors (N, K)."""

    def _check_latent_wgan_arguments(
        self,
        n_features,
        n_conditions,
        latent_dim,
        hidden,
        n_critic,
        gp_weight,
        ema_decay,
        noise="normal",
        conditioning="projection",
    ) -> tuple[int, int, int]:
        """Check the constructor's arguments and keep them on the model; returns
        ``n_features``, ``hidden`` and the width of the generator's input."""
        n_features = check_positive_int(n_features, "n_features")
        self.sample_shape = (n_features,)
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")
        self.conditioning = check_option(conditioning, "conditioning", LATENT_CONDITIONINGS)
        self.latent_noise = check_option(noise, "noise", LATENT_NOISES)
        self.latent_dim = check_positive_int(latent_dim, "latent_dim", minimum=0)
        if self.latent_dim == 0 and conditioning == "none":
            raise ValueError(
                "latent_dim must be at least 1 with conditioning='none' (the noise is the "
                "generator's only input), got 0; latent_dim=0 makes the generator a function of "
                "the conditions, with conditioning 'generator' or 'projection'."
            )
        self.n_critic = check_positive_int(n_critic, "n_critic")
        self.gp_weight = check_non_negative(gp_weight, "gp_weight")
        self.ema_decay = check_rate(ema_decay, "ema_decay")
        self.use_average = True
        hidden = check_positive_int(hidden, "hidden")
        g_inputs = self.latent_dim + (self.n_conditions if conditioning != "none" else 0)
        stacks = (  # the generator (twice: the average), the critic, its head and embedding
            _dense_stack(g_inputs, (hidden, hidden, n_features)),
            _dense_stack(g_inputs, (hidden, hidden, n_features)),
            _dense_stack(n_features, (hidden, hidden, 1)),
            _dense_stack(self.n_conditions, (hidden,)) if conditioning == "projection" else (0, 0),
        )
        check_model_size(self, sum(w for w, _ in stacks), sum(v for _, v in stacks))
        return n_features, hidden, g_inputs

    def _generator_input(self, z, c):
        """The generator's input: [z, c], or z alone when ``conditioning`` is "none"."""
        return z if self.conditioning == "none" else self._concat([z, c])

    def _critic_parts(self) -> list:
        """The critic's layers: its features, its head and, for the projection critic, the
        embedding of the conditions."""
        parts = [self.critic, self.critic_head]
        return parts + [self.embedding] if self.conditioning == "projection" else parts

    def check_inputs(self, x, name: str = "x"):
        """``x`` as float32 (N, n_features), or a ValueError naming ``name``."""
        shape = getattr(x, "shape", None)
        k = self.sample_shape[0]
        if isinstance(shape, tuple) and len(shape) == 2 and shape[1] != k:
            raise ValueError(
                f"{name} must have shape (N, {k}): {k} coefficients per row (n_features={k}), "
                f"got {shape}; pass as many PCA coefficients as the model was built for."
            )
        return super().check_inputs(x, name)

    def decode_samples(self, z, c):
        """Coefficients (N, n_features) for latent vectors z (N, latent_dim) and conditions c,
        from the averaged generator while ``use_average`` is True."""
        generator = self.average_generator if self.use_average else self.generator
        return generator(self._generator_input(z, c))

    def configure_optimizers(self, lr, weight_decay=0.0):
        """Critic and generator optimisers: Adam(W) with betas (0.0, 0.9) (Gulrajani et al.
        2017)."""
        critic = self._parameters_of(*self._critic_parts())
        generator = self._parameters_of(self.generator)
        options = dict(betas=(0.0, 0.9), weight_decay=weight_decay)
        return {
            "critic": (self._optimizer(critic, lr, **options), critic),
            "generator": (self._optimizer(generator, lr, **options), generator),
        }

    def training_loss(self, x, c, training=False):
        """Critic loss of a batch: mean D(G(z, c), c) - mean D(x, c) + ``gp_weight`` * mean
        (|grad D at random interpolates| - 1)^2, with the Wasserstein estimate (the negated first
        part) and the penalty as metrics."""
        fake = self._stop_gradient(self._fake(c, training))
        distance = self._mean(self._score(x, c, training)) - self._mean(
            self._score(fake, c, training)
        )
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
        """``n_critic`` critic steps, the i-th on the i-th slice of the batch (ceil(rows /
        n_critic) rows, wrapping around in a short batch), then one generator step on -mean
        D(G(z, c), c) with the first slice's conditions, and the average's update. The critic's
        loss and metrics are their means over the critic steps."""
        critic = [(optimizers["critic"], self._parameters_of(*self._critic_parts()))]
        generator = [(optimizers["generator"], self._parameters_of(self.generator))]
        share = 1.0 / self.n_critic

        def critic_step(i, total):
            xi, ci = self._critic_batch(x, c, i)
            loss, metrics = self._gradient_step(
                critic, lambda: self.training_loss(xi, ci, training=True)
            )
            return {
                "loss": total["loss"] + share * loss,
                **{key: total[key] + share * value for key, value in metrics.items()},
            }

        zero = {"loss": 0.0, "wasserstein": 0.0, "gradient_penalty": 0.0}
        means = self._loop(self.n_critic, critic_step, zero)
        _, c0 = self._critic_batch(x, c, 0)
        generator_loss, _ = self._gradient_step(
            generator, lambda: (-self._mean(self._score(self._fake(c0, True), c0, True)), {})
        )
        self._update_average()
        return {**means, "generator_loss": generator_loss}
