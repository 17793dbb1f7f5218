"""Chapter A's school-data branch, end to end: the notebook run (smoke profile) on an HDF5 file
in the school's layout (group "raw": spec, specerr, wavelength and the labels, no masks), with
the real ranges of redshift, age, metallicity and stellar mass and 1% unphysical records, as a
reader with the school's file would run it. The controls that need the simulator (a redraw of
the held-out galaxies, their noiseless spectra) are left out and their claims with them; the
claims that hold on any data are recorded against the data source."""

import json

import h5py
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from test_chapter_c_real import BOOK

from a3net.data.spectra import simulate_spectra
from a3net.data.spectra_files import SCHOOL_LABELS


def write_school_file(path, n=2500, seed=5):
    """Spectra in the school's layout: flux and its error per pixel on one wavelength grid in A,
    the labels (z 0.02-0.25, ages 0.1-13 Gyr, metallicities 1e-4-0.05, masses 1e8-1e12 Msun, 1%
    unphysical) and the bookkeeping columns (plate, MJD, fibre, position)."""
    sim = simulate_spectra(n, seed=seed, unphysical_fraction=0.01)
    err = np.where(sim.ivar > 0, 1 / np.sqrt(np.maximum(sim.ivar, 1e-30)), 0.0)
    rng = np.random.default_rng(seed)
    extra = {
        "zerr": rng.uniform(1e-5, 1e-4, n),
        "plateid": rng.integers(266, 3000, n),
        "mjd": rng.integers(51602, 55000, n),
        "fiberid": rng.integers(1, 640, n),
        "ra": rng.uniform(0, 360, n),
        "dec": rng.uniform(-10, 70, n),
    }
    with h5py.File(path, "w") as handle:
        raw = handle.create_group("raw")
        raw["spec"], raw["specerr"] = sim.flux, err.astype(np.float32)
        raw["wavelength"] = 10**sim.loglam
        for key in SCHOOL_LABELS:
            raw[key] = sim.labels[key] if key in sim.labels else extra[key]
    return sim


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("school")
    path = folder / "school.h5"
    sim = write_school_file(path)
    assert 0.02 <= sim.labels["z"][sim.labels["z"] > 0].min() and sim.labels["z"].max() <= 0.25
    nb = nbformat.read(BOOK / "A_spectra_gan.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for old, new in (
        ('DATA_SOURCE = "simulator"', 'DATA_SOURCE = "school"'),
        ("SCHOOL_FILE = None", f"SCHOOL_FILE = {json.dumps(str(path))}"),
    ):
        assert old in params.source
        params.source = params.source.replace(old, new)
    env = {
        "A3NET_PROFILE": "smoke",
        "A3NET_FRAMEWORK": "torch",
        "A3NET_THREADS": "1",
        "A3NET_CLAIMS_DIR": str(folder / "claims"),
    }
    with pytest.MonkeyPatch.context() as patch:  # the kernel inherits this environment
        for key, value in env.items():
            patch.setenv(key, value)
        NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(BOOK)}}
        ).execute()
    return nb, json.loads((folder / "claims" / "A-smoke-torch.json").read_text())


def test_school_branch_runs_with_its_claims_gated_on_the_source(executed):
    _, ledger = executed
    names = {c["name"] for c in ledger["claims"]}
    assert ledger["data_source"] == "school"
    assert "perfect generator score" not in names  # needs the simulator
    assert "noiseless physics score" not in names
    assert {"r median, real held-out spectra", "real spectra read-back error (age)"} <= names
    assert {"latent generator score", "GAN score"} <= names
    assert all(c["status"] != "fail" for c in ledger["claims"])


def test_school_branch_reports_the_cleaning_and_the_shuffled_control(executed):
    nb, _ = executed
    text = "\n".join(
        o.get("text", "") or o.get("data", {}).get("text/plain", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert "negative age, metallicity or smass" in text  # the cleaning table
    assert "held-out spectra, labels shuffled" in text
    assert "simulator redrawn" not in text
