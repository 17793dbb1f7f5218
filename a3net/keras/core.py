"""Keras 3 side (TensorFlow backend): base classes, fit / predict / evaluate / saliency / generate.

Same public names, signatures and conventions as ``a3net.torch``: NumPy float32 in and out,
images (N, C, H, W) channels first at the boundary (models transpose to channels last inside).
``fit`` and ``evaluate`` are the loops of ``a3net._training``, shared with PyTorch; this module
supplies their :class:`KerasBackend`, whose batch step is a compiled ``tf.function`` over index
batches of tensors kept on the device.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

try:
    import tensorflow as tf
except ImportError:  # the `keras` extra keeps whatever TensorFlow is installed, if any
    raise ImportError(
        "a3net.keras needs TensorFlow, which is not installed; "
        "pip install 'a3net[tensorflow]' (tensorflow-cpu on Linux, tensorflow on macOS)."
    ) from None
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from .._threads import n_threads  # noqa: E402
from .._training import (  # noqa: E402
    Backend,
    ModelContract,
    bind_loops,
    check_use,
    latent_vectors,
)
from ..interpret import _attribution_maps  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        "a3net.keras needs the TensorFlow backend of Keras, but KERAS_BACKEND is "
        f"{keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow before importing keras."
    )

try:
    tf.config.threading.set_intra_op_parallelism_threads(n_threads())
    tf.config.threading.set_inter_op_parallelism_threads(min(2, n_threads()))
except RuntimeError:  # TensorFlow already initialised its thread pools
    pass


def device() -> str:
    """The device models train on: ``GPU:0`` if TensorFlow sees a GPU, else ``CPU:0``."""
    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


def init_like_torch(model) -> None:
    """Draw every Conv2D and Dense kernel and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    This is PyTorch's default for Conv2d and Linear (kaiming_uniform with a=sqrt(5), and the
    same bound for the bias), so the twins of the two frameworks start alike; every model that
    builds through ``A3Model._build_with_zeros`` gets it. Keras' own default (glorot-uniform
    kernels, zero biases) made the Keras cVAE a different model in practice: it put ~1 nat more
    in its latent code and its drawn rings missed the requested centre by 1.5x more (0.83 vs
    0.55 px in a 4000-ring test); swapping the two schemes between the frameworks swapped the
    results. The PyTorch scheme is kept because the book's numbers are PyTorch's.
    """
    pending = list(model.layers)
    while pending:
        layer = pending.pop()
        if isinstance(layer, keras.Sequential):
            pending += layer.layers
        elif isinstance(layer, (layers.Conv2D, layers.Dense)):
            bound = 1 / math.sqrt(math.prod(layer.kernel.shape[:-1]))
            for weight in (layer.kernel, layer.bias):
                if weight is not None:  # a convolution without bias (before a norm) has none
                    weight.assign(keras.random.uniform(weight.shape, -bound, bound))


class A3Model(ModelContract, keras.Model):
    """Base of every a3net model: its contract, its optimisers, its batch step and its noise."""

    def __init__(self):
        super().__init__()
        self.noise = keras.random.SeedGenerator(0)

    def training_loss(self, x, y, training: bool = False):
        """Mean loss of a batch and a dict of metric tensors to log.

        ``training`` says whether the batch trains (dropout on); ``fit`` passes True and
        ``evaluate`` False.
        """
        raise NotImplementedError

    def configure_optimizers(self, lr: float, weight_decay: float = 0.0) -> dict:
        """One optimiser per parameter group, ``{name: (optimizer, parameters)}``: Adam(W) here."""
        if weight_decay:
            opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=weight_decay)
        else:
            opt = keras.optimizers.Adam(learning_rate=lr)
        return {"model": (opt, list(self.trainable_variables))}

    def training_step(self, x, y, optimizers: dict) -> dict:
        """One gradient step on a batch; returns ``{"loss": ..., **metrics}`` as tensors."""
        (opt,) = optimizers.values()
        with tf.GradientTape() as tape:
            loss, metrics = self.training_loss(x, y, training=True)
        grads = tape.gradient(loss, self.trainable_variables)
        opt.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        return {"loss": loss, **metrics}

    def reset_noise(self, seed: int = 0) -> None:
        """Restart the model's own random stream (the latent samples of generative models)."""
        state = self.noise.state
        state.assign(keras.ops.cast(keras.ops.convert_to_tensor([int(seed), 0]), state.dtype))

    def normal_noise(self, like, shape=None):
        """Standard normal noise of ``shape`` (default: like's) on like's device, from the
        model's own stream."""
        shape = tf.shape(like) if shape is None else shape
        return keras.random.normal(shape, dtype=like.dtype, seed=self.noise)

    def uniform_noise(self, like, shape=None):
        """Uniform noise on [0, 1) of ``shape`` (default: like's), from the model's own stream."""
        shape = tf.shape(like) if shape is None else shape
        return keras.random.uniform(shape, dtype=like.dtype, seed=self.noise)

    @contextmanager
    def seeded_noise(self, seed: int = 0):
        """Within the block the noise stream restarts at ``seed``; afterwards it resumes."""
        saved = keras.ops.convert_to_numpy(self.noise.state.value).copy()
        self.reset_noise(seed)
        try:
            yield self
        finally:
            self.noise.state.assign(saved)

    def _build_with_zeros(self, *extra_inputs):
        """Create the weights by one call on zeros (Keras builds lazily), then initialise them as
        the PyTorch twin is (``init_like_torch``)."""
        self(np.zeros((1, *self.sample_shape), np.float32), *extra_inputs)
        init_like_torch(self)


