"""The CAMELS-like map simulator of chapters E and H (``a3net.data.cosmology``) and its linear
theory (``a3net.data.cosmology_linear``): conservation, layout, seeds, cache and physics.

Small boxes throughout (32 px maps from 32^3 particles, ~35 ms a simulation on one thread).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from a3net.baselines.cosmology import power_spectrum
from a3net.data import cosmology as cosmo
from a3net.data.cosmology import (
    FIELDS,
    LOG_UNIFORM,
    MAPS_PER_SIMULATION,
    PARAMETER_NAMES,
    PARAMETER_RANGES,
    SLAB_THICKNESS,
    STAGES,
    check_parameters,
    halo_catalogue,
    halos_in_maps,
    latin_hypercube,
    nonlinear_wavenumber,
    simulate_maps,
)
from a3net.data.cosmology_linear import (
    N_S,
    RHO_CRIT,
    concentration_200c,
    lagrangian_radius,
    linear_power,
    sigma_r,
    transfer_no_wiggle,
)
from a3net.data.cosmology_theory import projected_power_nonlinear, projected_power_zeldovich

SMALL = dict(map_size=32, grid=32)
FIDUCIAL = [0.3, 0.8, 1.0, 1.0, 1.0, 1.0]


def _row(omega_m=0.3, sigma_8=0.8, a_sn1=1.0, a_agn1=1.0, a_sn2=1.0, a_agn2=1.0):
    return np.array([[omega_m, sigma_8, a_sn1, a_agn1, a_sn2, a_agn2]])


def _top_fraction(maps: np.ndarray, quantile: float = 0.01) -> np.ndarray:
    """Share of each map's (N, S, S) total held by its brightest ``quantile`` of pixels, (N,)."""
    flat = np.sort(maps.reshape(len(maps), -1).astype(np.float64), axis=1)[:, ::-1]
    n_top = int(quantile * flat.shape[1])
    return flat[:, :n_top].sum(axis=1) / flat.sum(axis=1)


@pytest.fixture(scope="module")
def boxes():
    """Four simulations spanning the prior corners, both fields, 32 px: (params, maps, cat)."""
    params = np.array(
        [
            [0.1, 1.0, 0.25, 4.0, 0.5, 2.0],
            [0.5, 0.6, 4.0, 0.25, 2.0, 0.5],
            [0.3, 0.8, 1.0, 1.0, 1.0, 1.0],
            [0.45, 0.95, 2.0, 0.5, 0.7, 1.4],
        ]
    )
    maps, catalogue = simulate_maps(params, seed=3, **SMALL)
    return params, maps, catalogue


# ----------------------------------------------------------------------------- conservation


def test_mass_is_conserved_in_every_box_and_along_every_axis(boxes):
    params, maps, _ = boxes
    mtot = maps[:, 0].astype(np.float64).reshape(len(params), 3, 5, 32, 32)
    expected = params[:, 0] * RHO_CRIT * SLAB_THICKNESS  # (Msun/h)/(Mpc/h)^2
    np.testing.assert_allclose(mtot.mean(axis=(1, 2, 3, 4)), expected, rtol=1e-4)
    # the 5 slabs of each axis hold the whole box, whichever axis the maps look along
    np.testing.assert_allclose(mtot.mean(axis=(2, 3, 4)), expected[:, None] * np.ones(3), rtol=1e-4)
    # the slabs are not all alike: the box is not uniform on 5 Mpc/h scales
    assert np.all(mtot.mean(axis=(3, 4)).std(axis=2) > 1e-3 * expected[:, None])


def test_projections_along_the_three_axes_share_their_marginals(boxes):
    """Summed over its slabs, axis 0 gives the box's (y, z) column map, axis 1 (x, z) and axis
    2 (x, y); summing two of those over their other coordinate gives the same 1-D profile."""
    _, maps, _ = boxes
    mtot = maps[:15, 0].astype(np.float64).reshape(3, 5, 32, 32).sum(axis=1)
    yz, xz, xy = mtot
    np.testing.assert_allclose(yz.sum(axis=0), xz.sum(axis=0), rtol=1e-5)  # profile in z
    np.testing.assert_allclose(yz.sum(axis=1), xy.sum(axis=0), rtol=1e-5)  # profile in y
    np.testing.assert_allclose(xz.sum(axis=1), xy.sum(axis=1), rtol=1e-5)  # profile in x
    assert yz.std() > 0.05 * yz.mean()  # and the maps have structure


