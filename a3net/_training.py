"""The training loop, written once for both frameworks, and the model contract.

``a3net.torch`` and ``a3net.keras`` each supply a :class:`Backend` (moving arrays to the device,
seeding, the optimiser plumbing and a compiled batch step); everything else of ``fit`` and
``evaluate`` is here: argument checks, the learning-rate schedule, batches by index, the history
with ``val_`` keys and the progress bar.

A model takes part through hooks that it may override (d2l's ``training_step`` and Keras's
``train_step`` are the models): ``configure_optimizers(lr, weight_decay)`` returns one optimiser
per parameter group, ``training_step(x, y, optimizers)`` takes one batch's gradient steps and
returns its loss and metrics, and ``training_loss(x, y, training)`` is the loss ``evaluate``
reports. A WGAN critic takes n steps per generator step with two optimisers; a cVAE adds its KL
term; both train through the same ``fit``.

Precision: both frameworks train in float32 on every device (TensorFloat-32 matrix products on
GPUs that have them, TensorFlow's default and set for PyTorch too); neither uses bf16 autocast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from ._validation import as_float_array, check_non_negative, check_positive_int, check_targets

SCHEDULES = ("cosine", "constant")


def learning_rates(lr: float, epochs: int, schedule: str = "cosine") -> list[float]:
    """The learning rate of every epoch: constant, or a cosine decay from ``lr`` to ``lr / 100``."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    if schedule == "constant":
        return [float(lr)] * epochs
    if schedule == "cosine":
        floor = lr / 100
        t = np.arange(epochs) / max(epochs - 1, 1)
        return [float(floor + (lr - floor) * 0.5 * (1 + np.cos(np.pi * v))) for v in t]
    raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}.")


class ModelContract:
    """What every a3net model declares, in both frameworks: its task and the shape of one sample.

    ``task`` is ``classification`` (targets are class indices below ``n_classes``),
    ``regression`` (targets (N, ``n_outputs``)) or ``generative`` (conditions
    (N, ``n_conditions``)); ``sample_shape`` is one input sample's shape, channels first for
    images, e.g. (1, 28, 28).
    """

    task = "regression"
    sample_shape: tuple = ()
    n_classes = 2
    n_outputs = 1
    n_conditions = 1

    def check_inputs(self, x, name: str = "x") -> np.ndarray:
        """``x`` as float32 (N, *sample_shape), or a clear error naming ``name``."""
        return as_float_array(
            x, name, ndim=len(self.sample_shape) + 1, shape_tail=self.sample_shape
        )

    def check_targets(self, y, n: int, name: str | None = None) -> np.ndarray:
        """Targets of ``n`` samples for this model's task: int64 classes or float32 (N, K)."""
        if self.task == "classification":
            return check_targets(y, n, name or "y", classification=True, n_classes=self.n_classes)
        if self.task == "generative":
            return check_targets(y, n, name or "conditions", n_outputs=self.n_conditions)
        return check_targets(y, n, name or "y", n_outputs=self.n_outputs)


class Backend:
    """What a framework supplies to the shared loop; a3net.torch and a3net.keras subclass it."""

    name = ""  # the framework, as users name it: torch or keras
    optimizer_type: type = object  # the framework's optimiser base class

    def check_model(self, model) -> None:
        """Raise TypeError unless ``model`` is one of this framework's a3net models."""
        raise NotImplementedError

    def seed(self, seed: int) -> None:
        """Seed the framework's global generators (dropout, initialisation)."""
        raise NotImplementedError

    def to_device(self, array: np.ndarray):
        """A NumPy array as a tensor on the training device."""
        raise NotImplementedError

    def set_training(self, model, training: bool) -> None:
        """Put ``model`` in training or evaluation mode."""

    def trainable_parameters(self, model) -> list:
        """The model's trainable parameters (tensors or variables)."""
        raise NotImplementedError

    def prepare_optimizer(self, model, name: str, optimizer, parameters) -> None:
        """Make one checked optimiser ready for the compiled step (or refuse it)."""

    def get_learning_rate(self, optimizer) -> float:
        raise NotImplementedError

    def set_learning_rate(self, optimizer, rate: float) -> None:
        raise NotImplementedError

    def batch_step(self, model, optimizers: dict, x, y) -> Callable:
        """A function of a batch's index array that runs ``model.training_step`` on that batch."""
        raise NotImplementedError

    def loss_of_batch(self, model, x: np.ndarray, y: np.ndarray) -> dict:
        """``model.training_loss`` of one NumPy batch in evaluation mode, as device scalars."""
        raise NotImplementedError

    def to_float(self, value) -> float:
        return float(value)


