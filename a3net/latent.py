"""Paths through a generator's latent space (chapter B): linear and spherical interpolation."""

from __future__ import annotations

import numpy as np


def slerp(z1, z2, alphas) -> np.ndarray:
    """Spherical interpolation between latent vectors z1 and z2, each (d,) or both (N, d), at
    fractions ``alphas`` (A,): (A, d) or (A, N, d), float32. It follows the great circle,
    (sin((1 - a) w) z1 + sin(a w) z2) / sin(w) with w the angle between them, so it keeps the
    length of typical Gaussian draws (White 2016); parallel vectors get the straight line."""
    z1, z2 = np.asarray(z1, dtype=np.float64), np.asarray(z2, dtype=np.float64)
    if z1.shape != z2.shape or z1.ndim not in (1, 2) or not np.all(np.isfinite(z1 + z2)):
        raise ValueError(
            f"z1 and z2 must be finite vectors of one shape, (d,) or (N, d); got {z1.shape} "
            f"and {z2.shape}."
        )
    a = np.asarray(alphas, dtype=np.float64).reshape((-1,) + (1,) * z1.ndim)
    norms = np.linalg.norm(z1, axis=-1) * np.linalg.norm(z2, axis=-1)
    cos = np.clip(np.sum(z1 * z2, axis=-1) / np.where(norms > 0, norms, 1.0), -1.0, 1.0)
    omega = np.arccos(cos)[..., None]
    sin = np.sin(omega)
    tiny = sin < 1e-6
    safe = np.where(tiny, 1.0, sin)
    curved = (np.sin((1 - a) * omega) * z1 + np.sin(a * omega) * z2) / safe
    straight = (1 - a) * z1 + a * z2
    return np.where(tiny, straight, curved).astype(np.float32)
