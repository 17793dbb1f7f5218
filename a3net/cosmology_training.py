"""Training the networks of chapters E and H on maps of the cosmic web: one copy of each step.

Both chapters train their networks the same way: on the training maps and on randomly turned or
mirrored copies of them (:func:`augmented`), with the chapter profile's batch size and learning
rate, watching the validation maps (:func:`fit_network`). The maps are periodic squares of a
statistically isotropic universe, so the eight symmetries of the square give new, equally valid
maps with the same parameters, without interpolating a pixel.

Framework-free: :func:`fit_network` takes the framework module (``models = a3net.framework()``,
i.e. ``a3net.torch`` or ``a3net.keras``) and calls its ``fit``.

>>> models = a3net.framework()  # doctest: +SKIP
>>> model = models.CosmoMomentCNN(image_size=cfg.map_size, n_params=2)  # doctest: +SKIP
>>> history = fit_network(models, model, x, y, train=train, val=val,
...                       epochs=cfg.cnn_epochs, profile=cfg, seed=SEED)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from .data import cosmology_prep as prep

__all__ = ["augmented", "fit_network"]

_PROFILE_FIELDS = ("augment_copies", "batch_size", "learning_rate")


def _whole_number(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def augmented(x, y, *, copies: int, seed: int):
    """The maps ``x`` and ``copies`` randomly turned or mirrored copies of them, with their labels.

    ``x``: maps (N, C, S, S), channels first, square (any units: the chapters pass standardised
    log10 maps); ``y``: the labels of the maps, N rows (e.g. (N, P) scaled parameters).
    Copy ``k`` (k = 0 .. copies - 1) applies to every map its own random element of the square's
    symmetry group (a quarter turn, a mirror or both; the same for all channels of a map),
    drawn by :func:`a3net.data.cosmology_prep.random_dihedral` with seed ``seed + k``. Every
    copy is a permutation of its map's pixels (nothing is interpolated, and a periodic map
    stays periodic); the labels are repeated unchanged, since the parameters of a map do not
    depend on its orientation.

    Returns ``(x_aug, y_aug)``: float32 maps ((copies + 1) N, C, S, S), the originals first and
    then each copy in turn, and the labels ((copies + 1) N, ...) in the same order. ``copies=0``
    returns the maps and labels as they are (as arrays). The same seed gives the same arrays.
    """
    copies = _whole_number(copies, "copies", 0)
    seed = _whole_number(seed, "seed", 0)
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 4 or x.shape[-1] != x.shape[-2] or len(x) == 0:
        raise ValueError(f"x must hold square maps (N, C, S, S) with N >= 1, got {x.shape}.")
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(
            f"y must have one row per map: x has {len(x)} maps, y has shape {y.shape}."
        )
    turned = [prep.random_dihedral(x, seed=seed + k) for k in range(copies)]
    return np.concatenate([x, *turned]), np.concatenate([y] * (copies + 1))


def fit_network(
    models, model, x, y, *, train, val, epochs: int, profile, seed: int, progress: bool = False
) -> dict:
    """Train ``model`` on the augmented training rows of ``(x, y)``, watching the validation rows.

    ``models``: the framework module of ``model`` (``a3net.torch`` or ``a3net.keras``, as
    ``a3net.framework()`` returns it). ``x``: maps (N, C, S, S), standardised; ``y``: targets
    (N, P), scaled (e.g. by :class:`a3net.data.cosmology_prep.ParameterScaler`). ``train``,
    ``val``: row indices (or boolean masks) of the training and validation maps, split by
    simulation. ``profile``: the chapter's profile (``a3net.profile("E")`` or ``"H"``), which
    gives ``augment_copies`` (copies of every training map, :func:`augmented` with ``seed``),
    ``batch_size`` and ``learning_rate`` (the peak of ``fit``'s cosine schedule). ``epochs``:
    passes over the augmented training set.

    Trains in place and returns ``models.fit``'s history: per-epoch ``loss`` (and the model's
    metrics) on the training maps and ``val_loss`` on the validation maps.
    """
    fit = getattr(models, "fit", None)
    if not callable(fit):
        raise TypeError(
            "models must be a framework module with fit(), such as a3net.framework(); got "
            f"{type(models).__name__}."
        )
    missing = [field for field in _PROFILE_FIELDS if not hasattr(profile, field)]
    if missing:
        raise TypeError(
            f"profile must be a chapter profile with {', '.join(_PROFILE_FIELDS)} "
            f"(a3net.profile('E') or a3net.profile('H')); it lacks {', '.join(missing)}."
        )
    x = np.asarray(x)
    y = np.asarray(y)
    if len(y) != len(x):
        raise ValueError(f"x and y must have one row per map: {len(x)} maps, {len(y)} targets.")
    x_train, y_train = augmented(x[train], y[train], copies=profile.augment_copies, seed=seed)
    return fit(
        model,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=profile.batch_size,
        lr=profile.learning_rate,
        validation=(x[val], y[val]),
        seed=seed,
        progress=progress,
    )