def check_optimizer_groups(model, groups, parameters: Sequence, backend: Backend) -> dict:
    """``groups`` from ``model.configure_optimizers``: a dict name -> (optimizer, parameters)
    whose parameter lists split the model's trainable ``parameters`` with none left out."""
    owner = type(model).__name__
    if not isinstance(groups, Mapping) or not groups:
        raise TypeError(
            f"{owner}.configure_optimizers must return a non-empty dict "
            f"{{name: (optimizer, parameters)}}, got {type(groups).__name__}."
        )
    seen: dict[int, str] = {}
    for name, group in groups.items():
        if not (isinstance(group, tuple) and len(group) == 2):
            raise TypeError(
                f"{owner}.configure_optimizers()[{name!r}] must be a pair "
                f"(optimizer, parameters), got {type(group).__name__}."
            )
        for p in group[1]:
            if id(p) in seen:
                raise ValueError(
                    f"{owner}.configure_optimizers gives one parameter to both "
                    f"{seen[id(p)]!r} and {name!r}; each parameter needs exactly one optimiser."
                )
            seen[id(p)] = name
    model_ids = {id(p) for p in parameters}
    foreign = set(seen) - model_ids
    missing = model_ids - set(seen)
    if foreign or missing:
        raise ValueError(
            f"{owner}.configure_optimizers does not match the model's parameters: "
            f"{len(missing)} trainable parameters have no optimiser and {len(foreign)} "
            "optimised parameters are not the model's; give every trainable parameter "
            "to exactly one optimiser."
        )
    optimizers = {}
    for name, (opt, params) in groups.items():
        if not isinstance(opt, backend.optimizer_type):
            raise TypeError(
                f"{owner}.configure_optimizers()[{name!r}] must hold a {backend.name} "
                f"optimizer, got {type(opt).__name__}."
            )
        backend.prepare_optimizer(model, name, opt, params)
        optimizers[name] = opt
    return optimizers


def check_step_output(model, values) -> dict:
    """The dict returned by ``model.training_step``: it must hold the batch's ``loss``."""
    if not isinstance(values, Mapping) or "loss" not in values:
        got = sorted(values) if isinstance(values, Mapping) else type(values).__name__
        raise ValueError(
            f"{type(model).__name__}.training_step must return a dict with a 'loss' entry "
            f"(and any metrics), got {got}."
        )
    return dict(values)


def prepare_fit(model, x, y, *, epochs, batch_size, lr, schedule, validation):
    """Check the arguments of ``fit``: returns x, y, validation, rates, batch_size."""
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    rates = learning_rates(lr, epochs, schedule)
    x = model.check_inputs(x)
    y = model.check_targets(y, len(x))
    if validation is not None:
        if len(validation) != 2:
            raise ValueError("validation must be a pair (x_val, y_val).")
        x_val = model.check_inputs(validation[0], "validation x")
        validation = (x_val, model.check_targets(validation[1], len(x_val), "validation y"))
    return x, y, validation, rates, batch_size


