"""Chapters D and G models in both frameworks: sizes, outputs, 90-degree (p4) and 90-degree and
mirror (p4m) invariance, the plain (non-equivariant) twin, the augmentation layers and clear
errors."""

import inspect
import sys

import numpy as np
import pytest

import a3net

tnn = a3net.framework("torch")
knn = a3net.framework("keras")

import keras  # noqa: E402
import torch  # noqa: E402

# e2cnn 0.2.3 indexes with uint8 masks, which torch 2 warns about (a3net.torch.clusters filters it
# outside pytest, which resets warning filters per test)
pytestmark = pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8:UserWarning")
FRAMEWORKS = pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])


def cluster_images(n=3, size=64, seed=0):
    """Off-centre, elongated Poisson-count blobs on a background, (N, 1, size, size) float32:
    no 90-degree symmetry."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    rate = np.full((n, 1, size, size), 0.2)
    for i in range(n):
        cx, cy = rng.uniform(0.3 * size, 0.6 * size, 2)
        rate[i, 0] += 40 * np.exp(-((xx - cx) ** 2 / 30 + (yy - cy) ** 2 / 8))
    return rng.poisson(rate).astype(np.float32)


def turned(x, quarter_turns):
    return np.ascontiguousarray(np.rot90(x, quarter_turns, axes=(2, 3)))


@pytest.mark.parametrize(
    "name, kwargs, expected",
    [
        # hack G's appendix: 320 + 18496 + 36928 + 13000 + 20100 + 2020 + 21
        ("ClusterCNN", dict(image_size=140, channels=(32, 64, 64), output="softplus"), 90_885),
        ("ClusterCNN", {}, 58_437),  # Ntampaka et al. (2019): 16-32-64, 200-100-20-1
        ("ClusterCNN", dict(channels=(8, 8), dense=(16,), n_outputs=3), 80 + 584 + 144 + 51),
        ("DeepClusterCNN", {}, 313_313),
        ("DeepClusterCNN", dict(image_size=140, rotation_factor=0.2, fill_mode="nearest"), 313_313),
        ("DeepClusterCNN", dict(image_size=32, random_flip=True, dropout=0.0), 313_313),
        # narrower widths (the default profile): convolutions 18,040, dense layers 14,593
        ("DeepClusterCNN", dict(image_size=48, channels=(8, 16, 32)), 32_633),
        # 9 + 1 per lifting pair, 36 + 1 per group pair, as a full p4 kernel, in e2cnn too
        ("EquivariantClusterCNN", {}, 80 + 4624 + 9232 + 1088 + 2080 + 33),
        ("EquivariantClusterCNN", dict(image_size=32, channels=(4, 8), dense=(16,)), 1361),
        ("EquivariantClusterCNN", dict(group="p4"), 17_137),  # the default group
        # p4m: 9 + 1 per lifting pair (as p4), 72 + 1 per group pair (8 input elements, not 4)
        ("EquivariantClusterCNN", dict(group="p4m"), 80 + 9232 + 18448 + 1088 + 2080 + 33),
        (
            "EquivariantClusterCNN",
            dict(image_size=32, channels=(4, 8), dense=(16,), group="p4m"),
            40 + 2312 + 144 + 17,
        ),
        # plain: 9 + 1 per pair of channels (an ordinary 3x3 convolution), the same head
        ("EquivariantClusterCNN", dict(group="plain"), 80 + 1168 + 2320 + 1088 + 2080 + 33),
        # doubled channels: 18,273 weights, about the p4 network's 17,137 (the docstrings' numbers)
        (
            "EquivariantClusterCNN",
            dict(channels=(16, 32, 32), group="plain"),
            160 + 4640 + 9248 + 2112 + 2080 + 33,
        ),
        (
            "EquivariantClusterCNN",
            dict(image_size=32, channels=(4, 8), dense=(16,), group="plain"),
            40 + 296 + 144 + 17,
        ),
    ],
)
def test_same_parameter_counts_in_both_frameworks(name, kwargs, expected):
    t, k = getattr(tnn, name)(**kwargs), getattr(knn, name)(**kwargs)
    assert tnn.count_parameters(t) == knn.count_parameters(k) == expected


@FRAMEWORKS
def test_output_shapes(nn):
    x = cluster_images(2, 64)
    assert nn.predict(nn.ClusterCNN(n_outputs=3), x).shape == (2, 3)
    assert nn.predict(nn.DeepClusterCNN(rotation_factor=0.1, random_flip=True), x).shape == (2, 1)
    assert nn.predict(nn.EquivariantClusterCNN(), x).shape == (2, 1)
    positive = nn.predict(nn.ClusterCNN(image_size=48, output="softplus"), x[:, :, :48, :48])
    assert positive.shape == (2, 1) and (positive > 0).all()


@pytest.mark.parametrize("name", ["ClusterCNN", "DeepClusterCNN", "EquivariantClusterCNN"])
def test_cluster_models_show_their_layers(name):
    """The book shows each class's source: its layers are written there, not in a helper."""
    needed = {
        "torch": {"ClusterCNN": "nn.Conv2d(", "DeepClusterCNN": "nn.Conv2d(c1, c1, 3)"},
        "keras": {"ClusterCNN": "layers.Conv2D(", "DeepClusterCNN": "layers.Conv2D(c3, 3"},
    }
    needed["torch"]["EquivariantClusterCNN"] = "enn.R2Conv("
    needed["keras"]["EquivariantClusterCNN"] = "P4ConvP4("
    for nn in (tnn, knn):
        source = inspect.getsource(getattr(nn, name))
        assert needed[nn.NAME][name] in source, (nn.NAME, name)
        if name == "EquivariantClusterCNN":
            assert "P4MConvP4M(" in source, nn.NAME  # group="p4m"
            plain = "nn.Conv2d(" if nn is tnn else "layers.Conv2D("
            assert plain in source, nn.NAME  # group="plain"
        assert ("nn.Linear(" if nn is tnn else "layers.Dense(") in source, (nn.NAME, name)


