"""Latent vectors of generative models, drawn with NumPy: both frameworks decode the same z."""

from __future__ import annotations

import numpy as np

LATENT_NOISES = ("normal", "uniform")


def latent_draws(n: int, latent_dim: int, seed: int, noise: str = "normal") -> np.ndarray:
    """Latent vectors (n, latent_dim) float32 from NumPy, the same in both frameworks.

    ``noise`` is ``"normal"`` (standard normal) or ``"uniform"`` (uniform on [-sqrt(3), sqrt(3)],
    zero mean and unit variance like the normal draws).
    """
    if noise not in LATENT_NOISES:
        raise ValueError(
            f"noise must be one of {', '.join(map(repr, LATENT_NOISES))}, got {noise!r}."
        )
    rng = np.random.default_rng(seed)
    if noise == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), (n, latent_dim)).astype(np.float32)
    return rng.standard_normal((n, latent_dim)).astype(np.float32)


def latent_vectors(model, n: int, seed: int, latent=None) -> np.ndarray:
    """The latent vectors ``generate`` decodes: ``latent`` checked as (n, latent_dim) float32,
    or ``latent_draws`` of the model's noise kind seeded with ``seed``."""
    if latent is None:
        return latent_draws(n, model.latent_dim, seed, getattr(model, "latent_noise", "normal"))
    try:
        z = np.asarray(latent, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(
            f"latent must be a numeric array (len(conditions), latent_dim) = ({n}, "
            f"{model.latent_dim}), got {type(latent).__name__}."
        ) from None
    if z.shape != (n, model.latent_dim) or not np.all(np.isfinite(z)):
        raise ValueError(
            f"latent must be finite with shape (len(conditions), latent_dim) = "
            f"({n}, {model.latent_dim}), got {z.shape}."
        )
    return z


class GeneratorDraws:
    """What both WGAN engines share: latent draws from the model's own stream, the generator's
    samples for conditions c, and the critic's scores (the model supplies
    ``_generator_input`` and the contract's primitives)."""

    def _latent(self, c):
        """Latent draws (N, latent_dim) from the model's own stream, unit variance: N(0, 1), or
        uniform on [-sqrt 3, sqrt 3] when ``latent_noise`` is "uniform"."""
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
