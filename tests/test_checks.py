"""a3net.exercises.checks: printed PASS/FAIL lines and returned booleans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from a3net.exercises.checks import check, check_better_than, check_close, check_shape


def _out(capsys) -> str:
    return capsys.readouterr().out.strip()


def test_check_pass_and_fail(capsys):
    assert check(True, "rings counted") is True
    assert _out(capsys) == "PASS: rings counted"
    assert check(np.bool_(False), "rings counted", "look at the threshold") is False
    assert _out(capsys) == "FAIL: rings counted — look at the threshold"
    assert check(0 > 1, "no hint") is False
    assert _out(capsys) == "FAIL: no hint"
    assert check(np.array([True]), "one-element array") is True


def test_check_rejects_ambiguous_or_bad_arguments():
    with pytest.raises(TypeError, match="np.all"):
        check(np.array([True, False]), "array")
    with pytest.raises(TypeError, match="'what'"):
        check(True, "")
    with pytest.raises(TypeError, match="'hint'"):
        check(True, "x", hint=3)


def test_check_close(capsys):
    assert check_close(1.0 + 1e-9, 1.0, what="radius") is True
    assert _out(capsys) == "PASS: radius"
    assert check_close(1.2, 1.0, rtol=0.1, what="radius") is False
    out = _out(capsys)
    assert out.startswith("FAIL: radius — got 1.2, expected 1")
    assert check_close([1.0, 2.0], np.array([1.0, 2.05]), rtol=0.05, what="vector") is True
    assert check_close(np.ones(3), np.ones(4), what="vector") is False
    assert "shape (3,), expected (4,)" in _out(capsys)
    assert check_close(float("nan"), 1.0, atol=10, what="nan") is False
    assert "NaN" in _out(capsys)
    assert check_close("abc", 1.0, what="text") is False
    assert "expected a number" in _out(capsys)
    with pytest.raises(ValueError, match="rtol and atol"):
        check_close(1.0, 1.0, rtol=-1)


def test_check_shape(capsys):
    assert check_shape(np.zeros((8, 1, 28, 28)), (None, 1, 28, 28), "images") is True
    assert _out(capsys) == "PASS: images"
    assert check_shape(np.zeros((8, 28, 28)), (None, 1, 28, 28), "images") is False
    assert _out(capsys) == "FAIL: images — shape (8, 28, 28), expected (any, 1, 28, 28)"
    assert check_shape([1, 2], (2,), "list") is False
    assert "got list" in _out(capsys)
    with pytest.raises(TypeError, match="'shape'"):
        check_shape(np.zeros(3), 3, "x")


def test_check_better_than(capsys):
    assert check_better_than(0.10, 0.20, "CNN scatter below baseline") is True
    assert _out(capsys) == "PASS: CNN scatter below baseline"
    assert check_better_than(0.30, 0.20, "CNN scatter below baseline") is False
    assert "got 0.3, the baseline has 0.2; lower is better" in _out(capsys)
    assert check_better_than(0.9, 0.8, "accuracy", lower_is_better=False) is True
    assert check_better_than(0.8, 0.8, "accuracy", lower_is_better=False) is False
    assert "higher is better" in _out(capsys)
    assert check_better_than(float("nan"), 0.8, "nan") is False
    assert "NaN" in _out(capsys)
    with pytest.raises(TypeError, match="'baseline'"):
        check_better_than(0.1, None, "x")


def test_strict_mode_raises_after_printing(capsys, monkeypatch):
    from a3net.exercises.checks import CheckFailed, strict

    monkeypatch.setenv("A3NET_STRICT_CHECKS", "1")
    assert strict()
    assert check(True, "fine") is True
    with pytest.raises(CheckFailed, match="FAIL: radius — write it.*A3NET_STRICT_CHECKS"):
        check(False, "radius", "write it")
    assert _out(capsys).endswith("FAIL: radius — write it")
    with pytest.raises(AssertionError):  # CheckFailed is an AssertionError, as nbval reports
        check_better_than(0.3, 0.2, "scatter")
    for off in ("", "0", "false", "No"):
        monkeypatch.setenv("A3NET_STRICT_CHECKS", off)
        assert not strict() and check(False, "lenient") is False


# ------------------------------------------------------------------ chapter F checks


@pytest.fixture(autouse=False)
def lenient(monkeypatch):
    monkeypatch.delenv("A3NET_STRICT_CHECKS", raising=False)


def test_radius_check_passes_moments_and_fails_noise(capsys, lenient):
    from a3net.exercises import rings as ring_checks

    def moments(images, x, y, rounds=2, floor=0.0):
        """The clipped mean of exercise F.1 (``rounds=0``: the plain weighted mean)."""
        image = np.where(images[:, 0] > floor, images[:, 0], 0.0)
        rows, cols = np.mgrid[0 : image.shape[1], 0 : image.shape[2]]
        distance = np.hypot(cols[None] - x[:, None, None], rows[None] - y[:, None, None])
        weight = image
        for _ in range(rounds + 1):
            radius = (weight * distance).sum(axis=(1, 2)) / weight.sum(axis=(1, 2))
            weight = np.where(np.abs(distance - radius[:, None, None]) < 4.0, image, 0.0)
        return radius

    def stub(images, x, y):
        raise NotImplementedError("exercise")

    assert ring_checks.check_radius_estimator(moments) is True
    assert "FAIL" not in _out(capsys)
    # every lit pixel, dark counts included: misses the pass mark, and on photon images a
    # threshold at 20% of the maximum does not rescue it (a dark count is one photon)
    for floor in (0.0, 0.2):
        plain = lambda i, x, y, floor=floor: moments(i, x, y, rounds=0, floor=floor)  # noqa: E731
        assert ring_checks.check_radius_estimator(plain) is False
    assert "within 4 px of that first estimate" in _out(capsys)
    assert ring_checks.check_radius_estimator(lambda i, x, y: moments(i, y, x)) is False
    assert ring_checks.check_radius_estimator(stub) is False
    assert "still a stub" in _out(capsys)


def _error_rate_by_separation(labels, predicted_counts, edges, *, two_only=True, stderr=None):
    """Exercise F.2's solution; ``two_only=False`` and ``stderr`` make the usual mistakes."""
    two = (labels["n_rings"] == 2).to_numpy() if two_only else np.ones(len(labels), bool)
    x1, y1, x2, y2, r1, r2 = (
        labels[["x_1", "y_1", "x_2", "y_2", "radius_1", "radius_2"]].to_numpy(float)[two].T
    )
    s = np.hypot(x1 - x2, y1 - y2) / (r1 + r2)
    wrong = np.asarray(predicted_counts)[two] != 2
    n_bins = len(edges) - 1
    i = np.digitize(s, edges) - 1
    inside = (i >= 0) & (i < n_bins)
    count = np.bincount(i[inside], minlength=n_bins)
    errors = np.bincount(i[inside], wrong[inside], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = errors / count
        error = (stderr or (lambda p, n: np.sqrt(p * (1 - p) / n)))(rate, count)
    return rate, error, count


def test_error_rate_by_separation_check(capsys, lenient):
    from a3net.exercises import rings as ring_checks

    assert ring_checks.check_error_rate_by_separation(_error_rate_by_separation) is True
    out = _out(capsys)
    assert "FAIL" not in out and out.count("PASS:") == 6, out
    assert ring_checks.check_error_rate_by_separation(_error_rate_by_separation, seed=3) is True
    capsys.readouterr()

    def stub(labels, predicted_counts, edges):
        raise NotImplementedError("exercise")

    def truth(labels, predicted_counts, edges):  # the true counts, not the predicted ones
        return _error_rate_by_separation(labels, labels["n_rings"].to_numpy(), edges)

    def clipped(labels, predicted_counts, edges):  # out-of-range separations in the end bins
        wide = np.r_[-np.inf, edges[1:-1], np.inf]
        return _error_rate_by_separation(labels, predicted_counts, wide)

    def by_index(labels, predicted_counts, edges):  # aligns by the DataFrame's index
        counts = pd.Series(predicted_counts)[labels.index].to_numpy()
        return _error_rate_by_separation(labels, counts, edges)

    for wrong, message in [
        (stub, "still a stub"),
        (lambda labels, counts, edges: 1 / 0, "raised ZeroDivisionError"),
        (lambda labels, counts, edges: np.zeros(3), "returns (rate, stderr, count)"),
        (truth, "FAIL: rate: the fraction of two-ring images counted wrong"),
        (by_index, "FAIL: rate"),
        (
            lambda *a: _error_rate_by_separation(*a, two_only=False),
            "FAIL: on images of 1 to 3 rings, only the two-ring images count",
        ),
        (clipped, "FAIL: on images of 1 to 3 rings"),
        (
            lambda *a: _error_rate_by_separation(
                *a, stderr=lambda p, n: np.sqrt(p * (1 - p) / (n - 1))
            ),
            "FAIL: stderr",
        ),
        (
            lambda *a: _error_rate_by_separation(*a, stderr=lambda p, n: np.sqrt(p * (1 - p)) / n),
            "FAIL: stderr",
        ),
        (
            lambda *a: tuple(np.nan_to_num(v) for v in _error_rate_by_separation(*a)),
            "FAIL: rate",  # an empty bin has no rate: NaN, not 0
        ),
    ]:
        assert ring_checks.check_error_rate_by_separation(wrong) is False, message
        out = _out(capsys)
        assert message in out, (message, out)
        assert "Traceback" not in out


def test_error_rate_check_passes_in_strict_mode(capsys, monkeypatch):
    from a3net.exercises import rings as ring_checks
    from a3net.exercises.checks import CheckFailed

    monkeypatch.setenv("A3NET_STRICT_CHECKS", "1")
    assert ring_checks.check_error_rate_by_separation(_error_rate_by_separation) is True
    with pytest.raises(CheckFailed, match="FAIL: stderr"):
        ring_checks.check_error_rate_by_separation(
            lambda *a: _error_rate_by_separation(*a, stderr=lambda p, n: p)
        )


def test_confusion_check_computes_its_reference(capsys, lenient):
    from a3net.exercises import rings as ring_checks

    def good(true, pred, n_classes):
        counts = np.zeros((n_classes, n_classes), int)
        np.add.at(counts, (true, pred), 1)
        return counts

    assert ring_checks.check_confusion(good) is True
    assert ring_checks.check_confusion(lambda t, p, n: good(p, t, n)) is False
    assert "row index = true class" in _out(capsys)


def test_measured_radii_check_calls_the_students_function(capsys, lenient):
    """F.4 with small untrained torch models: the check compares with its own measurement."""
    from sklearn.preprocessing import StandardScaler

    from a3net import torch as nn
    from a3net.data.rings import ring_targets, simulate_rings
    from a3net.exercises import rings as ring_checks

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    _, labels = simulate_rings(200, seed=1)
    scaler = StandardScaler().fit(ring_targets(labels))
    cvae, regressor = nn.RingCVAE(latent_dim=2), nn.RingRegressorCNN()

    def good(cvae, regressor, scaler, radii, seed=0):
        params = ring_checks.sweep_conditions(radii)
        drawn = nn.generate(cvae, scaler.transform(params), seed=seed)
        peak = drawn.max(axis=(1, 2, 3), keepdims=True)
        return scaler.inverse_transform(nn.predict(regressor, drawn / peak))[:, 2]

    def unscaled(cvae, regressor, scaler, radii, seed=0):
        drawn = nn.generate(cvae, scaler.transform(ring_checks.sweep_conditions(radii)), seed=seed)
        return nn.predict(regressor, drawn)[:, 2]

    def stub(cvae, regressor, scaler, radii, seed=0):
        raise NotImplementedError("exercise")

    # The untrained cVAE cannot follow the request, so the last (physics) line may fail; the
    # student's code is right when the match line passes.
    ring_checks.check_measured_radii(good, cvae, regressor, scaler, seed=3)
    assert "PASS: measured radii of the check's sweep (8 to 3.5 px) match its own" in _out(capsys)
    assert ring_checks.check_measured_radii(good, cvae, regressor, scaler, seed=4) is not None
    capsys.readouterr()
    for wrong, message in [
        (stub, "still a stub"),
        (lambda cvae, regressor, scaler, radii, seed=0: radii, "returned the requested radii"),
        (lambda cvae, regressor, scaler, radii, seed=0: radii[:3], "one radius per requested"),
        (unscaled, "FAIL: measured radii of the check's sweep"),
    ]:
        assert ring_checks.check_measured_radii(wrong, cvae, regressor, scaler, seed=3) is False
        assert message in _out(capsys), message
    with pytest.raises(TypeError, match="a3net.torch or a3net.keras"):
        ring_checks.check_measured_radii(good, object(), regressor, scaler)


# ------------------------------------------------------------------ chapter C checks


def test_photoz_checks_pass_solutions_and_fail_stubs_and_bugs(capsys, lenient):
    from a3net.exercises import photoz as pz_checks

    def colours(mags):
        i, j = np.triu_indices(mags.shape[1], k=1)
        return mags[:, i] - mags[:, j]

    def scale_and_chi2(flux, err, model):
        w = err**-2.0
        amp = (w * flux * model).sum(1) / (w * model**2).sum(1)
        return amp, (w * (flux - amp[:, None] * model) ** 2).sum(1)

    def pz_summary(z_grid, chi2):
        p = np.exp(-0.5 * (chi2 - chi2.min(axis=1, keepdims=True)))
        p /= np.trapezoid(p, z_grid, axis=1)[:, None]
        return z_grid[p.argmax(1)], np.trapezoid(p * z_grid, z_grid, axis=1), p

    def stub(*args):
        raise NotImplementedError("exercise")

    assert pz_checks.check_all_colours(colours) is True
    assert pz_checks.check_scale_and_chi2(scale_and_chi2) is True
    assert pz_checks.check_pz_summary(pz_summary) is True
    assert "FAIL" not in _out(capsys)
    # reversed colours, an unweighted amplitude, p(z) without the minimum chi2 taken off
    assert pz_checks.check_all_colours(lambda m: -colours(m)) is False
    assert (
        pz_checks.check_scale_and_chi2(lambda f, e, m: scale_and_chi2(f, 1.0 + 0 * e, m)) is False
    )
    unnormalised = pz_checks.check_pz_summary(
        lambda z, c: (z[c.argmin(1)], z[c.argmin(1)], np.exp(-c / 2))
    )
    assert unnormalised is False
    assert not pz_checks.check_pz_summary(stub)
    out = _out(capsys)
    assert out.count("FAIL") >= 3 and "still a stub" in out


# ------------------------------------------------------------------ chapters D and G checks


def test_cluster_checks_pass_solutions_and_fail_stubs_and_bugs(capsys, lenient):
    from scipy import stats

    from a3net.exercises import clusters as cl_checks

    def radius(images):
        size = images.shape[-1]
        axis = np.arange(size) - (size - 1) / 2
        return np.hypot(axis[None, :], axis[:, None])[None]

    def core_excised_counts(images, r500_pix, background, inner, centre_shift=0.0):
        r = radius(images) + centre_shift
        keep = (r < np.asarray(r500_pix)[:, None, None]) & (
            r >= inner * np.asarray(r500_pix)[:, None, None]
        )
        return (images[:, 0] * keep).sum(axis=(1, 2)) - background * keep.sum(axis=(1, 2))

    def mean_log_counts(rate):
        k = np.arange(400)
        return (stats.poisson.pmf(k[None], np.asarray(rate)[:, None]) * np.log1p(k)).sum(1)

    def symmetrised(predict, images, flips=(False, True)):
        views = [
            np.rot90(b, k, axes=(2, 3))
            for b in [images[..., ::-1] if f else images for f in flips]
            for k in range(4)
        ]
        return np.mean([predict(v) for v in views], axis=0)

    def spread(residuals, n_test, n_draws, seed=0):
        rng = np.random.default_rng(seed)
        r2 = np.asarray(residuals) ** 2
        mse = [r2[rng.choice(len(r2), n_test, replace=False)].mean() for _ in range(n_draws)]
        return np.mean(mse), np.std(mse)

    def core_share(maps, r_core):
        inside = radius(maps) < np.asarray(r_core)[:, None, None]
        return (maps[:, 0] * inside).sum(axis=(1, 2)) / maps[:, 0].sum(axis=(1, 2))

    def max_change(predict, images):
        base = predict(images)
        return max(
            np.abs(predict(np.rot90(images, k, axes=(2, 3))) - base).max() for k in (1, 2, 3)
        )

    def stub(*args):
        raise NotImplementedError("exercise")

    assert cl_checks.check_core_excised_counts(core_excised_counts) is True
    assert cl_checks.check_mean_log_counts(mean_log_counts) is True
    assert cl_checks.check_symmetrised_prediction(symmetrised) is True
    assert cl_checks.check_test_set_spread(spread) is True
    assert cl_checks.check_core_share(core_share) is True
    assert cl_checks.check_max_rotation_change(max_change) is True
    assert "FAIL" not in _out(capsys)
    # a centre off by half a pixel, log(1 + rate) itself, the four turns only, draws with
    # replacement of one residual, twice the share, the mean change instead of the largest
    shifted = cl_checks.check_core_excised_counts(
        lambda *a: core_excised_counts(*a, centre_shift=0.7)
    )
    assert shifted is False
    assert cl_checks.check_mean_log_counts(lambda rate: np.log1p(rate)) is False
    assert cl_checks.check_symmetrised_prediction(lambda p, x: symmetrised(p, x, (False,))) is False
    assert cl_checks.check_test_set_spread(lambda r, n, d, s: spread(r, 1, d, s)) is False
    assert cl_checks.check_core_share(lambda m, r: core_share(m, r) * 2) is False
    mean_change = cl_checks.check_max_rotation_change(
        lambda p, x: np.abs(p(np.rot90(x, 1, axes=(2, 3))) - p(x)).mean()
    )
    assert mean_change is False
    assert not cl_checks.check_core_share(stub)
    out = _out(capsys)
    assert out.count("FAIL") >= 7 and "still a stub" in out


# ------------------------------------------------------------------ chapters E and H checks


def _cosmology_solutions():
    """Solutions of exercises E.1-E.3 and H.1-H.3, as a student would write them."""
    from a3net.data.cosmology import SLAB_THICKNESS
    from a3net.data.cosmology_linear import RHO_CRIT

    def omega_m_from_mean(mtot_maps):
        return mtot_maps.mean(axis=(1, 2)) / (RHO_CRIT * SLAB_THICKNESS)

    def preprocess(maps):
        return np.log10(maps / maps.mean(axis=(2, 3), keepdims=True)).astype(np.float32)

    def power_spectrum_1d(delta, box_size, n_bins, *, lowest=None, total=False, norm=4):
        size = delta.shape[0]
        k1 = 2 * np.pi * np.fft.fftfreq(size, d=box_size / size)
        kk = np.hypot(k1[:, None], k1[None, :])
        low = 2 * np.pi / box_size if lowest is None else lowest
        edges = np.linspace(low, np.pi * size / box_size, n_bins + 1)
        power = np.abs(np.fft.fft2(delta)) ** 2 * box_size**2 / size**norm
        sums, _ = np.histogram(kk, edges, weights=power)
        counts, _ = np.histogram(kk, edges)
        return 0.5 * (edges[1:] + edges[:-1]), sums if total else sums / counts

    def average_over_symmetries(predict, maps, mirrors=(False, True)):
        views = [
            np.rot90(m, k, axes=(2, 3))
            for m in [maps[..., ::-1] if f else maps for f in mirrors]
            for k in range(4)
        ]
        return np.mean([predict(v) for v in views], axis=0)

    def saliency_share(saliency, labels):
        weight = np.abs(saliency).ravel()
        return np.bincount(labels.ravel(), weight, minlength=3) / weight.sum()

    def r2_per_parameter(y_true, y_pred):
        residual = ((y_true - y_pred) ** 2).sum(axis=0)
        return 1 - residual / ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)

    return (omega_m_from_mean, preprocess, power_spectrum_1d, average_over_symmetries,
            saliency_share, r2_per_parameter)  # fmt: skip


