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
"""
