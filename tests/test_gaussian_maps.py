"""The Gaussian control maps: projected spectrum, exact mode variances, catalogue, seeds."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from a3net.data.cosmology_linear import linear_power
from a3net.data.gaussian_maps import (
    gaussian_control_maps,
    grid_wavenumbers,
    mode_power,
    projected_power,
)

BOX = 25.0


def _dense_projection(k, omega_m, sigma_8, length=5.0):
    """Reference: trapezoid over k_z on a fine grid (u = k_z L / 2 up to 3000)."""
    u = np.linspace(0.0, 3000.0, 600_001)
    out = []
    for kk in np.atleast_1d(k):
        integrand = linear_power(np.hypot(kk, 2 * u / length), omega_m, sigma_8)
        out.append(2 / (np.pi * length) * np.trapezoid(integrand * np.sinc(u / np.pi) ** 2, u))
    return np.array(out)


def test_projected_power_matches_dense_integral_and_limits():
    k = np.array([0.05, 0.2513, 1.0, 4.0, 8.0])
    for omega_m in (0.1, 0.5):
        ours = projected_power(k, omega_m, 0.8)
        np.testing.assert_allclose(ours, _dense_projection(k, omega_m, 0.8), rtol=2e-5)
    # shape kept, k = 0 is the mean mode, sigma_8 is a pure amplitude
    grid = projected_power(np.array([[0.0, 1.0], [2.0, 3.0]]), 0.3, 0.8)
    assert grid.shape == (2, 2) and grid[0, 0] == 0.0
    np.testing.assert_allclose(
        projected_power(k, 0.3, 1.0), projected_power(k, 0.3, 0.5) * 4, rtol=1e-10
    )
    # small scales: P2D -> P3D / L, and a thicker slab averages more
    ratio = projected_power(40.0, 0.3, 0.8) * 5.0 / linear_power(40.0, 0.3, 0.8)
    assert abs(ratio - 1) < 0.01
    assert projected_power(2.0, 0.3, 0.8, thickness=25.0) < projected_power(2.0, 0.3, 0.8) / 4


def test_projected_power_rejects_bad_input():
    with pytest.raises(ValueError, match="k must"):
        projected_power([-1.0], 0.3, 0.8)
    with pytest.raises(ValueError, match="thickness"):
        projected_power([1.0], 0.3, 0.8, thickness=0.0)


def test_grid_wavenumbers_and_mode_power_layout():
    k = grid_wavenumbers(8, BOX)
    assert k.shape == (8, 5)
    fundamental = 2 * np.pi / BOX
    np.testing.assert_allclose(k[0, 1], fundamental)
    np.testing.assert_allclose(k[4, 4], fundamental * 4 * np.sqrt(2))
    full = mode_power(0.3, 0.8, map_size=8, half=False)
    half = mode_power(0.3, 0.8, map_size=8)
    assert full.shape == (8, 8) and full[0, 0] == 0.0
    np.testing.assert_allclose(full[:, :5], half)
    np.testing.assert_allclose(full, full[np.ix_(-np.arange(8) % 8, -np.arange(8) % 8)])


def test_maps_shapes_catalogue_and_seeds():
    params = np.array(
        [[0.2, 0.7, 1.0, 2.0, 1.1, 0.9], [0.4, 0.9, 0.5, 0.3, 1.5, 1.2]], dtype=np.float64
    )
    maps, cat = gaussian_control_maps(params, map_size=16, seed=3)
    assert maps.shape == (30, 1, 16, 16) and maps.dtype == np.float32
    assert list(cat.columns) == [
        "sim_id", "axis", "slab", "omega_m", "sigma_8", "a_sn1", "a_agn1", "a_sn2", "a_agn2"
    ]  # fmt: skip
    assert cat.sim_id.tolist() == [0] * 15 + [1] * 15
    assert sorted(set(zip(cat.axis[:15], cat.slab[:15], strict=True))) == [
        (a, s) for a in range(3) for s in range(5)
    ]
    np.testing.assert_allclose(cat.a_agn1.to_numpy(), np.repeat([2.0, 0.3], 15))
    again, _ = gaussian_control_maps(params, map_size=16, seed=3)
    other, _ = gaussian_control_maps(params, map_size=16, seed=4)
    np.testing.assert_array_equal(maps, again)
    assert not np.allclose(maps, other)
    # simulation i draws from (seed, i): its maps do not depend on the other rows
    changed = params.copy()
    changed[0, :2] = [0.45, 0.65]
    moved, _ = gaussian_control_maps(changed, map_size=16, seed=3)
    np.testing.assert_array_equal(moved[15:], maps[15:])
    assert not np.allclose(moved[:15], maps[:15])
    # only omega_m and sigma_8: the catalogue has just those; maps are zero-mean contrasts
    two, cat2 = gaussian_control_maps(params[:, :2], map_size=16, maps_per_simulation=4)
    assert two.shape == (8, 1, 16, 16) and list(cat2.columns)[3:] == ["omega_m", "sigma_8"]
    assert np.abs(two.mean(axis=(2, 3))).max() < 1e-5 * two.std()
    assert (two < 0).any()


def test_every_mode_has_the_variance_of_p2d():
    """E|delta_k|^2 = S^4 P2D / A, self-conjugate (k_x, k_y in {0, Nyquist}) modes included."""
    size = 16
    maps, _ = gaussian_control_maps(np.array([[0.3, 0.8]] * 200), map_size=size, seed=1)
    power = np.abs(scipy.fft.rfft2(maps[:, 0].astype(np.float64))) ** 2
    expected = size**4 * mode_power(0.3, 0.8, map_size=size) / BOX**2
    ratio = power.mean(axis=0)[expected > 0] / expected[expected > 0]
    # 3000 maps: each complex mode's mean has 1.8 % error, each real one 2.6 %
    assert np.abs(ratio - 1).max() < 0.12
    assert abs(ratio.mean() - 1) < 0.01
    for row, col in [(0, size // 2), (size // 2, 0), (size // 2, size // 2)]:
        assert abs(power[:, row, col].mean() / expected[row, col] - 1) < 0.12
    assert np.all(power[:, 0, 0] < 1e-6 * expected.max())
    # pixel variance = (1/A) sum over the full grid of P2D
    full = mode_power(0.3, 0.8, map_size=size, half=False)
    np.testing.assert_allclose(maps.var(axis=(2, 3)).mean(), full.sum() / BOX**2, rtol=0.02)


def test_maps_reject_bad_parameters():
    with pytest.raises(ValueError, match="params must have shape"):
        gaussian_control_maps(np.zeros((3, 7)))
    with pytest.raises(ValueError, match="NaN"):
        gaussian_control_maps([[np.nan, 0.8]])
    with pytest.raises(ValueError, match="omega_m"):
        gaussian_control_maps([[0.01, 0.8]])
    with pytest.raises(ValueError, match="sigma_8"):
        gaussian_control_maps([[0.3, -0.8]])
    with pytest.raises(ValueError, match="maps_per_simulation"):
        gaussian_control_maps([[0.3, 0.8]], maps_per_simulation=16)
    with pytest.raises(TypeError, match="map_size"):
        gaussian_control_maps([[0.3, 0.8]], map_size=16.0)
    with pytest.raises(TypeError, match="seed"):
        gaussian_control_maps([[0.3, 0.8]], seed=None)
