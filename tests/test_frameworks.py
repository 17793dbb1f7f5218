"""The two framework variants are the same: names, signatures, parameter counts and outputs."""

import inspect

import numpy as np
import pytest

import a3net

tnn = a3net.framework("torch")
knn = a3net.framework("keras")

import keras  # noqa: E402
import torch  # noqa: E402

# e2cnn 0.2.3 (EquivariantClusterCNN) indexes with uint8 masks, which torch 2 warns about
pytestmark = pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8:UserWarning")

# --- parity, generated from the two packages' public names -------------------------------------


def name_differences(t, k) -> list[str]:
    """Names that one framework package offers and the other does not, in words."""
    tnames, knames = set(t.__all__), set(k.__all__)
    return [f"{name} only in a3net.torch" for name in sorted(tnames - knames)] + [
        f"{name} only in a3net.keras" for name in sorted(knames - tnames)
    ]


def test_same_public_names():
    assert name_differences(tnn, knn) == []
    public = {
        n for n in dir(tnn) if not n.startswith("_") and not inspect.ismodule(getattr(tnn, n))
    }
    assert public == set(tnn.__all__)  # __all__ is every public name, not a hand-kept list
    assert len(model_names()) >= 14


ENTRY_POINTS = {"forward": "call"}  # PyTorch's forward is Keras's call


def a3net_api(cls) -> dict:
    """Public methods and class attributes that a3net code defines on ``cls`` or its bases.

    Members inherited from nn.Module or keras.Model are the frameworks' own and are left out;
    ``forward`` is read as ``call``, whose ``training`` argument Keras adds, and is dropped.
    """
    api = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next(c for c in cls.__mro__ if name in vars(c))
        if not owner.__module__.startswith("a3net"):
            continue
        value = inspect.getattr_static(cls, name)
        key = ENTRY_POINTS.get(name, name)
        if callable(value) or isinstance(value, (staticmethod, classmethod)):
            sig = inspect.signature(getattr(cls, name))
            params = [
                p for p in sig.parameters.values() if not (key == "call" and p.name == "training")
            ]
            api[key] = str(sig.replace(parameters=params, return_annotation=sig.empty))
        elif not isinstance(value, property):
            api[key] = repr(value)
    return api


def signature_differences(name: str, t=tnn, k=knn) -> list[str]:
    """How the two frameworks' ``name`` differ: kind, methods, signatures."""
    tv, kv = getattr(t, name), getattr(k, name)
    if inspect.isclass(tv) != inspect.isclass(kv):
        return [f"{name} is a class in one framework only"]
    if not inspect.isclass(tv):
        if callable(tv) and inspect.signature(tv) != inspect.signature(kv):
            return [f"{name}: signatures {inspect.signature(tv)} != {inspect.signature(kv)}"]
        return []
    problems = []
    tapi, kapi = a3net_api(tv), a3net_api(kv)
    for member in sorted(set(tapi) | set(kapi)):
        if tapi.get(member) != kapi.get(member):
            problems.append(f"{name}.{member}: {tapi.get(member)} != {kapi.get(member)}")
    if inspect.signature(tv.__init__) != inspect.signature(kv.__init__):
        problems.append(f"{name}.__init__ signatures differ")
    return problems


@pytest.mark.parametrize("name", sorted(set(tnn.__all__) - {"NAME"}))
def test_same_signatures(name):
    """Every public function and class, base classes included: same methods, same signatures."""
    assert signature_differences(name) == []


def model_names(t=tnn) -> list[str]:
    """The public model classes: subclasses of A3Model other than the bases of ``core``."""
    return sorted(
        name
        for name in t.__all__
        if inspect.isclass(getattr(t, name))
        and issubclass(getattr(t, name), t.A3Model)
        and getattr(t, name).__module__ != t.core.__name__
    )


def example_args(cls) -> dict:
    """The arguments a parity test builds ``cls`` with: its ``example_args``, else none."""
    return dict(getattr(cls, "example_args", {}))