def fit_loop(
    backend: Backend,
    model,
    x,
    y,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    schedule: str,
    validation,
    seed: int,
    progress: bool,
    callback: Callable | None = None,
) -> dict:
    """The epoch loop of ``fit`` for either framework; returns the per-epoch history."""
    backend.check_model(model)
    if callback is not None and not callable(callback):
        raise TypeError(
            "callback must be a function of the epoch index (or None), got "
            f"{type(callback).__name__}."
        )
    x, y, validation, rates, batch_size = prepare_fit(
        model,
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        schedule=schedule,
        validation=validation,
    )
    weight_decay = check_non_negative(weight_decay, "weight_decay")
    backend.seed(seed)
    model.reset_noise(seed)
    rng = np.random.default_rng(seed)
    groups = model.configure_optimizers(lr=lr, weight_decay=weight_decay)
    optimizers = check_optimizer_groups(model, groups, backend.trainable_parameters(model), backend)
    scale = {name: backend.get_learning_rate(opt) / lr for name, opt in optimizers.items()}
    step = backend.batch_step(model, optimizers, backend.to_device(x), backend.to_device(y))
    history: dict[str, list[float]] = {}
    callback_keys: set[str] = set()
    bar = tqdm(
        range(epochs), desc=type(model).__name__, disable=not progress, file=sys.stderr, leave=False
    )
    for epoch in bar:
        for name, opt in optimizers.items():
            backend.set_learning_rate(opt, rates[epoch] * scale[name])
        backend.set_training(model, True)
        totals: dict = {}
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            values = step(idx)
            if not totals:
                values = check_step_output(model, values)
            for key, value in values.items():  # summed on the device: no host sync per batch
                totals[key] = totals.get(key, 0.0) + value * len(idx)
        for key, value in totals.items():
            history.setdefault(key, []).append(backend.to_float(value) / len(x))
        if validation is not None:
            scores = evaluate_loop(backend, model, *validation, batch_size=max(batch_size, 256))
            for key, value in scores.items():
                history.setdefault(f"val_{key}", []).append(value)
        if callback is not None:  # its keys get NaN in the epochs it returns nothing for
            backend.set_training(model, False)
            for key, value in (callback(epoch) or {}).items():
                history.setdefault(key, [np.nan] * epoch).append(float(value))
                callback_keys.add(key)
            for key in callback_keys:
                history[key] += [np.nan] * (epoch + 1 - len(history[key]))
        bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items()})
    bar.close()
    backend.set_training(model, False)
    return history


def evaluate_loop(
    backend: Backend, model, x, y, *, batch_size: int = 256, noise_seed: int = 0
) -> dict:
    """Mean loss and metrics of ``model`` on (x, y) in evaluation mode, as floats.

    Models that sample noise in their loss (the cVAE's z) draw it from their own stream,
    restarted at ``noise_seed`` here and restored afterwards, so evaluation is repeatable and
    does not disturb training.
    """
    backend.check_model(model)
    x = model.check_inputs(x)
    y = model.check_targets(y, len(x))
    batch_size = check_positive_int(batch_size, "batch_size")
    backend.set_training(model, False)
    totals: dict = {}
    with model.seeded_noise(noise_seed):
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            for key, value in backend.loss_of_batch(model, xb, yb).items():
                totals[key] = totals.get(key, 0.0) + value * len(xb)
    return {key: backend.to_float(value) / len(x) for key, value in totals.items()}