@FRAMEWORKS
def test_equivariant_cnn_is_invariant_to_quarter_turns_and_plain_cnn_is_not(nn):
    a3net.seed_everything(0)
    x = cluster_images(3, 64)
    equivariant, plain = nn.EquivariantClusterCNN(), nn.ClusterCNN()
    base, plain_base = nn.predict(equivariant, x), nn.predict(plain, x)
    for k in (1, 2, 3):
        np.testing.assert_allclose(nn.predict(equivariant, turned(x, k)), base, rtol=1e-4)
        change = np.abs(nn.predict(plain, turned(x, k)) - plain_base).max()
        assert change > 1e-3 * np.abs(plain_base).max(), k


def d4(x, g):
    """Element g = 4 m + r of the square's symmetry group D4 on images (N, 1, S, S): mirrored
    left-right m times, then turned r quarter turns counter-clockwise."""
    mirror, quarter_turns = divmod(g, 4)
    return turned(x[..., ::-1] if mirror else x, quarter_turns)


@FRAMEWORKS
def test_p4m_cnn_is_invariant_to_turns_and_flips_and_p4_cnn_not_to_flips(nn):
    """A randomly initialised p4m network gives, in eval mode, the same output for all 8
    symmetries of the square to float32 rounding; the p4 network (the control) only for the 4
    quarter turns: a mirror flip changes its output far above rounding."""
    a3net.seed_everything(0)
    x = cluster_images(3, 32)
    kwargs = dict(image_size=32, channels=(4, 8), dense=(16,))
    p4m, p4 = nn.EquivariantClusterCNN(**kwargs, group="p4m"), nn.EquivariantClusterCNN(**kwargs)
    base, p4_base = nn.predict(p4m, x), nn.predict(p4, x)
    scale, p4_scale = np.abs(base).max(), np.abs(p4_base).max()
    for g in range(1, 8):
        np.testing.assert_allclose(nn.predict(p4m, d4(x, g)), base, rtol=1e-5, atol=1e-5 * scale)
        change = np.abs(nn.predict(p4, d4(x, g)) - p4_base).max()
        if g < 4:  # quarter turns: p4 is invariant too
            assert change <= 1e-5 * p4_scale, g
        else:  # a mirror flip (then turns): p4 is not
            assert change > 1e-3 * p4_scale, g


