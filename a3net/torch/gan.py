"""A small conditional Wasserstein GAN with gradient penalty (PyTorch), for 1-D samples.

It is the model that shows a3net's training hooks at work: two optimisers (critic and
generator) and ``n_critic`` critic steps per generator step, trained by the common ``fit``.
The Keras twin in ``a3net.keras.gan`` has the same name, arguments and parameter count.
"""

from __future__ import annotations

import torch
from torch import nn

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
        self.generator = nn.Sequential(
            nn.Linear(self.latent_dim + self.n_conditions, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_features),
        )
        self.critic = nn.Sequential(
            nn.Linear(n_features + self.n_conditions, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def decode_samples(self, z, c):
        """Generated samples (N, n_features) for latent vectors z and conditions c."""
        return self.generator(torch.cat([z, c], dim=1))

    def forward(self, x, c):
        """Critic scores (N, 1) of samples ``x`` with conditions ``c``."""
        return self.critic(torch.cat([x, c], dim=1))

    def configure_optimizers(self, lr, weight_decay=0.0):
        groups = {}
        for name, part in (("critic", self.critic), ("generator", self.generator)):
            params = list(part.parameters())
            opt = torch.optim.AdamW(params, lr=lr, betas=(0.5, 0.9), weight_decay=weight_decay)
            groups[name] = (opt, params)
        return groups

    def _fake(self, c):
        return self.decode_samples(self.normal_noise(c, (len(c), self.latent_dim)), c)

    def training_loss(self, x, c, training=False):
        """Critic loss of a batch, with the Wasserstein estimate and the gradient penalty."""
        fake = self._fake(c).detach()
        eps = self.uniform_noise(x, (len(x), 1))
        with torch.enable_grad():  # the penalty needs input gradients, in evaluation too
            mixed = (eps * x + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(self(mixed, c).sum(), mixed, create_graph=training)
        penalty = ((grad.norm(dim=1) - 1) ** 2).mean()
        distance = self(x, c).mean() - self(fake, c).mean()
        return -distance + self.gp_weight * penalty, {
            "wasserstein": distance,
            "gradient_penalty": penalty,
        }

    def training_step(self, x, c, optimizers):
        critic_opt, generator_opt = optimizers["critic"], optimizers["generator"]
        for _ in range(self.n_critic):
            loss, metrics = self.training_loss(x, c, training=True)
            critic_opt.zero_grad(set_to_none=True)
            loss.backward()
            critic_opt.step()
        generator_loss = -self(self._fake(c), c).mean()
        generator_opt.zero_grad(set_to_none=True)
        generator_loss.backward()
        generator_opt.step()
        return {
            "loss": loss.detach(),
            "generator_loss": generator_loss.detach(),
            **{k: v.detach() for k, v in metrics.items()},
        }
