"""Data for the chapters: one module per domain with ``simulate_*()`` (the offline default) and
``load_*()`` (real data through ``fetch``), plus ``splits``.

``rings`` (chapter F, simulator only: no public ring images exist), ``rings_reference`` (the
dot-by-dot renderer the simulator is tested and benchmarked against), ``fetch`` (download and
checksum of the real data sets, cache in ``A3NET_DATA``), ``registry`` (their URLs and sha256, one
module per domain: spectra, photometry, clusters), ``splits`` (random, stratified and grouped
splits, k-fold).
Chapter C: ``photometry`` (the deep-field simulator), ``sed`` (filter curves, band fluxes, IGM),
``eazy`` (EAZY's file formats) and ``catalogues`` (catalogue tables, cleaning, features).
Chapters D and G: ``clusters`` (the mock X-ray cluster simulator), ``cluster_files`` (the
school's FITS cube + table, The Three Hundred image) and ``rotations`` (vectorised rotations and
flips of image stacks).
Chapters E and H: ``cosmology`` (the CAMELS-like map simulator), ``cosmology_linear`` (the linear
matter spectrum and constants), ``gaussian_maps`` (the Gaussian control field), ``camels_files``
(the CMD .npy maps and parameter tables, memory-mapped) and ``cosmology_prep`` (logs, per-map
mean removal, standardisation, parameter scaling, splits by simulation, the square's symmetries).
Chapters A and B: ``spectra`` (the galaxy-spectrum simulator and its templates), ``spectra_files``
(SDSS spectra, the spDR2 templates, the school's HDF5 file) and ``spectra_prep`` (cleaning, rest
frame, common range, flux-conserving rebinning, normalisation).

Every ``simulate_*`` and ``load_*`` function is also importable from ``a3net.data`` itself, as
astroML's datasets are: ``from a3net.data import simulate_rings``.
"""

from .camels_files import load_camels_maps, load_camels_params
from .catalogues import load_2slaq, load_3dhst_catalogue, load_sdss_ugriz, load_table
from .cluster_files import load_cluster_mocks, load_the300_xray
from .clusters import simulate_clusters
from .cosmology import simulate_maps
from .eazy import (
    load_eazy_filters,
    load_eazy_templates,
    load_hdfn,
    load_inoue_coefficients,
    load_prior,
    load_template_error,
)
from .photometry import simulate_catalogue
from .rings import simulate_rings
from .spectra import simulate_spectra
from .spectra_files import load_school_spectra, load_sdss_examples, load_sdss_templates
from .threedhst import load_3dhst

__all__ = [
    "load_2slaq",
    "load_3dhst",
    "load_3dhst_catalogue",
    "load_camels_maps",
    "load_camels_params",
    "load_cluster_mocks",
    "load_eazy_filters",
    "load_eazy_templates",
    "load_hdfn",
    "load_inoue_coefficients",
    "load_prior",
    "load_school_spectra",
    "load_sdss_examples",
    "load_sdss_templates",
    "load_sdss_ugriz",
    "load_table",
    "load_template_error",
    "load_the300_xray",
    "simulate_catalogue",
    "simulate_clusters",
    "simulate_maps",
    "simulate_rings",
    "simulate_spectra",
]
