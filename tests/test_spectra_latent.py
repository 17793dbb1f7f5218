"""LatentSpectrumWGAN, the WGAN-GP on PCA coefficients of spectra, in both frameworks: counts,
initialisation, the same outputs for the same weights, repeatable draws, bad inputs, the fresh
critic batches, learning a bimodal conditional toy distribution, the ``noise`` and
``conditioning`` options and decoding given latent vectors; and
SpectrumFeatures.inverse_transform."""

import importlib

import numpy as np
import pytest

import a3net
from a3net.evaluation.frechet import SpectrumFeatures

tnn = a3net.framework("torch")
knn = a3net.framework("keras")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402

tlat = importlib.import_module("a3net.torch.spectra_latent")
klat = importlib.import_module("a3net.keras.spectra_latent")
FRAMEWORKS = pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
SMALL = dict(n_features=6, n_conditions=2, latent_dim=3, hidden=16, n_critic=2)


def toy(n, seed=0):
    """Bimodal conditional toy coefficients (n, 2) for conditions c = -1 or +1 (n, 1): two equal
    modes at (-2, c) and (+2, c), sd 0.3 each. A Gaussian with the same mean and covariance
    puts ~39% of its mass in the gap |x_0| < 1, the toy ~0.05%."""
    rng = np.random.default_rng(seed)
    c = rng.choice(np.array([-1.0, 1.0], np.float32), (n, 1))
    side = rng.choice([-1.0, 1.0], n)
    x = np.stack([2 * side, c[:, 0]], 1) + 0.3 * rng.standard_normal((n, 2))
    return x.astype(np.float32), c


def energy_distance(a, b):
    """Energy distance 2 E|a - b| - E|a - a'| - E|b - b'| of two samples (N, D): 0 for equal
    distributions (Szekely & Rizzo 2013)."""

    def mean_dist(u, v):
        return np.sqrt(((u[:, None] - v[None]) ** 2).sum(-1)).mean()

    return 2 * mean_dist(a, b) - mean_dist(a, a) - mean_dist(b, b)


def test_default_parameter_count_is_the_same_in_both_frameworks():
    """G: 12 -> 128 -> 128 -> 16; critic 16 -> 128 -> 128, head 128 -> 1, embedding 4 -> 128
    without bias; the average generator is not trained."""
    generator = 12 * 128 + 128 + 128 * 128 + 128 + 128 * 16 + 16
    critic = 16 * 128 + 128 + 128 * 128 + 128 + 128 + 1 + 4 * 128
    t, k = tlat.LatentSpectrumWGAN(), klat.LatentSpectrumWGAN()
    assert tnn.count_parameters(t) == knn.count_parameters(k) == generator + critic == 39_569
    assert tnn.count_parameters(t.average_generator) == 0
    assert len(k.average_generator.trainable_variables) == 0
    assert tnn.count_parameters(t.generator) == knn.count_parameters(k.generator) == generator


def torch_parts(t):
    embedding = [t.embedding] if t.conditioning == "projection" else []
    return [t.generator, t.critic, t.critic_head, *embedding, t.average_generator]


def keras_parts(k):
    embedding = [k.embedding] if k.conditioning == "projection" else []
    return [k.generator, k.critic, k.critic_head, *embedding, k.average_generator]


def test_both_start_from_pytorchs_initialisation():
    """Every kernel and bias in U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with that spread in both
    frameworks (the embedding has no bias), and the average starts at the raw generator."""
    a3net.seed_everything(0)
    t, k = tlat.LatentSpectrumWGAN(), klat.LatentSpectrumWGAN()
    for tpart, kpart in zip(torch_parts(t), keras_parts(k), strict=True):
        tweights = [p.detach().numpy() for p in tpart.parameters()]
        kweights = [as_numpy(v) for v in kpart.variables]
        assert [w.size for w in tweights] == [w.size for w in kweights]
        fan_in = None
        for tw, kw in zip(tweights, kweights, strict=True):
            if tw.ndim == 2:  # Linear (out, in), Dense (in, out)
                assert tw.shape == kw.shape[::-1]
                fan_in = tw.shape[1]
            bound = 1 / np.sqrt(fan_in)
            for w in (tw, kw):
                assert np.abs(w).max() <= bound * (1 + 1e-6)
                if w.size >= 100:
                    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.15)
    assert t.embedding.bias is None and k.embedding.bias is None
    for model in (t, k):
        for a, r in zip(
            generator_weights(model, True), generator_weights(model, False), strict=True
        ):
            np.testing.assert_array_equal(a, r)


