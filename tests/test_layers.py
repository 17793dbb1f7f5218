"""Layers that one framework lacks and a3net writes: the same behaviour in both frameworks.

RandomRotation (Keras has it, PyTorch gets it) and the p4 and p4m group convolutions (e2cnn is
PyTorch only; P4ConvZ2, P4ConvP4, P4Pool, P4MConvZ2, P4MConvP4M and P4MPool exist in both)."""

import numpy as np
import pytest

import a3net

tnn = a3net.framework("torch")
knn = a3net.framework("keras")

import keras  # noqa: E402
import torch  # noqa: E402


def blob_images(n=3, size=15, seed=0):
    """Smooth, off-centre, asymmetric images (N, 1, size, size)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.zeros((n, 1, size, size), np.float32)
    for i in range(n):
        cx, cy = rng.uniform(4, size - 5, 2)
        out[i, 0] = np.exp(-((xx - cx) ** 2 / 4 + (yy - cy) ** 2 / 1.5))
    return out


def torch_rotate(x, angles, fill_value=0.0):
    layer = tnn.RandomRotation(0.5, fill_value=fill_value)
    return layer.rotate(torch.as_tensor(x), torch.as_tensor(angles)).numpy()


def keras_rotate(x, angles, fill_value=0.0):
    layer = knn.RandomRotation(0.5, fill_value=fill_value)
    out = layer.rotate(np.transpose(x, (0, 2, 3, 1)), np.asarray(angles, np.float32))
    return np.transpose(keras.ops.convert_to_numpy(out), (0, 3, 1, 2))


@pytest.mark.parametrize("fill_value", [0.0, 0.5])
def test_random_rotation_turns_images_the_same_way_in_both(fill_value):
    x = blob_images(4)
    angles = np.array([0.0, 90.0, 33.0, -140.0], np.float32)
    np.testing.assert_allclose(
        torch_rotate(x, angles, fill_value), keras_rotate(x, angles, fill_value), atol=2e-5
    )


def test_a_quarter_turn_is_numpys_rot90_counter_clockwise():
    x = blob_images(2)
    expected = np.rot90(x, 1, axes=(2, 3))  # counter-clockwise with the first row on top
    np.testing.assert_allclose(torch_rotate(x, [90.0, 90.0]), expected, atol=1e-5)
    np.testing.assert_allclose(keras_rotate(x, [90.0, 90.0]), expected, atol=1e-5)


def blob_angle(images):
    """Polar angle (degrees) of each image's brightest point about the centre."""
    n, _, h, w = images.shape
    flat = images.reshape(n, -1).argmax(axis=1)
    y, x = np.unravel_index(flat, (h, w))
    return np.degrees(np.arctan2(-(y - (h - 1) / 2), x - (w - 1) / 2))


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_random_rotation_draws_angles_in_its_range_only_when_training(nn):
    size, n = 21, 200
    x = np.zeros((n, 1, size, size), np.float32)
    x[:, 0, 10, 17] = 1.0  # a point on the +x axis, 7 px from the centre
    layer = nn.RandomRotation(factor=0.125, seed=3)  # +-45 degrees
    if nn is tnn:
        layer.train()
        turned = layer(torch.as_tensor(x)).numpy()
        layer.eval()
        same = layer(torch.as_tensor(x)).numpy()
    else:
        channels_last = np.transpose(x, (0, 2, 3, 1))
        turned = np.transpose(np.asarray(layer(channels_last, training=True)), (0, 3, 1, 2))
        same = np.transpose(np.asarray(layer(channels_last, training=False)), (0, 3, 1, 2))
    np.testing.assert_array_equal(same, x)
    angles = blob_angle(turned)
    assert np.abs(angles).max() <= 45 + 9  # one pixel at 7 px is about 8 degrees
    assert angles.min() < -30 and angles.max() > 30 and np.std(angles) > 15


def copy_p4_weights(tlayer, klayer):
    w = tlayer.weight.detach().numpy()
    axes = (2, 3, 1, 0) if w.ndim == 4 else (3, 4, 1, 2, 0)  # to (k, k, in[, 4], out)
    klayer.set_weights([np.transpose(w, axes), tlayer.bias.detach().numpy()])


def to_torch_layout(p4):
    """Keras p4 maps (N, H, W, C, 4) -> PyTorch's (N, C, 4, H, W)."""
    return np.transpose(np.asarray(p4), (0, 3, 4, 1, 2))


