"""The sigma-VAE's optimisers and batch step, written once for both frameworks' SpectrumCVAE.

The network's weights take Adam(W) at the learning rate; the learned global log sigma
(``log_sigma``) its own Adam at ``sigma_lr_factor`` times it, without weight decay; one gradient
of the loss steps both.
"""

from __future__ import annotations


class LearnedNoiseSteps:
    """``configure_optimizers`` and ``training_step`` of a VAE with a learned ``log_sigma``."""

    sigma_lr_factor = 10.0

    def _network_parameters(self) -> list:
        """The trainable parameters other than log sigma: the encoder's and the decoder's."""
        return [p for p in self._parameters_of(self) if p is not self.log_sigma]

    def configure_optimizers(self, lr, weight_decay=0.0):
        params, sigma = self._network_parameters(), [self.log_sigma]
        return {
            "model": (self._optimizer(params, lr, weight_decay=weight_decay), params),
            "sigma": (self._optimizer(sigma, lr * self.sigma_lr_factor), sigma),
        }

    def training_step(self, x, c, optimizers):
        groups = [
            (optimizers["model"], self._network_parameters()),
            (optimizers["sigma"], [self.log_sigma]),
        ]
        loss, metrics = self._gradient_step(groups, lambda: self.training_loss(x, c, training=True))
        return {"loss": loss, **metrics}
