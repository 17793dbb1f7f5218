"""The training loop, written once for both frameworks: ``fit_loop`` and ``evaluate_loop``.

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

import os
import sys
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from .._validation import check_non_negative, check_positive_int, check_seed

SCHEDULES = ("cosine", "constant")
MAX_EPOCHS_ENV = "A3NET_MAX_EPOCHS"
DEFAULT_MAX_EPOCHS = 100_000
"""Most epochs one ``fit`` runs unless ``A3NET_MAX_EPOCHS`` allows more (the full profile's
longest fit has 200)."""


def max_epochs() -> int:
    """The most epochs one ``fit`` may run: ``A3NET_MAX_EPOCHS``, else 100000."""
    raw = os.environ.get(MAX_EPOCHS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_EPOCHS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"the environment variable {MAX_EPOCHS_ENV} must be a whole number of epochs of at "
            f"least 1, got {raw!r}."
        )
    return value


def check_epochs(epochs) -> int:
    """``epochs`` as an int in [1, ``max_epochs()``] (NumPy integers accepted)."""
    epochs = check_positive_int(epochs, "epochs")
    limit = max_epochs()
    if epochs > limit:
        raise ValueError(
            f"epochs={epochs} is above the limit of {limit} epochs per fit; train for fewer "
            f"epochs or raise the limit with the environment variable {MAX_EPOCHS_ENV}."
        )
    return epochs


def check_learning_rate(lr, name: str = "lr") -> float:
    """``lr`` as a positive finite float (NumPy scalars accepted)."""
    if isinstance(lr, (bool, np.bool_)) or not isinstance(
        lr, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{name} must be a positive number such as 1e-3, got {type(lr).__name__}.")
    value = float(lr)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number such as 1e-3, got {lr!r}.")
    return value


def check_finite_number(value, name: str) -> float:
    """``value`` as a finite non-negative float (NumPy scalars accepted)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{name} must be a non-negative number, got {type(value).__name__}.")
    out = check_non_negative(float(value), name)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be a finite non-negative number, got {value!r}.")
    return out


def learning_rates(lr: float, epochs: int, schedule: str = "cosine") -> list[float]:
    """The learning rate of every epoch: constant, or a cosine decay from ``lr`` to ``lr / 100``."""
    lr = check_learning_rate(lr)
    if schedule == "constant":
        return [float(lr)] * epochs
    if schedule == "cosine":
        floor = lr / 100
        t = np.arange(epochs) / max(epochs - 1, 1)
        return [float(floor + (lr - floor) * 0.5 * (1 + np.cos(np.pi * v))) for v in t]
    raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}.")


class Backend:
    """What a framework supplies to the shared loop; a3net.torch and a3net.keras subclass it."""

    name = ""  # the framework, as users name it: torch or keras
    optimizer_type: type = object  # the framework's optimiser base class

    def configure(self) -> None:
        """Set the framework's threads and precision (``a3net._threads.configure``)."""
        raise NotImplementedError

    def check_model(self, model) -> None:
        """Raise TypeError unless ``model`` is one of this framework's a3net models."""
        raise NotImplementedError

    def seed(self, seed: int) -> None:
        """Seed the framework's global generators (dropout, initialisation)."""
        raise NotImplementedError

    def initial_weights(self, model, seed: int) -> None:
        """Give ``model`` the weights its constructor draws after ``seed_everything(seed)``:
        build a twin with the same arguments under the seed and copy its weights."""
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

    def outputs(self, model, x: np.ndarray) -> np.ndarray:
        """The model's outputs for one NumPy batch, in evaluation mode, as float32 NumPy."""
        raise NotImplementedError

    def input_gradients(self, model, x: np.ndarray, units) -> np.ndarray:
        """d out[i, units[i]] / d x[i] for one NumPy batch (``units=None``: each row's largest
        output), as float32 NumPy."""
        raise NotImplementedError

    def decode(self, model, z: np.ndarray, c: np.ndarray) -> np.ndarray:
        """``model.decode_samples`` of NumPy latent vectors and conditions, as float32 NumPy."""
        raise NotImplementedError


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
    epochs = check_epochs(epochs)
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(schedule, str) or schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}.")
    rates = learning_rates(lr, epochs, schedule)
    x = model.check_inputs(x)
    y = model.check_targets(y, len(x))
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise ValueError(
                "validation must be a pair (x_val, y_val) or None, got "
                f"{type(validation).__name__}."
            )
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
    """The epoch loop of ``fit`` for either framework; returns the per-epoch history.

    An untrained model first gets the weights its constructor draws under ``seed``
    (``Backend.initial_weights``), so the same seed gives the same trained model whatever was
    seeded when it was built. A NaN or infinite epoch loss stops the fit with a ValueError; the
    model is left in evaluation mode however the loop ends (an error, Ctrl-C).
    """
    backend.configure()
    backend.check_model(model)
    seed = check_seed(seed, "seed")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {type(progress).__name__}.")
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
    weight_decay = check_finite_number(weight_decay, "weight_decay")
    lr = check_learning_rate(lr)
    if model.untrained():
        backend.initial_weights(model, seed)
    backend.seed(seed)
    model.reset_noise(seed)
    rng = np.random.default_rng(seed)
    try:
        return _epochs(
            backend, model, x, y, epochs=len(rates), rates=rates, lr=lr, batch_size=batch_size,
            weight_decay=weight_decay, validation=validation, rng=rng, progress=progress,
            callback=callback,
        )  # fmt: skip
    finally:
        backend.set_training(model, False)  # also after an error or a KeyboardInterrupt


def _check_finite_epoch(model, history: dict, keys, epoch: int, lr: float) -> None:
    """Stop the fit with one sentence when an epoch's loss (or a step's metric) is not finite."""
    for key in keys:
        value = history[key][-1]
        if not np.isfinite(value):
            raise ValueError(
                f"{type(model).__name__} training stopped at epoch {epoch + 1}: the mean "
                f"{key} is {value}; try a smaller learning rate than lr={lr:g} and check x and "
                "y for NaN, infinite or very large values."
            )


def _epochs(
    backend, model, x, y, *, epochs, rates, lr, batch_size, weight_decay, validation, rng,
    progress, callback,
) -> dict:  # fmt: skip
    """The epochs of ``fit_loop`` (whose ``finally`` leaves the model in evaluation mode)."""
    groups = model.configure_optimizers(lr=lr, weight_decay=weight_decay)
    optimizers = check_optimizer_groups(model, groups, backend.trainable_parameters(model), backend)
    scale = {name: backend.get_learning_rate(opt) / lr for name, opt in optimizers.items()}
    step = backend.batch_step(model, optimizers, backend.to_device(x), backend.to_device(y))
    history: dict[str, list[float]] = {}
    callback_keys: set[str] = set()
    with tqdm(
        range(epochs), desc=type(model).__name__, disable=not progress, file=sys.stderr, leave=False
    ) as bar:
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
            _check_finite_epoch(model, history, totals, epoch, lr)
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


__all__ = [
    "Backend",
    "SCHEDULES",
    "check_optimizer_groups",
    "check_epochs",
    "check_learning_rate",
    "check_step_output",
    "evaluate_loop",
    "fit_loop",
    "learning_rates",
    "prepare_fit",
]
