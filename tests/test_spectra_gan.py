"""SpectrumWGAN, the ResNet + CBAM conditional WGAN of spectra, in both frameworks: counts,
shapes, options, weight clipping, the weight average, latent noise, conditioning, learning a toy
conditional data set, and the same outputs for the same weights."""

import importlib

import numpy as np
import pytest

import a3net
from a3net._engine import latent as _training

tnn = a3net.framework("torch")
knn = a3net.framework("keras")

import keras  # noqa: E402
import torch  # noqa: E402

tgan = importlib.import_module("a3net.torch.spectra_gan")
kgan = importlib.import_module("a3net.keras.spectra_gan")
FRAMEWORKS = pytest.mark.parametrize("nn, gan", [(tnn, tgan), (knn, kgan)], ids=["torch", "keras"])
SMALL = dict(n_bins=32, n_conditions=1, latent_dim=4, hidden=16, channels=8, n_critic=2)


def numpy_weights(variables):
    return [np.asarray(keras.ops.convert_to_numpy(v)) for v in variables]


def critic_weights(nn, model):
    if nn is tnn:
        params = [*model.critic.parameters(), *model.critic_head.parameters()]
        return [p.detach().numpy() for p in params]
    return numpy_weights(
        [*model.critic.trainable_variables, *model.critic_head.trainable_variables]
    )


def generator_weights(nn, model, average):
    part = model.average_generator if average else model.generator
    if nn is tnn:
        return [p.detach().numpy() for p in part.parameters()]
    return numpy_weights(part.variables)


def bumps(n=256, n_bins=32, seed=0, noise=0.05):
    """Toy spectra (n, n_bins) of two kinds: a unit Gaussian bump (sd 1.5 bins) at bin
    n_bins/2 + 0.2 n_bins c for a condition c = -1 or +1, plus noise of sd ``noise``."""
    rng = np.random.default_rng(seed)
    c = rng.choice(np.array([-1.0, 1.0], np.float32), (n, 1))
    centre = n_bins / 2 + 0.2 * n_bins * c
    x = np.exp(-0.5 * ((np.arange(n_bins) - centre) / 1.5) ** 2)
    return (x + noise * rng.standard_normal((n, n_bins))).astype(np.float32), c


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(channels=16, hidden=64, latent_dim=8),
        dict(n_bins=64, n_conditions=2, conditioning="generator", latent_dim=0),
        dict(n_bins=48, conditioning="none", channels=4, clip_value=0.03),
        dict(channels=12, noise="uniform"),  # reduction 8: 1 unit in the channel MLP
        dict(conditioning="projection"),
        dict(n_bins=64, n_conditions=3, latent_dim=0, conditioning="projection", noise_aware=True),
        dict(n_bins=48, channels=4, conditioning="projection", clip_value=0.03, fresh_batches=True),
        dict(hidden=32, noise_aware=True, fresh_batches=True, betas=(0.0, 0.9)),
    ],
)
def test_same_parameter_counts_and_the_average_is_not_trained(kwargs):
    t, k = tgan.SpectrumWGAN(**kwargs), kgan.SpectrumWGAN(**kwargs)
    assert tnn.count_parameters(t) == knn.count_parameters(k) > 0
    n_generator = tnn.count_parameters(t.generator)
    assert n_generator == knn.count_parameters(k.generator) > 0
    assert (
        tnn.count_parameters(t.average_generator)
        == 0
        == len(k.average_generator.trainable_variables)
    )
    assert sum(p.numel() for p in t.average_generator.parameters()) == n_generator


def test_default_parameter_count():
    """Dense 20 -> 128 -> 32 x 32, three (conv, residual CBAM) stages, output conv; critic stem,
    three (residual CBAM, strided conv) stages, dense 1028 -> 128 -> 1."""
    cbam = (32 * 4 + 4) + (4 * 32 + 32) + (2 * 7 + 1)
    residual = 2 * (3 * 32 * 32 + 32) + cbam
    generator = 20 * 128 + 128 + 128 * 1024 + 1024 + 3 * (3 * 32 * 32 + 32 + residual) + 97
    critic = 3 * 32 + 32 + 3 * (residual + 4 * 32 * 32 + 32) + 1028 * 128 + 128 + 129
    assert tnn.count_parameters(tgan.SpectrumWGAN()) == generator + critic == 327_636


