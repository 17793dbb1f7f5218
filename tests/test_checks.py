"""a3net.exercises.checks: printed PASS/FAIL lines and returned booleans."""

from __future__ import annotations

import re

import numpy as np
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


def test_n_components_check_builds_its_own_images(capsys, lenient):
    from sklearn.decomposition import PCA

    from a3net.exercises import rings as ring_checks

    def good(images, fraction):
        flat = images.reshape(len(images), -1)
        ratios = PCA(svd_solver="full").fit(flat).explained_variance_ratio_
        return int(np.searchsorted(np.cumsum(ratios), fraction) + 1)

    def stub(images, fraction):
        raise NotImplementedError("exercise")

    assert ring_checks.check_n_components(good) is True
    out = _out(capsys)
    assert out.count("PASS:") == 2 and "smallest count reaching 50%" in out
    assert ring_checks.check_n_components(lambda images, fraction: 40) is False
    failed = _out(capsys)
    assert "FAIL: n_components_for(images, 0.5)" in failed
    # the reference count is not printed: a FAIL must not hand out the answer
    assert "got 40" in failed
    assert set(re.findall(r"\d+", failed)) <= {"0", "5", "9", "40", "50", "90"}, failed
    assert ring_checks.check_n_components(stub) is False
    assert "still a stub" in _out(capsys)
    with pytest.raises(ValueError, match="fraction"):
        ring_checks.check_n_components(good, fraction=1.5)


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
