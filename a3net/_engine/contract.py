"""The model contract, written once: what every a3net model declares and the hooks it may override.

Both frameworks' ``A3Model`` derive from :class:`ModelContract` and supply its primitives (the
methods whose names start with one underscore, listed on the class): finding parameters, making
an optimiser, one gradient step, a loop of steps, clipping, an input gradient and a few tensor
operations. The default ``configure_optimizers`` and ``training_step`` are written here over
them, and so is a model like the WGAN (``a3net._engine.gan``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping

import numpy as np

from .._validation import as_float_array, check_targets


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

    def __init_subclass__(cls, **kwargs):
        """Wrap each model class's ``__init__`` to keep its arguments and a checksum of its
        initial weights: ``fit(seed=...)`` rebuilds an untrained model's weights under the seed
        (``initial_weights``)."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_a3net_wrapped", False):
            return

        @functools.wraps(init)
        def __init__(self, *args, **kw):
            init(self, *args, **kw)
            if type(self).__init__ is __init__:  # the outermost constructor: the model is built
                object.__setattr__(self, "_a3net_arguments", (args, kw))
                object.__setattr__(self, "_a3net_checksum", self._weight_checksum())

        __init__._a3net_wrapped = True
        __init__.__signature__ = inspect.signature(init)  # what Keras reads to rebuild a model
        cls.__init__ = __init__

    def untrained(self) -> bool:
        """True while the model's weights are still the ones its constructor drew."""
        checksum = getattr(self, "_a3net_checksum", None)
        return checksum is not None and checksum == self._weight_checksum()

    def twin_arguments(self) -> tuple:
        """The (args, kwargs) the model was built with."""
        return getattr(self, "_a3net_arguments", ((), {}))

    def _weight_checksum(self) -> tuple:
        """A checksum of the model's weights (sums and sums of squares), to tell whether they
        changed since the model was built."""
        raise NotImplementedError

    def check_inputs(self, x, name: str = "x") -> np.ndarray:
        """``x`` as float32 (N, *sample_shape), or a clear error naming ``name``."""
        shape = getattr(x, "shape", None)  # a wrong shape is refused before any copy is made
        if isinstance(shape, tuple) and len(shape) >= 1 and shape[1:] != tuple(self.sample_shape):
            expected = ", ".join(map(str, self.sample_shape))
            raise ValueError(
                f"{name} must have shape (N, {expected}) (channels first) for this "
                f"{type(self).__name__}, got {shape}; resample or crop the inputs, or build the "
                "model for their size."
            )
        return as_float_array(
            x, name, ndim=len(self.sample_shape) + 1, shape_tail=self.sample_shape
        )

    def check_targets(self, y, n: int, name: str | None = None) -> np.ndarray:
        """Targets of ``n`` samples for this model's task: int64 classes or float32 (N, K)."""
        default = "y" if self.task != "generative" else "conditions"
        if isinstance(y, (Mapping, str, bytes, set)) or np.isscalar(y):
            raise TypeError(
                f"{name or default} must be an array with one row per sample, got "
                f"{type(y).__name__}; pass a NumPy array (e.g. df[columns].to_numpy())."
            )
        if self.task == "classification":
            return check_targets(y, n, name or "y", classification=True, n_classes=self.n_classes)
        if self.task == "generative":
            return check_targets(y, n, name or "conditions", n_outputs=self.n_conditions)
        return check_targets(y, n, name or "y", n_outputs=self.n_outputs)

    def training_loss(self, x, y, training: bool = False):
        """Mean loss of a batch and a dict of metric tensors to log.

        ``training`` says whether the batch trains (dropout on); ``fit`` passes True and
        ``evaluate`` False (PyTorch layers read the module's mode, which both set).
        """
        raise NotImplementedError

    def configure_optimizers(self, lr: float, weight_decay: float = 0.0) -> dict:
        """One optimiser per parameter group, ``{name: (optimizer, parameters)}``: Adam(W) here."""
        params = self._parameters_of(self)
        return {"model": (self._optimizer(params, lr, weight_decay=weight_decay), params)}

    def training_step(self, x, y, optimizers: dict) -> dict:
        """One gradient step on a batch; returns ``{"loss": ..., **metrics}`` as tensors."""
        (opt,) = optimizers.values()
        loss, metrics = self._gradient_step(
            [(opt, self._parameters_of(self))], lambda: self.training_loss(x, y, training=True)
        )
        return {"loss": loss, **metrics}

    # --- the primitives each framework's A3Model supplies -------------------------------------

    def _parameters_of(self, *modules) -> list:
        """The trainable parameters (tensors or variables) of ``modules``, in order."""
        raise NotImplementedError

    def _optimizer(self, parameters, lr, *, weight_decay=0.0, kind="adam", betas=(0.9, 0.999)):
        """A new optimiser of ``parameters``: Adam(W) with ``betas``, or ``kind="rmsprop"``
        (decay 0.99, eps 1e-8, no weight decay)."""
        raise NotImplementedError

    def _gradient_step(self, groups, loss_fn):
        """Run ``loss_fn() -> (loss, metrics)``, then one step of every ``(optimizer,
        parameters)`` in ``groups`` on the loss's gradient; returns (loss, metrics), detached."""
        raise NotImplementedError

    def _repeat(self, n: int, body, initial):
        """Call ``body()`` ``n`` times (a graph loop in Keras); returns its last value, whose
        structure is that of ``initial``."""
        raise NotImplementedError

    def _clip(self, parameters, value: float) -> None:
        """Clip every parameter to [-value, value] in place."""
        raise NotImplementedError

    def _input_gradient(self, fn, x, create_graph: bool):
        """d fn(x) / d x for a scalar ``fn``; ``create_graph`` keeps it differentiable."""
        raise NotImplementedError

    def _call(self, layer, *inputs, training: bool = False):
        """``layer(*inputs)`` in training (dropout on) or evaluation mode."""
        raise NotImplementedError

    # tensor operations: the framework's own, under one name
    def _rows(self, x):
        """The number of rows (the batch size) of ``x``."""
        raise NotImplementedError

    def _mean(self, x):
        """The mean of all elements of ``x``, a scalar tensor."""
        raise NotImplementedError

    def _sum(self, x):
        """The sum of all elements of ``x``, a scalar tensor."""
        raise NotImplementedError

    def _row_norm(self, x):
        """The Euclidean norm of each row of ``x`` (N, K): (N,)."""
        raise NotImplementedError

    def _concat(self, tensors):
        """``tensors`` (N, K_i) side by side: (N, sum K_i)."""
        raise NotImplementedError

    def _stop_gradient(self, x):
        """``x`` as a constant for differentiation."""
        raise NotImplementedError

    def _zeros_like(self, x):
        raise NotImplementedError


class GenerativeContract:
    """A conditional generative model: trained on (samples, conditions); draws with ``generate``."""

    task = "generative"
    latent_dim = 1

    def decode_samples(self, z, c):
        """Samples (N, *sample_shape) for latent vectors z (N, latent_dim) and conditions c."""
        raise NotImplementedError


def check_use(backend, model, use: str) -> None:
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


def public_names(namespace: dict) -> list[str]:
    """The public names of a framework package's namespace, its submodules left out: its
    ``__all__``, which the parity tests walk."""
    return sorted(
        name
        for name, value in namespace.items()
        if not name.startswith("_") and type(value).__name__ != "module"
    )