@FRAMEWORKS
def test_projection_parameter_count(nn, gan):
    """Projection: FiLM adds gamma and beta (4 -> 8, with bias) at each of the three upsampling
    stages; the critic head loses its 4 condition inputs (4 x 64) and the embedding 4 -> 64
    (no bias) takes them back."""
    sizes = dict(n_bins=128, channels=8, hidden=64, latent_dim=16)
    both = nn.count_parameters(gan.SpectrumWGAN(**sizes))
    projection = gan.SpectrumWGAN(**sizes, conditioning="projection")
    assert both == 22_330
    assert nn.count_parameters(projection) == both + 3 * 2 * (4 * 8 + 8) == 22_570
    assert nn.count_parameters(projection.projection) == 4 * 64


@FRAMEWORKS
def test_shapes(nn, gan):
    model = gan.SpectrumWGAN(n_bins=40, n_conditions=3, latent_dim=2, hidden=8, channels=4)
    c = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    drawn = nn.generate(model, c, seed=0)
    assert drawn.shape == (5, 40) and drawn.dtype == np.float32 and np.isfinite(drawn).all()
    scores = model(drawn, c) if nn is knn else model(torch.as_tensor(drawn), torch.as_tensor(c))
    assert tuple(scores.shape) == (5, 1)


@FRAMEWORKS
def test_bad_arguments_get_one_clear_sentence(nn, gan):
    with pytest.raises(ValueError, match="n_bins must be a multiple of 8.*got 100"):
        gan.SpectrumWGAN(n_bins=100)
    with pytest.raises(ValueError, match="noise must be one of 'normal', 'uniform', got 'gauss'"):
        gan.SpectrumWGAN(noise="gauss")
    with pytest.raises(ValueError, match="conditioning must be one of 'both', 'generator', 'none'"):
        gan.SpectrumWGAN(conditioning="critic")
    with pytest.raises(ValueError, match="latent_dim must be at least 1, got 0"):
        gan.SpectrumWGAN(latent_dim=0, conditioning="none")
    with pytest.raises(ValueError, match="clip_value must be"):
        gan.SpectrumWGAN(clip_value=-0.1)
    with pytest.raises(ValueError, match="ema_decay must be a number in"):
        gan.SpectrumWGAN(ema_decay=1.0)
    with pytest.raises(ValueError, match=r"betas must be a pair \(beta_1, beta_2\)"):
        gan.SpectrumWGAN(betas=0.9)
    with pytest.raises(ValueError, match=r"betas\[1\] must be a number in \[0, 1\)"):
        gan.SpectrumWGAN(betas=(0.0, 1.0))
    with pytest.raises(TypeError, match="noise_aware must be True or False"):
        gan.SpectrumWGAN(noise_aware="yes")
    with pytest.raises(TypeError, match="fresh_batches must be True or False"):
        gan.SpectrumWGAN(fresh_batches=1)
    model = gan.SpectrumWGAN(**SMALL, clip_value=0.01)
    x, c = bumps(8)
    with pytest.raises(ValueError, match="weight_decay must be 0 with weight clipping"):
        nn.fit(model, x, c, epochs=1, weight_decay=1e-4, progress=False)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 32\)"):
        nn.fit(model, x[:, :16], c, epochs=1, progress=False)