def model_differences(name: str, t=tnn, k=knn) -> list[str]:
    """Build ``name`` in both frameworks with its example arguments and compare the parameter
    counts and the shapes of what the model gives (predict, or generate for generators)."""
    tcls, kcls = getattr(t, name), getattr(k, name)
    tmodel, kmodel = tcls(**example_args(tcls)), kcls(**example_args(kcls))
    problems = []
    counts = t.count_parameters(tmodel), k.count_parameters(kmodel)
    if counts[0] != counts[1] or counts[0] == 0:
        problems.append(f"{name}: {counts[0]} parameters in torch, {counts[1]} in keras")
    if tmodel.sample_shape != kmodel.sample_shape:
        problems.append(f"{name}: sample shapes {tmodel.sample_shape} != {kmodel.sample_shape}")
        return problems
    shapes = []
    for nn, model in ((t, tmodel), (k, kmodel)):
        if model.task == "generative":
            shapes.append(nn.generate(model, np.zeros((2, model.n_conditions), np.float32)).shape)
        else:
            shapes.append(nn.predict(model, np.zeros((2, *model.sample_shape), np.float32)).shape)
    if shapes[0] != shapes[1]:
        problems.append(f"{name}: output shapes {shapes[0]} != {shapes[1]}")
    return problems


@pytest.mark.parametrize("name", model_names())
def test_every_model_has_a_twin_with_the_same_parameters_and_outputs(name):
    assert model_differences(name) == []


def test_the_parity_checks_catch_a_model_added_to_one_framework(monkeypatch):
    """A deliberately broken fixture: a model only a3net.torch has, and a Keras twin with a
    different default width, are both reported."""

    class OnlyHere(tnn.RingRegressorMLP):
        pass

    monkeypatch.setattr(tnn, "OnlyHere", OnlyHere, raising=False)
    monkeypatch.setattr(tnn, "__all__", [*tnn.__all__, "OnlyHere"])
    assert name_differences(tnn, knn) == ["OnlyHere only in a3net.torch"]
    assert "OnlyHere" in model_names(tnn)

    class Wider(knn.RingRegressorMLP):
        def __init__(
            self, n_outputs: int = 5, image_size: int = 28, hidden=(256, 129), dropout=0.0
        ):
            super().__init__(n_outputs, image_size, hidden, dropout)

    monkeypatch.setattr(knn, "RingRegressorMLP", Wider)
    assert signature_differences("RingRegressorMLP") == [
        "RingRegressorMLP.__init__ signatures differ"
    ]
    (problem,) = model_differences("RingRegressorMLP")
    assert problem.startswith("RingRegressorMLP: 234501 parameters in torch, 234763 in keras")


def test_the_api_walk_sees_base_class_methods():
    api = a3net_api(tnn.RingCVAE)
    for member in (
        "training_step",
        "configure_optimizers",
        "seeded_noise",
        "call",
        "check_inputs",
        "task",
        "decode_samples",
        "training_loss",
    ):
        assert member in api, member
    assert api["training_loss"] == "(self, x, c, training=False)"
    assert "parameters" not in api and "trainable_variables" not in a3net_api(knn.RingCVAE)


