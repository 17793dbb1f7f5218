"""Bad training inputs for the bad-input table (tests/test_bad_inputs.py), run in both frameworks:
model sizes that would need more memory than the limit (``A3NET_MAX_GB``) or do not fit the
network, and bad arguments of ``fit``, ``evaluate``, ``predict``, ``saliency`` and ``generate``
(epochs, learning rates, seeds, batch sizes, targets, maps of the wrong size, a loss that
diverges). Every size is refused before any layer or array is allocated.
"""

from __future__ import annotations

import numpy as np
from test_bad_inputs import Bad, with_env

import a3net

MEMORY = "A3NET_MAX_GB"  # in the sentence of every refused size
RNG = np.random.default_rng(0)
X = RNG.random((16, 4)).astype(np.float32)
Y = RNG.random((16, 1)).astype(np.float32)
SPECTRA = RNG.random((6, 8)).astype(np.float32)
CONDITIONS = RNG.random((6, 2)).astype(np.float32)
HUGE_MAPS = np.broadcast_to(np.float32(0), (2, 1, 5000, 5000))  # no memory behind it


def _mlp(c):
    """A small photo-z regressor of four features."""
    return c.models.PhotoZMLP(4, hidden=(8,))


def _cvae(c):
    """A small spectrum cVAE of 8 bins and 2 conditions."""
    return c.models.SpectrumCVAE(n_bins=8, n_conditions=2, latent_dim=2, channels=4, hidden=8)


def _fit(c, x=X, y=Y, model=None, **kwargs):
    kwargs.setdefault("epochs", 1)
    kwargs.setdefault("progress", False)
    return c.models.fit(_mlp(c) if model is None else model, x, y, **kwargs)


def _predict(c, x=X, **kwargs):
    return c.models.predict(_mlp(c), x, **kwargs)


def _saliency(c, x=X, **kwargs):
    return c.models.saliency(_mlp(c), x, **kwargs)


def _generate(c, conditions=CONDITIONS, **kwargs):
    return c.models.generate(_cvae(c), conditions, **kwargs)


def _model(name, **kwargs):
    return lambda c: getattr(c.models, name)(**kwargs)


def F(id, call, fragment, **kwargs):  # noqa: N802 - a row that runs in both frameworks
    return Bad(id, call, fragment, frameworks=True, **kwargs)