class Classifier(A3Model):
    """A model whose output is one logit per class; trained with cross-entropy."""

    task = "classification"

    def training_loss(self, x, y, training=False):
        logits = tf.cast(self(x, training=training), tf.float32)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        )
        hits = tf.cast(tf.equal(tf.argmax(logits, axis=1), y), tf.float32)
        return loss, {"accuracy": tf.reduce_mean(hits)}


class Regressor(A3Model):
    """A model whose output is ``n_outputs`` real numbers; trained with the mean squared error."""

    task = "regression"

    def training_loss(self, x, y, training=False):
        pred = tf.cast(self(x, training=training), tf.float32)
        loss = tf.reduce_mean(tf.square(pred - y))
        return loss, {"mae": tf.reduce_mean(tf.abs(pred - y))}


class ConditionalGenerator(A3Model):
    """A conditional generative model: trained on (samples, conditions); draws with ``generate``."""

    task = "generative"
    latent_dim = 1

    def decode_samples(self, z, c):
        """Samples (N, *sample_shape) for latent vectors z (N, latent_dim) and conditions c."""
        raise NotImplementedError


def count_parameters(model) -> int:
    """Number of trainable parameters."""
    return int(sum(int(np.prod(v.shape)) for v in model.trainable_variables))


class KerasBackend(Backend):
    """The Keras pieces of the shared training loop."""

    name = "keras"
    optimizer_type = keras.optimizers.Optimizer

    def check_model(self, model):
        if not isinstance(model, A3Model):
            raise TypeError(f"model must be an a3net.keras model, got {type(model).__name__}.")

    def seed(self, seed):
        tf.random.set_seed(seed)

    def to_device(self, array):
        return tf.constant(array)

    def trainable_parameters(self, model):
        return list(model.trainable_variables)

    def prepare_optimizer(self, model, name, optimizer, parameters):
        optimizer.build(list(parameters))  # slots exist before the step is traced

    def get_learning_rate(self, optimizer):
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))

    def set_learning_rate(self, optimizer, rate):
        optimizer.learning_rate.assign(rate)

    def batch_step(self, model, optimizers, x, y):
        # one trace for every batch size (the last batch of an epoch is usually shorter)
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
        def compiled(idx):
            return model.training_step(tf.gather(x, idx), tf.gather(y, idx), optimizers)

        return lambda idx: compiled(tf.constant(idx, dtype=tf.int64))

    def loss_of_batch(self, model, x, y):
        loss, metrics = model.training_loss(tf.constant(x), tf.constant(y), training=False)
        return {"loss": loss, **metrics}


BACKEND = KerasBackend()


fit, evaluate = bind_loops(BACKEND)