@FRAMEWORKS
def test_plain_twin_is_not_invariant_to_quarter_turns_and_p4_cnn_is(nn):
    """The plain network (ordinary convolutions, otherwise the p4 network) with random weights
    changes its output when the image is turned by 90, 180 or 270 degrees far above rounding;
    the p4 network (the control) does not."""
    a3net.seed_everything(0)
    x = cluster_images(3, 32)
    kwargs = dict(image_size=32, channels=(4, 8), dense=(16,))
    plain = nn.EquivariantClusterCNN(**kwargs, group="plain")
    p4 = nn.EquivariantClusterCNN(**kwargs)
    base, p4_base = nn.predict(plain, x), nn.predict(p4, x)
    scale, p4_scale = np.abs(base).max(), np.abs(p4_base).max()
    for k in (1, 2, 3):
        assert np.abs(nn.predict(plain, turned(x, k)) - base).max() > 1e-3 * scale, k
        assert np.abs(nn.predict(p4, turned(x, k)) - p4_base).max() <= 1e-5 * p4_scale, k


@FRAMEWORKS
def test_equivariant_cnn_says_which_group_and_refuses_others(nn):
    model = nn.EquivariantClusterCNN(image_size=32, channels=(2,), dense=(4,), group="p4m")
    assert model.group == "p4m" and model.implementation == "a3net p4m layers"
    assert nn.EquivariantClusterCNN(image_size=32, channels=(2,), dense=(4,)).group == "p4"
    plain = nn.EquivariantClusterCNN(image_size=32, channels=(2,), dense=(4,), group="plain")
    assert plain.group == "plain" and plain.implementation == "plain convolutions"
    for group in ("p6", "P4M", "Plain", "none", None, 4):
        with pytest.raises(ValueError, match=r"group must be 'p4' .*, 'p4m' .* or 'plain' .* got "):
            nn.EquivariantClusterCNN(image_size=32, group=group)


def test_p4m_cnn_is_the_same_network_in_both_frameworks(monkeypatch):
    """The PyTorch p4m network is built from a3net's own P4M layers (with or without e2cnn) and
    with the Keras twin's weights gives the Keras twin's outputs."""
    a3net.seed_everything(3)
    kwargs = dict(image_size=32, channels=(2, 3, 2), dense=(8, 4), group="p4m")
    for e2cnn_missing in (False, True):
        if e2cnn_missing:
            monkeypatch.setitem(sys.modules, "e2cnn", None)  # `import e2cnn` raises ImportError
        t, k = tnn.EquivariantClusterCNN(**kwargs), knn.EquivariantClusterCNN(**kwargs)
        assert t.implementation == k.implementation == "a3net p4m layers"
        assert not any(type(m).__module__.startswith("e2cnn") for m in t.modules())
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for conv, layer in zip(t.p4m, k.convs, strict=True):
            layer.bias.assign(rng.uniform(-0.1, 0.1, layer.bias.shape).astype(np.float32))
            kernel = torch.as_tensor(layer.kernel.numpy())
            order = (3, 2, 0, 1) if kernel.ndim == 4 else (4, 2, 3, 0, 1)
            conv.weight.copy_(kernel.permute(*order))
            conv.bias.copy_(torch.as_tensor(layer.bias.numpy()))
        head = [m for m in t.head if isinstance(m, torch.nn.Linear)]
        dense = [lay for lay in k.head.layers if isinstance(lay, keras.layers.Dense)]
        for tl, kl in zip(head, dense, strict=True):
            kernel, bias = kl.get_weights()
            tl.weight.copy_(torch.as_tensor(kernel.T))
            tl.bias.copy_(torch.as_tensor(bias))
    x = cluster_images(3, 32) / 10
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=1e-5, rtol=1e-4)


def test_plain_cnn_is_the_same_network_in_both_frameworks():
    """The PyTorch plain network (no e2cnn, no group layers) with the Keras twin's weights gives
    the Keras twin's outputs."""
    a3net.seed_everything(4)
    kwargs = dict(image_size=32, channels=(2, 3, 2), dense=(8, 4), group="plain")
    t, k = tnn.EquivariantClusterCNN(**kwargs), knn.EquivariantClusterCNN(**kwargs)
    assert t.implementation == k.implementation == "plain convolutions"
    assert not any(type(m).__module__.startswith("e2cnn") for m in t.modules())
    with torch.no_grad():
        for conv, layer in zip(t.plain, k.convs, strict=True):
            conv.weight.copy_(torch.as_tensor(layer.kernel.numpy()).permute(3, 2, 0, 1))
            conv.bias.copy_(torch.as_tensor(layer.bias.numpy()))
        head = [m for m in t.head if isinstance(m, torch.nn.Linear)]
        dense = [lay for lay in k.head.layers if isinstance(lay, keras.layers.Dense)]
        for tl, kl in zip(head, dense, strict=True):
            kernel, bias = kl.get_weights()
            tl.weight.copy_(torch.as_tensor(kernel.T))
            tl.bias.copy_(torch.as_tensor(bias))
    x = cluster_images(3, 32) / 10
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=1e-5, rtol=1e-4)


