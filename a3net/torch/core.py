"""PyTorch side: the device, the model base classes and fit / predict / evaluate / saliency / generate.

Data stay NumPy float32 at the boundary ((N, C, H, W) images); inside ``fit`` the whole training set
is moved to the device once and batches are cut from it by index, with no DataLoader and no
per-sample Python loop. On a CUDA GPU the forward pass runs under bf16 autocast.
"""
from __future__ import annotations

import sys
from contextlib import nullcontext

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .._threads import n_threads
from .._training import prepare_fit
from .._validation import as_float_array, check_targets

torch.set_num_threads(n_threads())
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # already set once in this process
    pass


def device() -> str:
    """The device models train on: ``cuda`` if available, else ``mps``, else ``cpu``."""
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _autocast(dev: str):
    return torch.autocast("cuda", dtype=torch.bfloat16) if dev == "cuda" else nullcontext()


class A3Model(nn.Module):
    """Base of every a3net model: declares its input shape and computes its own training loss."""

    task = "regression"
    sample_shape: tuple = ()  # shape of one input sample, channels first, e.g. (1, 28, 28)

    def training_loss(self, x, y):
        """Mean loss of a batch and a dict of metrics (floats) to log."""
        raise NotImplementedError

    def check_inputs(self, x, name: str = "x") -> np.ndarray:
        return as_float_array(x, name, ndim=len(self.sample_shape) + 1, shape_tail=self.sample_shape)

    def check_targets(self, y, n: int, name: str = "y") -> np.ndarray:
        return check_targets(y, n, name)


class Classifier(A3Model):
    """A model whose output is one logit per class; trained with cross-entropy."""

    task = "classification"
    n_classes = 2

    def check_targets(self, y, n, name="y"):
        return check_targets(y, n, name, classification=True, n_classes=self.n_classes)

    def training_loss(self, x, y):
        logits = self(x).float()
        loss = nn.functional.cross_entropy(logits, y)
        accuracy = (logits.argmax(dim=1) == y).float().mean()
        return loss, {"accuracy": accuracy}


class Regressor(A3Model):
    """A model whose output is ``n_outputs`` real numbers; trained with the mean squared error."""

    task = "regression"
    n_outputs = 1

    def check_targets(self, y, n, name="y"):
        return check_targets(y, n, name, n_outputs=self.n_outputs)

    def training_loss(self, x, y):
        pred = self(x).float()
        loss = nn.functional.mse_loss(pred, y)
        return loss, {"mae": (pred - y).abs().mean()}


class ConditionalGenerator(A3Model):
    """A conditional generative model: trained on (images, conditions); draws images with ``generate``."""

    task = "generative"
    n_conditions = 1

    def check_targets(self, y, n, name="conditions"):
        return check_targets(y, n, name, n_outputs=self.n_conditions)


def count_parameters(model) -> int:
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def _to_device(array: np.ndarray, dev: str) -> torch.Tensor:
    return torch.as_tensor(array).to(dev)


def _check_model(model):
    if not isinstance(model, A3Model):
        raise TypeError(f"model must be an a3net.torch model, got {type(model).__name__}.")


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
    dev = device()
    model.to(dev)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    xt, yt = _to_device(x, dev), _to_device(y, dev)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history: dict[str, list[float]] = {}
    bar = tqdm(range(epochs), desc=type(model).__name__, disable=not progress, file=sys.stderr,
               leave=False)
    for epoch in bar:
        for group in opt.param_groups:
            group["lr"] = rates[epoch]
        model.train()
        order = torch.as_tensor(rng.permutation(len(x)), device=dev)
        totals: dict[str, float] = {}
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            with _autocast(dev):
                loss, metrics = model.training_loss(xt[idx], yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for key, value in {"loss": loss, **metrics}.items():  # summed on the device: no sync per batch
                totals[key] = totals.get(key, 0.0) + value.detach().float() * len(idx)
        for key, value in totals.items():
            history.setdefault(key, []).append(float(value) / len(x))
        if validation is not None:
            for key, value in evaluate(model, *validation, batch_size=max(batch_size, 256)).items():
                history.setdefault(f"val_{key}", []).append(value)
        bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items()})
    bar.close()
    model.eval()
    return history