def test_cosmology_checks_pass_the_solutions(capsys, monkeypatch):
    from a3net.exercises import cosmology as co_checks

    monkeypatch.setenv("A3NET_STRICT_CHECKS", "1")  # the instructor notebooks run like this
    mean, prep, power, average, share, r2 = _cosmology_solutions()
    assert co_checks.check_mean_density_estimator(mean) is True
    assert co_checks.check_mean_removal(prep) is True
    assert co_checks.check_power_spectrum(power) is True
    assert co_checks.check_dihedral_average(average) is True
    assert co_checks.check_saliency_by_web(share) is True
    assert co_checks.check_r2(r2) is True
    out = _out(capsys)
    assert "FAIL" not in out and out.count("PASS") >= 16, out
    for seed in (1, 7):  # other test inputs, same verdict
        assert co_checks.check_mean_density_estimator(mean, seed=seed) is True
        assert co_checks.check_power_spectrum(power, seed=seed) is True
        assert co_checks.check_saliency_by_web(share, seed=seed) is True


def test_power_spectrum_check_inputs_leave_no_mode_on_an_inner_edge():
    for size, n_bins in ((32, 7), (48, 10)):  # the check's random map and its plane wave
        step = np.fft.fftfreq(size) * size
        u = np.hypot(step[:, None], step[None, :]).ravel()
        inner = np.linspace(1.0, size / 2, n_bins + 1)[1:-1]
        assert np.abs(u[:, None] - inner[None, :]).min() > 1e-3