def test_p4_layers_agree_between_frameworks():
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 9)).astype(np.float32)
    t_lift, k_lift = tnn.P4ConvZ2(3, 4), knn.P4ConvZ2(3, 4)
    t_group, k_group = tnn.P4ConvP4(4, 2, kernel_size=5), knn.P4ConvP4(4, 2, kernel_size=5)
    with torch.no_grad():
        t_group.bias.uniform_(-1, 1)
    copy_p4_weights(t_lift, k_lift)
    copy_p4_weights(t_group, k_group)
    with torch.no_grad():
        t_out = tnn.P4Pool()(t_group(t_lift(torch.as_tensor(x)))).numpy()
    k_out = knn.P4Pool()(k_group(k_lift(np.transpose(x, (0, 2, 3, 1)))))
    np.testing.assert_allclose(
        np.transpose(np.asarray(k_out), (0, 3, 1, 2)), t_out, atol=1e-4, rtol=1e-4
    )
    for t, k in ((t_lift, k_lift), (t_group, k_group)):
        assert sum(p.numel() for p in t.parameters()) == sum(
            int(np.prod(v.shape)) for v in k.trainable_variables
        )


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_p4_convolutions_are_equivariant_to_quarter_turns(nn):
    x = np.random.default_rng(2).standard_normal((2, 2, 11, 11)).astype(np.float32)
    turned = np.ascontiguousarray(np.rot90(x, 1, axes=(2, 3)))
    lift, group = nn.P4ConvZ2(2, 3), nn.P4ConvP4(3, 3)

    def features(images):
        if nn is tnn:
            with torch.no_grad():
                return group(lift(torch.as_tensor(images))).numpy()
        return to_torch_layout(group(lift(np.transpose(images, (0, 2, 3, 1)))))

    plain, rotated = features(x), features(turned)
    # turning the input turns every map and moves rotation r to r + 1
    expected = np.roll(np.rot90(plain, 1, axes=(3, 4)), 1, axis=2)
    np.testing.assert_allclose(rotated, expected, atol=1e-4)
    pooled_plain, pooled_rotated = plain.max(axis=2), rotated.max(axis=2)
    np.testing.assert_allclose(pooled_rotated, np.rot90(pooled_plain, 1, axes=(2, 3)), atol=1e-4)


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_layer_arguments_get_one_clear_sentence(nn):
    with pytest.raises(ValueError, match="factor must be a fraction of a full turn"):
        nn.RandomRotation(factor=2)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        nn.P4ConvZ2(1, 2, kernel_size=4)
    with pytest.raises(ValueError, match="out_channels must be at least 1"):
        nn.P4ConvP4(1, 0)


# p4m: quarter turns and mirror flips, the dihedral group D4 of the square (8 elements); the P4M
# layers are reached through each framework's `layers` module


def d4(x, g):
    """Element g = 4 m + r of D4 applied to the last two axes of x: mirrored left-right m times,
    then turned r quarter turns counter-clockwise (np.rot90)."""
    mirror, turns = divmod(g, 4)
    return np.ascontiguousarray(np.rot90(x[..., ::-1] if mirror else x, turns, axes=(-2, -1)))


def d4_table():
    """product[g][h] = g h, read off how the transformations compose on an asymmetric array
    (independent of the layers' own bookkeeping), and inverse[g]."""
    probe = np.arange(9.0).reshape(3, 3)
    images = [d4(probe, g) for g in range(8)]
    assert len({im.tobytes() for im in images}) == 8  # eight different transformations

    def element(image):
        return next(g for g in range(8) if np.array_equal(images[g], image))

    product = [[element(d4(d4(probe, h), g)) for h in range(8)] for g in range(8)]
    inverse = [product[g].index(0) for g in range(8)]
    return product, inverse


def d4_act(maps, h, product, inverse):
    """The element h on p4m maps (N, C, 8, H, W): every map transformed by h and the map of
    element g taken from element h^-1 g."""
    return np.stack([d4(maps[:, :, product[inverse[h]][g]], h) for g in range(8)], axis=2)


