"""Saliency methods (gradient, SmoothGrad, integrated gradients) in both frameworks.

Linear models give exact answers; tiny CNNs with copied weights give the same maps in PyTorch
and Keras; integrated gradients are complete (signed attributions sum to f(x) - f(baseline)).
"""

import numpy as np
import pytest

import a3net

tnn = a3net.framework("torch")
knn = a3net.framework("keras")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402

SHAPE = (1, 6, 6)
W = np.random.default_rng(7).standard_normal(SHAPE).astype(np.float32)


class TorchLinear(tnn.Regressor):
    """f(x) = w . x + 0.3, written with a fixed w."""

    def __init__(self):
        super().__init__()
        self.sample_shape = SHAPE
        self.w = torch.nn.Parameter(torch.from_numpy(W.ravel().copy()))

    def forward(self, x):
        return (x.reshape(len(x), -1) @ self.w)[:, None] + 0.3


class KerasLinear(knn.Regressor):
    def __init__(self):
        super().__init__()
        self.sample_shape = SHAPE
        self.w = self.add_weight(shape=(W.size, 1), initializer="zeros")
        self.w.assign(W.reshape(-1, 1))

    def call(self, x, training=False):
        return tf.reshape(x, (-1, W.size)) @ self.w + 0.3


A = np.random.default_rng(8).standard_normal((W.size, 8)).astype(np.float32) / 4
V = np.random.default_rng(9).standard_normal(8).astype(np.float32)


class TorchSmooth(tnn.Regressor):
    """A smooth nonlinear f(x) = v . tanh(x A) + 0.1 |x|^2 / size."""

    def __init__(self):
        super().__init__()
        self.sample_shape = SHAPE
        self.a, self.v = torch.from_numpy(A), torch.from_numpy(V)

    def forward(self, x):
        flat = x.reshape(len(x), -1)
        return (torch.tanh(flat @ self.a) @ self.v + 0.1 * (flat**2).mean(dim=1))[:, None]


class KerasSmooth(knn.Regressor):
    def __init__(self):
        super().__init__()
        self.sample_shape = SHAPE

    def call(self, x, training=False):
        flat = tf.reshape(x, (-1, W.size))
        out = tf.linalg.matvec(tf.tanh(flat @ A), V) + 0.1 * tf.reduce_mean(flat**2, axis=1)
        return out[:, None]


LINEAR = {"torch": TorchLinear, "keras": KerasLinear}
SMOOTH = {"torch": TorchSmooth, "keras": KerasSmooth}
NN = {"torch": tnn, "keras": knn}


def images(n, seed=0, shape=SHAPE):
    return np.random.default_rng(seed).poisson(3.0, (n, *shape)).astype(np.float32)


@pytest.mark.parametrize("name", ["torch", "keras"])
def test_linear_model_maps_are_exact(name):
    nn, model = NN[name], LINEAR[name]()
    x = images(5)
    w = np.broadcast_to(W, x.shape)
    np.testing.assert_allclose(nn.saliency(model, x), np.abs(w), rtol=1e-6)
    # SmoothGrad averages gradients that do not change: the gradient itself, at any noise
    np.testing.assert_allclose(
        nn.saliency(model, x, method="smoothgrad", noise=0.5, n_samples=5), np.abs(w), rtol=1e-5
    )
    ig = nn.saliency(model, x, method="integrated_gradients", steps=3)
    np.testing.assert_allclose(ig, np.abs(w * x), rtol=1e-5, atol=1e-6)
    base = np.full(SHAPE, 1.5, np.float32)
    signed = nn.saliency(
        model, x, method="integrated_gradients", baseline=base, steps=1, signed=True
    )
    np.testing.assert_allclose(signed, w * (x - base), rtol=1e-5, atol=1e-6)
    f = nn.predict(model, x)[:, 0]
    f_base = nn.predict(model, np.broadcast_to(base, x.shape).copy())[:, 0]
    np.testing.assert_allclose(signed.sum(axis=(1, 2, 3)), f - f_base, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(nn.saliency(model, x, signed=True), w, rtol=1e-6)
    assert all(
        m.dtype == np.float32 and m.shape == x.shape
        for m in (ig, signed, nn.saliency(model, x, method="smoothgrad"))
    )


def copy_cnn_weights(tmodel, kmodel, side):
    """Conv and dense weights from PyTorch to Keras; the first dense layer after the conv trunk
    is re-ordered from channels-first to channels-last flattening."""
    tl = [m for m in tmodel.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    kinds = (keras.layers.Conv2D, keras.layers.Dense)
    kl = [lay for lay in kmodel.net.layers if isinstance(lay, kinds)]
    assert len(tl) == len(kl)
    after_conv = False
    for t, k in zip(tl, kl, strict=True):
        w, b = t.weight.detach().numpy(), t.bias.detach().numpy()
        if isinstance(t, torch.nn.Conv2d):
            kernel, after_conv = w.transpose(2, 3, 1, 0), True
        elif after_conv:
            ch = w.shape[1] // side**2
            kernel = w.reshape(len(w), ch, side, side).transpose(2, 3, 1, 0).reshape(-1, len(w))
            after_conv = False
        else:
            kernel = w.T
        k.set_weights([kernel, b])


@pytest.fixture(scope="module")
def twins():
    a3net.seed_everything(0)
    kwargs = dict(channels=(4, 4), n_outputs=1, hidden=16)
    t, k = tnn.RingRegressorCNN(**kwargs), knn.RingRegressorCNN(**kwargs)
    copy_cnn_weights(t, k, 7)
    x = np.random.default_rng(3).random((4, 1, 28, 28), dtype=np.float32)
    return t, k, x


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(method="gradient"),
        dict(method="smoothgrad", n_samples=6, noise=0.2, seed=4),
        dict(method="integrated_gradients", steps=8),
        dict(method="integrated_gradients", steps=8, baseline=0.5, signed=True),
    ],
    ids=["gradient", "smoothgrad", "ig", "ig-signed"],
)
def test_both_frameworks_give_the_same_maps(twins, kwargs):
    t, k, x = twins
    np.testing.assert_allclose(tnn.predict(t, x), knn.predict(k, x), atol=2e-5, rtol=1e-4)
    mt, mk = tnn.saliency(t, x, **kwargs), knn.saliency(k, x, **kwargs)
    scale = np.abs(mt).max()
    assert scale > 0
    np.testing.assert_allclose(mt, mk, atol=1e-3 * scale, rtol=1e-3)


