"""Chapters E and H models in both frameworks: the hacks' parameter counts, periodic padding,
the moment network's calibrated errors and clear errors. Outputs with the same weights are
compared in test_frameworks.py."""

import inspect

import numpy as np
import pytest

import a3net

tnn = a3net.framework("torch")
knn = a3net.framework("keras")

import keras  # noqa: E402
import torch  # noqa: E402

FRAMEWORKS = pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
NAMES = ["CosmoCNN", "CosmoBatchNormCNN", "CosmoResNet", "CosmoMomentCNN"]


def maps(n=3, size=32, channels=2, seed=0):
    """Smooth random periodic fields with no symmetry, (N, channels, size, size) float32."""
    rng = np.random.default_rng(seed)
    k = np.fft.fftfreq(size)
    power = 1 / (1e-3 + k[:, None] ** 2 + k[None, :] ** 2)
    noise = np.fft.fft2(rng.standard_normal((n, channels, size, size)))
    return np.fft.ifft2(noise * np.sqrt(power)).real.astype(np.float32) / 10


def rolled(x, shift):
    return np.roll(x, shift, axis=(2, 3))


@pytest.mark.parametrize(
    "name, kwargs, expected",
    [
        # hack H: conv 304 + 4,640 + 18,496; LayerNorm 131,072 + 65,536 + 32,768; dense
        # 4,195,328 + 2,050
        ("CosmoCNN", {}, 4_450_194),
        ("CosmoCNN", dict(dense=4096, n_outputs=6), 17_058_710),  # its six-parameter variant
        ("CosmoCNN", dict(norm="group"), 4_450_194 - 229_376 + 2 * (16 + 32 + 64)),
        ("CosmoCNN", dict(norm="batch"), 4_450_194 - 229_376 + 2 * (16 + 32 + 64)),
        ("CosmoCNN", dict(norm="none", padding="circular"), 4_450_194 - 229_376),
        # hack E's Keras summary, less the 208 BatchNorm moving statistics
        ("CosmoBatchNormCNN", {}, 4_249_817 - 208),
        ("CosmoBatchNormCNN", dict(n_outputs=2, padding="circular"), 4_249_817 - 208 + 33),
        ("CosmoResNet", {}, 6272 + 128 + 2 * (2 * 36_864 + 2 * 128) + 130),
        # torchvision's ResNet18
        ("CosmoResNet", dict(stages=(64, 128, 256, 512), in_channels=3, n_outputs=1000,
                             image_size=224), 11_689_512),
        ("CosmoMomentCNN", {}, 304 + 4640 + 18_496 + 2 * (16 + 32 + 64) + 16_640 + 1028),
    ],
)  # fmt: skip
def test_parameter_counts_in_both_frameworks(name, kwargs, expected):
    t, k = getattr(tnn, name)(**kwargs), getattr(knn, name)(**kwargs)
    assert tnn.count_parameters(t) == knn.count_parameters(k) == expected


def test_hack_e_total_includes_the_batchnorm_statistics():
    """The Keras summary's 4,249,817 counts BatchNorm's (non-trainable) moving statistics."""
    t, k = tnn.CosmoBatchNormCNN(), knn.CosmoBatchNormCNN()
    statistics = sum(
        b.numel() for name, b in t.named_buffers() if name.endswith(("running_mean", "running_var"))
    )
    assert statistics == 208
    assert tnn.count_parameters(t) + statistics == 4_249_817
    assert sum(int(np.prod(w.shape)) for w in k.weights) == 4_249_817
    assert len(k.non_trainable_weights) == 6


@pytest.mark.parametrize("name", NAMES)
def test_cosmology_models_show_their_layers(name):
    """The book shows each class's source: its layers are written there, not in a helper."""
    for nn, needed in ((tnn, ("nn.Conv2d(", "nn.Linear(")), (knn, ("layers.Conv2D(",))):
        source = inspect.getsource(getattr(nn, name))
        for layer in needed + (() if nn is tnn else ("layers.Dense(",)):
            assert layer in source, (nn.NAME, name, layer)


@FRAMEWORKS
def test_circular_padding_makes_the_moment_cnn_invariant_to_cyclic_shifts(nn):
    """Three 2x2 poolings: rolling the maps by a multiple of 8 px rolls every feature map by
    whole pixels, which global pooling forgets; with zero padding the edges change it."""
    a3net.seed_everything(0)
    x = maps(3, 32)
    periodic = nn.CosmoMomentCNN(image_size=32, dense=16)  # circular padding, GroupNorm
    zeros = nn.CosmoMomentCNN(image_size=32, dense=16, padding="zeros")
    base, zeros_base = nn.predict(periodic, x), nn.predict(zeros, x)
    for shift in ((8, 0), (0, 16), (24, 8)):
        np.testing.assert_allclose(nn.predict(periodic, rolled(x, shift)), base, atol=1e-5)
        change = np.abs(nn.predict(zeros, rolled(x, shift)) - zeros_base).max()
        assert change > 1e-3 * np.abs(zeros_base).max(), shift