# arguments other than the defaults, for code paths the default construction does not take
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RingCounterCNN", dict(max_rings=4, channels=(8, 16), hidden=32)),
        ("RingRegressorCNN", dict(n_outputs=3, channels=(8, 8, 8))),
        ("RingRegressorCNN", dict(n_outputs=6)),  # the ellipse regressor
        ("RingRegressorMLP", dict(hidden=(64,), n_outputs=2)),
        ("RingCVAE", dict(latent_dim=3, hidden=32, n_conditions=2)),
        ("PhotoZMLP", dict(n_features=91, hidden=(32, 16), dropout=0.1)),
        ("ClusterCNN", dict(image_size=140, channels=(32, 64, 64), output="softplus")),
        ("ClusterCNN", dict(image_size=32, channels=(8, 16), dense=(32,), n_outputs=2)),
        ("DeepClusterCNN", dict(image_size=140, rotation_factor=0.1, random_flip=True)),
        ("EquivariantClusterCNN", dict(image_size=32, channels=(4, 8), dense=(16,))),
        ("EquivariantClusterCNN", dict(image_size=32, channels=(4, 8), dense=(16,), group="p4m")),
        ("EquivariantClusterCNN", dict(image_size=32, channels=(4, 8), dense=(16,), group="plain")),
        ("EquivariantClusterCNN", dict(channels=(16, 32, 32), group="plain")),
        ("CosmoCNN", dict(image_size=32, in_channels=1, channels=(4, 8), dense=16)),
        ("CosmoCNN", dict(image_size=16, dense=8, n_outputs=6, norm="group")),
        ("CosmoBatchNormCNN", dict(image_size=32, in_channels=3, n_outputs=6)),
        ("CosmoResNet", dict(image_size=32, stages=(8, 16), blocks_per_stage=1)),
        ("CosmoMomentCNN", dict(image_size=16, channels=(4, 8), dense=8, n_params=6)),
        (
            "SpectrumWGAN",
            dict(n_bins=64, channels=8, hidden=16, latent_dim=0, conditioning="generator"),
        ),
        (
            "SpectrumWGAN",
            dict(n_bins=64, channels=8, hidden=16, conditioning="none", noise="uniform"),
        ),
        ("SpectrumCVAE", dict(n_bins=64, latent_dim=3, channels=8, hidden=16, n_conditions=2)),
        ("LatentSpectrumWGAN", dict(n_features=8, n_conditions=2, latent_dim=3, hidden=16)),
        ("LatentSpectrumWGAN", dict(n_features=24, n_conditions=1, latent_dim=1, hidden=7)),
        (
            "LatentSpectrumWGAN",
            dict(n_features=8, n_conditions=2, latent_dim=0, hidden=16, conditioning="generator"),
        ),
        (
            "LatentSpectrumWGAN",
            dict(n_features=8, n_conditions=2, hidden=16, conditioning="none", noise="uniform"),
        ),
    ],
)
def test_same_parameter_counts(name, kwargs):
    t = getattr(tnn, name)(**kwargs)
    k = getattr(knn, name)(**kwargs)
    assert tnn.count_parameters(t) == knn.count_parameters(k) > 0


@pytest.mark.parametrize(
    "name, kwargs, weights",
    [
        # the hack's ellipse regressor: 566,918 trainable weights on its slides, last layer 774
        ("RingRegressorMLP", dict(n_outputs=6, hidden=(512, 256, 128)), 566_918),
        ("RingRegressorMLP", dict(hidden=(512, 256, 128)), 566_789),  # its 4-layer regressor
        ("RingRegressorCNN", dict(channels=(32, 64), hidden=128), 420_997),  # 2 conv + 2 dense
    ],
)
def test_hack_sized_ring_networks(name, kwargs, weights):
    """Chapter F's networks at the hack's sizes have the same weights in both frameworks."""
    assert tnn.count_parameters(getattr(tnn, name)(**kwargs)) == weights
    assert knn.count_parameters(getattr(knn, name)(**kwargs)) == weights


RING_MODELS = ["RingCounterCNN", "RingRegressorCNN", "RingRegressorMLP", "RingCVAE"]


@pytest.mark.parametrize("name", RING_MODELS)
def test_ring_models_show_their_layers(name):
    """The book shows each class's source: its layers are written there, not in a helper."""
    for nn, needed in ((tnn, ("nn.Linear(",)), (knn, ("layers.Dense(",))):
        source = inspect.getsource(getattr(nn, name))
        conv = "nn.Conv2d(" if nn is tnn else "layers.Conv2D("
        for layer in needed + (() if name == "RingRegressorMLP" else (conv,)):
            assert layer in source, (nn.NAME, name, layer)


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_ring_cnns_refuse_too_many_poolings(nn):
    with pytest.raises(ValueError, match="image_size is too small for 4 2x2 poolings"):
        nn.RingCounterCNN(image_size=8, channels=(4, 4, 4, 4))


