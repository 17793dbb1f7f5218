"""Profiles, the framework switch, seeding and splits (metrics: test_metrics.py; chapter F
baselines: test_baselines.py)."""

import os
import random

import numpy as np
import pytest

import a3net
from a3net._engine.training import learning_rates
from a3net.data.splits import random_split, stratified_split


def test_unknown_profile_chapter_and_framework(monkeypatch):
    monkeypatch.setenv("A3NET_PROFILE", "huge")
    with pytest.raises(ValueError, match="A3NET_PROFILE"):
        a3net.profile("F")
    with pytest.raises(ValueError, match="chapter 'Z' has no profile"):
        a3net.profile("Z", "smoke")
    monkeypatch.setenv("A3NET_FRAMEWORK", "jax")
    with pytest.raises(ValueError, match="'torch' or 'keras'"):
        a3net.framework()


def test_framework_switch(monkeypatch):
    monkeypatch.delenv("A3NET_FRAMEWORK", raising=False)
    assert a3net.framework().NAME == "torch"
    monkeypatch.setenv("A3NET_FRAMEWORK", "Keras")
    assert a3net.framework().NAME == "keras"


def test_seed_everything_makes_models_repeatable():
    nn = a3net.framework("torch")
    a3net.seed_everything(3)
    a = nn.predict(nn.RingRegressorMLP(), np.ones((2, 1, 28, 28), np.float32))
    a3net.seed_everything(3)
    b = nn.predict(nn.RingRegressorMLP(), np.ones((2, 1, 28, 28), np.float32))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="seed"):
        a3net.seed_everything(-1)


def test_seed_everything_seeds_python_and_numpy_but_not_the_hash_seed(monkeypatch):
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    a3net.seed_everything(5)
    first = (random.random(), np.random.rand())  # noqa: NPY002 (what seed_everything seeds)
    a3net.seed_everything(5)
    assert (random.random(), np.random.rand()) == first  # noqa: NPY002
    assert os.environ["PYTHONHASHSEED"] == "0"  # read at interpreter start only: left alone


def test_threads_are_set_explicitly(monkeypatch):
    import torch

    tnn = a3net.framework("torch")
    tnn.RingRegressorMLP(n_outputs=1, hidden=(4,))  # the first model sets the threads
    assert torch.get_num_threads() == a3net.n_threads()
    monkeypatch.setenv("A3NET_THREADS", "0")
    with pytest.raises(ValueError, match="A3NET_THREADS"):
        a3net.n_threads()


IMPORT_CHECK = """
import os, sys
os.environ["A3NET_THREADS"] = "1"
import torch
torch.set_num_threads(2)
before = (torch.get_num_threads(), torch.backends.cuda.matmul.fp32_precision,
          os.environ.get("OMP_NUM_THREADS"))
import a3net, a3net.torch
after_import = (torch.get_num_threads(), torch.backends.cuda.matmul.fp32_precision,
                os.environ.get("OMP_NUM_THREADS"))
a3net.torch.RingRegressorMLP(n_outputs=1, hidden=(4,))
built = (torch.get_num_threads(), torch.backends.cuda.matmul.fp32_precision)
print(before == after_import, built == (1, "tf32"), before, after_import, built)
"""


def test_importing_a_framework_changes_no_process_setting():
    """import a3net.torch leaves torch's threads, TF32 and the OpenMP variables alone; the
    first model built sets them (a3net._threads.configure)."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[:2] == ["True", "True"], out.stdout


KERAS_IMPORT_CHECK = """
import os
os.environ["A3NET_THREADS"] = "1"
import tensorflow as tf
import a3net.keras
tf.config.threading.set_intra_op_parallelism_threads(3)  # still free to set: nothing was
print(tf.config.threading.get_intra_op_parallelism_threads())
"""


def test_importing_keras_side_changes_no_process_setting():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", KERAS_IMPORT_CHECK], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "3", out.stdout


def test_learning_rate_schedules():
    cos = learning_rates(1e-3, 5, "cosine")
    assert cos[0] == pytest.approx(1e-3) and cos[-1] == pytest.approx(1e-5)
    assert all(a > b for a, b in zip(cos, cos[1:], strict=False))
    assert learning_rates(2e-3, 3, "constant") == [2e-3] * 3
    assert learning_rates(1e-3, 1, "cosine") == [pytest.approx(1e-3)]


def test_splits():
    train, test = random_split(100, 0.25, seed=1)
    assert (
        len(test) == 25 and len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 100
    )
    labels = np.repeat([0, 1, 2], [60, 30, 10])
    train, test = stratified_split(labels, 0.2, seed=0)
    assert np.bincount(labels[test]).tolist() == [12, 6, 2]
    with pytest.raises(ValueError, match="test_fraction"):
        random_split(10, 1.5)


def test_ring_exercise_checks(capsys):
    from a3net.exercises import rings as checks

    def good(images, x, y):  # exercise F.1's clipped mean
        image = images[:, 0]
        rows, cols = np.mgrid[0:28, 0:28]
        d = np.hypot(cols[None] - x[:, None, None], rows[None] - y[:, None, None])
        w = image
        for _ in range(3):
            r = (w * d).sum(axis=(1, 2)) / w.sum(axis=(1, 2))
            w = np.where(np.abs(d - r[:, None, None]) < 4.0, image, 0.0)
        return r

    def stub(images, x, y):
        raise NotImplementedError("exercise")

    assert checks.check_radius_estimator(good) is True
    assert checks.check_radius_estimator(lambda im, x, y: np.full(len(x), 5.0)) is False
    assert checks.check_radius_estimator(stub) is False
    assert "still a stub" in capsys.readouterr().out
    from sklearn.metrics import confusion_matrix

    assert checks.check_confusion(lambda t, p, n: confusion_matrix(t, p, labels=range(n))) is True
    assert checks.check_confusion(lambda t, p, n: confusion_matrix(p, t, labels=range(n))) is False
    assert checks.check_radius_sweep(np.linspace(3, 8, 6), np.linspace(3, 8, 6) + 0.2) is True
    assert checks.check_radius_sweep(np.linspace(3, 8, 6), np.linspace(8, 3, 6)) is False
