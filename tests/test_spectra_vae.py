"""SpectrumCVAE (chapters A/B): the sigma-VAE of spectra, the same in PyTorch and Keras."""

import inspect

import numpy as np
import pytest

import a3net
from a3net.keras import spectra_vae as keras_vae
from a3net.torch import spectra_vae as torch_vae

tnn = a3net.framework("torch")
knn = a3net.framework("keras")

import keras  # noqa: E402
import torch  # noqa: E402

MODEL = {tnn: torch_vae.SpectrumCVAE, knn: keras_vae.SpectrumCVAE}
BOTH = pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])

NOISE = 0.05  # the toy's per-bin noise sigma
TOY = dict(n_bins=64, n_conditions=1, latent_dim=4, channels=32, hidden=64)


def toy_spectra(n, n_bins=64, seed=0):
    """A Gaussian bump (width 3 bins) centred at n_bins/2 + 0.3 n_bins c, c ~ U(-1, 1), with a
    hidden amplitude U(0.5, 1.5) the latent code must carry, plus N(0, NOISE^2) noise per bin.
    Returns noisy (n, n_bins), conditions (n, 1), noiseless (n, n_bins), centres (n,)."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    amplitude = rng.uniform(0.5, 1.5, (n, 1))
    centre = n_bins / 2 + 0.3 * n_bins * c[:, 0]
    clean = amplitude * np.exp(-0.5 * ((np.arange(n_bins) - centre[:, None]) / 3.0) ** 2)
    noisy = clean + NOISE * rng.standard_normal((n, n_bins))
    return noisy.astype(np.float32), c, clean.astype(np.float32), centre


def expected_count(n_bins=256, n_conditions=4, latent_dim=8, channels=32, hidden=128):
    """Trainable parameters by hand: convolutions k=5, dense layers, one log sigma."""
    c1, c2, c3, length = channels // 4, channels // 2, channels, n_bins // 8

    def conv(a, b):
        return 5 * a * b + b

    def dense(a, b):
        return a * b + b

    encoder = conv(1, c1) + conv(c1, c2) + conv(c2, c3) + dense(c3 * length + n_conditions, hidden)
    heads = 2 * dense(hidden, latent_dim)
    decoder = dense(latent_dim + n_conditions, hidden) + dense(hidden, c3 * length)
    decoder += conv(c3, c3) + conv(c3, c2) + conv(c2, c1) + conv(c1, 1)
    return encoder + heads + decoder + 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(n_bins=64, n_conditions=1, latent_dim=3, channels=8, hidden=16),
        dict(n_bins=512, n_conditions=2, latent_dim=16, channels=64, hidden=32, beta=0.5),
    ],
)
def test_same_parameter_counts_in_both_frameworks(kwargs):
    t, k = torch_vae.SpectrumCVAE(**kwargs), keras_vae.SpectrumCVAE(**kwargs)
    expected = expected_count(**{k: v for k, v in kwargs.items() if k != "beta"})
    assert tnn.count_parameters(t) == knn.count_parameters(k) == expected
    if not kwargs:
        assert expected == 279_250


def test_same_signature_and_layers_written_in_the_class():
    t, k = torch_vae.SpectrumCVAE, keras_vae.SpectrumCVAE
    assert inspect.signature(t.__init__) == inspect.signature(k.__init__)
    assert t.sigma_lr_factor == k.sigma_lr_factor
    for cls, needed in (
        (t, ("nn.Conv1d(", "nn.Linear(")),
        (k, ("layers.Conv1D(", "layers.Dense(")),
    ):
        source = inspect.getsource(cls)
        assert all(layer in source for layer in needed)


@BOTH
def test_shapes_generate_evaluate_and_optimisers(nn):
    model = MODEL[nn](**TOY)
    x, c, _, _ = toy_spectra(10)
    drawn = nn.generate(model, c, seed=3)
    assert drawn.shape == (10, 64) and drawn.dtype == np.float32
    np.testing.assert_array_equal(drawn, nn.generate(model, c, seed=3))
    assert not np.array_equal(drawn, nn.generate(model, c, seed=4))
    scores = nn.evaluate(model, x, c)
    assert set(scores) == {"loss", "reconstruction", "kl", "sigma"}
    assert scores == nn.evaluate(model, x, c)  # the posterior noise restarts in evaluate
    assert scores["sigma"] == pytest.approx(1.0) == model.sigma  # log sigma starts at 0
    groups = model.configure_optimizers(lr=1e-3, weight_decay=1e-4)
    assert set(groups) == {"model", "sigma"}
    assert [id(p) for p in groups["sigma"][1]] == [id(model.log_sigma)]
    n_model = sum(int(np.prod(tuple(p.shape))) for p in groups["model"][1])
    assert n_model == nn.count_parameters(model) - 1
    rates = {name: nn.core.BACKEND.get_learning_rate(opt) for name, (opt, _) in groups.items()}
    assert rates["sigma"] == pytest.approx(10 * rates["model"])
    with pytest.raises(TypeError, match="generate"):
        nn.predict(model, x)


@BOTH
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_bins=100), ValueError, "n_bins must be a multiple of 8.*got 100; resample"),
        (dict(n_bins=4), ValueError, "n_bins must be at least 8"),
        (dict(n_bins=64.0), TypeError, "n_bins must be a whole number"),
        (dict(channels=6), ValueError, "channels must be a multiple of 4"),
        (dict(latent_dim=0), ValueError, "latent_dim must be at least 1"),
        (dict(n_conditions=0), ValueError, "n_conditions must be at least 1"),
        (dict(hidden=0), ValueError, "hidden must be at least 1"),
        (dict(beta=-1.0), ValueError, "beta must be a non-negative number"),
        (dict(beta="1"), ValueError, "beta must be a non-negative number"),
    ],
)
def test_bad_arguments_get_one_clear_sentence(nn, kwargs, error, match):
    with pytest.raises(error, match=match):
        MODEL[nn](**kwargs)


@BOTH
def test_bad_data_get_one_clear_sentence(nn):
    model = MODEL[nn](**TOY)
    x, c, _, _ = toy_spectra(8)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 64\)"):
        nn.fit(model, x[:, :32], c, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"conditions must have shape \(N, 1\)"):
        nn.fit(model, x, np.zeros((8, 4), np.float32), epochs=1, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        nn.fit(model, np.where(x > 0.5, np.nan, x), c, epochs=1, progress=False)


@BOTH
def test_toy_fit_reconstructs_generates_and_learns_the_noise(nn):
    """Bumps whose position is c and whose amplitude is hidden: after a short fit the posterior
    mean reconstruction beats the mean spectrum and removes most of the noise, drawn bumps sit
    where c puts them with about the training set's spread of amplitudes, and the learned sigma
    is the toy's noise. Short fits differ from seed to seed: in about one run in five the code z
    also carries part of the position (KL ~7 nats instead of ~4), and prior draws then miss c
    by ~4 bins instead of < 1; the bounds below hold for such runs too."""
    x, c, _, _ = toy_spectra(2000)
    a3net.seed_everything(0)
    model = MODEL[nn](**TOY)
    history = nn.fit(model, x, c, epochs=20, batch_size=64, lr=2e-3, progress=False)
    assert set(history) == {"loss", "reconstruction", "kl", "sigma"}
    assert history["sigma"][0] > 0.3 and history["kl"][-1] > 1  # the latent code is used
    assert history["sigma"][-1] == pytest.approx(model.sigma, rel=0.02)
    assert NOISE < model.sigma < 1.25 * NOISE  # sigma^2 = noise^2 + the model's own error

    xt, ct, clean, centre = toy_spectra(1000, seed=1)
    if nn is tnn:
        with torch.no_grad():
            mean, _ = model.encode(torch.from_numpy(xt), torch.from_numpy(ct))
            recon = model.decode(mean, torch.from_numpy(ct)).numpy()
    else:
        mean, _ = model.encode(xt, ct)
        recon = keras.ops.convert_to_numpy(model.decode(mean, ct))
    assert ((recon - xt) ** 2).mean() < 0.1 * ((xt - xt.mean(axis=0)) ** 2).mean()
    assert ((recon - clean) ** 2).mean() < 0.25 * NOISE**2  # denoised

    drawn = nn.generate(model, ct, seed=0)
    bins = np.arange(64)
    weight = np.clip(drawn, 0, None)
    position = (weight * bins).sum(axis=1) / weight.sum(axis=1)
    assert np.corrcoef(position, centre)[0, 1] > 0.85
    assert np.abs(position - centre).mean() < 5  # bins; ignoring c would miss by ~10
    peak, true_peak = drawn.max(axis=1), clean.max(axis=1)
    assert 0.5 < peak.mean() < 1.2  # true: 1
    assert 0.6 < peak.std() / true_peak.std() < 1.6  # amplitude comes from z, not collapsed


def copy_torch_to_keras(t, k):
    """Copy the weights of a torch SpectrumCVAE into its Keras twin: conv kernels (out, in, k)
    -> (k, in, out), dense (out, in) -> (in, out), the flattened (channels, bins) features
    re-ordered to Keras' (bins, channels)."""
    length = t.length

    def convs(module, kind):
        return [m for m in module.modules() if isinstance(m, kind)]

    def dense_kernel(w):
        return w.detach().numpy().T

    t_convs = convs(t.encoder, torch.nn.Conv1d) + convs(t.decoder, torch.nn.Conv1d)
    k_convs = [
        lay for lay in k.encoder.layers + k.decoder.layers if isinstance(lay, keras.layers.Conv1D)
    ]
    assert len(t_convs) == len(k_convs) == 7
    for tl, kl in zip(t_convs, k_convs, strict=True):
        kl.set_weights([tl.weight.detach().numpy().transpose(2, 1, 0), tl.bias.detach().numpy()])

    w, b = t.enc_dense[0].weight.detach().numpy(), t.enc_dense[0].bias.detach().numpy()
    hidden, channels = w.shape[0], t_convs[2].out_channels
    flat = w[:, : channels * length].reshape(hidden, channels, length).transpose(2, 1, 0)
    k.enc_dense.set_weights(
        [np.concatenate([flat.reshape(-1, hidden), w[:, channels * length :].T]), b]
    )
    for tl, kl in (
        (t.to_mean, k.to_mean),
        (t.to_logvar, k.to_logvar),
        (t.dec_dense[0], k.dec_dense.layers[0]),
    ):
        kl.set_weights([dense_kernel(tl.weight), tl.bias.detach().numpy()])
    w, b = t.dec_dense[2].weight.detach().numpy(), t.dec_dense[2].bias.detach().numpy()
    kernel = w.reshape(channels, length, -1).transpose(2, 1, 0).reshape(w.shape[1], -1)
    k.dec_dense.layers[1].set_weights([kernel, b.reshape(channels, length).T.reshape(-1)])
    k.log_sigma.assign(float(t.log_sigma.detach()))