@pytest.mark.parametrize("name", ["torch", "keras"])
def test_integrated_gradients_are_complete_on_a_smooth_model(name):
    """Signed attributions sum to f(x) - f(baseline): the midpoint rule errs by O(steps^-2)."""
    nn, model = NN[name], SMOOTH[name]()
    x = images(6, seed=2) / 3
    base = np.full_like(x, 0.25)
    delta = nn.predict(model, x)[:, 0] - nn.predict(model, base)[:, 0]
    assert np.abs(delta).min() > 0.02
    errors = []
    for steps in (4, 32):
        kw = dict(method="integrated_gradients", steps=steps, baseline=0.25, signed=True)
        total = nn.saliency(model, x, **kw).sum(axis=(1, 2, 3))
        errors.append(np.abs(total - delta).max() / np.abs(delta).max())
    assert errors[1] < 3e-3 and errors[1] < errors[0] / 8, errors


def test_integrated_gradients_are_nearly_complete_on_a_relu_cnn(twins):
    """ReLU kinks break the O(steps^-2) rule, but 128 steps still sum to within a few per cent."""
    t, _, _ = twins
    x = np.random.default_rng(3).poisson(20, (4, 1, 28, 28)).astype(np.float32)
    signed = tnn.saliency(t, x, method="integrated_gradients", steps=128, signed=True)
    delta = tnn.predict(t, x)[:, 0] - tnn.predict(t, np.zeros_like(x))[:, 0]
    assert np.abs(delta).min() > 0.1
    np.testing.assert_allclose(signed.sum(axis=(1, 2, 3)), delta, rtol=0.05)


def test_smoothgrad_noise_is_seeded_and_independent_of_batch_size(twins):
    t, _, x = twins
    kw = dict(method="smoothgrad", n_samples=5, noise=0.3)
    a = tnn.saliency(t, x, seed=1, batch_size=64, **kw)
    same = dict(rtol=1e-4, atol=1e-5 * a.max())  # only the batching's round-off differs
    np.testing.assert_allclose(tnn.saliency(t, x, seed=1, batch_size=3, **kw), a, **same)
    assert not np.allclose(tnn.saliency(t, x, seed=2, **kw), a)
    zero = tnn.saliency(t, x, method="smoothgrad", n_samples=3, noise=0.0)
    np.testing.assert_allclose(zero, tnn.saliency(t, x), **same)
    ig = dict(method="integrated_gradients", steps=8)
    np.testing.assert_allclose(
        tnn.saliency(t, x, batch_size=5, **ig), tnn.saliency(t, x, **ig), **same
    )


@pytest.mark.parametrize("name", ["torch", "keras"])
def test_classifiers_differentiate_the_class_predicted_at_x(name):
    nn = NN[name]
    a3net.seed_everything(1)
    model = nn.RingCounterCNN(max_rings=3, channels=(4,), hidden=8, dropout=0.0)
    x = np.random.default_rng(5).random((6, 1, 28, 28), dtype=np.float32)
    predicted = nn.predict(model, x).argmax(axis=1)
    for method in ("gradient", "smoothgrad", "integrated_gradients"):
        kw = dict(method=method, n_samples=4, steps=4)
        maps = nn.saliency(model, x, **kw)
        per_class = np.stack([nn.saliency(model, x, output=c, **kw) for c in range(3)])
        np.testing.assert_allclose(maps, per_class[predicted, np.arange(6)], rtol=1e-5)
        assert (maps >= 0).all() and maps.sum() > 0


@pytest.mark.parametrize("name", ["torch", "keras"])
def test_bad_options_get_one_clear_sentence(name):
    nn, model = NN[name], LINEAR[name]()
    x = images(2)
    with pytest.raises(ValueError, match="method must be one of 'gradient', 'smoothgrad'"):
        nn.saliency(model, x, method="deeplift")
    with pytest.raises(ValueError, match="n_samples must be a whole number of at least 1"):
        nn.saliency(model, x, method="smoothgrad", n_samples=0)
    with pytest.raises(ValueError, match="steps must be a whole number of at least 1"):
        nn.saliency(model, x, method="integrated_gradients", steps=2.5)
    for noise in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
            nn.saliency(model, x, method="smoothgrad", noise=noise)
    with pytest.raises(ValueError, match=r"baseline must be a number, one sample of shape"):
        nn.saliency(model, x, method="integrated_gradients", baseline=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="output must be between 0 and 0"):
        nn.saliency(model, x, method="smoothgrad", output=1)