@pytest.mark.parametrize(
    "name, kwargs",
    [(name, {}) for name in RING_MODELS]
    + [("PhotoZMLP", {"n_features": 12}), ("ClusterCNN", {}), ("DeepClusterCNN", {})]
    + [  # without normalisation layers, whose weights would break the kernel-bias alternation
        ("CosmoCNN", dict(image_size=16, dense=64, norm="none")),
        ("CosmoMomentCNN", dict(image_size=16, dense=64, norm="none")),
        ("EquivariantClusterCNN", dict(channels=(16, 32, 32), group="plain")),
    ],
    # EquivariantClusterCNN's p4 and p4m networks are left out: the PyTorch p4 side draws e2cnn's
    # generalised He initialisation over the kernel basis, and the Keras group kernels are
    # glorot-uniform; its plain network (ordinary Conv2d / Conv2D) is in
)
def test_models_start_from_the_same_initialisation(name, kwargs):
    """Both frameworks draw kernels and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's
    default (Keras' glorot-uniform with zero biases made the Keras cVAE a different model): layer
    by layer the initial weights have the same bound and, for the larger ones, the same spread."""
    a3net.seed_everything(0)
    t, k = getattr(tnn, name)(**kwargs), getattr(knn, name)(**kwargs)
    tweights = [p.detach().numpy() for p in t.parameters()]
    kweights = [np.asarray(v.numpy()) for v in k.trainable_variables]
    assert [w.size for w in tweights] == [w.size for w in kweights]
    for tw, kw in zip(tweights[::2], kweights[::2], strict=True):  # kernels
        fan_in = tw.size // tw.shape[0]  # (out, in, kh, kw) or (out, in)
        assert fan_in == kw.size // kw.shape[-1]  # (kh, kw, in, out) or (in, out)
        bound = 1 / np.sqrt(fan_in)
        for w in (tw, kw):
            assert np.abs(w).max() <= bound * (1 + 1e-6)
        if tw.size >= 500:
            assert kw.std() == pytest.approx(tw.std(), rel=0.1)
            assert tw.std() == pytest.approx(bound / np.sqrt(3), rel=0.1)
    for tb, kb, tw in zip(tweights[1::2], kweights[1::2], tweights[::2], strict=True):  # biases
        bound = 1 / np.sqrt(tw.size // tw.shape[0])
        assert np.abs(tb).max() <= bound * (1 + 1e-6) and np.abs(kb).max() <= bound * (1 + 1e-6)
        if tb.size >= 32:  # drawn like the kernels, not Keras' zeros
            assert tb.std() > 0.5 * bound / np.sqrt(3) and kb.std() > 0.5 * bound / np.sqrt(3)


TORCH_WEIGHTED = (
    torch.nn.Conv2d,
    torch.nn.Linear,
    torch.nn.LayerNorm,
    torch.nn.GroupNorm,
    torch.nn.BatchNorm2d,
)
KERAS_WEIGHTED = (
    keras.layers.Conv2D,
    keras.layers.Dense,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.BatchNormalization,
)


def keras_weighted_layers(model):
    """The layers with weights of a Keras model, in order, looking inside nested Sequentials."""
    found = []
    for lay in model.layers:
        if isinstance(lay, keras.Sequential):
            found += keras_weighted_layers(lay)
        elif isinstance(lay, KERAS_WEIGHTED):
            found.append(lay)
    return found


def copy_torch_weights_to_keras(tmodel, kmodel, image_side):
    """Copy conv, dense and normalisation weights (BatchNorm running statistics included) in
    order; the first dense after a conv trunk is re-ordered from channels-first to channels-last
    flattening of ``image_side`` px maps (``None``: the trunk ends in global pooling)."""
    tlayers = [m for m in tmodel.modules() if isinstance(m, TORCH_WEIGHTED)]
    klayers = keras_weighted_layers(kmodel)
    assert len(tlayers) == len(klayers)
    after_conv = False
    for tl, kl in zip(tlayers, klayers, strict=True):
        w = tl.weight.detach().numpy()
        b = [] if tl.bias is None else [tl.bias.detach().numpy()]
        if isinstance(tl, torch.nn.BatchNorm2d):
            kl.set_weights([w, *b, tl.running_mean.numpy(), tl.running_var.numpy()])
            continue
        if isinstance(tl, torch.nn.LayerNorm):  # (C, H, W) -> (H, W, C)
            kl.set_weights([v.transpose(1, 2, 0) for v in (w, *b)])
            continue
        if isinstance(tl, torch.nn.GroupNorm):
            kl.set_weights([w, *b])
            continue
        if isinstance(tl, torch.nn.Conv2d):
            kernel = w.transpose(2, 3, 1, 0)
            after_conv = True
        elif after_conv and image_side:
            channels = w.shape[1] // image_side**2
            kernel = (
                w.reshape(w.shape[0], channels, image_side, image_side)
                .transpose(2, 3, 1, 0)
                .reshape(-1, w.shape[0])
            )
            after_conv = False
        else:
            kernel = w.T
        kl.set_weights([kernel, *b])


@pytest.mark.parametrize(
    "name, side", [("RingCounterCNN", 3), ("RingRegressorCNN", 3), ("RingRegressorMLP", None)]
)
def test_same_outputs_with_the_same_weights(name, side):
    a3net.seed_everything(0)
    t, k = getattr(tnn, name)(), getattr(knn, name)()
    copy_torch_weights_to_keras(t, k, side)
    x = np.random.default_rng(0).random((5, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=2e-4, rtol=1e-3)
    np.testing.assert_allclose(tnn.saliency(t, x), knn.saliency(k, x), atol=2e-4, rtol=1e-2)


def test_photoz_mlp_same_outputs_and_l1_loss_with_the_same_weights():
    """The hack's MLP: 256-256-256 on 13 features is 137,217 parameters in both frameworks, and
    with copied weights both give the same redshifts and the same L1 training loss."""
    a3net.seed_everything(0)
    t, k = tnn.PhotoZMLP(n_features=13), knn.PhotoZMLP(n_features=13)
    assert (
        tnn.count_parameters(t) == knn.count_parameters(k) == 13 * 256 + 2 * 256 * 257 + 257 + 256
    )
    copy_torch_weights_to_keras(t, k, None)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 13)).astype(np.float32)
    y = rng.random((64, 1)).astype(np.float32)
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=2e-4, rtol=1e-3)
    pred = tnn.predict(t, x)
    expected = np.mean(np.abs(pred - y))  # L1, not MSE
    with torch.no_grad():
        t_loss = float(t.training_loss(torch.from_numpy(x), torch.from_numpy(y))[0])
    k_loss = float(k.training_loss(x, y)[0])
    np.testing.assert_allclose([t_loss, k_loss], expected, rtol=1e-4)