def predict(model, x, *, batch_size: int = 256) -> np.ndarray:
    """Outputs of ``model`` for NumPy ``x``: logits (classifiers) or values (regressors)."""
    check_use(BACKEND, model, "predict")
    x = model.check_inputs(x)
    out = [
        np.asarray(model(tf.constant(x[s : s + batch_size]), training=False), np.float32)
        for s in range(0, len(x), batch_size)
    ]
    return np.concatenate(out)


def saliency(
    model,
    x,
    *,
    output: int | None = None,
    batch_size: int = 64,
    method: str = "gradient",
    n_samples: int = 16,
    noise: float = 0.1,
    steps: int = 32,
    baseline=None,
    seed: int = 0,
    signed: bool = False,
) -> np.ndarray:
    """Saliency maps of ``model`` for NumPy ``x`` (N, ...): float32, same shape as ``x``.

    ``method``:

    * ``"gradient"``: |d out / d x| (Simonyan et al. 2014).
    * ``"smoothgrad"`` (Smilkov et al. 2017): |mean of d out / d x| over ``n_samples`` copies
      of each image with Gaussian noise of sd ``noise`` * (max - min of that image) added; the
      gradients are averaged first, as in the paper, so noise that flips their sign cancels.
      The noise comes from NumPy's generator seeded with ``seed``: both frameworks see the
      same noisy inputs.
    * ``"integrated_gradients"`` (Sundararajan et al. 2017): |(x - baseline) * mean gradient|
      at the ``steps`` midpoints baseline + (k + 1/2) / steps * (x - baseline) of the straight
      path; ``baseline`` is a number, one sample or an array like ``x``, zeros (no photons) by
      default. Signed, the attributions of an image sum to about out(x) - out(baseline).

    ``output`` picks the output unit; ``None`` means each sample's predicted class (at ``x``)
    for classifiers and output 0 for regressors. ``signed=True`` returns the signed gradient,
    mean gradient or attribution instead of its absolute value. ``batch_size`` counts the
    model inputs per pass, noisy copies and path points included.
    """
    check_use(BACKEND, model, "saliency")
    x = model.check_inputs(x)
    return _attribution_maps(
        x, model.task, lambda xb: _outputs(model, xb), lambda xb, u: _gradients(model, xb, u),
        output=output, batch_size=batch_size, method=method, n_samples=n_samples, noise=noise,
        steps=steps, baseline=baseline, seed=seed, signed=signed,
    )  # fmt: skip


def _outputs(model, xb: np.ndarray) -> np.ndarray:
    return np.asarray(tf.cast(model(tf.constant(xb), training=False), tf.float32))


def _gradients(model, xb: np.ndarray, units) -> np.ndarray:
    """d out[i, units[i]] / d xb[i] for a batch; ``units=None``: each row's largest output."""
    xb = tf.constant(np.ascontiguousarray(xb))
    with tf.GradientTape() as tape:
        tape.watch(xb)
        out = tf.cast(model(xb, training=False), tf.float32)
        unit = tf.argmax(out, axis=1) if units is None else tf.constant(units, tf.int64)
        picked = tf.reduce_sum(tf.gather(out, unit, axis=1, batch_dims=1))
    return tape.gradient(picked, xb).numpy().astype(np.float32)


def generate(model, conditions, *, seed: int = 0, batch_size: int = 256, latent=None) -> np.ndarray:
    """Samples drawn by a conditional generator for ``conditions`` (N, n_conditions): float32.

    The latent vectors are draws from NumPy's generator seeded with ``seed``: standard normal,
    or uniform with unit variance for a model whose ``latent_noise`` is ``"uniform"``; both
    frameworks decode the same z for the same seed. ``latent`` (N, latent_dim) decodes given
    latent vectors instead (e.g. points on a path between two draws).
    """
    check_use(BACKEND, model, "generate")
    c = model.check_targets(conditions, len(np.asarray(conditions)), "conditions")
    z_all = latent_vectors(model, len(c), seed, latent)
    out = [
        np.asarray(
            model.decode_samples(
                tf.constant(z_all[s : s + batch_size]), tf.constant(c[s : s + batch_size])
            )
        )
        for s in range(0, len(c), batch_size)
    ]
    return np.concatenate(out).astype(np.float32)