@FRAMEWORKS
def test_weight_clipping_bounds_the_critic_and_drops_the_penalty(nn, gan):
    a3net.seed_everything(0)
    x, c = bumps(64)
    model = gan.SpectrumWGAN(**SMALL, clip_value=0.02)
    assert max(np.abs(w).max() for w in critic_weights(nn, model)) > 0.1  # not clipped at start
    history = nn.fit(model, x, c, epochs=2, batch_size=32, lr=5e-4, progress=False)
    weights = critic_weights(nn, model)
    assert max(np.abs(w).max() for w in weights) <= 0.02 + 1e-7
    assert np.mean([np.mean(np.abs(w) > 0.0199) for w in weights]) > 0.1  # the clip is active
    assert set(history) == {"loss", "generator_loss", "wasserstein", "gradient_penalty"}
    assert history["gradient_penalty"] == [0.0, 0.0]
    assert history["loss"] == [-w for w in history["wasserstein"]]


@FRAMEWORKS
@pytest.mark.parametrize("decay", [0.99, 0.0])
def test_the_average_generator_follows_the_raw_one(nn, gan, decay):
    """The average starts at the initial weights, lags the raw generator while the decay is
    positive and is the raw generator with decay 0; use_average picks what generate draws."""
    a3net.seed_everything(0)
    x, c = bumps(64)
    model = gan.SpectrumWGAN(**SMALL, ema_decay=decay)
    start = generator_weights(nn, model, False)
    for a, r in zip(generator_weights(nn, model, True), start, strict=True):
        np.testing.assert_array_equal(a, r)
    nn.fit(model, x, c, epochs=2, batch_size=16, lr=1e-3, schedule="constant", progress=False)
    average, raw = generator_weights(nn, model, True), generator_weights(nn, model, False)
    gap = max(np.abs(a - r).max() for a, r in zip(average, raw, strict=True))
    drawn = nn.generate(model, c, seed=0)
    model.use_average = False
    drawn_raw = nn.generate(model, c, seed=0)
    if decay:
        assert gap > 1e-4
        assert np.abs(drawn - drawn_raw).max() > 1e-4
    else:
        assert gap == 0
        np.testing.assert_array_equal(drawn, drawn_raw)


def test_the_warm_up_decay_of_the_average():
    """After t steps with decay d_t = min(d, (1 + t) / (10 + t)) the average of a parameter that
    moves by a known amount each step is the weighted sum NumPy computes."""
    model = tgan.SpectrumWGAN(**SMALL, ema_decay=0.5)
    p = next(model.generator.parameters())
    a = next(model.average_generator.parameters())
    start = p.detach().clone()
    expected = start.clone()
    for t in range(5):
        with torch.no_grad():
            p.add_(1.0)
        model._update_average()
        d = min(0.5, (1 + t) / (10 + t))
        expected = d * expected + (1 - d) * p.detach()
    np.testing.assert_allclose(a.detach().numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    assert float(model.average_steps) == 5


@FRAMEWORKS
def test_generate_is_repeatable_and_uniform_noise_is_bounded(nn, gan):
    model = gan.SpectrumWGAN(**SMALL, noise="uniform")
    c = np.linspace(-1, 1, 20, dtype=np.float32)[:, None]
    first = nn.generate(model, c, seed=4)
    np.testing.assert_array_equal(first, nn.generate(model, c, seed=4))
    assert np.abs(first - nn.generate(model, c, seed=5)).max() > 1e-4
    z = _training.latent_draws(20000, 3, 0, "uniform")
    assert np.abs(z).max() <= np.sqrt(3) and np.abs(z).max() > 1.7
    assert z.std() == pytest.approx(1.0, abs=0.02) and abs(z.mean()) < 0.02
    normal = _training.latent_draws(100, 3, 0)  # the default is unchanged
    expected = np.random.default_rng(0).standard_normal((100, 3)).astype(np.float32)
    np.testing.assert_array_equal(normal, expected)
    with pytest.raises(ValueError, match="noise must be one of 'normal', 'uniform'"):
        _training.latent_draws(3, 2, 0, "cauchy")


@FRAMEWORKS
def test_uniform_training_noise_is_unit_variance_and_bounded(nn, gan):
    model = gan.SpectrumWGAN(**{**SMALL, "latent_dim": 64}, noise="uniform")
    c = np.zeros((500, 1), np.float32)
    z = model._latent(torch.as_tensor(c) if nn is tnn else keras.ops.convert_to_tensor(c))
    z = np.asarray(keras.ops.convert_to_numpy(z))
    assert z.shape == (500, 64) and np.abs(z).max() <= np.sqrt(3) + 1e-6
    assert z.std() == pytest.approx(1.0, abs=0.02)


@FRAMEWORKS
def test_generator_conditioning_hides_the_labels_from_the_critic(nn, gan):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 32)).astype(np.float32)
    c1, c2 = rng.standard_normal((2, 6, 1)).astype(np.float32)
    kwargs = {**SMALL, "latent_dim": 0}
    scores = {}
    for conditioning in ("generator", "both"):
        a3net.seed_everything(0)
        model = gan.SpectrumWGAN(**kwargs, conditioning=conditioning)
        call = (
            model
            if nn is knn
            else (lambda a, b, m=model: m(torch.as_tensor(a), torch.as_tensor(b)).detach())
        )
        scores[conditioning] = [
            np.asarray(keras.ops.convert_to_numpy(call(x, c))) for c in (c1, c2)
        ]
        # latent_dim 0: the labels are the generator's whole input, so samples follow them
        drawn = nn.generate(model, np.concatenate([c1, c2]), seed=0)
        assert np.abs(drawn[:6] - drawn[6:]).max() > 1e-4
    np.testing.assert_array_equal(*scores["generator"])
    assert np.abs(scores["both"][0] - scores["both"][1]).max() > 1e-4


