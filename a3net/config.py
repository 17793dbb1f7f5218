"""The three run profiles and every size and epoch count, per chapter.

``smoke``   CI on 2 CPU cores: each chapter in at most 60 s per framework; results still beat
            trivial baselines.
``default`` the rendered book and Colab on a CPU: at most 5 min per chapter, large enough that
            every claim of the chapter holds.
``full``    paper-scale data and epochs on one GPU.

Notebooks never hard-code a size or an epoch count: they read them with ``a3net.profile("F")``.
"""
from __future__ import annotations

from collections.abc import Mapping

PROFILE_NAMES = ("smoke", "default", "full")

# Chapter F: Cherenkov rings (28x28 images).
_F = {
    "smoke": dict(
        n_count=2500,            # images per counting experiment (train + test)
        count_max_rings=(2, 3),  # maxima of rings per image to compare
        count_epochs=5,
        n_regress=3000,          # single-ring images for regression (train + test)
        regress_epochs=6,
        mlp_epochs=6,
        n_cvae=3000,             # pool of single-ring images for the cVAE
        cvae_epochs=6,
        cvae_train_fractions=(0.25, 0.5, 0.8),
        latent_dim=8,
        batch_size=64,
        n_hough=200,             # test images the Hough baseline is run on
    ),
    "default": dict(
        n_count=18000,
        count_max_rings=(2, 3, 4),
        count_epochs=14,
        n_regress=12000,
        regress_epochs=14,
        mlp_epochs=14,
        n_cvae=10000,
        cvae_epochs=14,
        cvae_train_fractions=(0.1, 0.3, 0.8),
        latent_dim=8,
        batch_size=64,
        n_hough=800,
    ),
    "full": dict(
        n_count=60000,
        count_max_rings=(2, 3, 4, 5),
        count_epochs=30,
        n_regress=100000,
        regress_epochs=40,
        mlp_epochs=40,
        n_cvae=60000,
        cvae_epochs=40,
        cvae_train_fractions=(0.05, 0.2, 0.5, 0.8),
        latent_dim=16,
        batch_size=256,
        n_hough=5000,
    ),
}

CHAPTERS = {"F": _F}


class Profile(Mapping):
    """Read-only settings of one chapter under one profile; keys are also attributes."""

    def __init__(self, name: str, chapter: str, values: dict):
        self.name = name
        self.chapter = chapter
        self._values = dict(values)

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(
                f"profile setting {key!r} does not exist for chapter {self.chapter}; "
                f"known settings: {', '.join(sorted(self._values))}."
            ) from None

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Profile({self.name!r}, chapter={self.chapter!r}: {items})"


def settings(chapter: str, name: str) -> Profile:
    """Settings of ``chapter`` (a letter A-H) under profile ``name``."""
    if name not in PROFILE_NAMES:
        raise ValueError(
            f"profile {name!r} is unknown; use one of {', '.join(PROFILE_NAMES)} "
            "(argument or the A3NET_PROFILE environment variable)."
        )
    key = str(chapter).upper()
    if key not in CHAPTERS:
        raise ValueError(
            f"chapter {chapter!r} has no profile settings; known chapters: {', '.join(sorted(CHAPTERS))}."
        )
    return Profile(name, key, CHAPTERS[key][name])
