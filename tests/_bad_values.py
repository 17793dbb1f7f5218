"""Bad values for the bad-input table (tests/test_bad_inputs.py): simulators asked for more memory
than the limit, seeds that no generator takes, metrics on degenerate input, validators, rotations,
splits, bootstraps, the student generator and environment variables.

Every row ends in one clear sentence from a3net's own code; the sizes are refused before
anything is allocated, so even ``simulate_rings(10**9)`` is immediate.
"""

from __future__ import annotations

import numpy as np
from test_bad_inputs import Bad, with_env

import a3net
from a3net.baselines.clusters import aperture_counts
from a3net.baselines.rings import PCASVMCounter
from a3net.baselines.spectra import LabelRegressor
from a3net.data import (
    simulate_catalogue,
    simulate_clusters,
    simulate_maps,
    simulate_rings,
    simulate_spectra,
)
from a3net.data.clusters import sample_masses
from a3net.data.cosmology import latin_hypercube
from a3net.data.cosmology_prep import random_dihedral
from a3net.data.gaussian_maps import gaussian_control_maps, grid_wavenumbers, mode_power
from a3net.data.rings import sample_ring_parameters
from a3net.data.rotations import augment_rotations, flip_images, rotate90, rotate_images
from a3net.data.spectra_prep import RestFrameSpectra, split_spectra
from a3net.data.splits import (
    group_kfold,
    group_split,
    random_split,
    stratified_group_split,
    stratified_split,
    train_val_test_split,
)
from a3net.evaluation.bootstrap import bootstrap_difference, bootstrap_error, group_bootstrap
from a3net.evaluation.frechet import FrechetScore, frechet_gaussian
from a3net.evaluation.regression import (
    parameter_scores,
    photoz_scores,
    pit,
    r2_per_parameter,
)
from a3net.evaluation.tables import compare_regressors

LIMIT = "A3NET_MAX_GB"  # every size refusal names the variable that raises the limit
SEED = "[0, 2**32)"  # every seed refusal gives the range


def _params(n=1):
    return latin_hypercube(n, seed=1)


_GROUPS = np.repeat(np.arange(10), 3)
_VALUES = np.repeat(np.linspace(13.5, 15.0, 10), 3)  # one value per group
_Z = np.linspace(0.1, 1.0, 20)
_Y2 = np.column_stack([np.linspace(0.1, 0.5, 20), np.linspace(0.6, 1.0, 20)])
_IMAGES = np.ones((4, 1, 16, 16), np.float32)
_GRID = np.linspace(0.0, 2.0, 21)


def _pz(n=3):
    return np.ones((n, _GRID.size))


def _rest_frame(n=10, b=8):
    import pandas as pd

    return RestFrameSpectra(
        np.linspace(3.5, 3.7, b),
        np.ones((n, b), np.float32),
        np.ones((n, b), np.float32),
        pd.DataFrame({"z": np.linspace(0.1, 0.2, n)}),
        np.ones(n, np.float32),
    )


def _stat(t, p):
    return float(np.mean(np.abs(t - p)))


