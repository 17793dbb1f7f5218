"""a3net: the companion package of *Machine Learning for Astrophysics: eight hacks*.

``a3net.profile("F")`` gives chapter F's sizes and epoch counts under the active profile
(``A3NET_PROFILE``: smoke, default or full); ``a3net.framework()`` gives ``a3net.torch`` or
``a3net.keras`` (``A3NET_FRAMEWORK``), which offer the same models and the same ``fit``,
``predict``, ``saliency`` and ``generate``; ``a3net.seed_everything(seed)`` seeds every generator.
"""

from __future__ import annotations

import importlib
import os
import random

# The one place of the version: pyproject.toml reads it, python -m a3net._release copies it.
__version__ = "0.1.0"

FRAMEWORKS = ("torch", "keras")

from . import config  # noqa: E402
from ._threads import configure_threads, n_threads  # noqa: E402


def profile_name(name: str | None = None) -> str:
    """The active profile name: ``name`` if given, else ``A3NET_PROFILE``, else ``default``."""
    chosen = (name or os.environ.get("A3NET_PROFILE") or "default").strip().lower()
    if chosen not in config.PROFILE_NAMES:
        raise ValueError(
            f"profile {chosen!r} is unknown; set A3NET_PROFILE (or the name argument) to one of "
            f"{', '.join(config.PROFILE_NAMES)}."
        )
    return chosen


def profile(chapter: str, name: str | None = None) -> config.ChapterProfile:
    """Sizes and epoch counts of ``chapter`` (letter A-H) under the active profile."""
    return config.settings(chapter, profile_name(name))


def framework_name(name: str | None = None) -> str:
    """The active framework name: ``name`` if given, else ``A3NET_FRAMEWORK``, else ``torch``."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"framework name must be 'torch' or 'keras', got {type(name).__name__}.")
    chosen = (name or os.environ.get("A3NET_FRAMEWORK") or "torch").strip().lower()
    if chosen not in FRAMEWORKS:
        raise ValueError(
            f"framework {chosen!r} is unknown; set A3NET_FRAMEWORK (or the name argument) to "
            "'torch' or 'keras'."
        )
    return chosen


def framework(name: str | None = None):
    """The framework module, ``a3net.torch`` or ``a3net.keras``: same names, same signatures."""
    return importlib.import_module(f"a3net.{framework_name(name)}")


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and whichever of torch and TensorFlow is loaded; returns ``seed``.

    It does not set ``PYTHONHASHSEED``: that variable is read only when the interpreter starts,
    so setting it here would not change the running one's string hashing. Set it before Python
    starts, as ``make`` (``export PYTHONHASHSEED := 0``) and the GPU workflow do.
    """
    import sys

    import numpy as np

    from ._validation import check_seed

    seed = check_seed(seed)  # a whole number in [0, 2**32), as torch and TensorFlow need
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global generator, for code that uses it)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
    return seed


__all__ = [
    "__version__",
    "FRAMEWORKS",
    "config",
    "configure_threads",
    "framework",
    "framework_name",
    "n_threads",
    "profile",
    "profile_name",
    "seed_everything",
]