def as_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(keras.ops.convert_to_numpy(value))


def generator_weights(model, average):
    part = model.average_generator if average else model.generator
    weights = part.parameters() if isinstance(model, torch.nn.Module) else part.variables
    return [as_numpy(w) for w in weights]


def copy_torch_to_keras(t, k):
    """Copy every weight in order: Linear (out, in) -> Dense (in, out), biases as they are."""
    for tpart, kpart in zip(torch_parts(t), keras_parts(k), strict=True):
        tparams = [p.detach().numpy() for p in tpart.parameters()]
        kvars = kpart.variables
        assert [p.shape[::-1] for p in tparams] == [tuple(v.shape) for v in kvars]
        for p, v in zip(tparams, kvars, strict=True):
            v.assign(p.T)


@pytest.mark.parametrize(
    "kwargs",
    [
        SMALL,
        dict(n_features=16, n_conditions=4, hidden=32),
        dict(SMALL, conditioning="generator", latent_dim=0),
        dict(SMALL, conditioning="none", noise="uniform"),
    ],
    ids=["small", "default-widths", "generator-latent0", "none-uniform"],
)
def test_same_outputs_with_the_same_weights(kwargs):
    """Generator draws (raw and averaged), critic scores and their input gradients (the penalty's)
    agree across frameworks once the torch weights are copied into the Keras twin, for each
    conditioning and noise."""
    a3net.seed_everything(0)
    t, k = tlat.LatentSpectrumWGAN(**kwargs), klat.LatentSpectrumWGAN(**kwargs)
    with torch.no_grad():  # move the average away from the raw weights
        for p in t.average_generator.parameters():
            p.mul_(0.9)
    copy_torch_to_keras(t, k)
    rng = np.random.default_rng(1)
    c = rng.standard_normal((7, t.n_conditions)).astype(np.float32)
    drawn = {}
    for use_average in (True, False):
        t.use_average = k.use_average = use_average
        drawn[use_average] = tnn.generate(t, c, seed=2)
        np.testing.assert_allclose(
            drawn[use_average], knn.generate(k, c, seed=2), atol=2e-5, rtol=1e-4
        )
    assert np.abs(drawn[True] - drawn[False]).max() > 1e-3
    x = rng.standard_normal((7, t.sample_shape[0])).astype(np.float32)
    xt, ct = torch.as_tensor(x).requires_grad_(True), torch.as_tensor(c)
    t_scores = t(xt, ct)
    (t_grad,) = torch.autograd.grad(t_scores.sum(), xt)
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        k_scores = k(xk, c)
        total = tf.reduce_sum(k_scores)
    assert tuple(k_scores.shape) == (7, 1)
    np.testing.assert_allclose(t_scores.detach().numpy(), k_scores.numpy(), atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(
        t_grad.numpy(), tape.gradient(total, xk).numpy(), atol=2e-5, rtol=1e-4
    )


@FRAMEWORKS
def test_the_conditions_reach_the_critic_through_the_projection(nn):
    """The critic's score moves with c only through <V c, h>: zeroing V removes it."""
    model = nn.LatentSpectrumWGAN(**SMALL)
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    c0, c1 = np.zeros((4, 2), np.float32), np.ones((4, 2), np.float32)

    def scores(c):
        if nn is tnn:
            with torch.no_grad():
                return model(torch.as_tensor(x), torch.as_tensor(c)).numpy()
        return np.asarray(model(x, c))

    assert np.abs(scores(c0) - scores(c1)).max() > 1e-4
    if nn is tnn:
        with torch.no_grad():
            model.embedding.weight.zero_()
    else:
        model.embedding.kernel.assign(tf.zeros_like(model.embedding.kernel))
    np.testing.assert_allclose(scores(c0), scores(c1), atol=1e-6)


@FRAMEWORKS
def test_generate_is_repeatable_per_seed_with_the_right_shape(nn):
    x, c = toy(40)
    model = nn.LatentSpectrumWGAN(n_features=2, n_conditions=1, latent_dim=2, hidden=8)
    nn.fit(model, x, c, epochs=1, batch_size=20, progress=False)
    grid = np.array([[-1.0], [1.0], [1.0]], np.float32)
    drawn = nn.generate(model, grid, seed=3)
    assert drawn.shape == (3, 2) and drawn.dtype == np.float32 and np.isfinite(drawn).all()
    np.testing.assert_array_equal(drawn, nn.generate(model, grid, seed=3))
    assert np.abs(drawn - nn.generate(model, grid, seed=4)).max() > 1e-4


@FRAMEWORKS
def test_bad_inputs_get_one_clear_sentence(nn):
    model = nn.LatentSpectrumWGAN(**SMALL)
    rng = np.random.default_rng(0)
    x, c = rng.standard_normal((10, 6)).astype(np.float32), np.zeros((10, 2), np.float32)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 6\): 6 coefficients per row"):
        nn.fit(model, x[:, :4], c, epochs=1, progress=False)
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        nn.fit(model, bad, c, epochs=1, progress=False)
    bad_c = c.copy()
    bad_c[0, 0] = np.inf
    with pytest.raises(ValueError, match="conditions contains NaN or infinite"):
        nn.fit(model, x, bad_c, epochs=1, progress=False)
    with pytest.raises(ValueError, match="conditions contains NaN or infinite"):
        nn.generate(model, bad_c)
    with pytest.raises(ValueError, match=r"conditions must have shape \(N, 2\)"):
        nn.generate(model, np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="n_features must be at least 1, got 0"):
        nn.LatentSpectrumWGAN(n_features=0)
    with pytest.raises(ValueError, match="ema_decay must be a number in"):
        nn.LatentSpectrumWGAN(ema_decay=1.0)
    with pytest.raises(ValueError, match="gp_weight must be a non-negative number"):
        nn.LatentSpectrumWGAN(gp_weight=-1.0)