def copy_convs_and_denses(tmodel, kmodel):
    """Copy Conv2d/Linear weights in order to the Keras twin (after global average pooling the
    first dense layer needs no re-ordering)."""
    tlayers = [m for m in tmodel.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    klayers = [
        lay
        for lay in kmodel.net.layers
        if isinstance(lay, (keras.layers.Conv2D, keras.layers.Dense))
    ]
    assert len(tlayers) == len(klayers)
    for tl, kl in zip(tlayers, klayers, strict=True):
        w, b = tl.weight.detach().numpy(), tl.bias.detach().numpy()
        kl.set_weights([w.transpose(2, 3, 1, 0) if w.ndim == 4 else w.T, b])


@pytest.mark.parametrize(
    "name, kwargs, size",
    [
        ("ClusterCNN", {}, 64),
        ("ClusterCNN", dict(channels=(32, 64, 64), output="softplus", n_outputs=2), 64),
        ("DeepClusterCNN", dict(rotation_factor=0.2, random_flip=True), 64),  # off in predict
        ("DeepClusterCNN", dict(image_size=80), 80),  # 80 px: the 4x4 average pooling acts
    ],
)
def test_same_outputs_with_the_same_weights(name, kwargs, size):
    a3net.seed_everything(0)
    t, k = getattr(tnn, name)(**kwargs), getattr(knn, name)(**kwargs)
    copy_convs_and_denses(t, k)
    x = cluster_images(4, size) / 10
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=2e-5, rtol=1e-4)


def p4_filter(kernel):
    """The full (out * 4, in [* 4], 3, 3) filter a p4 convolution with this Keras kernel
    ((3, 3, in, out) lifting or (3, 3, in, 4, out) group) applies, as a3net.torch's P4 layers
    build it."""
    w = torch.as_tensor(np.asarray(kernel))
    if w.ndim == 4:
        w = w.permute(3, 2, 0, 1)  # (out, in, 3, 3)
        return torch.stack([torch.rot90(w, r, dims=(-2, -1)) for r in range(4)], 1).flatten(0, 1)
    w = w.permute(4, 2, 3, 0, 1)  # (out, in, 4, 3, 3)
    rolled = [torch.rot90(torch.roll(w, r, dims=2), r, dims=(-2, -1)) for r in range(4)]
    return torch.stack(rolled, 1).flatten(0, 1).flatten(1, 2)


def test_e2cnn_model_is_the_keras_p4_model_with_the_same_weights():
    """e2cnn's C4 kernels (rings at 0, 1, sqrt 2 px, frequencies up to 2, 2, 1) span exactly the
    full p4 kernels: the Keras weights carried over (least squares, exact) give the same output."""
    a3net.seed_everything(1)
    kwargs = dict(image_size=32, channels=(2, 3, 2), dense=(8, 4))
    t, k = tnn.EquivariantClusterCNN(**kwargs), knn.EquivariantClusterCNN(**kwargs)
    convs = [m for m in t.modules() if type(m).__name__ == "R2Conv"]
    assert len(convs) == len(k.convs) == 3
    with torch.no_grad():
        for conv, layer in zip(convs, k.convs, strict=True):
            n = conv.weights.numel()
            basis = torch.stack([conv.basisexpansion(row).flatten() for row in torch.eye(n)])
            target = p4_filter(layer.kernel.numpy()).flatten()
            fit = torch.linalg.lstsq(basis.double().T, target.double()[:, None]).solution
            assert (basis.double().T @ fit)[:, 0].allclose(target.double(), atol=1e-5)
            conv.weights.copy_(fit[:, 0].float())
            conv.bias.copy_(2 * torch.as_tensor(layer.bias.numpy()))  # e2cnn adds bias / 2
        head = [m for m in t.head if isinstance(m, torch.nn.Linear)]
        dense = [lay for lay in k.head.layers if isinstance(lay, keras.layers.Dense)]
        for tl, kl in zip(head, dense, strict=True):
            kernel, bias = kl.get_weights()
            tl.weight.copy_(torch.as_tensor(kernel.T))
            tl.bias.copy_(torch.as_tensor(bias))
    x = cluster_images(3, 32) / 10
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=1e-5, rtol=1e-4)