@FRAMEWORKS
def test_a_short_fit_learns_the_conditional_bump(nn, gan):
    """Toy spectra with a bump whose position is the condition (bin 9.6 for c=-1, 22.4 for
    c=+1): after a short fit the generated mean spectra peak where the data's do, and the peak
    of single drawn spectra follows c."""
    a3net.seed_everything(0)
    x, c = bumps(256)
    model = gan.SpectrumWGAN(**SMALL, ema_decay=0.9)
    grid = np.repeat(np.array([-1.0, 1.0], np.float32), 200)[:, None]
    true_centres = np.array([16 - 6.4, 16 + 6.4])

    def error():
        """Mean |peak bin of the mean drawn spectrum - true centre| in bins, and the draws."""
        drawn = nn.generate(model, grid, seed=1)
        peaks = drawn.reshape(2, 200, 32).mean(1).argmax(1)
        return np.abs(peaks - true_centres).mean(), drawn

    before, _ = error()
    history = nn.fit(
        model, x, c, epochs=30, batch_size=16, lr=1e-3, schedule="constant", progress=False
    )
    after, drawn = error()
    r = np.corrcoef(drawn.argmax(1), grid[:, 0])[0, 1]
    assert after <= 1.5 and after < before, (before, after)
    assert r > 0.5, r
    assert all(np.isfinite(v).all() for v in history.values())


@FRAMEWORKS
def test_betas_reach_adam(nn, gan):
    for betas in ((0.5, 0.9), (0.0, 0.9)):
        model = gan.SpectrumWGAN(**SMALL, betas=betas)
        assert model.betas == betas
        for opt, _ in model.configure_optimizers(1e-3).values():
            if nn is tnn:
                assert opt.param_groups[0]["betas"] == betas
            else:
                assert (opt.beta_1, opt.beta_2) == betas


def call_critic(nn, model, x, c):
    if nn is tnn:
        with torch.no_grad():
            return model(torch.as_tensor(x), torch.as_tensor(c)).numpy()
    return np.asarray(model(x, c))


def film_layers(nn, gan, generator):
    stack = generator if nn is tnn else generator.stack
    return [layer for layer in stack if isinstance(layer, gan.FiLM1d)]