def _stub(*args):
    raise NotImplementedError("exercise")


def _assert_fails(check_fn, wrong, message, capsys):
    assert check_fn(wrong) is False, message
    out = _out(capsys)
    assert message in out, (message, out)
    assert "Traceback" not in out and "PASS" not in out.splitlines()[-1]


def test_cosmology_checks_fail_stubs_and_bugs(capsys, lenient):
    from a3net.data.cosmology_linear import RHO_CRIT
    from a3net.exercises import cosmology as co_checks

    mean, prep, power, average, share, r2 = _cosmology_solutions()
    cases = {
        co_checks.check_mean_density_estimator: [
            (_stub, "still a stub"),
            (lambda m: None, "one Omega_m per map"),
            (lambda m: np.full(len(m), m.mean()) / (RHO_CRIT * 5), "over its pixels"),
            (lambda m: m.mean(axis=(1, 2)) / RHO_CRIT, "divide by the slab thickness"),
            (lambda m: np.median(m, axis=(1, 2)) / (RHO_CRIT * 5), "not the median"),
            (lambda m: m.mean(axis=(1, 2))[::-1] / (RHO_CRIT * 5), "FAIL: Omega_m = mean(map)"),
        ],
        co_checks.check_mean_removal: [
            (_stub, "still a stub"),
            (lambda m: None, "keeps the shape"),
            (lambda m: prep(m).astype(np.float64), "end with .astype(np.float32)"),
            (  # one mean per channel over the whole stack
                lambda m: np.log10(m / m.mean(axis=(0, 2, 3), keepdims=True)).astype(np.float32),
                "not by a mean over the stack",
            ),
            (  # one mean per map over both channels
                lambda m: np.log10(m / m.mean(axis=(1, 2, 3), keepdims=True)).astype(np.float32),
                "FAIL: multiplying one map and channel",
            ),
            (
                lambda m: np.log(m / m.mean(axis=(2, 3), keepdims=True)).astype(np.float32),
                "not ln",
            ),
            (  # the geometric mean: invariant, but other numbers
                lambda m: (np.log10(m) - np.log10(m).mean(axis=(2, 3), keepdims=True)).astype(
                    np.float32
                ),
                "FAIL: the values are log10(map / mean(map))",
            ),
        ],
        co_checks.check_power_spectrum: [
            (_stub, "still a stub"),
            (lambda d, b, n: power(d, b, n)[1], "return a pair"),
            (lambda d, b, n: (np.linspace(0, 1, n + 1), np.ones(n + 1)), "n_bins = 7 values"),
            (lambda d, b, n: (power(d, b, n)[0] * 2, power(d, b, n)[1]), "midpoints"),
            (lambda d, b, n: power(d, b, n, lowest=0.0), "midpoints"),  # bins from k = 0
            (lambda d, b, n: power(d, b, n, norm=2), "FAIL: the binned power of a random map"),
            (lambda d, b, n: power(d, b, n, total=True), "average (not sum)"),
            (  # fixed box size
                lambda d, b, n: power(d, 25.0, n),
                "FAIL: a plane wave",
            ),
        ],
        co_checks.check_dihedral_average: [
            (_stub, "still a stub"),
            (lambda p, m: average(p, m).mean(axis=1), "one averaged prediction (N, P)"),
            (lambda p, m: average(p, m, (False,)), "FAIL: the mean over the 4 turns"),
            (lambda p, m: p(m), "FAIL: the mean over the 4 turns"),
            (lambda p, m: np.mean([p(np.rot90(m, k)) for k in range(4)], axis=0), "raised"),
        ],
        co_checks.check_saliency_by_web: [
            (_stub, "still a stub"),
            (lambda s, lab: share(s, lab)[:2], "three shares"),
            (lambda s, lab: share(s, lab) * 2, "sum to 1"),
            (  # signed values
                lambda s, lab: np.bincount(lab.ravel(), s.ravel(), minlength=3) / s.sum(),
                "take np.abs(saliency) first",
            ),
            (  # the pixel fractions
                lambda s, lab: np.bincount(lab.ravel(), minlength=3) / lab.size,
                "FAIL: the shares of |saliency|",
            ),
            (  # the mean of the maps' own shares
                lambda s, lab: np.mean([share(a, b) for a, b in zip(s, lab, strict=True)], axis=0),
                "over all maps together",
            ),
            (  # np.unique drops the absent class
                lambda s, lab: (
                    np.array([np.abs(s)[lab == v].sum() for v in np.unique(lab)]) / np.abs(s).sum()
                ),
                "FAIL: a class with no pixel",
            ),
        ],
        co_checks.check_r2: [
            (_stub, "still a stub"),
            (  # a single R2 over all columns
                lambda t, p: 1 - ((t - p) ** 2).sum() / ((t - t.mean()) ** 2).sum(),
                "one R2 per parameter",
            ),
            (  # the spread of the predictions
                lambda t, p: 1 - ((t - p) ** 2).sum(0) / ((p - p.mean(0)) ** 2).sum(0),
                "not y_pred",
            ),
            (lambda t, p: np.clip(r2(t, p), 0, None), "do not clip"),
            (  # the squared correlation
                lambda t, p: np.array(
                    [np.corrcoef(a, b)[0, 1] ** 2 for a, b in zip(t.T, p.T, strict=True)]
                ),
                "FAIL: R2 per parameter",
            ),
            (  # the global R2 of the flattened arrays, repeated per column
                lambda t, p: np.full(
                    t.shape[1], 1 - ((t - p) ** 2).sum() / ((t - t.mean()) ** 2).sum()
                ),  # fmt: skip
                "FAIL: R2 per parameter",
            ),
            (  # the sample variance (ddof=1) with the mean squared residual
                lambda t, p: 1 - ((t - p) ** 2).mean(0) / t.var(axis=0, ddof=1),
                "FAIL: R2 per parameter",
            ),
        ],
    }
    for check_fn, wrongs in cases.items():
        for wrong, message in wrongs:
            _assert_fails(check_fn, wrong, message, capsys)