_ALL = [
    # ------------------------------------------------ model sizes: memory, before any layer
    F("RingCounterCNN-channels-1e9", _model("RingCounterCNN", channels=(10**9,)), MEMORY),
    F("RingRegressorCNN-hidden-1e9", _model("RingRegressorCNN", hidden=10**9), MEMORY),
    F("RingRegressorMLP-hidden-1e9", _model("RingRegressorMLP", hidden=(10**9,)), MEMORY),
    F("RingRegressorMLP-5000px", _model("RingRegressorMLP", image_size=5000), MEMORY),
    F("RingCVAE-latent-1e9", _model("RingCVAE", latent_dim=10**9), MEMORY),
    F("RingCVAE-hidden-1e9", _model("RingCVAE", hidden=10**9), MEMORY),
    F("ClusterCNN-5000px", _model("ClusterCNN", image_size=5000), MEMORY),
    F("ClusterCNN-dense-1e9", _model("ClusterCNN", dense=(10**9,)), MEMORY),
    F("DeepClusterCNN-channels-1e6", _model("DeepClusterCNN", channels=(8, 16, 10**6)), MEMORY),
    F(
        "EquivariantClusterCNN-channels-1e6",
        _model("EquivariantClusterCNN", channels=(10**6,)),
        MEMORY,
    ),
    F("CosmoCNN-8192px", _model("CosmoCNN", image_size=8192), MEMORY),
    F("CosmoCNN-dense-1e9", _model("CosmoCNN", dense=10**9), MEMORY),
    F("CosmoMomentCNN-channels-1e6", _model("CosmoMomentCNN", channels=(10**6,)), MEMORY),
    F("CosmoBatchNormCNN-8000px", _model("CosmoBatchNormCNN", image_size=8000), MEMORY),
    F("CosmoResNet-stages-1e6", _model("CosmoResNet", stages=(10**6,)), MEMORY),
    F("PhotoZMLP-features-1e9", _model("PhotoZMLP", n_features=10**9), MEMORY),
    F("PhotoZMLP-hidden-1e9", _model("PhotoZMLP", n_features=4, hidden=(10**9,)), MEMORY),
    F("SpectrumCVAE-bins-8e8", _model("SpectrumCVAE", n_bins=8 * 10**8), MEMORY),
    F("SpectrumCVAE-hidden-1e9", _model("SpectrumCVAE", hidden=10**9), MEMORY),
    F("SpectrumWGAN-hidden-1e9", _model("SpectrumWGAN", hidden=10**9), MEMORY),
    F("SpectrumWGAN-channels-1e6", _model("SpectrumWGAN", channels=10**6), MEMORY),
    F(
        "model-A3NET_MAX_GB-negative",
        with_env(_model("RingCounterCNN"), A3NET_MAX_GB="-1"),
        MEMORY,
    ),
    F(
        "A3NET_MAX_GB-tiny-refuses-a-small-model",
        with_env(_model("CosmoCNN"), A3NET_MAX_GB="1e-6"),
        MEMORY,
        errors=(MemoryError,),
    ),
    # ------------------------------------------------ model sizes that do not fit the network
    F("RingCounterCNN-image_size-float", _model("RingCounterCNN", image_size=3.5), "image_size"),
    F("RingCVAE-hidden-negative", _model("RingCVAE", hidden=-1), "hidden"),
    F("RingCVAE-image_size-30", _model("RingCVAE", image_size=30), "multiple of 4"),
    F("DeepClusterCNN-two-widths", _model("DeepClusterCNN", channels=(8, 16)), "three widths"),
    F(
        "EquivariantClusterCNN-image_size-30",
        _model("EquivariantClusterCNN", image_size=30, channels=(8, 16, 16)),
        "multiple of 8",
    ),
    F("CosmoCNN-image_size-50", _model("CosmoCNN", image_size=50), "multiple of 8"),
    F("PhotoZMLP-hidden-zero", _model("PhotoZMLP", n_features=4, hidden=(0,)), "hidden"),
    F("SpectrumCVAE-channels-6", _model("SpectrumCVAE", channels=6), "multiple of 4"),
    F("SpectrumWGAN-bins-100", _model("SpectrumWGAN", n_bins=100), "multiple of 8"),
    # ------------------------------------------------ fit: epochs, learning rates, seeds, ...
    F("fit-epochs-1e12", lambda c: _fit(c, epochs=10**12), "A3NET_MAX_EPOCHS"),
    F(
        "fit-epochs-above-the-env-limit",
        with_env(lambda c: _fit(c, epochs=3), A3NET_MAX_EPOCHS="2"),
        "A3NET_MAX_EPOCHS",
    ),
    F(
        "A3NET_MAX_EPOCHS-text",
        with_env(lambda c: _fit(c), A3NET_MAX_EPOCHS="lots"),
        "A3NET_MAX_EPOCHS",
    ),
    F("fit-epochs-zero", lambda c: _fit(c, epochs=0), "epochs"),
    F("fit-epochs-float", lambda c: _fit(c, epochs=2.5), "epochs"),
    F("fit-epochs-none", lambda c: _fit(c, epochs=None), "epochs"),
    F("fit-lr-inf", lambda c: _fit(c, lr=float("inf")), "lr must be a positive finite"),
    F("fit-lr-nan", lambda c: _fit(c, lr=float("nan")), "lr must be a positive finite"),
    F("fit-lr-numpy-inf", lambda c: _fit(c, lr=np.float32("inf")), "lr must be a positive finite"),
    F("fit-lr-zero", lambda c: _fit(c, lr=0), "lr"),
    F("fit-lr-negative", lambda c: _fit(c, lr=-1e-3), "lr"),
    F("fit-lr-text", lambda c: _fit(c, lr="fast"), "lr", errors=(TypeError,)),
    F("fit-lr-bool", lambda c: _fit(c, lr=True), "lr"),
    F("fit-seed-negative", lambda c: _fit(c, seed=-1), "seed"),
    F("fit-seed-text", lambda c: _fit(c, seed="a"), "seed"),
    F("fit-seed-2**40", lambda c: _fit(c, seed=2**40), "seed"),
    F("fit-seed-float", lambda c: _fit(c, seed=1.5), "seed"),
    F("fit-seed-none", lambda c: _fit(c, seed=None), "seed"),
    F("fit-y-dict", lambda c: _fit(c, y={"z": Y[:, 0]}), "y must be an array", errors=(TypeError,)),
    F("fit-y-text", lambda c: _fit(c, y="z"), "y must be an array"),
    F("fit-y-rows", lambda c: _fit(c, y=Y[:5]), "rows"),
    F("fit-y-nan", lambda c: _fit(c, y=np.full_like(Y, np.nan)), "NaN"),
    F("fit-x-nan", lambda c: _fit(c, x=np.full_like(X, np.nan)), "NaN"),
    F("fit-x-dict", lambda c: _fit(c, x={"g": X[:, 0]}), "x"),
    F("fit-x-width", lambda c: _fit(c, x=X[:, :3]), "shape"),
    F(
        "fit-5000px-maps-for-a-64px-model",
        lambda c: _fit(
            c, x=HUGE_MAPS, y=np.zeros((2, 2), np.float32), model=c.models.CosmoCNN(in_channels=1)
        ),
        "shape",
    ),
    F("fit-batch_size-zero", lambda c: _fit(c, batch_size=0), "batch_size"),
    F("fit-batch_size-float", lambda c: _fit(c, batch_size=8.0), "batch_size"),
    F("fit-schedule-unknown", lambda c: _fit(c, schedule="linear"), "schedule"),
    F("fit-validation-one", lambda c: _fit(c, validation=(X,)), "validation"),
    F("fit-validation-array", lambda c: _fit(c, validation=X), "validation"),
    F("fit-validation-y-rows", lambda c: _fit(c, validation=(X, Y[:3])), "validation y"),
    F("fit-weight_decay-inf", lambda c: _fit(c, weight_decay=float("inf")), "weight_decay"),
    F("fit-weight_decay-negative", lambda c: _fit(c, weight_decay=-0.1), "weight_decay"),
    F("fit-callback-not-callable", lambda c: _fit(c, callback=5), "callback"),
    F("fit-progress-text", lambda c: _fit(c, progress="yes"), "progress"),
    F("fit-model-not-a-model", lambda c: c.models.fit("net", X, Y, epochs=1), "model must be"),
    F(
        "fit-lr-1e30-diverges",
        lambda c: _fit(c, lr=1e30, epochs=3, batch_size=2),
        "smaller learning rate",
    ),
    F(
        "fit-y-3e38-overflows",
        lambda c: _fit(c, y=np.full_like(Y, 3e38)),
        "smaller learning rate",
    ),
    F(
        "fit-cvae-lr-1e30-diverges",
        lambda c: c.models.fit(
            _cvae(c), SPECTRA, CONDITIONS, epochs=3, batch_size=2, lr=1e30, progress=False
        ),
        "smaller learning rate",
    ),
    # ------------------------------------------------ evaluate, predict
    F(
        "evaluate-batch_size-zero",
        lambda c: c.models.evaluate(_mlp(c), X, Y, batch_size=0),
        "batch_size",
    ),
    F("evaluate-y-dict", lambda c: c.models.evaluate(_mlp(c), X, {"z": 1}), "y must be an array"),
    F("predict-batch_size-zero", lambda c: _predict(c, batch_size=0), "batch_size"),
    F("predict-batch_size-negative", lambda c: _predict(c, batch_size=-3), "batch_size"),
    F("predict-batch_size-text", lambda c: _predict(c, batch_size="all"), "batch_size"),
    F("predict-x-dict", lambda c: _predict(c, x={"g": X[:, 0]}), "x"),
    F("predict-x-empty", lambda c: _predict(c, x=X[:0]), "empty"),
    F("predict-x-inf", lambda c: _predict(c, x=np.full_like(X, np.inf)), "infinite"),
    F(
        "predict-5000px-maps-for-a-64px-model",
        lambda c: c.models.predict(c.models.CosmoCNN(in_channels=1), HUGE_MAPS),
        "shape",
    ),
    F("predict-a-generator", lambda c: c.models.predict(_cvae(c), SPECTRA), "generate"),
    # ------------------------------------------------ saliency
    F("saliency-method-unknown", lambda c: _saliency(c, method="magic"), "method"),
    F("saliency-output-out-of-range", lambda c: _saliency(c, output=5), "output"),
    F("saliency-seed-negative", lambda c: _saliency(c, seed=-1), "seed"),
    F("saliency-batch_size-zero", lambda c: _saliency(c, batch_size=0), "batch_size"),
    F(
        "saliency-n_samples-zero",
        lambda c: _saliency(c, method="smoothgrad", n_samples=0),
        "n_samples",
    ),
    F("saliency-x-wrong-shape", lambda c: _saliency(c, x=X[:, :2]), "shape"),
    F("saliency-a-generator", lambda c: c.models.saliency(_cvae(c), SPECTRA), "saliency"),
    # ------------------------------------------------ generate
    F("generate-seed-negative", lambda c: _generate(c, seed=-1), "seed"),
    F("generate-seed-text", lambda c: _generate(c, seed="a"), "seed"),
    F("generate-seed-2**40", lambda c: _generate(c, seed=2**40), "seed"),
    F("generate-batch_size-zero", lambda c: _generate(c, batch_size=0), "batch_size"),
    F("generate-conditions-dict", lambda c: _generate(c, conditions={"a": 1}), "conditions"),
    F("generate-conditions-scalar", lambda c: _generate(c, conditions=3.0), "conditions"),
    F(
        "generate-conditions-width",
        lambda c: _generate(c, conditions=np.ones((3, 3))),
        "conditions",
    ),
    F("generate-conditions-nan", lambda c: _generate(c, conditions=np.full((3, 2), np.nan)), "NaN"),
    F("generate-latent-shape", lambda c: _generate(c, latent=np.ones((6, 5))), "latent"),
    F("generate-latent-text", lambda c: _generate(c, latent="abc"), "latent"),
    F("generate-a-regressor", lambda c: c.models.generate(_mlp(c), CONDITIONS), "generate"),
    # ------------------------------------------------ framework names and threads (no framework)
    Bad(
        "framework_name-int", lambda c: a3net.framework_name(123), "framework", errors=(TypeError,)
    ),
    Bad("framework-unknown", lambda c: a3net.framework("mxnet"), "unknown"),
    Bad(
        "A3NET_FRAMEWORK-unknown",
        with_env(lambda c: a3net.framework(), A3NET_FRAMEWORK="jax"),
        "A3NET_FRAMEWORK",
    ),
    Bad(
        "A3NET_THREADS-text",
        with_env(lambda c: a3net.n_threads(), A3NET_THREADS="many"),
        "A3NET_THREADS",
    ),
    Bad(
        "A3NET_THREADS-zero",
        with_env(lambda c: a3net.n_threads(), A3NET_THREADS="0"),
        "A3NET_THREADS",
    ),
]