def set_zero(nn, weight, columns=None):
    """Zero a torch parameter, or a Keras variable (rows ``columns`` of a Dense kernel)."""
    if nn is tnn:
        with torch.no_grad():
            weight[:, columns or slice(None)] = 0
    else:
        value = np.asarray(keras.ops.convert_to_numpy(weight)).copy()
        value[columns or slice(None)] = 0
        weight.assign(value)


@FRAMEWORKS
def test_projection_critic_and_film_generator_follow_the_conditions(nn, gan):
    """The projection critic's score depends on c through its embedding alone; the generator,
    its dense input blind to c, still follows c through FiLM, and not once FiLM is zeroed."""
    a3net.seed_everything(0)
    kwargs = {**SMALL, "n_conditions": 2, "conditioning": "projection"}
    model = gan.SpectrumWGAN(**kwargs)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 32)).astype(np.float32)
    c1, c2 = rng.standard_normal((2, 6, 2)).astype(np.float32)
    assert np.abs(call_critic(nn, model, x, c1) - call_critic(nn, model, x, c2)).max() > 1e-4
    set_zero(nn, model.projection.weight if nn is tnn else model.projection.kernel)
    np.testing.assert_array_equal(call_critic(nn, model, x, c1), call_critic(nn, model, x, c2))

    model.use_average = False
    first = model.generator[0] if nn is tnn else model.generator.stack[0]
    # the dense input [z, c]: torch weight (out, in) columns, Keras kernel (in, out) rows
    set_zero(nn, first.weight if nn is tnn else first.kernel, slice(4, 6))
    z = np.repeat(rng.standard_normal((1, 4)).astype(np.float32), 12, axis=0)
    c = np.concatenate([c1, c2])
    drawn = nn.generate(model, c, latent=z)
    assert np.abs(drawn[:6] - drawn[6:]).max() > 1e-4
    films = film_layers(nn, gan, model.generator)
    assert len(films) == 3
    for film in films:
        for part in (film.gamma, film.beta):
            set_zero(nn, part.weight if nn is tnn else part.kernel)
    drawn = nn.generate(model, c, latent=z)
    np.testing.assert_allclose(drawn[:6], drawn[6:], atol=1e-6)


@FRAMEWORKS
def test_noise_aware_data_layout(nn, gan):
    """A noise-aware model takes [flux, sigma] pairs (N, 2, n_bins) and draws noiseless spectra
    (N, n_bins); either layout given to the other model is refused with one clear sentence."""
    x, c = bumps(12)
    sigma = np.full_like(x, 0.05)
    pairs = np.stack([x, sigma], axis=1)
    aware = gan.SpectrumWGAN(**SMALL, noise_aware=True)
    plain = gan.SpectrumWGAN(**SMALL)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2, 32\) for a noise-aware"):
        nn.fit(aware, x, c, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"not noise-aware: pass the flux x\[:, 0\]"):
        nn.fit(plain, pairs, c, epochs=1, progress=False)
    with pytest.raises(ValueError, match="validation x must have shape"):
        nn.fit(aware, pairs, c, epochs=1, validation=(x, c), progress=False)
    negative = pairs.copy()
    negative[0, 1, 3] = -0.1
    with pytest.raises(ValueError, match=r"x\[:, 1\] holds the noise sigma"):
        nn.fit(aware, negative, c, epochs=1, progress=False)
    drawn = nn.generate(aware, c, seed=0)
    assert drawn.shape == (12, 32) and drawn.dtype == np.float32
    # noiseless: the same latent vector and conditions give the same spectrum every time
    np.testing.assert_array_equal(drawn, nn.generate(aware, c, seed=0))
    assert aware.sample_shape == (2, 32) and plain.sample_shape == (32,)


