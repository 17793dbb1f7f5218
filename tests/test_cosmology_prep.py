"""a3net.data.cosmology_prep: log, mean removal, standardiser, parameter scaler, splits by
simulation, the dihedral group and periodic padding."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from a3net.data import cosmology_prep as P
from a3net.data.camels_files import LOG_UNIFORM, PARAMETER_NAMES, PARAMETER_RANGES


def _maps(n=6, c=2, s=8, seed=0):
    return np.random.default_rng(seed).lognormal(0.0, 1.0, (n, c, s, s)).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Pixel values
# ----------------------------------------------------------------------------------------------


def test_log_maps_values_and_errors():
    maps = _maps()
    out = P.log_maps(maps)
    assert out.dtype == np.float32 and out.shape == maps.shape
    np.testing.assert_allclose(out, np.log10(maps.astype(np.float64)), rtol=1e-6, atol=1e-6)
    bad = maps.copy()
    bad[0, 1, 0, :3] = 0.0
    bad[2, 0, 4, 4] = np.nan
    bad[3, 0, 1, 1] = -1.0
    bad[3, 0, 1, 2] = np.inf
    with pytest.raises(ValueError) as info:
        P.log_maps(bad)
    message = str(info.value)
    assert "1 non-positive and 2 NaN or infinite values in channel 0" in message
    assert "3 non-positive and 0 NaN or infinite values in channel 1" in message
    assert "(of 2 channels)" in message and "floor" in message and "check the field" in message
    with pytest.raises(ValueError, match=r"\(N, C, S, S\)"):
        P.log_maps(maps[0])


def test_remove_map_mean_removes_the_mean_level_only():
    maps = _maps()
    out, means = P.remove_map_mean(maps, return_means=True)
    np.testing.assert_allclose(out.mean(axis=(2, 3), dtype=np.float64), 1.0, rtol=1e-6)
    np.testing.assert_allclose(means, maps.mean(axis=(2, 3), dtype=np.float64), rtol=1e-6)
    # a map scaled by any factor (a denser universe, same structure) gives the same output
    factors = np.array([0.1, 3.0, 7.0, 1.0, 2.5, 40.0], dtype=np.float32)[:, None, None, None]
    np.testing.assert_allclose(P.remove_map_mean(maps * factors), out, rtol=1e-5)
    with pytest.raises(ValueError, match="before log_maps"):
        P.remove_map_mean(np.log10(maps) - 5)  # log maps with negative means


def test_standardiser_uses_training_statistics_only():
    rng = np.random.default_rng(1)
    train = rng.normal([[[[2.0]], [[-1.0]]]], [[[[3.0]], [[0.5]]]], (40, 2, 8, 8))
    val = train[:10] + 5.0
    scaler = P.MapStandardiser()
    with pytest.raises(ValueError, match=r"not fitted yet; call fit\(train_maps\)"):
        scaler.transform(train)
    z = scaler.fit_transform(train)
    assert z.dtype == np.float32
    np.testing.assert_allclose(scaler.mean_, train.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(scaler.std_, train.std(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1.0, rtol=1e-5)
    zval = scaler.transform(val)  # shifted by +5 in training units of each channel
    np.testing.assert_allclose(zval, z[:10] + 5.0 / scaler.std_[None, :, None, None], atol=1e-4)
    np.testing.assert_allclose(scaler.inverse_transform(zval), val, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="3 channels but the standardiser was fitted on 2"):
        scaler.transform(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match="constant"):
        P.MapStandardiser().fit(np.ones((3, 1, 4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        P.MapStandardiser().fit(np.full((3, 1, 4, 4), np.nan))


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


def _prior_samples(n, seed=0):
    rng = np.random.default_rng(seed)
    out = np.empty((n, 6))
    for j, name in enumerate(PARAMETER_NAMES):
        low, high = PARAMETER_RANGES[name]
        if name in LOG_UNIFORM:
            out[:, j] = np.exp(rng.uniform(np.log(low), np.log(high), n))
        else:
            out[:, j] = rng.uniform(low, high, n)
    return out


def test_parameter_scaler_round_trip_and_unit_variance_under_the_prior():
    samples = _prior_samples(200_000)
    everything = P.ParameterScaler(PARAMETER_NAMES)
    z = everything.transform(samples)
    assert z.shape == (200_000, 6) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.01)
    np.testing.assert_allclose(z.var(axis=0), 1.0, atol=0.01)
    np.testing.assert_allclose(everything.inverse_transform(z), samples, rtol=1e-6)
    edges = np.array([[PARAMETER_RANGES[n][i] for n in PARAMETER_NAMES] for i in (0, 1)])
    np.testing.assert_allclose(everything.transform(edges), [[-(3**0.5)] * 6, [3**0.5] * 6], 1e-6)
    # log-uniform in log space: the geometric mean of the range maps to 0
    assert everything.transform([[0.3, 0.8, 1.0, 1.0, 1.0, 1.0]])[0, 2:] == pytest.approx(
        0, abs=1e-6
    )


def test_parameter_scaler_inputs_and_errors():
    default = P.ParameterScaler()
    assert default.names == ("omega_m", "sigma_8")
    assert default.ranges == {"omega_m": (0.1, 0.5), "sigma_8": (0.6, 1.0)}
    full = _prior_samples(5, seed=3)
    frame = pd.DataFrame(full, columns=PARAMETER_NAMES)
    np.testing.assert_array_equal(default.transform(full), default.transform(full[:, :2]))
    np.testing.assert_array_equal(default.transform(frame), default.transform(full[:, :2]))
    one = P.ParameterScaler("a_agn1")
    np.testing.assert_allclose(one.inverse_transform(one.transform(full[:, 3])), full[:, 3:4])
    with pytest.raises(
        ValueError, match=r"2 values of sigma_8 lie outside its prior range \[0.6, 1.0\]"
    ):
        default.transform([[0.3, 0.5], [0.3, 0.8], [0.3, 1.2]])
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        default.transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        default.transform([[np.nan, 0.8]])
    with pytest.raises(ValueError, match=r"no columns \['sigma_8'\]"):
        default.transform(frame[["omega_m"]])
    with pytest.raises(ValueError, match=r"unknown parameters \['h'\]"):
        P.ParameterScaler(("omega_m", "h"))
    with pytest.raises(ValueError, match="twice"):
        P.ParameterScaler(("omega_m", "omega_m"))
    with pytest.raises(ValueError, match=r"targets must have shape \(N, 2\)"):
        default.inverse_transform(np.zeros((3, 6)))


# ----------------------------------------------------------------------------------------------
# Splits
# ----------------------------------------------------------------------------------------------


def test_split_by_simulation_keeps_simulations_whole():
    sim_id = np.repeat(np.arange(100), 15)
    train, val, test = P.split_by_simulation(pd.Series(sim_id), seed=3)
    sims = [set(sim_id[idx]) for idx in (train, val, test)]
    assert not (sims[0] & sims[1]) and not (sims[0] & sims[2]) and not (sims[1] & sims[2])
    assert [len(s) for s in sims] == [70, 20, 10]
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(1500))
    again = P.split_by_simulation(sim_id, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, val, test), strict=True))
    other = P.split_by_simulation(sim_id, seed=4)
    assert not np.array_equal(other[2], test)
    with pytest.raises(ValueError, match="sum to 1"):
        P.split_by_simulation(sim_id, fractions=(0.5, 0.2, 0.1))


# ----------------------------------------------------------------------------------------------
# Symmetries and padding
# ----------------------------------------------------------------------------------------------


def test_dihedral_elements_are_distinct_and_form_a_group():
    generic = np.random.default_rng(0).random((1, 1, 6, 6)).astype(np.float32)
    images = [P.dihedral_transform(generic, k) for k in range(8)]
    np.testing.assert_array_equal(images[0], generic)
    np.testing.assert_array_equal(images[1], np.rot90(generic, 1, axes=(2, 3)))
    np.testing.assert_array_equal(images[6], np.rot90(generic, 2, axes=(2, 3))[..., ::-1])
    for a, b in itertools.combinations(range(8), 2):
        assert not np.array_equal(images[a], images[b])
    table = np.empty((8, 8), dtype=int)
    for a, b in itertools.product(range(8), repeat=2):
        composed = P.dihedral_transform(images[a], b)
        matches = [c for c in range(8) if np.array_equal(composed, images[c])]
        assert len(matches) == 1, f"{b} after {a} is not one of the 8 elements"
        table[a, b] = matches[0]
    # a group table is a Latin square with the identity 0 (every element has an inverse)
    assert all(sorted(row) == list(range(8)) for row in table)
    assert all(sorted(col) == list(range(8)) for col in table.T)
    assert np.array_equal(table[0], np.arange(8)) and np.array_equal(table[:, 0], np.arange(8))
    with pytest.raises(ValueError, match="0..7"):
        P.dihedral_transform(generic, 8)
    with pytest.raises(ValueError, match=r"\(S, S\)"):
        P.dihedral_transform(np.zeros((1, 1, 4, 5)), 1)


def test_random_dihedral_keeps_pixel_values_and_means():
    maps = _maps(n=64, c=2, s=8, seed=5)
    out, elements = P.random_dihedral(maps, seed=7, return_elements=True)
    assert out.shape == maps.shape and out.dtype == np.float32
    assert len(set(elements.tolist())) == 8
    np.testing.assert_array_equal(
        np.sort(out.reshape(64, 2, -1), axis=2), np.sort(maps.reshape(64, 2, -1), axis=2)
    )
    np.testing.assert_allclose(out.mean(axis=(2, 3)), maps.mean(axis=(2, 3)), rtol=1e-6)
    for i in (0, 13, 63):  # every map (both channels) got the element reported for it
        np.testing.assert_array_equal(out[i], P.dihedral_transform(maps[i], int(elements[i])))
    np.testing.assert_array_equal(P.random_dihedral(maps, seed=7), out)
    assert not np.array_equal(P.random_dihedral(maps, seed=8), out)


def test_dihedral_average_is_invariant_test_time_augmentation():
    maps = _maps(n=5, c=1, s=6, seed=2)

    def corner(x):  # the top-left pixel: not invariant
        return x[:, :, 0, 0]

    averaged = P.dihedral_average(corner, maps)
    corners = maps[:, :, [0, 0, -1, -1], [0, -1, 0, -1]].mean(axis=2)
    np.testing.assert_allclose(averaged, corners, rtol=1e-6)  # each corner comes up twice
    for k in range(8):
        np.testing.assert_allclose(
            P.dihedral_average(corner, P.dihedral_transform(maps, k)), averaged, rtol=1e-6
        )
    mean_fn = lambda x: x.mean(axis=(1, 2, 3))  # noqa: E731 - already invariant
    np.testing.assert_allclose(P.dihedral_average(mean_fn, maps), mean_fn(maps), rtol=1e-6)
    with pytest.raises(ValueError, match="one prediction per map"):
        P.dihedral_average(lambda x: x[:2], maps)


def test_periodic_pad_equals_numpy_wrap():
    maps = _maps(n=3, c=2, s=8)
    for width in (0, 1, 3, 8):
        padded = P.periodic_pad(maps, width)
        expected = np.pad(maps, ((0, 0), (0, 0), (width, width), (width, width)), mode="wrap")
        np.testing.assert_array_equal(padded, expected)
    padded = P.periodic_pad(maps, 2)
    np.testing.assert_array_equal(padded[..., :2, 2:-2], maps[..., -2:, :])  # top = bottom rows
    np.testing.assert_array_equal(padded[..., 2:-2, -2:], maps[..., :, :2])  # right = left cols
    # a 3x3 box sum over the periodically padded map equals the sum of 9 periodic shifts
    box = sum(np.roll(maps, (dy, dx), axis=(2, 3)) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    pad1 = P.periodic_pad(maps, 1)
    valid = sum(pad1[..., dy : dy + 8, dx : dx + 8] for dy in range(3) for dx in range(3))
    np.testing.assert_allclose(valid, box, rtol=1e-5)
    with pytest.raises(ValueError, match="wrap around at most once"):
        P.periodic_pad(maps, 9)
    with pytest.raises(ValueError, match="width must be a whole number"):
        P.periodic_pad(maps, -1)
