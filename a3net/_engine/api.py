"""The public functions of ``a3net.torch`` and ``a3net.keras``, written once over a Backend.

``bind_api(backend)`` returns ``fit``, ``evaluate``, ``predict``, ``saliency``, ``generate``
and ``count_parameters`` for one framework: NumPy float32 in and out, batches cut by index, the
framework's work done by the backend's primitives (``outputs``, ``input_gradients``, ``decode``,
``trainable_parameters``). Saliency maths (SmoothGrad, integrated gradients) are in
``a3net.interpret``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np

from .._validation import check_positive_int, check_seed
from ..interpret import _attribution_maps
from .contract import check_use
from .latent import latent_vectors
from .training import Backend, evaluate_loop, fit_loop


def _rows(value, name: str) -> int:
    """The number of rows of an array-like ``value``; TypeError naming ``name`` otherwise."""
    try:
        return len(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an array with one row per sample, got {type(value).__name__}."
        ) from None


def bind_api(backend: Backend) -> SimpleNamespace:
    """``fit``, ``evaluate``, ``predict``, ``saliency``, ``generate`` and ``count_parameters``
    of the framework whose primitives ``backend`` supplies."""

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

        ``seed`` (a whole number in [0, 2**32)) seeds the shuffling, dropout, the model's noise
        and the initial weights: a model not trained yet is first given the weights its
        constructor draws after ``seed_everything(seed)``, so the same seed gives the same
        trained model in each framework whatever was seeded when it was built. A model trained
        before (or given other weights) keeps its weights and trains on from them.

        ``lr`` is a positive finite number (NumPy scalars accepted), ``epochs`` at most 100000
        unless the environment variable ``A3NET_MAX_EPOCHS`` allows more. A NaN or infinite
        epoch loss stops the fit with a ValueError that says what to try. However the fit ends
        (done, an error, Ctrl-C), the model is left in evaluation mode.
        """
        return fit_loop(
            backend, model, x, y, epochs=epochs, batch_size=batch_size, lr=lr,
            weight_decay=weight_decay, schedule=schedule, validation=validation, seed=seed,
            progress=progress, callback=callback,
        )  # fmt: skip

    def evaluate(model, x, y, *, batch_size: int = 256) -> dict:
        """Mean loss and metrics of ``model`` on (x, y), in evaluation mode; a dict of floats."""
        return evaluate_loop(backend, model, x, y, batch_size=batch_size)

    def predict(model, x, *, batch_size: int = 256) -> np.ndarray:
        """Outputs of ``model`` for NumPy ``x``: logits (classifiers) or values (regressors)."""
        check_use(backend, model, "predict")
        batch_size = check_positive_int(batch_size, "batch_size")
        x = model.check_inputs(x)
        backend.set_training(model, False)
        out = [backend.outputs(model, x[s : s + batch_size]) for s in range(0, len(x), batch_size)]
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
        * ``"smoothgrad"`` (Smilkov et al. 2017): |mean of d out / d x| over ``n_samples``
          copies of each image with Gaussian noise of sd ``noise`` * (max - min of that image)
          added; the gradients are averaged first, as in the paper, so noise that flips their
          sign cancels. The noise comes from NumPy's generator seeded with ``seed``: both
          frameworks see the same noisy inputs.
        * ``"integrated_gradients"`` (Sundararajan et al. 2017): |(x - baseline) * mean
          gradient| at the ``steps`` midpoints baseline + (k + 1/2) / steps * (x - baseline) of
          the straight path; ``baseline`` is a number, one sample or an array like ``x``, zeros
          (no photons) by default. Signed, the attributions of an image sum to about out(x) -
          out(baseline).

        ``output`` picks the output unit; ``None`` means each sample's predicted class (at
        ``x``) for classifiers and output 0 for regressors. ``signed=True`` returns the signed
        gradient, mean gradient or attribution instead of its absolute value. ``batch_size``
        counts the model inputs per pass, noisy copies and path points included.
        """
        check_use(backend, model, "saliency")
        batch_size = check_positive_int(batch_size, "batch_size")
        x = model.check_inputs(x)
        backend.set_training(model, False)
        return _attribution_maps(
            x, model.task, lambda xb: backend.outputs(model, xb),
            lambda xb, u: backend.input_gradients(model, xb, u),
            output=output, batch_size=batch_size, method=method, n_samples=n_samples,
            noise=noise, steps=steps, baseline=baseline, seed=seed, signed=signed,
        )  # fmt: skip

    def generate(
        model, conditions, *, seed: int = 0, batch_size: int = 256, latent=None
    ) -> np.ndarray:
        """Samples drawn by a conditional generator for ``conditions`` (N, n_conditions): float32.

        The latent vectors are draws from NumPy's generator seeded with ``seed``: standard
        normal, or uniform with unit variance for a model whose ``latent_noise`` is
        ``"uniform"``; both frameworks decode the same z for the same seed. ``latent``
        (N, latent_dim) decodes given latent vectors instead (e.g. points on a path between two
        draws).
        """
        check_use(backend, model, "generate")
        seed = check_seed(seed, "seed")
        batch_size = check_positive_int(batch_size, "batch_size")
        c = model.check_targets(conditions, _rows(conditions, "conditions"), "conditions")
        z = latent_vectors(model, len(c), seed, latent)
        backend.set_training(model, False)
        out = [
            backend.decode(model, z[s : s + batch_size], c[s : s + batch_size])
            for s in range(0, len(c), batch_size)
        ]
        return np.concatenate(out)

    def count_parameters(model) -> int:
        """Number of trainable parameters."""
        return int(sum(int(np.prod(p.shape)) for p in backend.trainable_parameters(model)))

    return SimpleNamespace(
        fit=fit,
        evaluate=evaluate,
        predict=predict,
        saliency=saliency,
        generate=generate,
        count_parameters=count_parameters,
    )