def recording(nn, model):
    """Record the real rows of every critic loss and the conditions of every batch of fakes
    (eager steps: training_step called directly, not through fit's compiled step)."""
    seen = {"x": [], "c": []}
    loss, fake = model.training_loss, model._fake

    def as_numpy(t):
        return np.asarray(t.detach() if nn is tnn else t)

    def training_loss(x, c, training=False):
        seen["x"].append(as_numpy(x))
        return loss(x, c, training)

    def _fake(c, training=False):
        seen["c"].append(as_numpy(c))
        return fake(c, training)

    object.__setattr__(model, "training_loss", training_loss)
    object.__setattr__(model, "_fake", _fake)
    return seen


@FRAMEWORKS
@pytest.mark.parametrize(
    "fresh, rows, chunks",
    [
        (False, 12, [range(12)] * 3),
        (True, 12, [range(0, 4), range(4, 8), range(8, 12)]),
        (True, 10, [range(0, 3), range(3, 6), range(6, 9)]),  # short: the remainder unused
        (True, 2, [range(0, 1), range(1, 2), range(0, 1)]),  # fewer rows than critic steps
    ],
)
def test_fresh_batches_give_each_critic_step_its_own_rows(nn, gan, fresh, rows, chunks):
    """With fresh_batches each of the n_critic critic steps takes its own chunk of the batch,
    its fakes on that chunk's conditions; the generator step draws for the first chunk."""
    model = gan.SpectrumWGAN(**{**SMALL, "n_critic": 3}, fresh_batches=fresh, noise_aware=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 2, 32)).astype(np.float32)
    x[:, 1] = np.abs(x[:, 1])
    c = np.arange(rows, dtype=np.float32)[:, None]
    optimizers = {name: opt for name, (opt, _) in model.configure_optimizers(1e-3).items()}
    seen = recording(nn, model)
    if nn is tnn:
        model.train()
        out = model.training_step(torch.as_tensor(x), torch.as_tensor(c), optimizers)
    else:
        tensors = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(c)
        out = model.training_step(*tensors, optimizers)
    assert np.isfinite(float(out["loss"])) and np.isfinite(float(out["generator_loss"]))
    assert len(seen["x"]) == 3 and len(seen["c"]) == 4
    for step, rows_used in enumerate(chunks):
        np.testing.assert_array_equal(seen["x"][step], x[list(rows_used)])
        np.testing.assert_array_equal(seen["c"][step], c[list(rows_used)])
    np.testing.assert_array_equal(seen["c"][3], c[list(chunks[0])])


@FRAMEWORKS
def test_fresh_batches_fit_with_a_short_last_batch(nn, gan):
    """fit's compiled step cuts batches of 3 x 3 rows, and the short last one of 2 rows (fewer
    than n_critic: one-row chunks, reused)."""
    a3net.seed_everything(0)
    x, c = bumps(20)
    model = gan.SpectrumWGAN(**{**SMALL, "n_critic": 3}, fresh_batches=True, noise_aware=True)
    pairs = np.stack([x, np.full_like(x, 0.05)], axis=1)
    history = nn.fit(model, pairs, c, epochs=1, batch_size=9, progress=False)
    assert all(np.isfinite(v).all() for v in history.values())


@FRAMEWORKS
def test_noise_aware_fakes_get_the_noise_of_their_row(nn, gan):
    """Every fake spectrum the critic scores (in the critic steps and the generator step) is
    the generator's output plus sigma * N(0, 1) with the sigma of the real spectrum in its
    row: with the generator's output replaced by zeros, a row of sigma 0 stays 0 and a row of
    sigma s has a scatter near s."""
    model = gan.SpectrumWGAN(**{**SMALL, "n_bins": 256, "n_critic": 2}, noise_aware=True)
    levels = np.array([0.0, 1.0, 10.0, 0.0, 100.0], np.float32)
    x = np.zeros((5, 2, 256), np.float32)
    x[:, 1] = levels[:, None]
    c = np.zeros((5, 1), np.float32)
    scored, score, fake = [], model._score, model._fake

    def _score(spectra, conditions, training=False):
        scored.append(np.asarray(spectra.detach() if nn is tnn else spectra))
        return score(spectra, conditions, training)

    def _fake(conditions, training=False):
        return 0 * fake(conditions, training)  # zeros, still a function of the generator

    object.__setattr__(model, "_score", _score)
    object.__setattr__(model, "_fake", _fake)
    optimizers = {name: opt for name, (opt, _) in model.configure_optimizers(1e-3).items()}
    convert = torch.as_tensor if nn is tnn else keras.ops.convert_to_tensor
    model.training_step(convert(x), convert(c), optimizers)
    assert len(scored) == 2 * 3 + 1  # per critic step: real, fake, interpolate; then G's fake
    for fake in (scored[1], scored[4], scored[6]):
        assert fake.shape == (5, 256)
        np.testing.assert_array_equal(fake[[0, 3]], 0)
        np.testing.assert_allclose(fake[[1, 2, 4]].std(1), levels[[1, 2, 4]], rtol=0.2)
    np.testing.assert_array_equal(scored[0], x[:, 0])  # the critic sees the real flux alone