# ------------------------------------------------------------------ chapters A and B checks


def _spectra_solutions():
    import scipy.linalg

    def dn4000(wavelength, flux):
        f_nu = flux * wavelength**2
        red = (wavelength >= 4000) & (wavelength <= 4100)
        blue = (wavelength >= 3850) & (wavelength <= 3950)
        return f_nu[:, red].mean(axis=1) / f_nu[:, blue].mean(axis=1)

    def rest_frame(wavelength, flux, ivar, z):
        return wavelength / (1 + z), flux * (1 + z), ivar / (1 + z) ** 2

    def slerp(z1, z2, alphas):
        cos = z1 @ z2 / (np.linalg.norm(z1) * np.linalg.norm(z2))
        omega = np.arccos(np.clip(cos, -1, 1))
        a = np.asarray(alphas)[:, None]
        if np.sin(omega) < 1e-8:
            return (1 - a) * z1 + a * z2
        return (np.sin((1 - a) * omega) * z1 + np.sin(a * omega) * z2) / np.sin(omega)

    def frechet(mu1, cov1, mu2, cov2):
        root = scipy.linalg.sqrtm(cov1 @ cov2).real
        return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2 * root))

    return dn4000, rest_frame, slerp, frechet


def test_spectra_checks_pass_the_solutions(capsys, monkeypatch):
    from a3net.exercises import spectra as sp_checks

    monkeypatch.setenv("A3NET_STRICT_CHECKS", "1")
    dn4000, rest_frame, slerp, frechet = _spectra_solutions()
    for seed in (None, 1, 9):  # the default test inputs and others, same verdict
        kw = {} if seed is None else {"seed": seed}
        assert sp_checks.check_dn4000(dn4000, **kw) is True
        assert sp_checks.check_rest_frame(rest_frame, **kw) is True
        assert sp_checks.check_slerp(slerp, **kw) is True
        assert sp_checks.check_frechet_gaussian(frechet, **kw) is True
    out = _out(capsys)
    assert "FAIL" not in out and out.count("PASS") >= 3 * 13, out


