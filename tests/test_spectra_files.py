"""a3net.data.spectra_files: the real SDSS spectra and spDR2 templates in ../shared/realdata,
and the school's HDF5 layout on a small file written here."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from a3net.data.fetch import DataUnavailableError
from a3net.data.spectra_files import (
    EXAMPLE_SPECTRA,
    GALAXY_TEMPLATES,
    SCHOOL_LABELS,
    load_sdss_examples,
    load_sdss_templates,
    read_school_spectra,
    read_sdss_spectrum,
    read_sdss_template,
)

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def test_reads_an_sdss_spec_file_with_its_pipeline_redshift():
    spectrum = read_sdss_spectrum(REALDATA / "sdss_spectra" / "spec-0266-51602-0013.fits")
    assert spectrum.loglam.shape == spectrum.flux.shape == spectrum.ivar.shape == (3838,)
    assert spectrum.spectral_class == "GALAXY"
    assert spectrum.z == pytest.approx(0.12131637, abs=1e-7)
    step = np.diff(spectrum.loglam)
    np.testing.assert_allclose(step, 1e-4, rtol=0.01)  # the SDSS log-lambda grid
    assert 3.57 < spectrum.loglam[0] < 3.59  # about 3800 A
    assert (spectrum.ivar >= 0).all()


def test_reads_the_older_single_table_layout_in_log_lambda():
    spectrum = read_sdss_spectrum(REALDATA / "sdss_spectra" / "NGC3522_SDSS_DR8.fits")
    assert spectrum.flux.size == 3847
    assert np.isnan(spectrum.z) and spectrum.spectral_class == ""
    np.testing.assert_allclose(10 ** spectrum.loglam[0], 3803.645, rtol=1e-6)
    np.testing.assert_allclose(np.diff(spectrum.loglam), 1e-4, rtol=0.01)


def test_reads_an_spdr2_template():
    loglam, flux, z = read_sdss_template(REALDATA / "sdss_spDR2_templates" / "spDR2-023.fit")
    assert loglam.shape == flux.shape == (4197,)
    assert loglam[0] == pytest.approx(3.544068)
    np.testing.assert_allclose(np.diff(loglam), 1e-4)
    assert z == pytest.approx(-3.4e-5)


def test_missing_file_is_one_clear_sentence(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_sdss_spectrum(tmp_path / "spec-0000-00000-0000.fits")


def write_school_file(path, n=5, length=40, *, labels=SCHOOL_LABELS):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as handle:
        raw = handle.create_group("raw")
        raw["spec"] = rng.normal(size=(n, length))
        raw["specerr"] = np.abs(rng.normal(size=(n, length)))
        raw["wavelength"] = np.linspace(3800, 9200, length)
        for key in labels:
            raw[key] = rng.uniform(0.01, 1.0, size=n)


def test_reads_the_school_hdf5_layout(tmp_path):
    write_school_file(tmp_path / "spectra.h5")
    wave, spec, err, labels = read_school_spectra(tmp_path / "spectra.h5")
    assert wave.shape == (40,) and spec.shape == err.shape == (5, 40)
    assert list(labels.columns) == list(SCHOOL_LABELS) and len(labels) == 5


def test_school_file_without_a_label_is_refused(tmp_path):
    write_school_file(tmp_path / "spectra.h5", labels=[k for k in SCHOOL_LABELS if k != "age"])
    with pytest.raises(ValueError, match="lacks age"):
        read_school_spectra(tmp_path / "spectra.h5")


def test_the_cache_loaders_read_the_registered_real_files(tmp_path, monkeypatch):
    """load_sdss_templates / load_sdss_examples take the files from the a3net data cache (here
    filled with the real copies, which the registry's checksums accept), and offline without
    them say which file is missing."""
    monkeypatch.setenv("A3NET_DATA", str(tmp_path))
    with pytest.raises(DataUnavailableError, match="spDR2-023.fit"):
        load_sdss_templates(offline=True)
    (tmp_path / "sdss").mkdir()
    folders = {".fit": "sdss_spDR2_templates", ".fits": "sdss_spectra"}
    for name in GALAXY_TEMPLATES + EXAMPLE_SPECTRA:
        file = Path(name).name
        (tmp_path / name).write_bytes((REALDATA / folders[Path(file).suffix] / file).read_bytes())
    templates = load_sdss_templates(offline=True)
    examples = load_sdss_examples(offline=True)
    assert sorted(templates) == [f"spDR2-{n:03d}" for n in range(23, 29)]
    assert {round(s.z, 3) for s in examples.values()} == {0.121, 0.206, 0.123, 0.003}
    loglam, flux, z = templates["spDR2-023"]
    assert loglam.shape == flux.shape and z == pytest.approx(0.0, abs=0.01)


def test_the_school_file_loads_as_a_simulator_set_and_preprocesses(tmp_path):
    """Simulated spectra written in the school's layout come back with the same flux, inverse
    variance (0 where the error is 0) and labels, and go through the chapters' preprocessing."""
    from a3net.data.spectra import simulate_spectra
    from a3net.data.spectra_files import load_school_spectra
    from a3net.data.spectra_prep import preprocess

    sim = simulate_spectra(40, seed=2, unphysical_fraction=0.05)
    err = np.where(sim.ivar > 0, 1 / np.sqrt(np.maximum(sim.ivar, 1e-30)), 0.0)
    with h5py.File(tmp_path / "school.h5", "w") as handle:
        raw = handle.create_group("raw")
        raw["spec"], raw["specerr"], raw["wavelength"] = sim.flux, err, 10**sim.loglam
        for key in SCHOOL_LABELS:
            raw[key] = sim.labels[key] if key in sim.labels else np.zeros(40)
    loaded = load_school_spectra(tmp_path / "school.h5")
    np.testing.assert_allclose(loaded.loglam, sim.loglam, atol=1e-12)
    np.testing.assert_allclose(loaded.ivar, sim.ivar, rtol=1e-5)
    np.testing.assert_allclose(loaded.labels.to_numpy(), sim.labels.to_numpy(), rtol=1e-12)
    assert "plateid" in loaded.truth.columns
    data, report = preprocess(loaded, n_bins=32)
    assert report["count"].sum() == 2 and data.flux.shape == (38, 32)  # 5% unphysical removed
    with pytest.raises(ValueError, match="SCHOOL_FILE is None"):
        load_school_spectra(None)


def test_template_rows_are_checked():
    path = REALDATA / "sdss_spDR2_templates" / "spDR2-023.fit"
    if not path.is_file():
        pytest.skip("the real template is absent")
    rows = [read_sdss_template(path, row=k)[1] for k in range(4)]  # the file has 4 rows
    assert not np.array_equal(rows[0], rows[3])
    with pytest.raises(ValueError, match="row must be between 0 and 3"):
        read_sdss_template(path, row=4)
    with pytest.raises(ValueError, match="row must be >= 0"):
        read_sdss_template(path, row=-1)  # never the last row


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9])
def test_a_truncated_spectrum_or_school_file_is_one_sentence(tmp_path, keep):
    spec = REALDATA / "sdss_spectra" / "spec-0266-51602-0013.fits"
    if spec.is_file():
        cut = tmp_path / "spec.fits"
        cut.write_bytes(spec.read_bytes()[: int(spec.stat().st_size * keep)])
        with pytest.raises(ValueError, match="spec.fits is not a complete FITS file"):
            read_sdss_spectrum(cut)
    school = tmp_path / "school.h5"
    write_school_file(school)
    school.write_bytes(school.read_bytes()[: int(school.stat().st_size * keep)])
    with pytest.raises(ValueError, match="school.h5 is not a complete HDF5 file"):
        read_school_spectra(school)


@pytest.mark.parametrize("scale, said", [(0.1, "nm"), (None, "log10")])
def test_school_wavelengths_in_other_units_are_refused(tmp_path, scale, said):
    from a3net.data.spectra_files import load_school_spectra

    path = tmp_path / "spectra.h5"
    write_school_file(path)
    with h5py.File(path, "r+") as handle:
        wave = handle["raw"]["wavelength"][()]
        del handle["raw"]["wavelength"]
        handle["raw"]["wavelength"] = wave * scale if scale else np.log10(wave)
    with pytest.raises(ValueError, match=f"expected Angstrom.*{said}"):
        load_school_spectra(path)