def scatter(spectra):
    """The pixel-to-pixel scatter: the RMS of the differences of neighbouring bins."""
    return float(np.sqrt(np.mean(np.diff(spectra, axis=1) ** 2)))


@FRAMEWORKS
def test_a_noise_aware_gan_learns_the_noiseless_spectra(nn, gan):
    """Trained on bumps with known noise of sd 0.1 to 0.3, the noise-aware GAN draws bumps
    where the data have them whose pixel-to-pixel scatter is nearer the noiseless truth's
    than the noisy data's: it learns the spectrum without the noise. (At 20 epochs a plain GAN's
    scatter was 0.20 against the aware one's 0.18, truth 0.13, data 0.32, too close to tell, and
    the aware one's moved to 0.23 with two threads; after 60 epochs with fresh batches a plain
    GAN's was 0.28 against the aware one's 0.21. The pairing of the noise itself is tested
    above.)"""
    a3net.seed_everything(0)
    clean, c = bumps(256, noise=0.0)
    rng = np.random.default_rng(1)
    sigma = (rng.uniform(0.1, 0.3, (256, 1)) * np.ones((1, 32))).astype(np.float32)
    noisy = (clean + sigma * rng.standard_normal(clean.shape)).astype(np.float32)
    model = gan.SpectrumWGAN(**SMALL, ema_decay=0.9, conditioning="projection", noise_aware=True)
    x = np.stack([noisy, sigma], axis=1)
    nn.fit(model, x, c, epochs=60, batch_size=16, lr=1e-3, schedule="constant", progress=False)
    grid = np.repeat(np.array([-1.0, 1.0], np.float32), 200)[:, None]
    drawn = nn.generate(model, grid, seed=1)
    peaks = drawn.reshape(2, 200, 32).mean(1).argmax(1)
    assert np.abs(peaks - np.array([16 - 6.4, 16 + 6.4])).max() <= 1.5, peaks
    got, truth, data = scatter(drawn), scatter(clean), scatter(noisy)
    assert abs(got - truth) < abs(got - data), (got, truth, data)


TORCH_LAYERS = (torch.nn.Conv1d, torch.nn.Linear)