@FRAMEWORKS
def test_circular_resnet_is_invariant_to_shifts_by_its_stride(nn):
    """Stem (stride 4) and a stride-2 stage: shifts by multiples of 8 px leave the output as it
    is, with the strided convolutions and the max-pooling padded periodically too."""
    a3net.seed_everything(0)
    x = maps(2, 32)
    periodic = nn.CosmoResNet(image_size=32, stages=(8, 16), padding="circular")
    zeros = nn.CosmoResNet(image_size=32, stages=(8, 16))
    base, zeros_base = nn.predict(periodic, x), nn.predict(zeros, x)
    np.testing.assert_allclose(nn.predict(periodic, rolled(x, (8, 24))), base, atol=1e-5)
    assert np.abs(nn.predict(zeros, rolled(x, (8, 24))) - zeros_base).max() > 1e-4


def trunk_maps(nn, model, x, n_layers):
    """The first ``n_layers`` layers of ``model.net``, as (N, C, H, W): Keras has a padding layer
    where PyTorch has a ReLU, and a transpose before them."""
    if nn is tnn:
        with torch.no_grad():
            return model.net[:n_layers].eval()(torch.as_tensor(x)).numpy()
    out = x
    for layer in model.net.layers[: n_layers + 1]:
        out = layer(out, training=False)
    return np.transpose(keras.ops.convert_to_numpy(out), (0, 3, 1, 2))


@FRAMEWORKS
@pytest.mark.parametrize("norm", ["group", "batch"])
def test_circular_cnn_feature_maps_roll_with_the_maps(nn, norm):
    """Before the flatten, CosmoCNN's feature maps (32 -> 4 px) roll by shift / 8 px."""
    a3net.seed_everything(0)
    x = maps(2, 32)
    model = nn.CosmoCNN(image_size=32, dense=8, norm=norm, padding="circular")
    base = trunk_maps(nn, model, x, 12)
    assert base.shape == (2, 64, 4, 4)
    np.testing.assert_allclose(trunk_maps(nn, model, rolled(x, (8, 16)), 12),
                               rolled(base, (1, 2)), atol=1e-5)  # fmt: skip
    zeros = nn.CosmoCNN(image_size=32, dense=8, norm=norm)
    zeros_base = trunk_maps(nn, zeros, x, 12)
    change = np.abs(trunk_maps(nn, zeros, rolled(x, (8, 16)), 12) - rolled(zeros_base, (1, 2)))
    assert change.max() > 1e-3


@FRAMEWORKS
def test_batchnorm_cnn_feature_maps_roll_with_the_maps(nn):
    a3net.seed_everything(0)
    x = maps(2, 32)
    model = nn.CosmoBatchNormCNN(image_size=32, padding="circular")
    base = trunk_maps(nn, model, x, 15)
    assert base.shape == (2, 64, 4, 4)
    np.testing.assert_allclose(
        trunk_maps(nn, model, rolled(x, (16, 8)), 15), rolled(base, (2, 1)), atol=1e-5
    )


