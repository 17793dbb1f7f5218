"""Thread counts and matrix-product precision, set by one explicit call: :func:`configure`.

Oversubscribed threads (each library starting one pool per core, nested) were seen to slow
training twenty-fold on a 2-core machine, so a3net sets every pool explicitly. Importing a3net,
``a3net.torch`` or ``a3net.keras`` changes no process-wide setting; the first model built and
every ``fit`` call :func:`configure` for its framework, which acts once per process.
"""

from __future__ import annotations

import os
import warnings

_CONFIGURED: set[str] = set()


def available_cores() -> int:
    """Cores this process may run on; at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def n_threads() -> int:
    """Cores this process may use (``A3NET_THREADS`` overrides, capped at the cores there are,
    with a warning); at least 1."""
    override = os.environ.get("A3NET_THREADS", "").strip()
    cores = available_cores()
    if override:
        try:
            value = int(override)
        except ValueError:
            raise ValueError(f"A3NET_THREADS must be a whole number, got {override!r}.") from None
        if value < 1:
            raise ValueError(f"A3NET_THREADS must be at least 1, got {value}.")
        if value > cores:
            warnings.warn(
                f"A3NET_THREADS={value} is more than the {cores} cores this process may use; "
                f"using {cores} threads (more would only slow training down).",
                RuntimeWarning,
                stacklevel=2,
            )
            return cores
        return value
    return cores


def configure_threads() -> int:
    """Set OpenMP/BLAS thread counts: environment variables for libraries not yet loaded,
    threadpoolctl for loaded ones. Returns the count."""
    n = n_threads()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    return n


def _configure_torch(n: int) -> None:
    import torch

    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or inter-op work already started, in this process
        pass
    # TF32 products on CUDA GPUs, as TensorFlow does; the CPU (oneDNN) keeps full float32, which
    # torch.set_float32_matmul_precision("high") would not: it also sets oneDNN to TF32.
    torch.backends.cuda.matmul.fp32_precision = "tf32"


def _configure_tensorflow(n: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, n))
    except RuntimeError:  # TensorFlow already initialised its thread pools
        pass


def configure(framework: str) -> int:
    """Set the BLAS/OpenMP pools and ``framework``'s ("torch" or "keras") threads and precision
    (TF32 products on CUDA GPUs, float32 on CPUs), once per process; returns the thread count.

    TensorFlow fixes its pools when it first runs an op, so Keras models call this when built.
    """
    setters = {"torch": _configure_torch, "keras": _configure_tensorflow}
    if framework not in setters:
        raise ValueError(f"framework must be 'torch' or 'keras', got {framework!r}.")
    n = n_threads()
    if framework not in _CONFIGURED:
        if not _CONFIGURED:
            configure_threads()
        setters[framework](n)
        _CONFIGURED.add(framework)
    return n