# ----------------------------------------------------------------------------- layout


def test_shapes_dtype_positivity_and_catalogue(boxes):
    params, maps, catalogue = boxes
    assert maps.shape == (4 * MAPS_PER_SIMULATION, 2, 32, 32)
    assert maps.dtype == np.float32
    assert np.all(np.isfinite(maps)) and np.all(maps > 0)
    assert list(catalogue.columns) == ["sim_id", "axis", "slab", *PARAMETER_NAMES]
    assert len(catalogue) == len(maps)
    np.testing.assert_array_equal(catalogue["sim_id"], np.repeat(np.arange(4), 15))
    np.testing.assert_array_equal(catalogue["axis"], np.tile(np.repeat(np.arange(3), 5), 4))
    np.testing.assert_array_equal(catalogue["slab"], np.tile(np.arange(5), 12))
    np.testing.assert_array_equal(catalogue[list(PARAMETER_NAMES)], np.repeat(params, 15, axis=0))
    # map i belongs to simulation i // 15, as in the real CMD files
    np.testing.assert_array_equal(catalogue["sim_id"], np.arange(len(maps)) // 15)
    # the pressure maps are far more contrasted than the mass maps
    log_std = np.log10(maps).std(axis=(2, 3)).mean(axis=0)
    assert log_std[1] > 1.5 * log_std[0]


def test_fields_follow_the_requested_order(boxes):
    params, both, _ = boxes
    p_only, _ = simulate_maps(params[:2], fields="P", seed=3, **SMALL)
    mtot_only, _ = simulate_maps(params[:2], fields=["Mtot"], seed=3, **SMALL)
    swapped, _ = simulate_maps(params[:2], fields=("P", "Mtot"), seed=3, **SMALL)
    assert p_only.shape == mtot_only.shape == (30, 1, 32, 32)
    np.testing.assert_array_equal(p_only[:, 0], both[:30, 1])
    np.testing.assert_array_equal(mtot_only[:, 0], both[:30, 0])
    np.testing.assert_array_equal(swapped, both[:30, ::-1])
    assert FIELDS == ("Mtot", "P")


def test_map_size_and_grid_are_independent():
    maps, _ = simulate_maps(_row(), map_size=16, grid=32, fields="Mtot")
    assert maps.shape == (15, 1, 16, 16)
    np.testing.assert_allclose(maps.astype(np.float64).mean(), 0.3 * RHO_CRIT * 5.0, rtol=1e-4)
    # a single row may be given as a flat (6,) vector
    flat, catalogue = simulate_maps(np.array(FIDUCIAL), map_size=16, grid=32, fields="Mtot")
    np.testing.assert_array_equal(flat, maps)
    assert catalogue["sim_id"].unique().tolist() == [0]


# ----------------------------------------------------------------------------- seeds


def test_same_seed_same_maps_and_boxes_do_not_depend_on_their_neighbours():
    params = latin_hypercube(3, seed=5)
    first, _ = simulate_maps(params, seed=7, **SMALL)
    again, _ = simulate_maps(params, seed=7, **SMALL)
    np.testing.assert_array_equal(first, again)
    # simulation i draws from (seed, i): the first two boxes do not see the third
    two, _ = simulate_maps(params[:2], seed=7, **SMALL)
    np.testing.assert_array_equal(two, first[:30])
    other, _ = simulate_maps(params, seed=8, **SMALL)
    assert not np.allclose(other, first, rtol=0.01)
    # the same parameters at another position (another sim index) make another box
    swapped, _ = simulate_maps(params[[1, 0]], seed=7, **SMALL)
    assert not np.allclose(swapped[:15], first[:15], rtol=0.01)


def test_cache_writes_once_then_reads_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("A3NET_DATA", str(tmp_path))
    folder = tmp_path / "simulated"
    params = np.array([FIDUCIAL])
    plain, _ = simulate_maps(params, seed=1, **SMALL)
    assert not folder.exists()  # cache=False writes nothing
    made, _ = simulate_maps(params, seed=1, cache=True, **SMALL)
    np.testing.assert_array_equal(made, plain)
    files = sorted(folder.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npy" and "partial" not in files[0].name

    def refuse(*args, **kwargs):
        raise AssertionError("simulated although the maps are cached")

    monkeypatch.setattr(cosmo, "_simulate", refuse)
    read, catalogue = simulate_maps(params, seed=1, cache=True, **SMALL)
    np.testing.assert_array_equal(read, made)
    assert read.dtype == np.float32 and len(catalogue) == 15
    # another seed, suite or field list is another file
    for kwargs in ({"seed": 2}, {"seed": 1, "suite": "SIMBA"}, {"seed": 1, "fields": "P"}):
        with pytest.raises(AssertionError, match="simulated although"):
            simulate_maps(params, cache=True, **SMALL, **kwargs)
    monkeypatch.undo()
    monkeypatch.setenv("A3NET_DATA", str(tmp_path))
    other, _ = simulate_maps(params, seed=2, cache=True, **SMALL)
    assert len(list(folder.iterdir())) == 2
    assert not np.array_equal(other, made)


def test_halo_catalogue_cache_reads_back_the_same_halos(tmp_path, monkeypatch):
    monkeypatch.setenv("A3NET_DATA", str(tmp_path))
    params = np.array([FIDUCIAL])
    found = cosmo.halo_catalogue(params, grid=32, seed=1)
    assert not (tmp_path / "simulated").exists()  # cache=False writes nothing
    made = cosmo.halo_catalogue(params, grid=32, seed=1, cache=True)
    pd.testing.assert_frame_equal(made, found)

    def refuse(*args, **kwargs):
        raise AssertionError("found the halos again although they are cached")

    monkeypatch.setattr(cosmo, "_box", refuse)
    read = cosmo.halo_catalogue(params, grid=32, seed=1, cache=True)
    pd.testing.assert_frame_equal(read, found)
    assert read["sim_id"].dtype == np.int64 and len(read) > 0
    with pytest.raises(AssertionError, match="cached"):  # another seed is another file
        cosmo.halo_catalogue(params, grid=32, seed=2, cache=True)


# ----------------------------------------------------------------------------- physics


def test_higher_sigma_8_puts_more_mass_in_halos():
    """At fixed seed and Omega_m: more particles collapse in the excursion set, and the
    brightest 1 % of Mtot pixels hold more of the mass."""
    for omega_m in (0.15, 0.3, 0.45):
        for seed in range(2):
            in_halos, top = [], []
            for sigma_8 in (0.6, 0.8, 1.0):
                rng = np.random.default_rng([seed, 0])
                delta_k, (*_, kk) = cosmo._linear_field(32, omega_m, sigma_8, rng)
                in_halos.append(np.mean(cosmo._find_halos(delta_k, kk, 32, omega_m) >= 0))
                maps, _ = simulate_maps(_row(omega_m, sigma_8), fields="Mtot", seed=seed, **SMALL)
                top.append(_top_fraction(maps[:, 0]).mean())
            assert np.all(np.diff(in_halos) > 0), (omega_m, seed, in_halos)
            assert np.all(np.diff(top) > 0), (omega_m, seed, top)
            assert in_halos[-1] > 1.5 * in_halos[0]


def _mtot_stats(omega_m, sigma_8, seed):
    """Variance of log10(Mtot / mean) and the power of the contrast in the lowest k bin."""
    maps, _ = simulate_maps(_row(omega_m, sigma_8), fields="Mtot", seed=seed, **SMALL)
    contrast = maps[:, 0] / maps[:, 0].mean(axis=(1, 2), keepdims=True)
    _, power = power_spectrum(maps, n_bins=4)  # lowest bin: 0.25 to ~0.36 h/Mpc
    return np.log10(contrast).var(), power[:, 0, 0].mean()


@pytest.fixture(scope="module")
def sigma_8_pairs():
    """(omega_m, seed) -> stats at sigma_8 = 0.6 and 1.0, for 3 values of Omega_m, 3 seeds."""
    return {
        (om, seed): (_mtot_stats(om, 0.6, seed), _mtot_stats(om, 1.0, seed))
        for om in (0.2, 0.3, 0.4)
        for seed in range(3)
    }


def test_large_scale_power_rises_with_sigma_8(sigma_8_pairs):
    for om in (0.2, 0.3, 0.4):
        ratio = np.mean([hi[1] / lo[1] for (o, _), (lo, hi) in sigma_8_pairs.items() if o == om])
        assert 1.1 < ratio < 1.5 * (1.0 / 0.6) ** 2, (om, ratio)


def test_large_scale_power_scales_as_the_truncated_zeldovich_theory_says():
    """At fixed seeds (the same phases), the power of the "zeldovich" stage in the lowest k bin
    (0.25-0.36 h/Mpc) rises from sigma_8 = 0.6 to 1.0 by the ratio of
    ``projected_power_zeldovich`` (linear (1/0.6)^2 = 2.78 damped by the displacement dispersion,
    which grows with sigma_8: 1.78-1.90 here), within 5 %: the mode-coupling terms the theory
    leaves out are of relative order (k sigma_psi)^4 / 2 <= 5 % at k = 0.3 h/Mpc for
    sigma_psi <= 2 Mpc/h. Shared phases cancel the cosmic variance of 3 seeds x 15 maps x 4
    modes, which alone would allow 3 / sqrt(60) = 39 %. The "gas" stage lies between that
    ratio and Halofit's (3.8-4.9): halos add power that grows with sigma_8, though less than in
    an N-body run."""
    k = np.array([2 * np.pi / 25.0, 2 * np.pi / 25.0 * np.sqrt(2)])  # the bin's two mode rings
    for omega_m in (0.2, 0.3, 0.4):
        power = {}
        for stage in ("zeldovich", "gas"):
            for s8 in (0.6, 1.0):
                params = np.tile([omega_m, s8, 1, 1, 1, 1], (3, 1))
                maps, _ = simulate_maps(params, stage=stage, fields="Mtot", seed=0, **SMALL)
                power[stage, s8] = power_spectrum(maps, n_bins=4)[1][:, 0, 0].mean()
        expected = (
            projected_power_zeldovich(k, omega_m, 1.0).mean()
            / projected_power_zeldovich(k, omega_m, 0.6).mean()
        )
        zel = power["zeldovich", 1.0] / power["zeldovich", 0.6]
        np.testing.assert_allclose(zel, expected, rtol=0.05, err_msg=str(omega_m))
        halofit = (
            projected_power_nonlinear(k, omega_m, 1.0).mean()
            / projected_power_nonlinear(k, omega_m, 0.6).mean()
        )
        gas = power["gas", 1.0] / power["gas", 0.6]
        assert expected < gas < halofit, (omega_m, expected, gas, halofit)


def test_log_mass_variance_rises_with_sigma_8(sigma_8_pairs):
    for key, (lo, hi) in sigma_8_pairs.items():
        assert hi[0] > lo[0], (key, lo[0], hi[0])


def test_suite_changes_pressure_much_more_than_mass():
    """Same seed and parameters: the dark matter is the same box, only the gas differs."""
    params = latin_hypercube(3, seed=11)
    tng, _ = simulate_maps(params, suite="IllustrisTNG", seed=4, **SMALL)
    simba, _ = simulate_maps(params, suite="SIMBA", seed=4, **SMALL)
    # mean |dlog10| per pixel, (Mtot, P): moving gas changes Mtot by less than half of what
    # removing all of a pixel's gas would, log10(1 / (1 - f_b)); (a ratio is no measure here: a
    # floored empty pixel that receives ejected gas grows a hundredfold)
    change = np.abs(np.log10(simba.astype(np.float64) / tng)).mean(axis=(0, 2, 3))
    f_b = 0.049 / params[:, 0].max()
    assert change[0] < 0.5 * np.log10(1 / (1 - f_b))
    assert change[1] > 10 * change[0]
    # SIMBA heats the diffuse gas twice as much: in the emptiest 20 % of pixels where no ejected
    # gas lands in either suite (their Mtot is the same), its pressure is twice TNG's
    density = tng[:, 0] / tng[:, 0].mean(axis=(1, 2), keepdims=True)
    low = (density < np.quantile(density, 0.2)) & np.isclose(simba[:, 0], tng[:, 0], rtol=1e-6)
    assert low.mean() > 0.1
    np.testing.assert_allclose(np.median(simba[:, 1][low] / tng[:, 1][low]), 2.0, rtol=1e-3)
    # and its jets carry the gas of halos farther: the brightest pixels hold less of the pressure
    assert _top_fraction(simba[:, 1]).mean() < _top_fraction(tng[:, 1]).mean()


@pytest.mark.parametrize("suite", ["IllustrisTNG", "SIMBA"])
def test_stronger_agn_feedback_spreads_the_pressure(suite):
    """Raising A_AGN1 raises the AGN efficiency, so group-scale halos eject more of their gas to
    1 to 1 + eta_AGN A_AGN2 R200c: the brightest 1 % of P pixels hold less of the pressure, and
    of the mass, on every seed."""
    for omega_m, sigma_8 in ((0.2, 0.7), (0.4, 0.95)):
        for seed in range(2):
            top_p, top_m, mean_p = [], [], []
            for a_agn1 in (0.25, 1.0, 4.0):
                maps, _ = simulate_maps(
                    _row(omega_m, sigma_8, a_agn1=a_agn1), suite=suite, seed=seed, **SMALL
                )
                top_m.append(_top_fraction(maps[:, 0]).mean())
                top_p.append(_top_fraction(maps[:, 1]).mean())
                mean_p.append(maps[:, 1].astype(np.float64).mean())
            assert np.all(np.diff(top_p) < 0), (omega_m, sigma_8, seed, top_p)
            assert np.all(np.diff(top_m) < 0), (omega_m, sigma_8, seed, top_m)
            if suite == "SIMBA":  # AGN-ejected gas stays hot (1.5 T_vir): the pressure rises
                assert np.all(np.diff(mean_p) > 0), (omega_m, sigma_8, seed, mean_p)


# ----------------------------------------------------------------------------- parameters


def test_latin_hypercube_one_draw_per_stratum():
    n = 40
    params = latin_hypercube(n, seed=2)
    assert params.shape == (n, 6) and params.dtype == np.float64
    np.testing.assert_array_equal(check_parameters(params), params)
    for j, key in enumerate(PARAMETER_NAMES):
        low, high = PARAMETER_RANGES[key]
        x = params[:, j]
        assert np.all((x >= low) & (x <= high)), key
        if key in LOG_UNIFORM:
            x, low, high = np.log(x), np.log(low), np.log(high)
        strata = np.floor((x - low) / (high - low) * n).astype(int)
        np.testing.assert_array_equal(np.sort(strata), np.arange(n), err_msg=key)
    np.testing.assert_array_equal(latin_hypercube(n, seed=2), params)
    assert not np.allclose(latin_hypercube(n, seed=3), params)
    assert set(LOG_UNIFORM) == {"a_sn1", "a_agn1", "a_sn2", "a_agn2"}


@pytest.mark.parametrize("n_sims", [0, -3, 2.5, True, "4"])
def test_latin_hypercube_rejects_bad_sizes(n_sims):
    with pytest.raises(ValueError, match="n_sims"):
        latin_hypercube(n_sims)


def test_check_parameters_accepts_the_edges_and_names_the_culprit():
    edges = np.array([[PARAMETER_RANGES[k][i] for k in PARAMETER_NAMES] for i in (0, 1)])
    np.testing.assert_array_equal(check_parameters(edges), edges)
    assert check_parameters(FIDUCIAL).shape == (1, 6)
    for j, key in enumerate(PARAMETER_NAMES):
        low, high = PARAMETER_RANGES[key]
        for value in (0.9 * low, 1.1 * high):
            bad = np.array([FIDUCIAL, FIDUCIAL])
            bad[1, j] = value
            with pytest.raises(ValueError, match=rf"theta: {key} must lie in \[{low}, {high}\]"):
                check_parameters(bad, name="theta")
    with pytest.raises(ValueError, match=r"shape \(n, 6\)"):
        check_parameters(np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"shape \(n, 6\)"):
        check_parameters(np.ones((2, 3, 6)))
    with pytest.raises(ValueError, match="NaN"):
        check_parameters([[0.3, np.nan, 1, 1, 1, 1]])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"params": [[0.3, 0.8, 1, 1, 1]]}, r"shape \(n, 6\)"),
        ({"params": [[0.3, 0.8, 1, 1, 1, np.inf]]}, "infinite"),
        ({"params": [[0.3, 1.2, 1, 1, 1, 1]]}, r"sigma_8 must lie in \[0.6, 1.0\]"),
        ({"params": [[0.3, 0.8, 1, 9, 1, 1]]}, "a_agn1"),
        ({"suite": "TNG"}, "suite must be one of IllustrisTNG, SIMBA"),
        ({"fields": ("Mtot", "HI")}, "fields must be a non-empty subset"),
        ({"fields": ()}, "fields must be a non-empty subset"),
        ({"map_size": 4}, "map_size"),
        ({"map_size": 32.0}, "map_size"),
        ({"map_size": True}, "map_size"),
        ({"map_size": 32, "grid": 8}, "grid must be at least 16"),
    ],
)
def test_simulate_maps_rejects_bad_arguments(kwargs, match):
    kwargs = {"params": [FIDUCIAL], **kwargs}
    with pytest.raises(ValueError, match=match):
        simulate_maps(kwargs.pop("params"), **kwargs)


