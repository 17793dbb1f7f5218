"""Data for the chapters: one module per domain with ``simulate_*()`` (the offline default) and
``load_*()`` (real data through ``fetch``), plus ``splits``.

``rings`` (chapter F, simulator only: no public ring images exist), ``rings_reference`` (the
dot-by-dot renderer the simulator is tested and benchmarked against), ``fetch`` (registry of the
real data sets: URL + sha256, cache in ``A3NET_DATA``), ``splits`` (random and stratified splits).
"""