def test_same_outputs_and_loss_with_the_same_weights():
    """With copied weights the encoders and decoders agree; with the posterior made (nearly)
    deterministic, both losses equal the Gaussian NLL + KL computed in NumPy."""
    a3net.seed_everything(0)
    kwargs = dict(n_bins=64, n_conditions=2, latent_dim=3, channels=8, hidden=16)
    t, k = torch_vae.SpectrumCVAE(**kwargs), keras_vae.SpectrumCVAE(**kwargs)
    with torch.no_grad():
        t.log_sigma.fill_(-1.3)
        t.to_logvar.weight.zero_()
        t.to_logvar.bias.fill_(-30.0)  # posterior sd 3e-7: z = mean
    copy_torch_to_keras(t, k)
    rng = np.random.default_rng(0)
    x = (1 + 0.3 * rng.standard_normal((6, 64))).astype(np.float32)
    c = rng.standard_normal((6, 2)).astype(np.float32)
    z = rng.standard_normal((6, 3)).astype(np.float32)
    with torch.no_grad():
        t_mean, t_logvar = (v.numpy() for v in t.encode(torch.from_numpy(x), torch.from_numpy(c)))
        t_mu = t.decode_samples(torch.from_numpy(z), torch.from_numpy(c)).numpy()
        t_rec = t.decode(torch.from_numpy(t_mean), torch.from_numpy(c)).numpy()
    k_mean, k_logvar = (keras.ops.convert_to_numpy(v) for v in k.encode(x, c))
    np.testing.assert_allclose(k_mean, t_mean, atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(k_logvar, t_logvar, atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(k.decode_samples(z, c)), t_mu, atol=2e-5, rtol=1e-4
    )
    np.testing.assert_allclose(
        tnn.generate(t, c, seed=2), knn.generate(k, c, seed=2), atol=2e-5, rtol=1e-4
    )
    assert t.sigma == pytest.approx(k.sigma) == pytest.approx(np.exp(-1.3))

    sigma = np.exp(-1.3)
    nll = (0.5 * (x - t_rec) ** 2 / sigma**2 + np.log(sigma) + 0.5 * np.log(2 * np.pi)).sum(1)
    kl = (-0.5 * (1 - 30.0 - t_mean**2 - np.exp(-30.0))).sum(1)
    for scores in (tnn.evaluate(t, x, c), knn.evaluate(k, x, c)):
        assert scores["reconstruction"] == pytest.approx(nll.mean(), rel=1e-4)
        assert scores["kl"] == pytest.approx(kl.mean(), rel=1e-4)
        assert scores["loss"] == pytest.approx(nll.mean() + kl.mean(), rel=1e-4)
        assert scores["sigma"] == pytest.approx(sigma, rel=1e-5)


def test_keras_convolutions_start_like_torch():
    """Conv1D kernels and biases are drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch's
    Conv1d, not Keras' glorot-uniform kernels and zero biases."""
    a3net.seed_everything(0)
    t, k = torch_vae.SpectrumCVAE(), keras_vae.SpectrumCVAE()
    t_convs = [m for m in t.modules() if isinstance(m, torch.nn.Conv1d)]
    k_convs = [
        lay for lay in k.encoder.layers + k.decoder.layers if isinstance(lay, keras.layers.Conv1D)
    ]
    for tl, kl in zip(t_convs, k_convs, strict=True):
        kernel, bias = (keras.ops.convert_to_numpy(v) for v in (kl.kernel, kl.bias))
        bound = 1 / np.sqrt(kernel.size // kernel.shape[-1])
        assert bound == pytest.approx(1 / np.sqrt(tl.weight[0].numel()))
        assert np.abs(kernel).max() <= bound and np.abs(bias).max() <= bound
        if kernel.size >= 500:
            assert kernel.std() == pytest.approx(bound / np.sqrt(3), rel=0.1)
            assert tl.weight.std().item() == pytest.approx(bound / np.sqrt(3), rel=0.1)
        if bias.size >= 8:
            assert bias.std() > 0.3 * bound