# ----------------------------------------------------------------------------- linear theory


def test_nonlinear_wavenumber_is_where_the_linear_variance_reaches_one():
    k = np.logspace(np.log10(2 * np.pi / 25.0), 2, 20000)  # the box's modes only
    for omega_m in (0.1, 0.3, 0.5):
        k_nl = [nonlinear_wavenumber(omega_m, s8) for s8 in (0.6, 0.7, 0.8, 0.9, 1.0)]
        assert np.all(np.diff(k_nl) < 0), (omega_m, k_nl)  # lower sigma_8: more linear scales
        for s8, k_max in zip((0.6, 1.0), (k_nl[0], k_nl[-1]), strict=True):
            below = k <= k_max
            delta2 = k[below] ** 3 * linear_power(k[below], omega_m, s8) / (2 * np.pi**2)
            np.testing.assert_allclose(np.trapezoid(delta2, np.log(k[below])), 1.0, rtol=0.02)


def test_sigma_r_at_8_mpc_is_sigma_8_and_falls_with_radius():
    for omega_m in (0.1, 0.2, 0.3, 0.5):
        for s8 in (0.6, 0.8, 1.0):
            np.testing.assert_allclose(sigma_r(8.0, omega_m, s8), s8, rtol=1e-3)
        radii = np.array([[1.0, 4.0], [8.0, 20.0]])
        sig = sigma_r(radii, omega_m, 0.8)
        assert sig.shape == (2, 2) and np.all(np.diff(sig.ravel()) < 0)


