"""Keras 3 side (TensorFlow backend): model base classes and fit / predict / evaluate / saliency / generate.

Same public names, signatures and conventions as ``a3net.torch``: NumPy float32 in and out,
images (N, C, H, W) channels first at the boundary (models transpose to channels last inside).
Training is a compiled ``tf.GradientTape`` loop over index batches of tensors kept on the device.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm import tqdm  # noqa: E402

from .._threads import n_threads  # noqa: E402
from .._training import prepare_fit
from .._validation import as_float_array, check_targets  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"a3net.keras needs the TensorFlow backend of Keras, but KERAS_BACKEND is {keras.backend.backend()!r}; "
        "set KERAS_BACKEND=tensorflow before importing keras."
    )

try:
    tf.config.threading.set_intra_op_parallelism_threads(n_threads())
    tf.config.threading.set_inter_op_parallelism_threads(min(2, n_threads()))
except RuntimeError:  # TensorFlow already initialised its thread pools
    pass


def device() -> str:
    """The device models train on: ``GPU:0`` if TensorFlow sees a GPU, else ``CPU:0``."""
    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


class A3Model(keras.Model):
    """Base of every a3net model: declares its input shape and computes its own training loss."""

    task = "regression"
    sample_shape: tuple = ()  # shape of one input sample, channels first, e.g. (1, 28, 28)

    def training_loss(self, x, y, training: bool = False):
        """Mean loss of a batch and a dict of metric tensors to log."""
        raise NotImplementedError

    def check_inputs(self, x, name: str = "x") -> np.ndarray:
        return as_float_array(x, name, ndim=len(self.sample_shape) + 1, shape_tail=self.sample_shape)

    def check_targets(self, y, n: int, name: str = "y") -> np.ndarray:
        return check_targets(y, n, name)

    def reset_noise(self, seed: int = 0) -> None:
        """Restart the model's own random stream (the cVAE's latent samples); no-op otherwise."""

    def _build_with_zeros(self, *extra_inputs):
        """Create the weights by one call on zeros (Keras builds lazily)."""
        self(np.zeros((1, *self.sample_shape), np.float32), *extra_inputs)


class Classifier(A3Model):
    """A model whose output is one logit per class; trained with cross-entropy."""

    task = "classification"
    n_classes = 2

    def check_targets(self, y, n, name="y"):
        return check_targets(y, n, name, classification=True, n_classes=self.n_classes)

    def training_loss(self, x, y, training=False):
        logits = tf.cast(self(x, training=training), tf.float32)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, axis=1), y), tf.float32))
        return loss, {"accuracy": accuracy}


class Regressor(A3Model):
    """A model whose output is ``n_outputs`` real numbers; trained with the mean squared error."""

    task = "regression"
    n_outputs = 1

    def check_targets(self, y, n, name="y"):
        return check_targets(y, n, name, n_outputs=self.n_outputs)

    def training_loss(self, x, y, training=False):
        pred = tf.cast(self(x, training=training), tf.float32)
        loss = tf.reduce_mean(tf.square(pred - y))
        return loss, {"mae": tf.reduce_mean(tf.abs(pred - y))}


class ConditionalGenerator(A3Model):
    """A conditional generative model: trained on (images, conditions); draws images with ``generate``."""

    task = "generative"
    n_conditions = 1

    def check_targets(self, y, n, name="conditions"):
        return check_targets(y, n, name, n_outputs=self.n_conditions)


def count_parameters(model) -> int:
    """Number of trainable parameters."""
    return int(sum(int(np.prod(v.shape)) for v in model.trainable_variables))


def _check_model(model):
    if not isinstance(model, A3Model):
        raise TypeError(f"model must be an a3net.keras model, got {type(model).__name__}.")


def fit(model, x, y, *, epochs: int, batch_size: int = 64, lr: float = 1e-3,
        weight_decay: float = 0.0, schedule: str = "cosine", validation=None, seed: int = 0,
        progress: bool = True) -> dict:
    """Train ``model`` on NumPy ``x`` (N, ...) and ``y`` with Adam(W); returns the per-epoch history.

    ``schedule`` is ``"cosine"`` (the learning rate decays from ``lr`` to ``lr/100`` along a
    cosine over the epochs) or ``"constant"``.
    ``validation=(x_val, y_val)`` is evaluated after every epoch. The history maps ``loss`` and the
    model's metrics (and their ``val_`` versions) to lists with one value per epoch.
    """
    _check_model(model)
    x, y, validation, rates, batch_size = prepare_fit(model, x, y, epochs=epochs, batch_size=batch_size,
                                                      lr=lr, schedule=schedule, validation=validation)
    tf.random.set_seed(seed)
    rng = np.random.default_rng(seed)
    xt, yt = tf.constant(x), tf.constant(y)
    if weight_decay:
        opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=weight_decay)
    else:
        opt = keras.optimizers.Adam(learning_rate=lr)
    opt.build(model.trainable_variables)

    @tf.function(reduce_retracing=True)
    def train_step(idx):
        xb, yb = tf.gather(xt, idx), tf.gather(yt, idx)
        with tf.GradientTape() as tape:
            loss, metrics = model.training_loss(xb, yb, training=True)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return {"loss": loss, **metrics}

    history: dict[str, list[float]] = {}
    bar = tqdm(range(epochs), desc=type(model).__name__, disable=not progress, file=sys.stderr,
               leave=False)
    for epoch in bar:
        opt.learning_rate.assign(rates[epoch])
        order = rng.permutation(len(x))
        totals: dict[str, float] = {}
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            values = train_step(tf.constant(idx))
            for key, value in values.items():  # summed as tensors: no host sync per batch
                totals[key] = totals.get(key, 0.0) + value * len(idx)
        for key, value in totals.items():
            history.setdefault(key, []).append(float(value) / len(x))
        if validation is not None:
            for key, value in evaluate(model, *validation, batch_size=max(batch_size, 256)).items():
                history.setdefault(f"val_{key}", []).append(value)
        bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items()})
    bar.close()
    return history


def evaluate(model, x, y, *, batch_size: int = 256) -> dict:
    """Mean loss and metrics of ``model`` on (x, y), in evaluation mode; a dict of floats."""
    _check_model(model)
    x = model.check_inputs(x)
    y = model.check_targets(y, len(x))
    model.reset_noise(0)
    totals: dict[str, float] = {}
    for start in range(0, len(x), batch_size):
        xb, yb = tf.constant(x[start:start + batch_size]), tf.constant(y[start:start + batch_size])
        loss, metrics = model.training_loss(xb, yb, training=False)
        for key, value in {"loss": loss, **metrics}.items():
            totals[key] = totals.get(key, 0.0) + float(value) * len(xb)
    return {key: value / len(x) for key, value in totals.items()}


def predict(model, x, *, batch_size: int = 256) -> np.ndarray:
    """Outputs of ``model`` for NumPy ``x`` as NumPy float32: logits for classifiers, values for regressors."""
    _check_model(model)
    if model.task == "generative":
        raise TypeError(f"{type(model).__name__} is generative: draw images with generate(model, conditions).")
    x = model.check_inputs(x)
    out = [np.asarray(model(tf.constant(x[s:s + batch_size]), training=False), np.float32)
           for s in range(0, len(x), batch_size)]
    return np.concatenate(out)


def saliency(model, x, *, output: int | None = None, batch_size: int = 64) -> np.ndarray:
    """Vanilla-gradient saliency |d output / d input| (Simonyan et al. 2014), same shape as ``x``.

    ``output`` picks the output unit; ``None`` means each sample's predicted class for classifiers
    and output 0 for regressors.
    """
    _check_model(model)
    if model.task == "generative":
        raise TypeError(f"saliency needs a classifier or a regressor, not the generative {type(model).__name__}.")
    x = model.check_inputs(x)
    maps = []
    for start in range(0, len(x), batch_size):
        xb = tf.constant(x[start:start + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(xb)
            out = tf.cast(model(xb, training=False), tf.float32)
            if output is None:
                unit = tf.argmax(out, axis=1) if model.task == "classification" else tf.zeros(len(x[start:start + batch_size]), tf.int64)
            else:
                if not 0 <= output < out.shape[1]:
                    raise ValueError(f"output must be between 0 and {out.shape[1] - 1}, got {output}.")
                unit = tf.fill([xb.shape[0]], tf.constant(output, tf.int64))
            picked = tf.reduce_sum(tf.gather(out, unit, axis=1, batch_dims=1))
        maps.append(np.abs(tape.gradient(picked, xb).numpy()))
    return np.concatenate(maps).astype(np.float32)


def generate(model, conditions, *, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    """Images drawn by a conditional generator for ``conditions`` (N, n_conditions): NumPy float32.

    The latent vectors are standard normal draws from NumPy's generator seeded with ``seed``, so
    both frameworks decode the same z for the same seed.
    """
    _check_model(model)
    if model.task != "generative":
        raise TypeError(f"generate needs a conditional generative model, not {type(model).__name__}.")
    c = model.check_targets(conditions, len(np.asarray(conditions)), "conditions")
    z_all = np.random.default_rng(seed).standard_normal((len(c), model.latent_dim)).astype(np.float32)
    out = [np.asarray(model.decode_images(tf.constant(z_all[s:s + batch_size]), tf.constant(c[s:s + batch_size])))
           for s in range(0, len(c), batch_size)]
    return np.concatenate(out).astype(np.float32)
