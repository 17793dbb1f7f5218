"""The one training loop: model hooks (optimisers, batch step), a WGAN-GP through the public
``fit`` in both frameworks, the evaluation noise stream, and clear errors for broken hooks."""

import numpy as np
import pytest

import a3net
from a3net._engine import training as _training

tnn = a3net.framework("torch")
knn = a3net.framework("keras")
FRAMEWORKS = pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])

CENTRE = np.array([1.0, 2.0, -1.0, 0.5], np.float32)


def two_clusters(n=512, seed=0):
    """1-D samples (n, 4): condition 0 around -CENTRE, condition 1 around +CENTRE."""
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 2, n).astype(np.float32)[:, None]
    x = (2 * c - 1) * CENTRE + 0.3 * rng.standard_normal((n, 4))
    return x.astype(np.float32), c


def small_gan(nn, **kwargs):
    """A small SpectrumWGAN of 8-bin "spectra" with one condition."""
    return nn.SpectrumWGAN(n_bins=8, n_conditions=1, latent_dim=4, hidden=16, channels=4, **kwargs)


@FRAMEWORKS
def test_a_wgan_gp_trains_through_fit_with_two_optimisers(nn):
    """The critic/generator step (n critic steps, then one generator step) runs in the shared
    loop: its history holds both losses, the Wasserstein estimate and the penalty."""
    a3net.seed_everything(0)
    x, c = two_clusters(128)
    x = np.concatenate([x, -x], axis=1)  # (128, 8)
    gan = small_gan(nn, n_critic=3)
    history = nn.fit(
        gan,
        x,
        c,
        epochs=2,
        batch_size=32,
        lr=1e-3,
        validation=(x[:64], c[:64]),
        progress=False,
    )
    assert set(history) == {
        "loss",
        "generator_loss",
        "wasserstein",
        "gradient_penalty",
        "val_loss",
        "val_wasserstein",
        "val_gradient_penalty",
    }
    assert all(np.isfinite(v).all() for v in history.values())
    assert history["gradient_penalty"][-1] >= 0
    drawn = nn.generate(gan, np.ones((8, 1), np.float32), seed=2)
    assert drawn.shape == (8, 8) and np.isfinite(drawn).all()


@FRAMEWORKS
def test_every_optimiser_follows_the_schedule_at_its_own_scale(nn):
    x, c = two_clusters(128)
    x = np.concatenate([x, -x], axis=1)
    gan = small_gan(nn, n_critic=1)
    seen = {}
    original = type(gan).configure_optimizers

    def configure(self, lr, weight_decay=0.0):
        groups = original(self, lr, weight_decay)
        nn.core.BACKEND.set_learning_rate(groups["generator"][0], lr / 4)
        seen.update(groups)
        return groups

    gan.configure_optimizers = configure.__get__(gan)
    nn.fit(gan, x, c, epochs=3, lr=1e-3, progress=False)
    backend = nn.core.BACKEND
    last = _training.learning_rates(1e-3, 3)[-1]
    assert backend.get_learning_rate(seen["critic"][0]) == pytest.approx(last, rel=1e-5)
    assert backend.get_learning_rate(seen["generator"][0]) == pytest.approx(last / 4, rel=1e-5)


@FRAMEWORKS
def test_evaluation_noise_is_repeatable_and_leaves_training_noise_alone(nn):
    images = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    cond = np.zeros((8, 5), np.float32)
    cvae = nn.RingCVAE(latent_dim=4)
    assert nn.evaluate(cvae, images, cond) == nn.evaluate(cvae, images, cond)
    like = nn.core.BACKEND.to_device(np.zeros((3, 4), np.float32))

    def draws(with_evaluation):
        cvae.reset_noise(7)
        first = np.asarray(cvae.normal_noise(like))
        if with_evaluation:
            nn.evaluate(cvae, images, cond)
        return first, np.asarray(cvae.normal_noise(like))

    plain, interrupted = draws(False), draws(True)
    np.testing.assert_array_equal(plain[1], interrupted[1])
    assert not np.array_equal(plain[0], plain[1])