def test_spectra_checks_fail_stubs_and_bugs(capsys, lenient):
    import scipy.linalg

    from a3net.exercises import spectra as sp_checks

    dn4000, rest_frame, slerp, frechet = _spectra_solutions()
    cases = {
        sp_checks.check_dn4000: [
            (_stub, "still a stub"),
            (lambda w, f: dn4000(w, f)[:3], "one value per spectrum"),
            (lambda w, f: dn4000(w, f / w**2), "convert to f_nu first"),
            (lambda w, f: 1 / dn4000(w, f), "red over blue"),
            (lambda w, f: dn4000(w, f) * f.mean(axis=1) / 20, "FAIL: Dn4000 matches"),
        ],
        sp_checks.check_rest_frame: [
            (_stub, "still a stub"),
            (lambda w, f, i, z: (w / (1 + z), f), "return three arrays"),
            (lambda w, f, i, z: (w / z, f, i), "not by z"),
            (lambda w, f, i, z: (w / (1 + z), f, i), "must grow by (1 + z)"),
            (lambda w, f, i, z: (w / (1 + z), f * (1 + z), i), "ivar divided by a^2"),
        ],
        sp_checks.check_slerp: [
            (_stub, "still a stub"),
            (lambda a, b, al: slerp(a, b, al)[:, :3], "one vector per alpha"),
            (lambda a, b, al: slerp(b, a, al), "starts at z1"),
            (
                lambda a, b, al: (1 - np.asarray(al)[:, None]) * a + np.asarray(al)[:, None] * b,
                "that is the linear interpolation",
            ),
            (  # no fallback for parallel vectors: 0 / 0
                lambda a, b, al: _slerp_without_fallback(a, b, al),
                "fall back to",
            ),
        ],
        sp_checks.check_frechet_gaussian: [
            (_stub, "still a stub"),
            (
                lambda m1, c1, m2, c2: float(
                    np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * np.sqrt(np.abs(c1 * c2)))
                ),
                "np.sqrt is element-wise",
            ),
            (
                lambda m1, c1, m2, c2: frechet(m1, c1, m2, c2) - np.sum((m1 - m2) ** 2),
                "FAIL: the distance between two random Gaussians",
            ),
            (  # the mean term not squared
                lambda m1, c1, m2, c2: float(
                    np.linalg.norm(m1 - m2)
                    + np.trace(c1 + c2 - 2 * scipy.linalg.sqrtm(c1 @ c2).real)
                ),
                "FAIL: the distance between two random Gaussians",
            ),
        ],
    }
    for check_fn, wrongs in cases.items():
        for wrong, message in wrongs:
            _assert_fails(check_fn, wrong, message, capsys)


