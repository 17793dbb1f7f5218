"""a3net.cosmology_training: the augmentation and the training step of chapters E and H."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import a3net
from a3net.cosmology_training import augmented, fit_network
from a3net.data import cosmology_prep as prep


def periodic_maps(n, channels=2, size=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, channels, size, size)).astype(np.float32)


def symmetries(one_map):
    """The 8 images of one map (C, S, S) under the square's symmetry group."""
    return [prep.dihedral_transform(one_map, k) for k in range(prep.N_DIHEDRAL)]


def test_augmented_keeps_the_originals_first_and_repeats_the_labels():
    x = periodic_maps(5)
    y = np.arange(10, dtype=np.float32).reshape(5, 2)
    x_aug, y_aug = augmented(x, y, copies=3, seed=7)
    assert x_aug.shape == (20, 2, 8, 8) and x_aug.dtype == np.float32
    np.testing.assert_array_equal(x_aug[:5], x)
    np.testing.assert_array_equal(y_aug, np.concatenate([y] * 4))


def test_every_copy_is_a_turn_or_mirror_of_its_map():
    x = periodic_maps(6, seed=1)
    x_aug, _ = augmented(x, np.zeros((6, 2)), copies=4, seed=3)
    elements = set()
    for copy_index in range(1, 5):
        for i in range(6):
            turned = x_aug[copy_index * 6 + i]
            matches = [
                k for k, image in enumerate(symmetries(x[i])) if np.array_equal(image, turned)
            ]
            assert matches, (copy_index, i)  # one of the 8 symmetries, all channels alike
            elements.add(matches[0])
            # a permutation of the pixels: nothing interpolated, the values are the map's own
            np.testing.assert_array_equal(np.sort(turned, axis=None), np.sort(x[i], axis=None))
    assert len(elements) > 1  # the copies are not all the same transform


def test_copies_of_a_periodic_map_stay_periodic():
    """A cyclic shift of the map gives a cyclically shifted copy: the symmetry acts on the
    torus, so periodic padding remains correct for the copies."""
    x = periodic_maps(4, seed=2)
    shifted = np.roll(x, (3, 5), axis=(2, 3))
    x_aug, _ = augmented(x, np.zeros(4), copies=2, seed=11)
    s_aug, _ = augmented(shifted, np.zeros(4), copies=2, seed=11)
    for turned, turned_shifted in zip(x_aug, s_aug, strict=True):
        assert any(
            np.array_equal(np.roll(turned, (dy, dx), axis=(1, 2)), turned_shifted)
            for dy in range(8)
            for dx in range(8)
        )


def test_augmented_is_reproducible_and_copies_zero_is_the_identity():
    x, y = periodic_maps(4, seed=5), np.ones((4, 3))
    first, second = augmented(x, y, copies=2, seed=0), augmented(x, y, copies=2, seed=0)
    np.testing.assert_array_equal(first[0], second[0])
    other = augmented(x, y, copies=2, seed=1)[0]
    assert not np.array_equal(first[0], other)
    x0, y0 = augmented(x, y, copies=0, seed=0)
    np.testing.assert_array_equal(x0, x)
    np.testing.assert_array_equal(y0, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"copies": -1, "seed": 0}, "copies must be a whole number"),
        ({"copies": 1.5, "seed": 0}, "copies must be a whole number"),
        ({"copies": 1, "seed": -2}, "seed must be a whole number"),
    ],
)
def test_augmented_bad_counts_get_one_clear_sentence(kwargs, match):
    with pytest.raises(ValueError, match=match):
        augmented(periodic_maps(2), np.zeros(2), **kwargs)


def test_augmented_bad_shapes_get_one_clear_sentence():
    with pytest.raises(ValueError, match="one row per map"):
        augmented(periodic_maps(3), np.zeros(2), copies=1, seed=0)
    with pytest.raises(ValueError, match="square maps"):
        augmented(np.zeros((3, 1, 8, 6)), np.zeros(3), copies=1, seed=0)


PROFILE = SimpleNamespace(augment_copies=1, batch_size=32, learning_rate=5e-3)


def toy_problem(n=192, size=16, seed=0):
    """Maps whose contrast is a parameter that no turn or mirror changes."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-1, 1, size=(n, 1)).astype(np.float32)
    noise = rng.standard_normal((n, 1, size, size)).astype(np.float32)
    return (1 + 0.5 * theta[:, :, None, None]) * noise, theta


def test_fit_network_trains_on_the_training_rows_and_the_loss_falls():
    models = a3net.framework("torch")
    x, y = toy_problem()
    train, val = np.arange(0, 160), np.arange(160, 192)
    a3net.seed_everything(0)
    model = models.CosmoCNN(image_size=16, in_channels=1, channels=(4, 8), dense=16, n_outputs=1)
    history = fit_network(
        models, model, x, y, train=train, val=val, epochs=4, profile=PROFILE, seed=0
    )
    assert len(history["loss"]) == 4 and len(history["val_loss"]) == 4
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_loss"][-1] < np.var(y[val]) * 1.5  # learned, not diverged


def test_fit_network_calls_fit_with_the_profile_and_the_augmented_rows():
    calls = []

    def fake_fit(model, x, y, **kwargs):
        calls.append((model, x, y, kwargs))
        return {"loss": [1.0]}

    models = SimpleNamespace(fit=fake_fit)
    x, y = toy_problem(n=10, size=8)
    profile = SimpleNamespace(augment_copies=2, batch_size=4, learning_rate=1e-3)
    history = fit_network(
        models, "model", x, y, train=[0, 1, 2], val=[8, 9], epochs=3, profile=profile, seed=5
    )
    assert history == {"loss": [1.0]}
    [(model, x_fit, y_fit, kwargs)] = calls
    assert model == "model" and x_fit.shape == (9, 1, 8, 8)
    expected = augmented(x[[0, 1, 2]], y[[0, 1, 2]], copies=2, seed=5)
    np.testing.assert_array_equal(x_fit, expected[0])
    np.testing.assert_array_equal(y_fit, expected[1])
    np.testing.assert_array_equal(kwargs.pop("validation")[0], x[[8, 9]])
    assert kwargs == {"epochs": 3, "batch_size": 4, "lr": 1e-3, "seed": 5, "progress": False}


def test_fit_network_bad_arguments_get_one_clear_sentence():
    x, y = toy_problem(n=6, size=8)
    rows = {"train": [0, 1], "val": [2]}
    with pytest.raises(TypeError, match="framework module with fit"):
        fit_network(object(), None, x, y, epochs=1, profile=PROFILE, seed=0, **rows)
    models = SimpleNamespace(fit=lambda *a, **k: {})
    with pytest.raises(TypeError, match="lacks batch_size, learning_rate"):
        fit_network(
            models,
            None,
            x,
            y,
            epochs=1,
            profile=SimpleNamespace(augment_copies=1),
            seed=0,
            **rows,
        )
    with pytest.raises(ValueError, match="one row per map"):
        fit_network(models, None, x, y[:4], epochs=1, profile=PROFILE, seed=0, **rows)


@pytest.mark.parametrize("chapter", ["E", "H"])
def test_the_chapter_profiles_have_what_fit_network_reads(chapter):
    for name in ("smoke", "default", "full"):
        cfg = a3net.profile(chapter, name)
        assert cfg.augment_copies >= 0 and cfg.batch_size > 0 and cfg.learning_rate > 0