@torch.no_grad()
def evaluate(model, x, y, *, batch_size: int = 256) -> dict:
    """Mean loss and metrics of ``model`` on (x, y), in evaluation mode; a dict of floats."""
    _check_model(model)
    x = model.check_inputs(x)
    y = model.check_targets(y, len(x))
    dev = device()
    model.to(dev).eval()
    totals: dict[str, float] = {}
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if dev == "cuda" else []):
        torch.manual_seed(0)  # the cVAE loss samples z: make evaluation repeatable
        for start in range(0, len(x), batch_size):
            xb, yb = _to_device(x[start:start + batch_size], dev), _to_device(y[start:start + batch_size], dev)
            with _autocast(dev):
                loss, metrics = model.training_loss(xb, yb)
            for key, value in {"loss": loss, **metrics}.items():
                totals[key] = totals.get(key, 0.0) + value.float() * len(xb)
    return {key: float(value) / len(x) for key, value in totals.items()}


@torch.no_grad()
def predict(model, x, *, batch_size: int = 256) -> np.ndarray:
    """Outputs of ``model`` for NumPy ``x`` as NumPy float32: logits for classifiers, values for regressors."""
    _check_model(model)
    if model.task == "generative":
        raise TypeError(f"{type(model).__name__} is generative: draw images with generate(model, conditions).")
    x = model.check_inputs(x)
    dev = device()
    model.to(dev).eval()
    out = []
    for start in range(0, len(x), batch_size):
        with _autocast(dev):
            out.append(model(_to_device(x[start:start + batch_size], dev)).float().cpu())
    return torch.cat(out).numpy()


def saliency(model, x, *, output: int | None = None, batch_size: int = 64) -> np.ndarray:
    """Vanilla-gradient saliency |d output / d input| (Simonyan et al. 2014), same shape as ``x``.

    ``output`` picks the output unit; ``None`` means each sample's predicted class for classifiers
    and output 0 for regressors.
    """
    _check_model(model)
    if model.task == "generative":
        raise TypeError(f"saliency needs a classifier or a regressor, not the generative {type(model).__name__}.")
    x = model.check_inputs(x)
    dev = device()
    model.to(dev).eval()
    maps = []
    for start in range(0, len(x), batch_size):
        xb = _to_device(x[start:start + batch_size], dev).requires_grad_(True)
        out = model(xb).float()
        if output is None:
            unit = out.argmax(dim=1) if model.task == "classification" else torch.zeros(len(xb), dtype=torch.long, device=dev)
        else:
            if not 0 <= output < out.shape[1]:
                raise ValueError(f"output must be between 0 and {out.shape[1] - 1}, got {output}.")
            unit = torch.full((len(xb),), output, dtype=torch.long, device=dev)
        picked = out.gather(1, unit[:, None]).sum()
        (grad,) = torch.autograd.grad(picked, xb)
        maps.append(grad.abs().cpu())
    return torch.cat(maps).numpy()


@torch.no_grad()
def generate(model, conditions, *, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    """Images drawn by a conditional generator for ``conditions`` (N, n_conditions): NumPy float32.

    The latent vectors are standard normal draws from NumPy's generator seeded with ``seed``, so
    both frameworks decode the same z for the same seed.
    """
    _check_model(model)
    if model.task != "generative":
        raise TypeError(f"generate needs a conditional generative model, not {type(model).__name__}.")
    c = model.check_targets(conditions, len(np.asarray(conditions)), "conditions")
    dev = device()
    model.to(dev).eval()
    z_all = np.random.default_rng(seed).standard_normal((len(c), model.latent_dim)).astype(np.float32)
    out = []
    for start in range(0, len(c), batch_size):
        cb = _to_device(c[start:start + batch_size], dev)
        z = _to_device(z_all[start:start + batch_size], dev)
        with _autocast(dev):
            out.append(model.decode_images(z, cb).float().cpu())
    return torch.cat(out).numpy()