def flip_layer_output(nn, layer, x, training):
    if nn is tnn:
        layer.train(training)
        return layer(torch.as_tensor(x)).numpy()
    out = layer(np.transpose(x, (0, 2, 3, 1)), training=training)
    return np.transpose(keras.ops.convert_to_numpy(out), (0, 3, 1, 2))


@FRAMEWORKS
def test_random_flip_flips_each_axis_on_its_own_only_while_training(nn):
    n = 400
    x = np.broadcast_to(np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4), (n, 1, 3, 4)).copy()
    layer = nn.RandomFlip(seed=5)
    np.testing.assert_array_equal(flip_layer_output(nn, layer, x, training=False), x)
    out = flip_layer_output(nn, layer, x, training=True)
    kinds = [x[0], x[0, :, :, ::-1], x[0, :, ::-1, :], x[0, :, ::-1, ::-1]]
    which = np.array([[np.array_equal(o, kind) for kind in kinds] for o in out])
    assert which.sum(axis=1).tolist() == [1] * n  # every image is one of the four flips
    fractions = which.mean(axis=0)  # none, left-right, top-bottom, both: 1/4 each
    np.testing.assert_allclose(fractions, 0.25, atol=0.07)


@FRAMEWORKS
def test_deep_cnn_augments_only_while_training(nn):
    a3net.seed_everything(0)
    model = nn.DeepClusterCNN(image_size=32, rotation_factor=0.25, random_flip=True, dropout=0.0)
    x = cluster_images(2, 32)
    np.testing.assert_array_equal(nn.predict(model, x), nn.predict(model, x))
    if nn is tnn:
        model.train()
        with torch.no_grad():
            first, second = model(torch.as_tensor(x)).numpy(), model(torch.as_tensor(x)).numpy()
    else:
        first = model(x, training=True).numpy()
        second = model(x, training=True).numpy()
    assert not np.allclose(first, second)


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect"])
def test_rotation_fill_modes_agree_and_leave_no_empty_corners(fill_mode):
    rng = np.random.default_rng(3)
    x = 1 + 0.1 * rng.random((3, 1, 17, 17), dtype=np.float32)
    angles = np.array([45.0, -30.0, 200.0], np.float32)
    t_layer = tnn.RandomRotation(0.5, fill_mode=fill_mode)
    k_layer = knn.RandomRotation(0.5, fill_mode=fill_mode)
    t_out = t_layer.rotate(torch.as_tensor(x), torch.as_tensor(angles)).numpy()
    k_out = k_layer.rotate(np.transpose(x, (0, 2, 3, 1)), angles)
    k_out = np.transpose(keras.ops.convert_to_numpy(k_out), (0, 3, 1, 2))
    np.testing.assert_allclose(t_out, k_out, atol=2e-5)
    assert t_out.min() >= 1 - 1e-5  # corners filled from the image, not with zeros
    blank = tnn.RandomRotation(0.5).rotate(torch.as_tensor(x), torch.as_tensor(angles)).numpy()
    assert blank[:, 0, 0, 0].max() < 0.5  # the default "constant" fill leaves them empty


@FRAMEWORKS
def test_fit_runs_for_every_cluster_model(nn):
    x = cluster_images(16, 32, seed=4)
    y = np.linspace(-1, 1, 16, dtype=np.float32)[:, None]
    models = [
        nn.ClusterCNN(image_size=32, channels=(4, 8), dense=(8,)),
        nn.DeepClusterCNN(image_size=32, rotation_factor=0.1, random_flip=True),
        nn.EquivariantClusterCNN(image_size=32, channels=(2, 4), dense=(8,)),
        nn.EquivariantClusterCNN(image_size=32, channels=(2, 4), dense=(8,), group="p4m"),
        nn.EquivariantClusterCNN(image_size=32, channels=(2, 4), dense=(8,), group="plain"),
    ]
    for model in models:
        history = nn.fit(model, x, y, epochs=2, batch_size=8, progress=False)
        assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()