# Bad inputs a3net already refused with a clear sentence before issue 25: kept out of the table
# (whose rows each failed before the fix) and run as regression guards by tests/test_training.py.
ALREADY_CLEAR = frozenset(
    (
        "RingCounterCNN-image_size-float",
        "RingCVAE-hidden-negative",
        "RingCVAE-image_size-30",
        "DeepClusterCNN-two-widths",
        "EquivariantClusterCNN-image_size-30",
        "CosmoCNN-image_size-50",
        "PhotoZMLP-hidden-zero",
        "SpectrumCVAE-channels-6",
        "SpectrumWGAN-bins-100",
        "fit-epochs-zero",
        "fit-epochs-float",
        "fit-epochs-none",
        "fit-lr-zero",
        "fit-lr-negative",
        "fit-lr-bool",
        "fit-y-rows",
        "fit-y-nan",
        "fit-x-nan",
        "fit-x-dict",
        "fit-x-width",
        "fit-5000px-maps-for-a-64px-model",
        "fit-batch_size-zero",
        "fit-batch_size-float",
        "fit-schedule-unknown",
        "fit-validation-one",
        "fit-validation-array",
        "fit-validation-y-rows",
        "fit-weight_decay-negative",
        "fit-callback-not-callable",
        "fit-model-not-a-model",
        "evaluate-batch_size-zero",
        "predict-x-dict",
        "predict-x-empty",
        "predict-x-inf",
        "predict-5000px-maps-for-a-64px-model",
        "predict-a-generator",
        "saliency-method-unknown",
        "saliency-output-out-of-range",
        "saliency-seed-negative",
        "saliency-batch_size-zero",
        "saliency-n_samples-zero",
        "saliency-x-wrong-shape",
        "saliency-a-generator",
        "generate-conditions-width",
        "generate-conditions-nan",
        "generate-latent-shape",
        "generate-a-regressor",
        "framework-unknown",
        "A3NET_FRAMEWORK-unknown",
        "A3NET_THREADS-text",
        "A3NET_THREADS-zero",
    )
)
ROWS = [row for row in _ALL if row.id not in ALREADY_CLEAR]
GUARDS = [row for row in _ALL if row.id in ALREADY_CLEAR]


def _regressor(X, y, **kwargs):
    from a3net.neural_estimator import NeuralRegressor

    return lambda c: NeuralRegressor(framework=c.models.NAME, epochs=1, **kwargs).fit(X, y)


ROWS += [
    F("NeuralRegressor-X-text", _regressor([["a", "b"]] * 16, Y[:, 0]), "X must be an array"),
    F("NeuralRegressor-y-text", _regressor(X, ["z"] * 16), "y must be an array"),
    F("NeuralRegressor-y-rows", _regressor(X, Y[:5, 0]), "one row per row of X"),
    F("NeuralRegressor-X-1d", _regressor(X[:, 0], Y[:, 0]), "2-D feature table"),
    F("NeuralRegressor-model-class", _regressor(X, Y[:, 0], model=int), "is not a model"),
    F("NeuralRegressor-seed-negative", _regressor(X, Y[:, 0], seed=-1), "seed"),
    F("NeuralRegressor-lr-inf", _regressor(X, Y[:, 0], lr=float("inf")), "lr"),
]
