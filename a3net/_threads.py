"""Thread counts for BLAS/OpenMP, torch and TensorFlow, set once from the cores available.

Oversubscribed threads (each library starting one pool per core, nested) were seen to slow
training twenty-fold on a 2-core machine, so a3net sets every pool explicitly.
"""

from __future__ import annotations

import os


def n_threads() -> int:
    """Cores this process may use (``A3NET_THREADS`` overrides); at least 1."""
    override = os.environ.get("A3NET_THREADS")
    if override:
        try:
            value = int(override)
        except ValueError:
            raise ValueError(f"A3NET_THREADS must be a whole number, got {override!r}.") from None
        if value < 1:
            raise ValueError(f"A3NET_THREADS must be at least 1, got {value}.")
        return value
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def configure_threads() -> int:
    """Set OpenMP/BLAS thread counts: environment variables for libraries not yet loaded,
    threadpoolctl for loaded ones."""
    n = n_threads()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    return n