def copy_torch_to_keras(t, k):
    """Copy every weight in order: Conv1d (out, in, k) -> Conv1D (k, in, out), Linear (out, in)
    -> Dense (in, out); the Keras twin flattens channels first, so no other re-ordering."""
    pairs = [
        (t.generator, k.generator),
        (t.critic, k.critic),
        (t.critic_head, k.critic_head),
        (t.average_generator, k.average_generator),
    ]
    if t.conditioning == "projection":
        pairs.append((t.projection, k.projection))
    for tpart, kpart in pairs:
        tparams = [p.detach().numpy() for p in tpart.parameters()]
        kvars = kpart.variables
        assert [p.size for p in tparams] == [int(np.prod(v.shape)) for v in kvars]
        for p, v in zip(tparams, kvars, strict=True):
            v.assign(p.transpose(2, 1, 0) if p.ndim == 3 else p.T)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_bins=32, n_conditions=2, latent_dim=3, hidden=16, channels=8),
        dict(
            n_bins=24, n_conditions=1, latent_dim=0, hidden=8, channels=16, conditioning="generator"
        ),
        dict(n_bins=16, latent_dim=2, hidden=8, channels=4, conditioning="none", noise="uniform"),
        dict(
            n_bins=32,
            n_conditions=2,
            latent_dim=3,
            hidden=16,
            channels=8,
            conditioning="projection",
        ),
        dict(n_bins=16, latent_dim=0, hidden=8, channels=4, conditioning="projection"),
    ],
)
def test_same_outputs_with_the_same_weights(kwargs):
    """Generator (raw and averaged), critic scores and the critic loss with its gradient penalty
    agree across frameworks once the torch weights are copied into the Keras twin."""
    a3net.seed_everything(0)
    t, k = tgan.SpectrumWGAN(**kwargs), kgan.SpectrumWGAN(**kwargs)
    with torch.no_grad():  # move the average away from the raw weights
        for p in t.average_generator.parameters():
            p.mul_(0.9)
    copy_torch_to_keras(t, k)
    rng = np.random.default_rng(1)
    n_c = t.n_conditions
    c = rng.standard_normal((7, n_c)).astype(np.float32)
    for use_average in (True, False):
        t.use_average = k.use_average = use_average
        np.testing.assert_allclose(
            tnn.generate(t, c, seed=2), knn.generate(k, c, seed=2), atol=2e-5, rtol=1e-4
        )
    x = rng.standard_normal((7, t.sample_shape[0])).astype(np.float32)
    with torch.no_grad():
        t_scores = t(torch.as_tensor(x), torch.as_tensor(c)).numpy()
    np.testing.assert_allclose(t_scores, np.asarray(k(x, c)), atol=2e-5, rtol=1e-4)
    # the gradient penalty (input gradients through CBAM's max pooling) agrees too
    xt = torch.as_tensor(x).requires_grad_(True)
    (t_grad,) = torch.autograd.grad(t(xt, torch.as_tensor(c)).sum(), xt)
    xk = keras.ops.convert_to_tensor(x)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(xk)
        score = tf.reduce_sum(k(xk, c))
    np.testing.assert_allclose(
        t_grad.numpy(), tape.gradient(score, xk).numpy(), atol=2e-5, rtol=1e-3
    )


def test_layers_are_written_in_the_class():
    """The book shows the class's source: its layers are there, not in a helper."""
    import inspect

    for module, needed in (
        (tgan, ("nn.Linear(", "nn.Conv1d(", "ResidualCBAM1d(", "nn.Upsample(")),
        (kgan, ("layers.Dense(", "layers.Conv1D(", "ResidualCBAM1d(", "layers.UpSampling1D(")),
    ):
        source = inspect.getsource(module.SpectrumWGAN.__init__)
        for layer in needed:
            assert layer in source, (module.__name__, layer)
    for name in ("SpectrumWGAN", "CBAM1d", "ResidualCBAM1d", "FiLM1d", "ConditionedSequential"):
        assert inspect.signature(getattr(tgan, name).__init__) == inspect.signature(
            getattr(kgan, name).__init__
        )


@FRAMEWORKS
def test_generate_decodes_given_latent_vectors(nn, gan):
    """generate(latent=...) decodes the given vectors: the seeded draws give the same spectra
    as passing those draws, and a wrong shape is refused."""
    from a3net._engine.latent import latent_draws

    model = gan.SpectrumWGAN(n_bins=32, channels=4, hidden=8, latent_dim=3, noise="uniform")
    c = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    z = latent_draws(5, 3, 7, "uniform")
    np.testing.assert_allclose(
        nn.generate(model, c, latent=z), nn.generate(model, c, seed=7), rtol=1e-6, atol=1e-6
    )
    with pytest.raises(ValueError, match="latent must be finite with shape"):
        nn.generate(model, c, latent=z[:, :2])