@FRAMEWORKS
def test_bad_arguments_get_one_clear_sentence(nn):
    with pytest.raises(ValueError, match="image_size is too small for 3 blocks"):
        nn.ClusterCNN(image_size=21)  # 19 -> 9, 7 -> 3, 1 -> 0
    nn.ClusterCNN(image_size=22)  # 20 -> 10, 8 -> 4, 2 -> 1
    with pytest.raises(ValueError, match="image_size is too small"):
        nn.DeepClusterCNN(image_size=31)
    nn.DeepClusterCNN(image_size=32)  # the smallest that fits
    with pytest.raises(ValueError, match="image_size must be a multiple of 8"):
        nn.EquivariantClusterCNN(image_size=60)
    with pytest.raises(ValueError, match="output must be 'linear' or 'softplus', got 'relu'"):
        nn.ClusterCNN(output="relu")
    with pytest.raises(ValueError, match="fill_mode must be one of .* got 'wrap'"):
        nn.DeepClusterCNN(rotation_factor=0.1, fill_mode="wrap")
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        nn.DeepClusterCNN(fill_mode="mirror")
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        nn.RandomRotation(0.1, fill_mode="zeros")
    with pytest.raises(ValueError, match="rotation_factor must be a number in"):
        nn.DeepClusterCNN(rotation_factor=-0.1)
    with pytest.raises(TypeError, match="random_flip must be True or False"):
        nn.DeepClusterCNN(random_flip="yes")
    with pytest.raises(ValueError, match="channels must not be empty"):
        nn.EquivariantClusterCNN(channels=())
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 64, 64\)"):
        nn.predict(nn.ClusterCNN(), np.zeros((2, 1, 32, 32), np.float32))


def test_without_e2cnn_the_torch_equivariant_cnn_is_the_keras_p4_network(monkeypatch):
    """Chapter G runs where e2cnn is missing: the PyTorch network is then built from a3net's own
    p4 layers, says so, is invariant to quarter turns, and with the Keras twin's weights gives
    the Keras twin's outputs."""
    monkeypatch.setitem(sys.modules, "e2cnn", None)  # `import e2cnn` raises ImportError
    a3net.seed_everything(2)
    kwargs = dict(image_size=32, channels=(2, 3, 2), dense=(8, 4))
    t, k = tnn.EquivariantClusterCNN(**kwargs), knn.EquivariantClusterCNN(**kwargs)
    assert t.implementation == "a3net p4 layers (e2cnn is not installed)"
    assert not any(type(m).__module__.startswith("e2cnn") for m in t.modules())
    assert tnn.count_parameters(t) == knn.count_parameters(k) == 522
    x = cluster_images(3, 32) / 10
    base = tnn.predict(t, x)
    for quarter in (1, 2, 3):
        np.testing.assert_allclose(tnn.predict(t, turned(x, quarter)), base, rtol=1e-4, atol=1e-6)
    with torch.no_grad():
        for conv, layer in zip(t.p4, k.convs, strict=True):
            kernel = torch.as_tensor(layer.kernel.numpy())
            order = (3, 2, 0, 1) if kernel.ndim == 4 else (4, 2, 3, 0, 1)
            conv.weight.copy_(kernel.permute(*order))
            conv.bias.copy_(torch.as_tensor(layer.bias.numpy()))
        head = [m for m in t.head if isinstance(m, torch.nn.Linear)]
        dense = [lay for lay in k.head.layers if isinstance(lay, keras.layers.Dense)]
        for tl, kl in zip(head, dense, strict=True):
            kernel, bias = kl.get_weights()
            tl.weight.copy_(torch.as_tensor(kernel.T))
            tl.bias.copy_(torch.as_tensor(bias))
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=1e-5, rtol=1e-4)


def test_with_e2cnn_the_torch_equivariant_cnn_says_so():
    pytest.importorskip("e2cnn")
    assert tnn.EquivariantClusterCNN(image_size=32, channels=(2,), dense=(4,)).implementation == (
        "e2cnn"
    )