def _slerp_without_fallback(z1, z2, alphas):
    cos = z1 @ z2 / (np.linalg.norm(z1) * np.linalg.norm(z2))
    omega = np.arccos(np.clip(cos, -1, 1))
    a = np.asarray(alphas)[:, None]
    with np.errstate(all="ignore"):
        return (np.sin((1 - a) * omega) * z1 + np.sin(a * omega) * z2) / np.sin(omega)


# ------------------------------------------------------------------ any answer: PASS or FAIL


class _Unconvertible:
    """An answer whose conversion to an array raises (as a torch tensor on a GPU would)."""

    def __array__(self, *args, **kwargs):
        raise RuntimeError("cannot convert")


def _raises(error):
    def answer(*args, **kwargs):
        raise error

    return answer


BAD_VALUES = {
    "None": None,
    "text": "0.3",
    "int": 42,
    "nan": float("nan"),
    "inf": float("inf"),
    "ragged list": [1.0, [2.0, 3.0]],
    "nan array": np.full(3, np.nan),
    "complex": np.array([1 + 2j, 3j]),
    "object": object(),
    "unconvertible": _Unconvertible(),
    "empty": np.array([]),
}
BAD_FUNCTIONS = {
    "stub": _raises(NotImplementedError("exercise")),
    "zero division": _raises(ZeroDivisionError("division by zero")),
    "key error": _raises(KeyError("flux")),
    "returns None": lambda *a, **k: None,
    "returns text": lambda *a, **k: "done",
    "returns nan": lambda *a, **k: np.full((2, 2), np.nan),
    "returns inf": lambda *a, **k: -np.inf,
    "returns a tuple": lambda *a, **k: (1.0, 2.0, 3.0, 4.0),
    "returns a dict": lambda *a, **k: {"a": 1},
    "returns ragged": lambda *a, **k: [[1.0], [2.0, 3.0]],
    "returns unconvertible": lambda *a, **k: _Unconvertible(),
    "returns a generator": lambda *a, **k: (x for x in range(3)),
}
BAD_ANSWERS = {**BAD_VALUES, **BAD_FUNCTIONS}


