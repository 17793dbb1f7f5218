"""Keras 3 side (TensorFlow backend): the device, the base classes and the engine's primitives.

Same public names, signatures and conventions as ``a3net.torch``: NumPy float32 in and out,
images (N, C, H, W) channels first at the boundary (models transpose to channels last inside).
``fit``, ``evaluate``, ``predict``, ``saliency``, ``generate`` and ``count_parameters`` are
written once in ``a3net._engine``; this module supplies their :class:`KerasBackend`, whose batch
step is a compiled ``tf.function`` over index batches of tensors kept on the device, and the
primitives of :class:`A3Model`. Importing it changes no process-wide setting: TensorFlow's
thread pools are set when the first model is built or trained (``a3net._threads.configure``).
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

from .._engine.api import bind_api  # noqa: E402
from .._engine.contract import GenerativeContract, ModelContract  # noqa: E402
from .._engine.training import Backend  # noqa: E402
from .._threads import configure  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        "a3net.keras needs the TensorFlow backend of Keras, but KERAS_BACKEND is "
        f"{keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow before importing keras."
    )


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
    """Base of every a3net model: its contract, its optimisers, its batch step and its noise.

    ``training`` says whether ``fit`` is running its epochs (as a PyTorch module's does); the
    layers get the mode as their ``training`` argument.
    """

    def __init__(self):
        configure("keras")  # before TensorFlow's first op fixes its thread pools
        super().__init__()
        object.__setattr__(self, "training", False)  # as a torch module's: True while fit trains
        self.noise = keras.random.SeedGenerator(0)

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

    # --- primitives of the shared engine (documented on ModelContract) -------------------------

    def _parameters_of(self, *modules):
        return [v for m in modules for v in m.trainable_variables]

    def _optimizer(self, parameters, lr, *, weight_decay=0.0, kind="adam", betas=(0.9, 0.999)):
        if kind == "rmsprop":
            return keras.optimizers.RMSprop(lr, rho=0.99, epsilon=1e-8)
        if weight_decay:
            return keras.optimizers.AdamW(
                lr, weight_decay=weight_decay, beta_1=betas[0], beta_2=betas[1]
            )
        return keras.optimizers.Adam(lr, beta_1=betas[0], beta_2=betas[1])

    def _gradient_step(self, groups, loss_fn):
        with tf.GradientTape() as tape:
            loss, metrics = loss_fn()
        grads = tape.gradient(loss, [v for _, params in groups for v in params])
        start = 0
        for opt, params in groups:
            opt.apply_gradients(zip(grads[start : start + len(params)], params, strict=True))
            start += len(params)
        return loss, metrics

    def _repeat(self, n, body, initial):
        initial = tf.nest.map_structure(lambda v: tf.constant(v, tf.float32), initial)
        # a graph loop: the body is traced once
        _, value = tf.while_loop(lambda i, _: i < n, lambda i, _: (i + 1, body()), (0, initial))
        return value

    def _clip(self, parameters, value):
        for v in parameters:
            v.assign(tf.clip_by_value(v, -value, value))

    def _input_gradient(self, fn, x, create_graph):
        with tf.GradientTape() as tape:  # an outer tape, if any, differentiates through it
            tape.watch(x)
            score = fn(x)
        return tape.gradient(score, x)

    def _call(self, layer, *inputs, training=False):
        return layer(*inputs, training=training)

    def _rows(self, x):
        return tf.shape(x)[0]

    def _mean(self, x):
        return tf.reduce_mean(x)

    def _sum(self, x):
        return tf.reduce_sum(x)

    def _row_norm(self, x):
        return tf.norm(x, axis=1)

    def _concat(self, tensors):
        return tf.concat(tensors, axis=1)

    def _stop_gradient(self, x):
        return tf.stop_gradient(x)

    def _zeros_like(self, x):
        return tf.zeros_like(x)

    def _weight_checksum(self):
        values = [np.asarray(keras.ops.convert_to_numpy(v), np.float64) for v in self.weights]
        if not values:
            return ()
        return (float(sum(v.sum() for v in values)), float(sum((v * v).sum() for v in values)))

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


class ConditionalGenerator(GenerativeContract, A3Model):
    """A conditional generative model: trained on (samples, conditions); draws with ``generate``."""


class KerasBackend(Backend):
    """The Keras pieces of the shared engine."""

    name = "keras"
    optimizer_type = keras.optimizers.Optimizer

    def configure(self):
        configure("keras")

    def check_model(self, model):
        if not isinstance(model, A3Model):
            raise TypeError(f"model must be an a3net.keras model, got {type(model).__name__}.")

    def seed(self, seed):
        tf.random.set_seed(seed)

    def set_training(self, model, training):
        object.__setattr__(model, "training", bool(training))

    def initial_weights(self, model, seed):
        # keras.utils.set_random_seed, as seed_everything calls it, seeds Keras's initialisers,
        # which draw from Python's and NumPy's global generators: their states are kept
        import random

        python_state, numpy_state = random.getstate(), np.random.get_state()  # noqa: NPY002
        try:
            keras.utils.set_random_seed(int(seed))
            args, kwargs = model.twin_arguments()
            twin = type(model)(*args, **kwargs)
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)  # noqa: NPY002
        # the weights and the layers' random streams (dropout's seed generators, the noise)
        mine, fresh = model.variables, twin.variables
        if [v.shape for v in mine] != [v.shape for v in fresh]:
            raise ValueError(
                f"{type(model).__name__} rebuilt with its arguments has other variables; build it "
                "so that its constructor creates all of them."
            )
        for variable, value in zip(mine, fresh, strict=True):
            variable.assign(value.value)

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

    def outputs(self, model, x):
        return np.asarray(tf.cast(model(tf.constant(x), training=False), tf.float32))

    def input_gradients(self, model, x, units):
        x = tf.constant(np.ascontiguousarray(x))
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.cast(model(x, training=False), tf.float32)
            unit = tf.argmax(out, axis=1) if units is None else tf.constant(units, tf.int64)
            picked = tf.reduce_sum(tf.gather(out, unit, axis=1, batch_dims=1))
        return tape.gradient(picked, x).numpy().astype(np.float32)

    def decode(self, model, z, c):
        return np.asarray(model.decode_samples(tf.constant(z), tf.constant(c)), np.float32)


BACKEND = KerasBackend()
_API = bind_api(BACKEND)
fit, evaluate, predict = _API.fit, _API.evaluate, _API.predict
saliency, generate, count_parameters = _API.saliency, _API.generate, _API.count_parameters