def test_linear_power_limits_and_scalings():
    for omega_m in (0.1, 0.3, 0.5):
        # the transfer function is 1 on scales far above the horizon at equality, and falls
        np.testing.assert_allclose(transfer_no_wiggle(1e-5, omega_m), 1.0, atol=1e-4)
        t = transfer_no_wiggle(np.logspace(-4, 2, 50), omega_m)
        assert np.all(np.diff(t) < 0) and t[-1] < 1e-2
        # so P(k) -> A k^n_s at small k
        k = np.array([1e-5, 2e-5, 4e-5])
        slope = np.diff(np.log(linear_power(k, omega_m, 0.8))) / np.log(2.0)
        np.testing.assert_allclose(slope, N_S, atol=2e-3)
        # sigma_8 only sets the amplitude
        kk = np.logspace(-2, 1, 7)
        np.testing.assert_allclose(
            linear_power(kk, omega_m, 1.0) / linear_power(kk, omega_m, 0.5), 4.0, rtol=1e-12
        )
    # a larger Omega_m h moves the turnover to smaller scales: more small-scale power at fixed
    # sigma_8 relative to large scales
    ratio = [linear_power(1.0, om, 0.8) / linear_power(0.02, om, 0.8) for om in (0.1, 0.3, 0.5)]
    assert np.all(np.diff(ratio) > 0)
    grid = np.zeros((2, 3))
    grid[1] = [0.1, 1.0, 10.0]
    power = linear_power(grid, 0.3, 0.8)
    assert power.shape == (2, 3) and np.all(power[0] == 0) and np.all(power[1] > 0)