def bind_loops(backend: Backend):
    """``fit`` and ``evaluate`` of one framework: the shared loops bound to its backend."""

    def fit(
        model,
        x,
        y,
        *,
        epochs: int,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        schedule: str = "cosine",
        validation=None,
        seed: int = 0,
        progress: bool = True,
        callback: Callable | None = None,
    ) -> dict:
        """Train ``model`` on NumPy ``x`` (N, ...) and ``y``; returns the per-epoch history.

        The model's ``configure_optimizers`` gives its optimisers (Adam(W) by default) and its
        ``training_step`` takes each batch's steps. ``schedule`` is ``"cosine"`` (the learning
        rate decays from ``lr`` to ``lr/100`` along a cosine over the epochs) or ``"constant"``.
        ``validation=(x_val, y_val)`` is evaluated after every epoch. ``callback(epoch)``, if
        given, runs after every epoch with the model in evaluation mode and may return a dict of
        numbers to record (e.g. a sample-quality score of a generator at each checkpoint). The
        history maps ``loss`` and the model's metrics (and their ``val_`` versions, and the
        callback's keys) to lists, one value per epoch.
        """
        return fit_loop(
            backend, model, x, y, epochs=epochs, batch_size=batch_size, lr=lr,
            weight_decay=weight_decay, schedule=schedule, validation=validation, seed=seed,
            progress=progress, callback=callback,
        )  # fmt: skip

    def evaluate(model, x, y, *, batch_size: int = 256) -> dict:
        """Mean loss and metrics of ``model`` on (x, y), in evaluation mode; a dict of floats."""
        return evaluate_loop(backend, model, x, y, batch_size=batch_size)

    return fit, evaluate


def check_use(backend: Backend, model, use: str) -> None:
    """Raise TypeError unless ``model`` suits ``use``: ``predict`` and ``saliency`` need a
    classifier or a regressor, ``generate`` a conditional generative model."""
    backend.check_model(model)
    name = type(model).__name__
    if use == "generate" and model.task != "generative":
        raise TypeError(f"generate needs a conditional generative model, not {name}.")
    if use == "predict" and model.task == "generative":
        raise TypeError(f"{name} is generative: draw samples with generate(model, conditions).")
    if use == "saliency" and model.task == "generative":
        raise TypeError(f"saliency needs a classifier or a regressor, not the generative {name}.")


def saliency_unit(task: str, output: int | None, n_outputs: int) -> int | None:
    """The output unit saliency differentiates: None for each sample's predicted class."""
    if output is None:
        return None if task == "classification" else 0
    if (
        isinstance(output, bool)
        or not isinstance(output, (int, np.integer))
        or not (0 <= output < n_outputs)
    ):
        raise ValueError(f"output must be between 0 and {n_outputs - 1}, got {output!r}.")
    return int(output)


LATENT_NOISES = ("normal", "uniform")


def latent_draws(n: int, latent_dim: int, seed: int, noise: str = "normal") -> np.ndarray:
    """Latent vectors (n, latent_dim) float32 from NumPy, the same in both frameworks.

    ``noise`` is ``"normal"`` (standard normal) or ``"uniform"`` (uniform on [-sqrt(3), sqrt(3)],
    zero mean and unit variance like the normal draws).
    """
    if noise not in LATENT_NOISES:
        raise ValueError(
            f"noise must be one of {', '.join(map(repr, LATENT_NOISES))}, got {noise!r}."
        )
    rng = np.random.default_rng(seed)
    if noise == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), (n, latent_dim)).astype(np.float32)
    return rng.standard_normal((n, latent_dim)).astype(np.float32)


def latent_vectors(model, n: int, seed: int, latent=None) -> np.ndarray:
    """The latent vectors ``generate`` decodes: ``latent`` checked as (n, latent_dim) float32,
    or ``latent_draws`` of the model's noise kind seeded with ``seed``."""
    if latent is None:
        return latent_draws(n, model.latent_dim, seed, getattr(model, "latent_noise", "normal"))
    z = np.asarray(latent, dtype=np.float32)
    if z.shape != (n, model.latent_dim) or not np.all(np.isfinite(z)):
        raise ValueError(
            f"latent must be finite with shape (len(conditions), latent_dim) = "
            f"({n}, {model.latent_dim}), got {z.shape}."
        )
    return z


__all__ = [
    "Backend",
    "ModelContract",
    "bind_loops",
    "check_use",
    "saliency_unit",
    "SCHEDULES",
    "check_optimizer_groups",
    "check_step_output",
    "evaluate_loop",
    "fit_loop",
    "LATENT_NOISES",
    "latent_draws",
    "latent_vectors",
    "learning_rates",
    "prepare_fit",
]