def broken_model(nn, hook):
    """A small regressor with one hook broken."""
    base = nn.RingRegressorMLP

    class Broken(base):
        if hook == "no loss":

            def training_step(self, x, y, optimizers):
                super().training_step(x, y, optimizers)
                return {"mae": 0.0}
        elif hook == "no dict":

            def training_step(self, x, y, optimizers):
                return None
        elif hook == "missing parameters":

            def configure_optimizers(self, lr, weight_decay=0.0):
                opt, params = super().configure_optimizers(lr, weight_decay)["model"]
                return {"model": (opt, params[:-1])}
        elif hook == "shared parameters":

            def configure_optimizers(self, lr, weight_decay=0.0):
                opt, params = super().configure_optimizers(lr, weight_decay)["model"]
                return {"a": (opt, params), "b": (opt, params[:1])}
        elif hook == "not a pair":

            def configure_optimizers(self, lr, weight_decay=0.0):
                return {"model": super().configure_optimizers(lr, weight_decay)["model"][0]}
        elif hook == "not an optimizer":

            def configure_optimizers(self, lr, weight_decay=0.0):
                _, params = super().configure_optimizers(lr, weight_decay)["model"]
                return {"model": ("adam", params)}

    return Broken(n_outputs=1, hidden=(4,))


@FRAMEWORKS
@pytest.mark.parametrize(
    "hook, error, message",
    [
        ("no loss", ValueError, r"Broken.training_step must return a dict with a 'loss' entry"),
        ("no dict", ValueError, r"training_step must return a dict with a 'loss' entry.*NoneType"),
        (
            "missing parameters",
            ValueError,
            r"configure_optimizers does not match the model's parameters: 1 trainable",
        ),
        ("shared parameters", ValueError, r"gives one parameter to both 'a' and 'b'"),
        ("not a pair", TypeError, r"configure_optimizers\(\)\['model'\] must be a pair"),
        ("not an optimizer", TypeError, r"must hold a (torch|keras) optimizer, got str"),
    ],
)
def test_broken_hooks_get_one_clear_sentence(nn, hook, error, message):
    x = np.zeros((8, 1, 28, 28), np.float32)
    with pytest.raises(error, match=message):
        nn.fit(broken_model(nn, hook), x, np.zeros(8, np.float32), epochs=1, progress=False)


def test_the_loop_is_written_once():
    """Both frameworks' public functions are the engine's, bound to their backends; the WGAN's
    and the sigma-VAE's steps are one function each."""
    import inspect

    for nn in (tnn, knn):
        assert "fit_loop(" in inspect.getsource(nn.fit)
        assert "evaluate_loop(" in inspect.getsource(nn.evaluate)
        assert isinstance(nn.core.BACKEND, _training.Backend)
    for name in ("fit", "evaluate", "predict", "saliency", "generate", "count_parameters"):
        assert getattr(tnn, name).__code__ is getattr(knn, name).__code__, name
    for model, hook in [
        ("SpectrumWGAN", "training_step"),
        ("SpectrumWGAN", "training_loss"),
        ("SpectrumWGAN", "configure_optimizers"),
        ("SpectrumCVAE", "training_step"),
        ("RingRegressorCNN", "training_step"),
    ]:
        assert getattr(getattr(tnn, model), hook) is getattr(getattr(knn, model), hook), hook


ENGINE_IMPORT = """
import sys
import a3net._engine.api, a3net._engine.checks, a3net._engine.gan, a3net._engine.vae
print(sorted({"torch", "tensorflow", "keras"} & set(sys.modules)))
"""


