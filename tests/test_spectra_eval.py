"""a3net.evaluation.judge.GeneratorJudge on simulated spectra: the held-out spectra score 1 against
their own floor, a perfect generator (the simulator redrawn for the same labels) scores below
it, and labels shuffled between spectra are caught by the read-back, which the Frechet
distance, a measure of the unconditional distribution, cannot see."""

import numpy as np
import pytest

from a3net.data import spectra_prep as prep
from a3net.data.spectra import galaxy_templates, simulate_spectra
from a3net.evaluation.judge import GeneratorJudge


@pytest.fixture(scope="module")
def setup():
    data, _ = prep.preprocess(simulate_spectra(2500, seed=11), n_bins=96)
    train, test = prep.split_spectra(data, test_fraction=0.3, seed=0)
    scaler = prep.LabelScaler().fit(train.labels)
    c_train, c_test = scaler.transform(train.labels), scaler.transform(test.labels)
    templates = prep.templates_on_grid(galaxy_templates(), data.loglam)
    judge = GeneratorJudge(
        data.loglam, train.flux, c_train, test.flux, test.labels, c_test, templates,
        n_components=8, n_xcorr=40, seed=0,
    )  # fmt: skip
    redraw = simulate_spectra(len(test.labels), seed=12, labels=test.labels, unphysical_fraction=0)
    perfect, _ = prep.preprocess(redraw, loglam=data.loglam, clean=False)
    return judge, test, perfect.flux


def test_real_and_perfect_generators_score_as_they_should(setup):
    judge, test, perfect = setup
    real = judge.real_scores()
    assert real["frechet ratio"] == 1.0 and 0 < real["floor spread"] < 1
    one_bin = 10 ** np.diff(judge.loglam).mean() - 1  # a redshift of one bin
    assert real["r median"] > 3 and real["|z| median"] < one_bin
    assert real["Dn4000-age"] > 0.7
    good = judge.score(perfect)
    assert good["frechet ratio"] < 1.0  # a full set against a half set: below the floor
    assert good["r median"] > 0.7 * real["r median"]
    assert abs(good["Dn4000-age"] - real["Dn4000-age"]) < 0.1
    assert good["readback log10 age"] < 1.3 * real["readback log10 age"]


def test_shuffled_labels_keep_the_frechet_distance_but_lose_the_read_back(setup):
    judge, test, perfect = setup
    order = np.random.default_rng(0).permutation(len(perfect))
    shuffled = judge.score(perfect[order])
    good = judge.score(perfect)
    assert shuffled["frechet ratio"] == pytest.approx(good["frechet ratio"], rel=1e-6)
    assert shuffled["readback log10 age"] > 2 * good["readback log10 age"]
    assert shuffled["Dn4000-age"] < 0.2


def test_bad_generated_sets_are_refused(setup):
    judge, test, perfect = setup
    with pytest.raises(ValueError, match="one spectrum per held-out label"):
        judge.score(perfect[:10])
    broken = perfect.copy()
    broken[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        judge.frechet_ratio(broken)
