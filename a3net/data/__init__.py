"""Data for the chapters: one module per domain with ``simulate_*()`` (the offline default) and
``load_*()`` (real data through ``fetch``), plus ``splits``.

``rings`` (chapter F, simulator only: no public ring images exist), ``rings_reference`` (the
dot-by-dot renderer the simulator is tested and benchmarked against), ``fetch`` (download and
checksum of the real data sets, cache in ``A3NET_DATA``), ``registry`` (their URLs and sha256, one
module per domain: spectra, photometry, clusters), ``splits`` (random and stratified splits).
Chapter C: ``photometry`` (the deep-field simulator), ``sed`` (filter curves, band fluxes, IGM),
``eazy`` (EAZY's file formats) and ``catalogues`` (catalogue tables, cleaning, features).
"""