def test_lagrangian_radius_holds_the_mass_at_mean_density():
    mass = np.array([1e12, 1e14, 2e15])
    for omega_m in (0.1, 0.3):
        radius = lagrangian_radius(mass, omega_m)
        np.testing.assert_allclose(4 / 3 * np.pi * radius**3 * omega_m * RHO_CRIT, mass, rtol=1e-12)


# ----------------------------------------------------------------------------- stages


def test_stages_share_their_initial_conditions_and_conserve_mass():
    assert STAGES == ("gaussian", "zeldovich", "halos", "gas")
    params = _row(0.3, 0.8, a_sn1=2.0, a_agn1=2.0)
    maps = {s: simulate_maps(params, stage=s, seed=2, **SMALL)[0] for s in STAGES}
    expected = 0.3 * RHO_CRIT * SLAB_THICKNESS
    for stage, m in maps.items():
        assert m.shape == (15, 2, 32, 32) and m.dtype == np.float32 and np.all(m > 0), stage
        if stage != "gaussian":  # particles conserve mass exactly; the log-normal on average
            np.testing.assert_allclose(m[:, 0].astype(np.float64).mean(), expected, rtol=1e-4)
    np.testing.assert_allclose(maps["gaussian"][:, 0].astype(np.float64).mean(), expected, rtol=0.2)
    # the largest modes (|k| <= 2 fundamentals) of the contrast agree across the stages
    modes = {}
    for stage, m in maps.items():
        contrast = m[:, 0] / m[:, 0].mean(axis=(1, 2), keepdims=True) - 1
        if stage == "gaussian":
            contrast = np.log(m[:, 0] / m[:, 0].mean(axis=(1, 2), keepdims=True))
        f = np.fft.fft2(contrast)
        modes[stage] = np.concatenate(
            [f[:, 0, 1:3], f[:, 1:3, 0], f[:, 1:2, 1:2].reshape(15, -1)], 1
        )
    for stage in STAGES[1:]:
        a, b = modes["gaussian"].ravel(), modes[stage].ravel()
        corr = np.real(np.vdot(a, b)) / np.sqrt(np.vdot(a, a).real * np.vdot(b, b).real)
        assert corr > 0.8, (stage, corr)
    # the dark matter of "halos" and "gas" is the same: feedback moves only gas (f_b ~ 16 %)
    change = np.abs(maps["gas"][:, 0] / maps["halos"][:, 0] - 1)
    assert np.median(change) < 0.1
    # without feedback the suite does not matter
    for stage in ("zeldovich", "halos"):
        simba, _ = simulate_maps(params, stage=stage, seed=2, suite="SIMBA", **SMALL)
        np.testing.assert_array_equal(simba, maps[stage])
    with pytest.raises(ValueError, match="stage must be one of"):
        simulate_maps(params, stage="stars", **SMALL)