def randomise_normalisations(tmodel, seed=1):
    """Move normalisation scales, shifts and BatchNorm running statistics away from their
    initial 1, 0, 0, 1, so that copying them is tested too."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in tmodel.modules():
            if isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm, torch.nn.BatchNorm2d)):
                m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.3 * torch.randn(m.bias.shape, generator=gen))
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.3 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))


@pytest.mark.parametrize(
    "name, kwargs, side",
    [
        ("CosmoCNN", dict(image_size=16, dense=16), 2),  # the hack's per-feature LayerNorm
        ("CosmoCNN", dict(image_size=16, dense=16, norm="group", padding="circular"), 2),
        ("CosmoCNN", dict(image_size=16, dense=16, norm="batch", padding="circular"), 2),
        ("CosmoBatchNormCNN", dict(image_size=16, dropout=0.0, padding="circular"), 2),
        ("CosmoResNet", dict(image_size=16, stages=(4, 8)), None),  # strided convolutions
        ("CosmoResNet", dict(image_size=16, stages=(4, 8), padding="circular"), None),
        ("CosmoMomentCNN", dict(image_size=16, dense=16), None),
    ],
)
def test_cosmology_models_same_outputs_with_the_same_weights(name, kwargs, side):
    """With the same weights both frameworks agree in predict (BatchNorm on its running
    statistics) and in a training pass (on the batch's): Keras pads explicitly, zeros or
    periodic, where PyTorch's convolutions pad."""
    a3net.seed_everything(0)
    t, k = getattr(tnn, name)(**kwargs), getattr(knn, name)(**kwargs)
    randomise_normalisations(t)
    copy_torch_weights_to_keras(t, k, side)
    x = np.random.default_rng(0).standard_normal((4, 2, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=2e-5, rtol=1e-4)
    t.train()
    with torch.no_grad():
        t_train = t(torch.as_tensor(x)).numpy()
    k_train = keras.ops.convert_to_numpy(k(x, training=True))
    np.testing.assert_allclose(t_train, k_train, atol=2e-5, rtol=1e-4)


def test_batchnorm_running_statistics_move_alike():
    """PyTorch's momentum 0.1 is Keras' 0.9: one training pass moves the running means the same
    way, and the variances up to PyTorch's unbiased n / (n - 1) (n = 8 x 4 x 4 here)."""
    a3net.seed_everything(0)
    kwargs = dict(image_size=16, dropout=0.0)
    t, k = tnn.CosmoBatchNormCNN(**kwargs), knn.CosmoBatchNormCNN(**kwargs)
    copy_torch_weights_to_keras(t, k, 2)
    x = 1 + np.random.default_rng(1).standard_normal((8, 2, 16, 16)).astype(np.float32)
    t.train()
    with torch.no_grad():
        t(torch.as_tensor(x))
    k(x, training=True)
    tbns = [m for m in t.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    kbns = [lay for lay in k.net.layers if isinstance(lay, keras.layers.BatchNormalization)]
    assert len(tbns) == len(kbns) == 3
    for tbn, kbn in zip(tbns, kbns, strict=True):
        k_mean, k_var = kbn.moving_mean.numpy(), kbn.moving_variance.numpy()
        assert np.abs(tbn.running_mean.numpy()).max() > 1e-2  # it moved
        np.testing.assert_allclose(tbn.running_mean.numpy(), k_mean, atol=1e-5, rtol=1e-4)
        np.testing.assert_allclose(tbn.running_var.numpy(), k_var, rtol=2e-3)


def test_moment_loss_is_the_same_in_both_frameworks():
    """CosmoMomentCNN's loss, sum_j log mean (theta - mu)^2 + log mean ((theta - mu)^2 -
    sigma^2)^2, and its metric, the MAE of mu, agree with each other and with NumPy."""
    a3net.seed_everything(0)
    kwargs = dict(image_size=16, channels=(4, 8), dense=16, n_params=3)
    t, k = tnn.CosmoMomentCNN(**kwargs), knn.CosmoMomentCNN(**kwargs)
    copy_torch_weights_to_keras(t, k, None)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((32, 2, 16, 16)).astype(np.float32)
    theta = rng.uniform(-1, 1, (32, 3)).astype(np.float32)
    out = tnn.predict(t, x)
    assert out.shape == (32, 6) and (out[:, 3:] > 0).all()
    squared = (theta - out[:, :3]) ** 2
    expected = np.sum(np.log(squared.mean(0)) + np.log(((squared - out[:, 3:] ** 2) ** 2).mean(0)))
    t_loss, k_loss = tnn.evaluate(t, x, theta), knn.evaluate(k, x, theta)
    assert set(t_loss) == set(k_loss) == {"loss", "mae"}
    np.testing.assert_allclose([t_loss["loss"], k_loss["loss"]], expected, rtol=1e-4)
    mae = np.abs(theta - out[:, :3]).mean()
    np.testing.assert_allclose([t_loss["mae"], k_loss["mae"]], mae, rtol=1e-4)


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_fit_learns_a_simple_regression(nn):
    """Learn the brightness scale of random images: the loss must fall ten-fold."""
    rng = np.random.default_rng(1)
    scale = rng.random(256, dtype=np.float32)
    template = rng.random((1, 1, 28, 28), dtype=np.float32)
    x = template * scale[:, None, None, None] + 0.05 * rng.standard_normal(
        (256, 1, 28, 28), dtype=np.float32
    )
    y = scale[:, None] * 4 - 2
    model = nn.RingRegressorMLP(n_outputs=1, hidden=(32,))
    history = nn.fit(
        model,
        x,
        y,
        epochs=30,
        batch_size=32,
        lr=3e-3,
        schedule="constant",
        validation=(x[:64], y[:64]),
        progress=False,
    )
    assert set(history) == {"loss", "mae", "val_loss", "val_mae"}
    assert all(len(v) == 30 for v in history.values())
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert nn.predict(model, x[:7]).shape == (7, 1)


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_classifier_outputs_saliency_and_cvae(nn):
    x = np.random.default_rng(2).random((6, 1, 28, 28), dtype=np.float32)
    counter = nn.RingCounterCNN(max_rings=3)
    assert nn.predict(counter, x).shape == (6, 3)
    maps = nn.saliency(counter, x)
    assert maps.shape == x.shape and (maps >= 0).all() and maps.sum() > 0
    history = nn.fit(counter, x, np.array([0, 1, 2, 0, 1, 2]), epochs=1, progress=False)
    assert history["accuracy"][0] * 6 == pytest.approx(round(history["accuracy"][0] * 6))
    cvae = nn.RingCVAE(latent_dim=4)
    c = np.zeros((6, 5), np.float32)
    nn.fit(cvae, x, c, epochs=1, progress=False)
    drawn = nn.generate(cvae, c, seed=3)
    assert drawn.shape == (6, 1, 28, 28) and drawn.min() >= 0 and drawn.max() <= 1
    np.testing.assert_array_equal(drawn, nn.generate(cvae, c, seed=3))
    loss = nn.evaluate(cvae, x, c)
    assert set(loss) == {"loss", "reconstruction", "kl"} and loss == nn.evaluate(cvae, x, c)
    with pytest.raises(TypeError, match="generate"):
        nn.predict(cvae, x)


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_bad_input_gets_one_clear_sentence(nn):
    model = nn.RingCounterCNN(max_rings=2)
    good = np.zeros((4, 1, 28, 28), np.float32)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 28, 28\)"):
        nn.predict(model, np.zeros((4, 28, 28, 1), np.float32))
    nan = good.copy()
    nan[1, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        nn.fit(model, nan, np.array([0, 1, 0, 1]), epochs=1, progress=False)
    with pytest.raises(ValueError, match="class labels in \\[0, 1\\]"):
        nn.fit(model, good, np.array([0, 1, 2, 1]), epochs=1, progress=False)
    with pytest.raises(ValueError, match="3 rows but the inputs have 4"):
        nn.fit(model, good, np.array([0, 1, 0]), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        nn.fit(model, good, np.array([0, 1, 0, 1]), epochs=0)
    with pytest.raises(ValueError, match="schedule must be one of"):
        nn.fit(model, good, np.array([0, 1, 0, 1]), epochs=1, schedule="warm")
    with pytest.raises(ValueError, match="max_rings must be at least 1"):
        nn.RingCounterCNN(max_rings=0)
    with pytest.raises(ValueError, match="dropout must be a number in"):
        nn.RingRegressorCNN(dropout=1.5)
    with pytest.raises(ValueError, match="output must be between 0 and 1, got 5"):
        nn.saliency(model, good, output=5)
    with pytest.raises(TypeError, match="a3net"):
        nn.fit(object(), good, np.array([0, 1, 0, 1]), epochs=1)


def test_cpu_products_stay_full_float32():
    """TF32 is for CUDA only: oneDNN on the CPU keeps exact float32 products (set when the
    first model is built, not on import)."""
    tnn.RingRegressorMLP()
    assert torch.backends.mkldnn.matmul.fp32_precision == "none"
    assert torch.backends.cuda.matmul.fp32_precision == "tf32"