def copy_p4m_weights(tlayer, klayer):
    w = tlayer.weight.detach().numpy()
    axes = (2, 3, 1, 0) if w.ndim == 4 else (3, 4, 1, 2, 0)  # to (k, k, in[, 8], out)
    klayer.set_weights([np.transpose(w, axes), tlayer.bias.detach().numpy()])


def test_p4m_layers_agree_between_frameworks():
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 9)).astype(np.float32)
    t_lift, k_lift = tnn.layers.P4MConvZ2(3, 4), knn.layers.P4MConvZ2(3, 4)
    t_group = tnn.layers.P4MConvP4M(4, 2, kernel_size=5)
    k_group = knn.layers.P4MConvP4M(4, 2, kernel_size=5)
    with torch.no_grad():
        t_lift.bias.uniform_(-1, 1)
        t_group.bias.uniform_(-1, 1)
    copy_p4m_weights(t_lift, k_lift)
    copy_p4m_weights(t_group, k_group)
    with torch.no_grad():
        t_maps = t_group(t_lift(torch.as_tensor(x)))
        t_out = tnn.layers.P4MPool()(t_maps).numpy()
    k_maps = k_group(k_lift(np.transpose(x, (0, 2, 3, 1))))
    assert tuple(t_maps.shape) == (2, 2, 8, 9, 9) and tuple(k_maps.shape) == (2, 9, 9, 2, 8)
    np.testing.assert_allclose(to_torch_layout(k_maps), t_maps.numpy(), atol=1e-4, rtol=1e-4)
    k_out = np.transpose(np.asarray(knn.layers.P4MPool()(k_maps)), (0, 3, 1, 2))
    np.testing.assert_allclose(k_out, t_out, atol=1e-4, rtol=1e-4)
    for t, k, weights in ((t_lift, k_lift, 3 * 4 * 9 + 4), (t_group, k_group, 4 * 8 * 2 * 25 + 2)):
        assert sum(p.numel() for p in t.parameters()) == weights
        assert sum(int(np.prod(v.shape)) for v in k.trainable_variables) == weights


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_p4m_layers_are_equivariant_to_turns_and_flips(nn):
    """Each layer on its own: transforming its input by any of the 8 elements h transforms every
    output map by h and moves group element g to h g (the regular representation of D4)."""
    rng = np.random.default_rng(4)
    images = rng.standard_normal((2, 2, 11, 11)).astype(np.float32)
    maps = rng.standard_normal((2, 3, 8, 11, 11)).astype(np.float32)  # p4m maps, (N, C, 8, H, W)
    layers = nn.layers
    lift, group, pool = layers.P4MConvZ2(2, 3), layers.P4MConvP4M(3, 2), layers.P4MPool()
    if nn is tnn:
        with torch.no_grad():  # non-zero biases, which must not break the symmetry either
            lift.bias.uniform_(-1, 1)
            group.bias.uniform_(-1, 1)

        def run(layer, x):
            with torch.no_grad():
                return layer(torch.as_tensor(x)).numpy()
    else:
        lift.bias.assign(rng.uniform(-1, 1, 3).astype(np.float32))
        group.bias.assign(rng.uniform(-1, 1, 2).astype(np.float32))

        def run(layer, x):
            inputs = np.transpose(x, (0, 2, 3, 1) if x.ndim == 4 else (0, 3, 4, 1, 2))
            out = np.asarray(layer(inputs))
            return to_torch_layout(out) if out.ndim == 5 else np.transpose(out, (0, 3, 1, 2))

    product, inverse = d4_table()
    lifted, grouped, pooled = run(lift, images), run(group, maps), run(pool, maps)
    for h in range(8):
        np.testing.assert_allclose(
            run(lift, d4(images, h)), d4_act(lifted, h, product, inverse), atol=1e-4
        )
        np.testing.assert_allclose(
            run(group, d4_act(maps, h, product, inverse)),
            d4_act(grouped, h, product, inverse),
            atol=1e-4,
        )
        np.testing.assert_allclose(
            run(pool, d4_act(maps, h, product, inverse)), d4(pooled, h), atol=1e-6
        )


@pytest.mark.parametrize("nn", [tnn, knn], ids=["torch", "keras"])
def test_p4m_layer_arguments_get_one_clear_sentence(nn):
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        nn.layers.P4MConvZ2(1, 2, kernel_size=2)
    with pytest.raises(ValueError, match="in_channels must be at least 1"):
        nn.layers.P4MConvP4M(0, 2)