def _chapter_checks():
    import importlib

    for module in ("photoz", "clusters", "cosmology", "rings", "spectra"):
        mod = importlib.import_module(f"a3net.exercises.{module}")
        for name in sorted(vars(mod)):
            fn = getattr(mod, name)
            if name.startswith("check_") and callable(fn) and fn.__module__ == mod.__name__:
                yield f"{module}.{name}", fn


CHAPTER_CHECKS = dict(_chapter_checks())
EXTRA_ARGS = {  # checks whose answer comes with other arguments (the chapter's models)
    "rings.check_radius_sweep": lambda answer: (np.linspace(3.0, 8.0, 7), answer),
    "rings.check_measured_radii": lambda answer: (answer, None, None, None),
}


def test_an_authors_mistake_still_raises(lenient):
    from a3net.exercises.rings import check_measured_radii

    with pytest.raises(TypeError, match="a3net.torch or a3net.keras"):
        check_measured_radii(lambda *a: np.ones(7), object(), None, None)


def test_every_chapter_check_is_in_the_table():
    assert len(CHAPTER_CHECKS) >= 24, sorted(CHAPTER_CHECKS)


@pytest.mark.parametrize("name", sorted(CHAPTER_CHECKS))
def test_any_answer_is_a_printed_fail_never_a_traceback(name, capsys, lenient, monkeypatch):
    import a3net.exercises.rings as ring_checks

    # the measured-radii check needs trained models for its reference: a fixed one stands in
    monkeypatch.setattr(ring_checks, "_reference_radii", lambda *a: np.linspace(8.0, 3.5, 7))
    check_fn = CHAPTER_CHECKS[name]
    for label, answer in BAD_ANSWERS.items():
        args = EXTRA_ARGS.get(name, lambda a: (a,))(answer)
        result = check_fn(*args)
        out = _out(capsys)
        assert result is False, f"{name} passed the bad answer {label!r}: {out}"
        assert "FAIL" in out, f"{name} printed no FAIL for {label!r}: {out}"
        assert "Traceback" not in out


@pytest.mark.parametrize("label", sorted(BAD_ANSWERS))
def test_generic_checks_fail_any_bad_answer(label, capsys):
    answer = BAD_ANSWERS[label]
    assert check_close(answer, [1.0, 2.0, 3.0], what="values") is False
    right_shape = np.shape(answer) == (3,) if isinstance(answer, np.ndarray) else False
    assert check_shape(answer, (3,), what="shape") is right_shape
    assert check_better_than(answer, 1.0, what="score") is False
    assert _out(capsys).count("FAIL") == 3 - right_shape


def test_a_failing_student_answer_still_raises_in_strict_mode(capsys, monkeypatch):
    from a3net.exercises.checks import CheckFailed
    from a3net.exercises.photoz import check_all_colours

    monkeypatch.setenv("A3NET_STRICT_CHECKS", "1")
    with pytest.raises(CheckFailed):
        check_all_colours(lambda mags: "not colours")
    assert "FAIL" in _out(capsys)


def test_a_nan_condition_is_not_a_pass(capsys, lenient):
    assert check(float("nan"), "a NaN score") is False
    assert "FAIL" in _out(capsys)