def test_gaussian_stage_is_log_normal():
    maps, _ = simulate_maps(_row(0.3, 0.8), stage="gaussian", seed=1, **SMALL)
    log_map = np.log(maps[:, 0].astype(np.float64))
    from scipy.stats import skew

    assert abs(skew(log_map.ravel())) < 0.1
    # P is the same field times the pressure of gas at the mean density
    np.testing.assert_allclose(maps[:, 1] / maps[:, 0], (0.049 / 0.3) * 1e4, rtol=1e-5)


def test_cache_key_holds_the_stage(tmp_path, monkeypatch):
    monkeypatch.setenv("A3NET_DATA", str(tmp_path))
    params = np.array([FIDUCIAL])
    simulate_maps(params, seed=1, cache=True, **SMALL)
    halos, _ = simulate_maps(params, seed=1, cache=True, stage="halos", **SMALL)
    assert len(list((tmp_path / "simulated").iterdir())) == 2
    plain, _ = simulate_maps(params, seed=1, stage="halos", **SMALL)
    np.testing.assert_array_equal(halos, plain)


# ----------------------------------------------------------------------------- halos


def test_halo_catalogue_columns_masses_and_concentrations():
    params = np.array([[0.3, 0.8, 1, 1, 1, 1], [0.45, 0.95, 1, 1, 1, 1]])
    halos = halo_catalogue(params, grid=32, seed=3)
    assert list(halos.columns) == ["sim_id", "mass", "x", "y", "z", "r200c", "concentration"]
    assert set(halos["sim_id"]) == {0, 1}
    for i, (om, s8) in enumerate(params[:, :2]):
        h = halos[halos["sim_id"] == i]
        particle = om * RHO_CRIT * (25.0 / 32) ** 3
        n_particles = h["mass"] / particle
        np.testing.assert_allclose(n_particles, np.round(n_particles), atol=1e-6)
        assert n_particles.min() >= 16
        np.testing.assert_allclose(
            4 / 3 * np.pi * h["r200c"] ** 3 * 200 * RHO_CRIT, h["mass"], rtol=1e-10
        )
        np.testing.assert_allclose(h["concentration"], concentration_200c(h["mass"], om, s8))
        assert ((h[["x", "y", "z"]] >= 0) & (h[["x", "y", "z"]] < 25.0)).all().all()
    # the same seed gives the same halos, whichever suite; box i does not depend on box j
    simba = halo_catalogue(params, grid=32, seed=3, suite="SIMBA")
    np.testing.assert_array_equal(simba.to_numpy(), halos.to_numpy())
    first = halo_catalogue(params[:1], grid=32, seed=3)
    np.testing.assert_array_equal(first.to_numpy(), halos[halos["sim_id"] == 0].to_numpy())
    assert not halo_catalogue(params, grid=32, seed=4)["mass"].equals(halos["mass"])