def test_the_engine_imports_no_framework():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", ENGINE_IMPORT], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@FRAMEWORKS
def test_the_callback_scores_every_checkpoint_in_evaluation_mode(nn):
    """fit(callback=f) records f's numbers per epoch (NaN where f returned nothing)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 12)).astype(np.float32), rng.normal(size=(64, 1))
    model = nn.PhotoZMLP(n_features=12, hidden=(8,))
    seen = []

    def score(epoch):
        seen.append(epoch)
        return {"checkpoint": 10.0 * epoch} if epoch != 1 else None

    history = nn.fit(model, x, y.astype(np.float32), epochs=3, progress=False, callback=score)
    assert seen == [0, 1, 2]
    assert np.isnan(history["checkpoint"][1])
    assert history["checkpoint"][::2] == [0.0, 20.0] and len(history["loss"]) == 3
    with pytest.raises(TypeError, match="callback must be a function"):
        nn.fit(model, x, y.astype(np.float32), epochs=1, progress=False, callback=3)


def _guards():
    import importlib

    importlib.import_module("test_bad_inputs")  # first: it imports the row modules
    guards = importlib.import_module("_bad_training").GUARDS
    for row in guards:
        for framework in ("torch", "keras") if row.frameworks else (None,):
            yield pytest.param(row, framework, id=f"{row.id}[{framework}]")


@pytest.mark.parametrize(("row", "framework"), list(_guards()))
def test_bad_inputs_refused_before_issue_25_still_are(row, framework, tmp_path):
    """The training rows of the bad-input table that a3net refused clearly already (regression
    guards): the same check as tests/test_bad_inputs.py."""
    from test_bad_inputs import test_bad_input_gets_one_clear_sentence

    test_bad_input_gets_one_clear_sentence(row, framework, tmp_path)


def _weights(model) -> list:
    if hasattr(model, "state_dict"):
        return [t.detach().cpu().numpy().copy() for t in model.state_dict().values()]
    return [np.asarray(w).copy() for w in model.get_weights()]


def _photoz_data():
    rng = np.random.default_rng(5)
    x = rng.random((48, 4)).astype(np.float32)
    return x, x.sum(axis=1, keepdims=True).astype(np.float32)


@FRAMEWORKS
def test_fit_seed_sets_the_initial_weights(nn):
    """Two models built under different seeds give the same weights after fit(seed=3); the
    seeds of fit, not of seed_everything, decide; a trained model trains on from its weights."""
    x, y = _photoz_data()
    trained = []
    for build_seed in (1, 2):
        a3net.seed_everything(build_seed)
        model = nn.PhotoZMLP(4, hidden=(8, 8), dropout=0.1)
        nn.fit(model, x, y, epochs=2, batch_size=16, seed=3, progress=False)
        trained.append(model)
    first, second = _weights(trained[0]), _weights(trained[1])
    assert len(first) == len(second) > 0
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    a3net.seed_everything(1)
    other = nn.PhotoZMLP(4, hidden=(8, 8), dropout=0.1)
    nn.fit(other, x, y, epochs=2, batch_size=16, seed=4, progress=False)
    assert any(not np.array_equal(a, b) for a, b in zip(first, _weights(other), strict=True))
    # the initial weights of fit(seed=s) are those built right after seed_everything(s)
    a3net.seed_everything(3)
    built = _weights(nn.PhotoZMLP(4, hidden=(8, 8), dropout=0.1))
    fresh = nn.PhotoZMLP(4, hidden=(8, 8), dropout=0.1)
    nn.fit(fresh, x, y, epochs=1, lr=1e-30, schedule="constant", seed=3, progress=False)
    for a, b in zip(built, _weights(fresh), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # a second fit continues from the trained weights instead of starting again
    model = trained[0]
    assert not model.untrained()
    nn.fit(model, x, y, epochs=1, lr=1e-30, schedule="constant", seed=3, progress=False)
    for a, b in zip(first, _weights(model), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


@FRAMEWORKS
def test_numpy_scalars_are_accepted_and_a_nan_loss_stops_fit_in_evaluation_mode(nn):
    x, y = _photoz_data()
    model = nn.PhotoZMLP(4, hidden=(8,))
    history = nn.fit(
        model, x, y, epochs=np.int64(2), batch_size=np.int32(16), lr=np.float32(1e-3),
        weight_decay=np.float64(0.0), seed=np.uint32(7), progress=False,
    )  # fmt: skip
    assert len(history["loss"]) == 2
    with pytest.raises(ValueError, match="smaller learning rate"):
        nn.fit(model, x, np.full_like(y, 3e38), epochs=2, progress=False)
    assert model.training is False
    assert nn.predict(model, x, batch_size=np.int64(7)).shape == (48, 1)


def test_more_threads_than_cores_are_capped_with_a_warning(monkeypatch):
    from a3net._threads import available_cores

    monkeypatch.setenv("A3NET_THREADS", "100000")
    with pytest.warns(RuntimeWarning, match="A3NET_THREADS=100000"):
        assert a3net.n_threads() == available_cores()