ROWS = [
    # ------------------------------------------------------------------ sizes, before allocating
    Bad("simulate_rings-1e9", lambda c: simulate_rings(10**9), LIMIT),
    Bad("simulate_rings-1e6-rings", lambda c: simulate_rings(10**6, max_rings=10**4), LIMIT),
    Bad("simulate_clusters-1e9", lambda c: simulate_clusters(10**9), LIMIT),
    Bad(
        "simulate_clusters-projections-1e8",
        lambda c: simulate_clusters(10, projections=10**8),
        LIMIT,
    ),
    Bad("simulate_catalogue-1e9", lambda c: simulate_catalogue(10**9), LIMIT),
    Bad("simulate_spectra-1e9", lambda c: simulate_spectra(10**9), LIMIT),
    Bad("simulate_maps-5000px", lambda c: simulate_maps(_params(), map_size=5000), LIMIT),
    Bad(
        "simulate_maps-grid-1e4", lambda c: simulate_maps(_params(), map_size=32, grid=10**4), LIMIT
    ),
    Bad("latin_hypercube-1e10", lambda c: latin_hypercube(10**10), LIMIT),
    Bad(
        "gaussian_control_maps-5000px",
        lambda c: gaussian_control_maps(_params(100), map_size=5000),
        LIMIT,
    ),
    Bad(
        "gaussian_control_maps-1e5px",
        lambda c: gaussian_control_maps(_params(), map_size=10**5),
        LIMIT,
    ),
    Bad("grid_wavenumbers-1e6px", lambda c: grid_wavenumbers(10**6), LIMIT),
    Bad("mode_power-1e6px", lambda c: mode_power(0.3, 0.8, map_size=10**6), LIMIT),
    Bad("sample_masses-1e11", lambda c: sample_masses(10**11), LIMIT),
    Bad(
        "A3NET_MAX_GB-tiny-limit",
        with_env(lambda c: simulate_rings(1000), A3NET_MAX_GB="0.001"),
        "raise the limit",
        errors=(MemoryError,),
    ),
    Bad(
        "A3NET_MAX_GB-not-a-number",
        with_env(lambda c: simulate_rings(10), A3NET_MAX_GB="lots"),
        LIMIT,
    ),
    Bad(
        "A3NET_MAX_GB-negative", with_env(lambda c: simulate_clusters(2), A3NET_MAX_GB="-1"), LIMIT
    ),
    Bad("A3NET_MAX_GB-nan", with_env(lambda c: simulate_spectra(2), A3NET_MAX_GB="nan"), LIMIT),
    # ------------------------------------------------------------------ seeds
    Bad("simulate_rings-seed-negative", lambda c: simulate_rings(3, seed=-1), SEED),
    Bad("simulate_rings-seed-2**40", lambda c: simulate_rings(3, seed=2**40), SEED),
    Bad("simulate_rings-seed-float", lambda c: simulate_rings(3, seed=1.5), SEED),
    Bad("simulate_rings-seed-bool", lambda c: simulate_rings(3, seed=True), SEED),
    Bad("sample_ring_parameters-seed-str", lambda c: sample_ring_parameters(3, seed="a"), SEED),
    Bad("simulate_clusters-seed-negative", lambda c: simulate_clusters(2, seed=-1), SEED),
    Bad("simulate_clusters-seed-str", lambda c: simulate_clusters(2, seed="7"), SEED),
    Bad("simulate_clusters-seed-2**32", lambda c: simulate_clusters(2, seed=2**32), SEED),
    Bad("simulate_catalogue-seed-negative", lambda c: simulate_catalogue(10, seed=-1), SEED),
    Bad("simulate_catalogue-seed-2**40", lambda c: simulate_catalogue(10, seed=2**40), SEED),
    Bad("simulate_spectra-seed-negative", lambda c: simulate_spectra(3, seed=-1), SEED),
    Bad(
        "simulate_spectra-seed-numpy-float", lambda c: simulate_spectra(3, seed=np.float64(2)), SEED
    ),
    Bad(
        "simulate_maps-seed-negative",
        lambda c: simulate_maps(_params(), map_size=8, grid=16, seed=-1),
        SEED,
    ),
    Bad(
        "simulate_maps-seed-str",
        lambda c: simulate_maps(_params(), map_size=8, grid=16, seed="0"),
        SEED,
    ),
    Bad("latin_hypercube-seed-negative", lambda c: latin_hypercube(3, seed=-2), SEED),
    Bad(
        "gaussian_control_maps-seed-2**40",
        lambda c: gaussian_control_maps(_params(), seed=2**40),
        SEED,
    ),
    Bad("seed_everything-2**40", lambda c: a3net.seed_everything(2**40), SEED),
    Bad("seed_everything-negative", lambda c: a3net.seed_everything(-1), SEED),
    Bad("seed_everything-str", lambda c: a3net.seed_everything("a"), SEED),
    Bad("seed_everything-float", lambda c: a3net.seed_everything(1.0), SEED),
    Bad("seed_everything-bool", lambda c: a3net.seed_everything(True), SEED),
    Bad(
        "random_dihedral-seed-negative",
        lambda c: random_dihedral(np.ones((2, 1, 4, 4)), seed=-1),
        SEED,
    ),
    Bad("split_spectra-seed-2**40", lambda c: split_spectra(_rest_frame(), seed=2**40), SEED),
    Bad("random_split-seed-negative", lambda c: random_split(10, seed=-1), SEED),
    Bad("stratified_split-seed-str", lambda c: stratified_split([0, 1] * 5, seed="x"), SEED),
    Bad("group_split-seed-float", lambda c: group_split(_GROUPS, seed=1.5), SEED),
    Bad(
        "stratified_group_split-seed-2**32",
        lambda c: stratified_group_split(_VALUES, _GROUPS, seed=2**32),
        SEED,
    ),
    Bad(
        "train_val_test_split-seed-negative",
        lambda c: train_val_test_split(_VALUES, _GROUPS, seed=-5),
        SEED,
    ),
    Bad(
        "group_kfold-seed-bool",
        lambda c: group_kfold(_VALUES, _GROUPS, n_splits=3, seed=False),
        SEED,
    ),
    Bad(
        "augment_rotations-seed-negative",
        lambda c: augment_rotations(_IMAGES, np.ones(4), 1, seed=-1),
        SEED,
    ),
    Bad("bootstrap_error-seed-negative", lambda c: bootstrap_error(_Z, _Z, _stat, seed=-1), SEED),
    Bad(
        "bootstrap_difference-seed-str",
        lambda c: bootstrap_difference(_Z, _Z, _Z + 0.1, _stat, seed="a"),
        SEED,
    ),
    Bad(
        "group_bootstrap-seed-2**33",
        lambda c: group_bootstrap(np.mean, _VALUES, groups=_GROUPS, seed=2**33),
        SEED,
    ),
    Bad("LabelRegressor-seed-negative", lambda c: LabelRegressor(seed=-1), SEED),
    Bad(
        "PCASVMCounter-random_state-negative",
        lambda c: PCASVMCounter(n_components=2, random_state=-1).fit(
            np.random.default_rng(0).random((10, 1, 8, 8)), [0, 1] * 5
        ),
        SEED,
    ),
    Bad(
        "FrechetScore.floor-seed-negative",
        lambda c: FrechetScore(np.random.default_rng(0).random((40, 12)), 4).floor(
            np.random.default_rng(1).random((20, 12)), seed=-1
        ),
        SEED,
    ),
    Bad(
        "compare_regressors-seed-float",
        lambda c: _compare_with_seed(0.5),
        SEED,
    ),
    # ------------------------------------------------------------------ metrics, degenerate input
    Bad("photoz_scores-one-galaxy", lambda c: photoz_scores([0.5], [0.4]), "at least 2"),
    Bad("photoz_scores-constant-truth", lambda c: photoz_scores([0.5] * 5, _Z[:5]), "constant"),
    Bad("photoz_scores-two-equal", lambda c: photoz_scores([0.3, 0.3], [0.2, 0.4]), "constant"),
    Bad(
        "r2_per_parameter-constant-1d",
        lambda c: r2_per_parameter(np.full(5, 0.3), _Z[:5]),
        "constant",
    ),
    Bad(
        "r2_per_parameter-one-sample",
        lambda c: r2_per_parameter([[0.3, 0.8]], [[0.3, 0.8]]),
        "at least 2",
    ),
    Bad(
        "r2_per_parameter-constant-column",
        lambda c: r2_per_parameter(np.column_stack([_Z, np.full(20, 0.8)]), _Y2),
        "column 1",
    ),
    Bad(
        "parameter_scores-constant-omega_m",
        lambda c: parameter_scores(
            np.column_stack([np.full(20, 0.3), _Z]), _Y2, ["omega_m", "sigma_8"]
        ),
        "omega_m",
    ),
    Bad(
        "parameter_scores-constant-truth",
        lambda c: parameter_scores(
            np.column_stack([_Z, np.full(20, 0.8)]), _Y2, ["omega_m", "sigma_8"]
        ),
        "sigma_8",
    ),
    Bad(
        "parameter_scores-zero-truth",
        lambda c: parameter_scores(_Y2 - _Y2[0], _Y2, ["omega_m", "sigma_8"]),
        "relative error",
    ),
    Bad(
        "parameter_scores-one-sample",
        lambda c: parameter_scores(_Y2[:1], _Y2[:1], ["a", "b"]),
        "at least 2",
    ),
    Bad("parameter_scores-names-not-a-list", lambda c: parameter_scores(_Y2, _Y2, 5), "names"),
    Bad("pit-nan-redshift", lambda c: pit([0.5, np.nan, 1.0], _GRID, _pz()), "NaN"),
    Bad("pit-empty", lambda c: pit([], _GRID, np.ones((0, _GRID.size))), "at least one"),
    Bad("pit-text-grid", lambda c: pit([0.5], ["a", "b"], np.ones((1, 2))), "z_grid"),
    Bad("pit-one-point-grid", lambda c: pit([0.5], [1.0], np.ones((1, 1))), "at least 2"),
    Bad("pit-nan-grid", lambda c: pit([0.5], [0.0, np.nan, 2.0], np.ones((1, 3))), "finite"),
    Bad(
        "bootstrap_difference-one-row",
        lambda c: bootstrap_difference([0.5], [0.4], [0.3], _stat),
        "at least 2",
    ),
    Bad(
        "frechet_gaussian-negative-covariance",
        lambda c: frechet_gaussian(np.zeros(2), -np.eye(2), np.zeros(2), np.eye(2)),
        "not a covariance matrix",
    ),
    Bad(
        "frechet_gaussian-asymmetric-covariance",
        lambda c: frechet_gaussian(np.zeros(2), np.eye(2), np.zeros(2), [[1.0, 2.0], [0.0, 1.0]]),
        "cov_b",
    ),
    Bad(
        "frechet_gaussian-nan-covariance",
        lambda c: frechet_gaussian(np.zeros(2), np.full((2, 2), np.nan), np.zeros(2), np.eye(2)),
        "NaN",
    ),
    # ------------------------------------------------------------------ bootstraps
    Bad("bootstrap_error-one-row", lambda c: bootstrap_error([0.5], [0.4], _stat), "at least 2"),
    Bad("bootstrap_error-nan", lambda c: bootstrap_error(_Z * np.nan, _Z, _stat), "NaN"),
    Bad("bootstrap_error-n_boot-1", lambda c: bootstrap_error(_Z, _Z, _stat, n_boot=1), "n_boot"),
    Bad(
        "bootstrap_difference-text",
        lambda c: bootstrap_difference(_Z, ["x"] * 20, _Z, _stat),
        "pred_a",
    ),
    Bad(
        "group_bootstrap-one-group",
        lambda c: group_bootstrap(np.mean, _VALUES, groups=np.zeros(30)),
        "at least 2 groups",
    ),
    # ------------------------------------------------------------------ validators
    Bad(
        "aperture_counts-3d-images",
        lambda c: aperture_counts(_IMAGES[:, 0], [4.0] * 4),
        "(N, 1, H, W)",
    ),
    Bad(
        "aperture_counts-nan-radius",
        lambda c: aperture_counts(_IMAGES, [4.0, np.nan, 4.0, 4.0]),
        "r500_pix",
    ),
    Bad(
        "aperture_counts-radii-length",
        lambda c: aperture_counts(_IMAGES, [4.0, 5.0]),
        "one per image",
    ),
    Bad("aperture_counts-text-radius", lambda c: aperture_counts(_IMAGES, "big"), "r500_pix"),
    Bad("aperture_counts-inner-1", lambda c: aperture_counts(_IMAGES, 4.0, inner=1.0), "inner"),
    Bad(
        "aperture_counts-nan-background",
        lambda c: aperture_counts(_IMAGES, 4.0, background=np.nan),
        "background",
    ),
    Bad("aperture_counts-negative-pixels", lambda c: aperture_counts(-_IMAGES, 4.0), "negative"),
    Bad(
        "rotate_images-angles-length",
        lambda c: rotate_images(_IMAGES, [10.0, 20.0]),
        "one per image",
    ),
    Bad("rotate_images-angles-2d", lambda c: rotate_images(_IMAGES, np.ones((4, 2))), "angles"),
    Bad("rotate_images-angles-text", lambda c: rotate_images(_IMAGES, "left"), "degrees"),
    Bad("rotate_images-images-text", lambda c: rotate_images("image", 10.0), "numeric"),
    Bad("rotate90-k-length", lambda c: rotate90(_IMAGES, [1, 2]), "one per image"),
    Bad("rotate90-k-float", lambda c: rotate90(_IMAGES, 1.5), "whole numbers"),
    Bad("flip_images-length", lambda c: flip_images(_IMAGES, [True, False], True), "horizontal"),
    Bad(
        "flip_images-vertical-length", lambda c: flip_images(_IMAGES, True, [True] * 3), "vertical"
    ),
    Bad(
        "simulate_maps-grid-float",
        lambda c: simulate_maps(_params(), map_size=8, grid=20.5),
        "grid",
    ),
    # ------------------------------------------------------------------ the student generator
    Bad(
        "student-untagged-tilde-solution",
        lambda c: _student_copy("~~~{solution} ex-1\nThe answer.\n~~~"),
        "solution",
    ),
    Bad(
        "student-untagged-capital-solution",
        lambda c: _student_copy("```{Solution} ex-1\nThe answer.\n```"),
        "solution",
    ),
    Bad(
        "student-untagged-spaced-solution",
        lambda c: _student_copy(":::{ solution } ex-1\nThe answer.\n:::"),
        "solution",
    ),
    # ------------------------------------------------------------------ environment variables
    Bad("A3NET_PROFILE-tiny", with_env(lambda c: a3net.profile("F"), A3NET_PROFILE="tiny"), "tiny"),
]


def _compare_with_seed(seed):
    from sklearn.linear_model import LinearRegression

    x = np.random.default_rng(0).random((12, 2))
    return compare_regressors({"linear": LinearRegression()}, x, x.sum(axis=1), cv=3, seed=seed)


def _student_copy(markdown: str):
    from nbformat.v4 import new_markdown_cell, new_notebook

    from a3net.exercises.student import make_student_notebook

    nb = new_notebook(cells=[new_markdown_cell("# A chapter"), new_markdown_cell(markdown)])
    return make_student_notebook(nb)