def moment_toy(n, seed):
    """Two-channel 16 px maps whose mean is theta_j plus an offset of rms 0.1 (j = 0) or 0.4
    (j = 1), unknowable from the map, under pixel noise of 0.5: theta is U(-1, 1)."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    offset = theta + np.float32([0.1, 0.4]) * rng.standard_normal((n, 2), dtype=np.float32)
    return offset[:, :, None, None] + 0.5 * rng.standard_normal((n, 2, 16, 16), np.float32), theta


@FRAMEWORKS
def test_moment_cnn_errors_match_its_actual_errors(nn):
    """Trained with the moment loss, sigma of each parameter is its rms error on new maps
    (about 0.1 and 0.4 here), within 30%."""
    x, theta = moment_toy(1024, 0)
    x_test, theta_test = moment_toy(256, 1)
    a3net.seed_everything(0)
    model = nn.CosmoMomentCNN(image_size=16, channels=(8, 16), dense=32)
    history = nn.fit(model, x, theta, epochs=5, batch_size=64, lr=5e-3, progress=False)
    assert set(history) == {"loss", "mae"} and history["loss"][-1] < history["loss"][0]
    out = nn.predict(model, x_test)
    rms = np.sqrt(((out[:, :2] - theta_test) ** 2).mean(axis=0))
    assert rms[0] < 0.15 and rms[1] < 0.45  # theta itself has an rms of 0.58
    sigma = np.sqrt((out[:, 2:] ** 2).mean(axis=0))
    np.testing.assert_allclose(sigma, rms, rtol=0.3)


@FRAMEWORKS
def test_fit_and_predict_run_for_every_cosmology_model(nn):
    x = maps(16, 16, seed=4)
    y = np.linspace(-1, 1, 32, dtype=np.float32).reshape(16, 2)
    models = [
        nn.CosmoCNN(image_size=16, channels=(4, 8), dense=8),
        nn.CosmoBatchNormCNN(image_size=16, in_channels=1, n_outputs=2),
        nn.CosmoResNet(image_size=16, stages=(8,)),
    ]  # CosmoMomentCNN trains in the test above
    for model in models:
        x_in = x[:, : model.sample_shape[0]]
        history = nn.fit(model, x_in, y, epochs=2, batch_size=8, progress=False)
        assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()
        assert nn.predict(model, x_in[:3]).shape == (3, 2)
    bn = models[1]  # BatchNorm: predict uses the running statistics, so it is deterministic
    np.testing.assert_array_equal(nn.predict(bn, x[:, :1]), nn.predict(bn, x[:, :1]))


def test_keras_resnet_starts_like_pytorch():
    """Convolutions without bias start from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) in both."""
    a3net.seed_everything(0)
    t, k = tnn.CosmoResNet(), knn.CosmoResNet()
    tw = [p.detach().numpy() for p in t.parameters() if p.ndim == 4]
    kw = [v.numpy() for v in k.trainable_variables if len(v.shape) == 4]
    assert [w.size for w in tw] == [w.size for w in kw] == [6272] + [36_864] * 4
    for a, b in zip(tw, kw, strict=True):
        bound = 1 / np.sqrt(a[0].size)
        assert np.abs(a).max() <= bound * (1 + 1e-6) and np.abs(b).max() <= bound * (1 + 1e-6)
        np.testing.assert_allclose([a.std(), b.std()], bound / np.sqrt(3), rtol=0.05)


@FRAMEWORKS
def test_bad_arguments_get_one_clear_sentence(nn):
    with pytest.raises(ValueError, match="norm must be one of 'layer', 'group', 'batch', 'none'"):
        nn.CosmoCNN(norm="instance")
    with pytest.raises(ValueError, match="norm must be one of"):
        nn.CosmoMomentCNN(norm=None)
    with pytest.raises(ValueError, match="padding must be one of 'zeros', 'circular', got 'same'"):
        nn.CosmoCNN(padding="same")
    for name in ("CosmoBatchNormCNN", "CosmoResNet", "CosmoMomentCNN"):
        with pytest.raises(ValueError, match="padding must be one of"):
            getattr(nn, name)(padding="reflect")
    with pytest.raises(ValueError, match="image_size must be a multiple of 8 for 3 2x2 poolings"):
        nn.CosmoCNN(image_size=60)
    with pytest.raises(ValueError, match="image_size must be a multiple of 4 for 2 2x2"):
        nn.CosmoMomentCNN(image_size=30, channels=(4, 8))
    with pytest.raises(ValueError, match="image_size must be a multiple of 8 for three"):
        nn.CosmoBatchNormCNN(image_size=36)
    with pytest.raises(ValueError, match="image_size must be a multiple of 32 for the stem and 4"):
        nn.CosmoResNet(image_size=120, stages=(64, 128, 256, 512))
    with pytest.raises(ValueError, match="in_channels must be at least 1"):
        nn.CosmoCNN(in_channels=0)
    with pytest.raises(ValueError, match="stages must not be empty"):
        nn.CosmoResNet(stages=())
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2, 16, 16\) \(channels first\)"):
        nn.predict(nn.CosmoCNN(image_size=16, dense=8), np.zeros((2, 16, 16, 2), np.float32))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 16, 16\)"):
        nn.predict(nn.CosmoBatchNormCNN(image_size=16, in_channels=1), maps(2, 16))
    moment = nn.CosmoMomentCNN(image_size=16, dense=8, n_params=2)
    with pytest.raises(ValueError, match=r"y must have shape \(N, 2\), got \(4, 4\)"):
        nn.fit(moment, maps(4, 16), np.zeros((4, 4), np.float32), epochs=1, progress=False)