ENGINE_IMPORT = """
import sys
import a3net._engine.latent_gan
print(sorted({"torch", "tensorflow", "keras"} & set(sys.modules)))
"""


def test_the_steps_are_written_once_and_the_engine_imports_no_framework():
    import subprocess
    import sys

    for hook in ("training_step", "training_loss", "configure_optimizers", "decode_samples"):
        assert getattr(tlat.LatentSpectrumWGAN, hook) is getattr(klat.LatentSpectrumWGAN, hook)
    out = subprocess.run(
        [sys.executable, "-c", ENGINE_IMPORT], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@FRAMEWORKS
def test_sizes_beyond_the_memory_limit_are_refused_before_building(nn):
    with pytest.raises(MemoryError, match="LatentSpectrumWGAN with these sizes"):
        nn.LatentSpectrumWGAN(hidden=10**6)


@FRAMEWORKS
@pytest.mark.parametrize("conditioning", ["projection", "generator"])
def test_the_optimisers_are_adam_with_betas_0_and_0_9(nn, conditioning):
    """Gulrajani et al. (2017)'s Adam for both parts (fused on a CPU in PyTorch), each holding
    its part's weights (a blind critic's has no embedding); the average generator has none."""
    model = nn.LatentSpectrumWGAN(**SMALL, conditioning=conditioning)
    groups = model.configure_optimizers(lr=3e-4)
    assert set(groups) == {"critic", "generator"}
    n_critic = sum(int(np.prod(p.shape)) for p in groups["critic"][1])
    n_generator = sum(int(np.prod(p.shape)) for p in groups["generator"][1])
    assert n_critic + n_generator == nn.count_parameters(model)
    assert n_generator == nn.count_parameters(model.generator)
    for opt, _ in groups.values():
        if nn is tnn:
            assert opt.defaults["betas"] == (0.0, 0.9) and opt.defaults["fused"]
        else:
            assert (opt.beta_1, opt.beta_2) == (0.0, 0.9)


@FRAMEWORKS
def test_each_critic_step_takes_its_own_slice_of_the_batch(nn):
    """A batch of n_critic * b rows is cut into n_critic disjoint slices of b rows; a short
    batch (fewer rows than a multiple) wraps around instead of leaving a step empty."""
    model = nn.LatentSpectrumWGAN(n_features=1, n_conditions=1, n_critic=5, hidden=4)
    for rows, expected in [
        (10, [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]),
        (3, [[0], [1], [2], [0], [1]]),
        (7, [[0, 1], [2, 3], [4, 5], [6, 0], [1, 2]]),
    ]:
        x = np.arange(rows, dtype=np.float32)[:, None]
        as_tensor = torch.as_tensor if nn is tnn else tf.constant
        got = []
        for i in range(5):
            xi, ci = model._critic_batch(as_tensor(x), as_tensor(-x), i)
            xi, ci = np.asarray(xi)[:, 0], np.asarray(ci)[:, 0]
            np.testing.assert_array_equal(ci, -xi)  # rows stay paired with their conditions
            got.append(xi.astype(int).tolist())
        assert got == expected, (rows, got)


@FRAMEWORKS
def test_a_short_last_batch_trains(nn):
    """23 rows in batches of 10: the last batch of 3 rows feeds 5 critic steps; the history is
    finite with the critic's and the generator's terms, and evaluate gives the critic's."""
    x, c = toy(23)
    model = nn.LatentSpectrumWGAN(n_features=2, n_conditions=1, latent_dim=2, hidden=8)
    history = nn.fit(model, x, c, epochs=2, batch_size=10, lr=1e-3, progress=False)
    assert set(history) == {"loss", "wasserstein", "gradient_penalty", "generator_loss"}
    assert all(len(v) == 2 and np.isfinite(v).all() for v in history.values())
    assert float(as_numpy(model.average_steps)) == 6  # 3 batches x 2 epochs
    scores = nn.evaluate(model, x, c)  # the critic's loss, repeatable (the model's own stream)
    assert set(scores) == {"loss", "wasserstein", "gradient_penalty"}
    assert np.isfinite(list(scores.values())).all() and scores == nn.evaluate(model, x, c)


@FRAMEWORKS
def test_it_learns_a_bimodal_conditional_distribution(nn):
    """Two modes at x_0 = -2 and +2 whose x_1 is the condition c: after 1,200 generator steps the
    draws for each c put few samples in the gap between the modes (a Gaussian with the data's mean
    and covariance puts ~39% there), about half in each mode, their mean x_1 follows c, and their
    energy distance to real draws is far below the Gaussian's."""
    x, c = toy(3200, seed=0)
    model = nn.LatentSpectrumWGAN(
        n_features=2, n_conditions=1, latent_dim=2, hidden=64, n_critic=5, ema_decay=0.99
    )
    history = nn.fit(
        model, x, c, epochs=120, batch_size=320, lr=2e-3, schedule="constant", seed=0,
        progress=False,
    )  # fmt: skip
    assert all(np.isfinite(v).all() for v in history.values())
    real, real_c = toy(4000, seed=1)
    for value in (-1.0, 1.0):
        drawn = nn.generate(model, np.full((1000, 1), value, np.float32), seed=1)
        truth = real[real_c[:, 0] == value][:1000]
        gauss = np.random.default_rng(2).multivariate_normal(truth.mean(0), np.cov(truth.T), 1000)
        gap, gauss_gap = (np.mean(np.abs(v[:, 0]) < 1) for v in (drawn, gauss))
        right = np.mean(drawn[:, 0] > 0)
        mine, gaussian = energy_distance(drawn, truth), energy_distance(gauss, truth)
        print(
            f"c={value:+.0f}: gap {gap:.3f} (Gaussian {gauss_gap:.3f}), right mode {right:.3f}, "
            f"mean {drawn.mean(0).round(3)}, energy {mine:.4f} (Gaussian {gaussian:.4f})"
        )
        assert gap < 0.2 < 0.3 < gauss_gap, (gap, gauss_gap)
        assert 0.35 < right < 0.65, right
        assert abs(drawn[:, 1].mean() - value) < 0.2, drawn.mean(0)
        assert mine < 0.4 * gaussian, (mine, gaussian)


def expected_count(
    n_features=16, n_conditions=4, latent_dim=8, hidden=128, conditioning="projection"
):
    """Trainable weights: G [z, c] (or z) -> hidden -> hidden -> n_features, the critic
    n_features -> hidden -> hidden -> 1 and, for the projection critic, V (n_conditions x
    hidden, no bias)."""
    g_in = latent_dim + (n_conditions if conditioning != "none" else 0)
    generator = g_in * hidden + hidden + hidden * hidden + hidden + hidden * n_features + n_features
    critic = n_features * hidden + hidden + hidden * hidden + hidden + hidden + 1
    return generator + critic + (n_conditions * hidden if conditioning == "projection" else 0)


@pytest.mark.parametrize("noise", ["normal", "uniform"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(conditioning="generator"),
        dict(conditioning="none"),
        dict(SMALL, conditioning="projection", latent_dim=0),
        dict(SMALL, conditioning="generator", latent_dim=0),
        dict(SMALL, conditioning="none", latent_dim=1),
    ],
    ids=["projection", "generator", "none", "projection-0", "generator-0", "none-1"],
)
def test_parameter_counts_follow_the_options(kwargs, noise):
    """The same count in both frameworks for every option; the noise changes nothing, a blind
    critic has no embedding (n_conditions x hidden fewer weights), and "none" also drops the
    conditions from the generator's input. At the defaults: 39,569 (projection), 39,057
    (generator), 38,545 (none)."""
    t = tlat.LatentSpectrumWGAN(**kwargs, noise=noise)
    k = klat.LatentSpectrumWGAN(**kwargs, noise=noise)
    sizes = {key: v for key, v in kwargs.items() if key != "n_critic"}
    count = expected_count(**sizes)
    assert tnn.count_parameters(t) == knn.count_parameters(k) == count
    if kwargs in ({}, dict(conditioning="generator"), dict(conditioning="none")):
        assert (
            count
            == {"projection": 39_569, "generator": 39_057, "none": 38_545}[
                kwargs.get("conditioning", "projection")
            ]
        )
    blind = t.conditioning != "projection"
    for model in (t, k):
        assert hasattr(model, "embedding") != blind
    if blind:
        seeing = dict(sizes, conditioning="projection", latent_dim=t.latent_dim)
        assert count < expected_count(**seeing)
        assert tnn.count_parameters(tlat.LatentSpectrumWGAN(**seeing)) > count


@FRAMEWORKS
def test_uniform_latent_draws_have_unit_variance_and_repeat_per_seed(nn):
    """Training's draws come from the model's own stream: uniform on [-sqrt 3, sqrt 3] with unit
    variance (normal draws reach beyond), the same for the same seed. generate's are NumPy's
    draws of the same kind: generate(seed=s) decodes latent_draws(..., s, "uniform")."""
    from a3net._engine.latent import latent_draws

    model = nn.LatentSpectrumWGAN(**SMALL, noise="uniform")
    normal = nn.LatentSpectrumWGAN(**SMALL)
    c = np.zeros((20_000, 2), np.float32)
    c = torch.as_tensor(c) if nn is tnn else tf.constant(c)

    def draws(m, seed):
        with m.seeded_noise(seed):
            return as_numpy(m._latent(c))

    z = draws(model, 0)
    assert z.shape == (20_000, 3)
    assert np.abs(z).max() <= np.sqrt(3) + 1e-6 and np.abs(z).max() > 1.7
    assert z.mean() == pytest.approx(0, abs=0.02) and z.var() == pytest.approx(1, abs=0.03)
    np.testing.assert_array_equal(z, draws(model, 0))
    assert np.abs(z - draws(model, 1)).max() > 0.1
    zn = draws(normal, 0)
    assert zn.var() == pytest.approx(1, abs=0.03) and np.abs(zn).max() > 2.5
    grid = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    drawn = nn.generate(model, grid, seed=4)
    np.testing.assert_array_equal(drawn, nn.generate(model, grid, seed=4))
    explicit = latent_draws(5, 3, 4, "uniform")
    assert np.abs(explicit).max() <= np.sqrt(3)
    np.testing.assert_allclose(drawn, nn.generate(model, grid, latent=explicit), atol=1e-6)
    assert np.abs(drawn - nn.generate(normal, grid, seed=4)).max() > 1e-4


def critic_scores(nn, model, x, c):
    if nn is tnn:
        with torch.no_grad():
            return model(torch.as_tensor(x), torch.as_tensor(c)).numpy()
    return np.asarray(model(x, c))


@FRAMEWORKS
@pytest.mark.parametrize("conditioning", ["projection", "generator", "none"])
def test_only_the_projection_critic_sees_the_conditions(nn, conditioning):
    """Same x, different c: the projection critic's scores change, a blind critic's do not;
    the generator's draws change with c unless conditioning is "none"."""
    model = nn.LatentSpectrumWGAN(**SMALL, conditioning=conditioning)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    c0, c1 = rng.standard_normal((2, 4, 2)).astype(np.float32)
    score_change = np.abs(critic_scores(nn, model, x, c0) - critic_scores(nn, model, x, c1)).max()
    draw_change = np.abs(nn.generate(model, c0, seed=1) - nn.generate(model, c1, seed=1)).max()
    if conditioning == "projection":
        assert score_change > 1e-4
    else:
        assert score_change == 0
    if conditioning == "none":
        assert draw_change == 0
    else:
        assert draw_change > 1e-4


@FRAMEWORKS
@pytest.mark.parametrize(
    "kwargs",
    [dict(conditioning="generator", latent_dim=0), dict(conditioning="none", noise="uniform")],
    ids=["generator-latent0", "none-uniform"],
)
def test_the_options_train(nn, kwargs):
    """A blind critic trains on a finite loss; latent_dim=0 makes a deterministic generator
    of c (every seed gives the same draw)."""
    x, c = toy(40)
    model = nn.LatentSpectrumWGAN(n_features=2, n_conditions=1, hidden=8, n_critic=2, **kwargs)
    history = nn.fit(model, x, c, epochs=1, batch_size=20, lr=1e-3, progress=False)
    assert all(np.isfinite(v).all() for v in history.values())
    grid = np.array([[-1.0], [1.0]], np.float32)
    drawn = nn.generate(model, grid, seed=0)
    assert drawn.shape == (2, 2) and np.isfinite(drawn).all()
    same = np.abs(drawn - nn.generate(model, grid, seed=1)).max() == 0
    assert same == (model.latent_dim == 0)


def decoded_by_hand(nn, model, z, c):
    """The averaged generator applied to its input [z, c] (z alone for conditioning "none")."""
    inputs = z if model.conditioning == "none" else np.concatenate([z, c], 1)
    if nn is tnn:
        with torch.no_grad():
            return model.average_generator(torch.as_tensor(inputs)).numpy()
    return np.asarray(model.average_generator(tf.constant(inputs)))


@FRAMEWORKS
@pytest.mark.parametrize("conditioning", ["projection", "none"])
def test_generate_decodes_given_latent_vectors(nn, conditioning):
    """generate(latent=z) is the averaged generator at z (chapter B's interpolations): the
    same z gives the same output whatever the seed, another z another output, and a z of the
    wrong width or length is refused with one clear sentence."""
    model = nn.LatentSpectrumWGAN(**SMALL, conditioning=conditioning)
    rng = np.random.default_rng(0)
    c = rng.standard_normal((5, 2)).astype(np.float32)
    z = rng.standard_normal((5, 3)).astype(np.float32)
    drawn = nn.generate(model, c, latent=z, seed=0)
    np.testing.assert_allclose(drawn, decoded_by_hand(nn, model, z, c), atol=1e-6)
    np.testing.assert_array_equal(drawn, nn.generate(model, c, latent=z, seed=7))
    path = np.linspace(0, 1, 5, dtype=np.float32)[:, None] * z[:1]  # from 0 to z_0
    assert np.abs(nn.generate(model, c, latent=path) - drawn).max() > 1e-4
    message = r"latent must be finite with shape \(len\(conditions\), latent_dim\) = \(5, 3\)"
    with pytest.raises(ValueError, match=message + r", got \(5, 2\)"):
        nn.generate(model, c, latent=z[:, :2])
    with pytest.raises(ValueError, match=message + r", got \(4, 3\)"):
        nn.generate(model, c, latent=z[:4])
    blind = nn.LatentSpectrumWGAN(**dict(SMALL, latent_dim=0), conditioning="generator")
    empty = np.zeros((5, 0), np.float32)
    np.testing.assert_array_equal(nn.generate(blind, c, latent=empty), nn.generate(blind, c))


@FRAMEWORKS
def test_bad_options_get_one_clear_sentence(nn):
    with pytest.raises(ValueError, match="latent_dim must be at least 1 with conditioning='none'"):
        nn.LatentSpectrumWGAN(latent_dim=0, conditioning="none")
    with pytest.raises(ValueError, match="latent_dim must be at least 0, got -1"):
        nn.LatentSpectrumWGAN(latent_dim=-1)
    with pytest.raises(
        ValueError, match="conditioning must be one of 'generator', 'none', 'projection'"
    ):
        nn.LatentSpectrumWGAN(conditioning="both")
    with pytest.raises(ValueError, match="noise must be one of 'normal', 'uniform', got 'gauss'"):
        nn.LatentSpectrumWGAN(noise="gauss")


def test_spectrum_features_inverse_transform_undoes_the_whitening():
    """inverse_transform(transform(x)) is x projected on the components (x itself with all of
    them), transform(inverse_transform(f)) is f, and bad features are refused."""
    rng = np.random.default_rng(0)
    spectra = rng.standard_normal((200, 12)) @ rng.standard_normal((12, 12)) + 5.0
    full = SpectrumFeatures(12).fit(spectra)
    np.testing.assert_allclose(full.inverse_transform(full.transform(spectra)), spectra, atol=1e-9)
    for whiten in (True, False):
        part = SpectrumFeatures(4, whiten=whiten).fit(spectra)
        feats = part.transform(spectra)
        back = part.inverse_transform(feats)
        centred = spectra - part.mean_
        projected = part.mean_ + centred @ part.components_.T @ part.components_
        assert back.shape == (200, 12)
        np.testing.assert_allclose(back, projected, atol=1e-9)
        np.testing.assert_allclose(part.transform(back), feats, atol=1e-9)
        one = part.inverse_transform(feats[:1])  # one row is fine (no covariance is needed)
        np.testing.assert_allclose(one, back[:1], atol=1e-12)
    with pytest.raises(ValueError, match="not fitted"):
        SpectrumFeatures(4).inverse_transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"features must have shape \(N, 4\)"):
        part.inverse_transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"features must have shape \(N, 4\)"):
        part.inverse_transform(np.zeros(4))
    with pytest.raises(ValueError, match="NaN or infinite"):
        part.inverse_transform(np.full((2, 4), np.nan))