@pytest.mark.parametrize("stage", ["halos", "gas"])
def test_listed_halos_sit_on_mass_peaks_of_every_axis(stage):
    params = np.array([[0.3, 0.8, 1, 1, 1, 1], [0.2, 0.9, 2, 0.5, 1, 1]])
    maps, catalogue = simulate_maps(params, seed=5, stage=stage, fields="Mtot", **SMALL)
    halos = halo_catalogue(params, grid=32, seed=5)
    listed = halos_in_maps(halos, catalogue, 32)
    assert list(listed.columns) == ["map_index", "sim_id", "px", "py", "radius_px", "mass"]
    # every halo appears once per axis: in exactly one slab of each of the three directions
    per_axis = listed.assign(axis=catalogue["axis"].to_numpy()[listed["map_index"]])
    assert len(per_axis) == 3 * len(halos)
    assert (per_axis.groupby(["sim_id", "axis"]).size().to_numpy() == halos.groupby(
        "sim_id").size().to_numpy().repeat(3)).all()  # fmt: skip
    np.testing.assert_array_equal(
        listed["sim_id"], catalogue["sim_id"].to_numpy()[listed["map_index"]]
    )
    big = per_axis[per_axis["mass"] > 1e12]
    assert len(big) > 10
    for axis in range(3):
        rows = big[big["axis"] == axis]
        ix = np.round(rows["px"].to_numpy()).astype(int) % 32
        iy = np.round(rows["py"].to_numpy()).astype(int) % 32
        at_halo = maps[rows["map_index"].to_numpy(), 0, ix, iy]
        median = np.median(maps[rows["map_index"].to_numpy(), 0], axis=(1, 2))
        assert np.mean(at_halo > median) > 0.95, axis
        assert np.median(at_halo / median) > 3, axis
        # a pixel shifted by half the map is not a peak
        shifted = maps[rows["map_index"].to_numpy(), 0, (ix + 16) % 32, (iy + 16) % 32]
        assert np.median(shifted / median) < 2, axis
