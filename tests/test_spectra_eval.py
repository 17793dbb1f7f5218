"""a3net.evaluation.judge.GeneratorJudge on simulated spectra: a perfect generator (the simulator
redrawn for the same labels) scores 0 on the sample-size-corrected distance and matches the real
spectra's template r-values, break and read-back; noiseless physics scores like it once the noise
is forward-modelled; shuffled labels keep the distance of the spectra but fail the joint
distance and the read-back; a label-blind mean spectrum fails everything."""

import numpy as np
import pytest

from a3net.data import spectra_prep as prep
from a3net.data.spectra import galaxy_templates, simulate_spectra
from a3net.evaluation.judge import GeneratorJudge


@pytest.fixture(scope="module")
def setup():
    raw = simulate_spectra(2500, seed=11)
    quiet_raw = simulate_spectra(2500, seed=11, noise=False)
    data, _ = prep.preprocess(raw, n_bins=96)
    quiet, _ = prep.preprocess(quiet_raw, loglam=data.loglam)
    train, test = prep.split_spectra(data, test_fraction=0.3, seed=0)
    _, quiet_test = prep.split_spectra(quiet, test_fraction=0.3, seed=0)
    assert quiet_test.labels.equals(test.labels)
    scaler = prep.LabelScaler().fit(train.labels)
    c_train, c_test = scaler.transform(train.labels), scaler.transform(test.labels)
    templates = prep.templates_on_grid(galaxy_templates(), data.loglam)
    judge = GeneratorJudge(
        data.loglam, train.flux, c_train, test.flux, test.labels, c_test, templates,
        ivar_train=train.ivar, ivar_test=test.ivar, n_boot=40, n_xcorr=40, seed=0,
    )  # fmt: skip
    redraw = simulate_spectra(len(test.labels), seed=12, labels=test.labels, unphysical_fraction=0)
    perfect, _ = prep.preprocess(redraw, loglam=data.loglam, clean=False)
    return judge, train, test, perfect.flux, quiet_test.flux


def test_real_and_perfect_generators_score_as_they_should(setup):
    judge, _, _, perfect, _ = setup
    real = judge.real_scores()
    assert "FD∞" not in real
    one_bin = 10 ** np.diff(judge.loglam).mean() - 1  # a redshift of one bin
    assert real["r median"] > 3 and real["|z| median"] < one_bin
    assert real["Dn4000-age"] > 0.7
    good = judge.score(perfect)
    width = good["FD∞ hi"] - good["FD∞ lo"]
    assert good["FD∞ lo"] - width < 0 < good["FD∞ hi"] + width  # 0 within its interval
    assert abs(good["C2ST AUC"] - 0.5) < 0.05
    assert good["r median"] > 0.7 * real["r median"]
    assert abs(good["Dn4000-age"] - real["Dn4000-age"]) < 0.1
    assert good["readback log10 age"] < 1.3 * real["readback log10 age"]


def test_noiseless_physics_scores_like_the_perfect_generator_once_noise_is_added(setup):
    judge, _, _, perfect, quiet = setup
    good = judge.score(perfect)
    with_noise = judge.score(quiet, noiseless=True)
    without = judge.score(quiet)
    scale = good["FD∞ hi"] - good["FD∞ lo"]
    assert abs(with_noise["FD∞"] - good["FD∞"]) < 2 * scale
    assert without["FD∞"] > 10 * scale  # the control: the noise matters
    assert judge.distance(quiet, noiseless=True) < 0.5 * judge.distance(quiet)


def test_shuffled_labels_keep_the_distance_but_lose_the_joint_one_and_the_read_back(setup):
    judge, _, _, perfect, _ = setup
    order = np.random.default_rng(0).permutation(len(perfect))
    shuffled = judge.score(perfect[order])
    good = judge.score(perfect)
    scale = good["joint FD∞ hi"] - good["joint FD∞ lo"]
    assert abs(shuffled["FD∞"] - good["FD∞"]) < 3 * (good["FD∞ hi"] - good["FD∞ lo"])
    assert shuffled["joint FD∞"] > 20 * scale
    assert shuffled["C2ST AUC"] > 0.8
    assert shuffled["readback log10 age"] > 2 * good["readback log10 age"]
    assert shuffled["Dn4000-age"] < 0.2


def test_a_label_blind_mean_spectrum_fails(setup):
    judge, train, test, perfect, _ = setup
    mean = np.repeat(train.flux.mean(axis=0, keepdims=True), len(test.flux), axis=0)
    blind = judge.score(mean, noiseless=True)
    good = judge.score(perfect)
    assert blind["FD∞"] > 50 * (good["FD∞ hi"] - good["FD∞ lo"])
    assert blind["C2ST AUC"] > 0.95


def test_other_templates_can_be_passed(setup):
    judge, _, test, _, _ = setup
    own = judge.r_values(test.flux)[0]
    one = dict(list(judge.templates.items())[:1])
    assert np.all(judge.r_values(test.flux, templates=one)[0] <= own + 1e-9)


def test_bad_generated_sets_are_refused(setup):
    judge, _, _, perfect, _ = setup
    with pytest.raises(ValueError, match="one spectrum per held-out label"):
        judge.score(perfect[:10])
    broken = perfect.copy()
    broken[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        judge.distance(broken)
