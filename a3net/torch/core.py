"""PyTorch side: the device, base classes and fit / predict / evaluate / saliency / generate.

Data stay NumPy float32 at the boundary ((N, C, H, W) images); inside ``fit`` the whole training
set is moved to the device once and batches are cut from it by index, with no DataLoader and no
per-sample Python loop. The epoch loop itself is ``a3net._training.fit_loop``, shared with Keras;
this module supplies its :class:`TorchBackend`.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from .._threads import n_threads
from .._training import (
    Backend,
    ModelContract,
    bind_loops,
    check_use,
    latent_vectors,
)
from ..interpret import _attribution_maps

torch.set_num_threads(n_threads())
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # already set once in this process
    pass
# TF32 products on CUDA GPUs, as TensorFlow does; the CPU (oneDNN) keeps full float32, which
# torch.set_float32_matmul_precision("high") would not: it also sets oneDNN to TF32.
torch.backends.cuda.matmul.fp32_precision = "tf32"


def device() -> str:
    """The device models train on: ``cuda`` if available, else ``mps``, else ``cpu``."""
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


class A3Model(ModelContract, nn.Module):
    """Base of every a3net model: its contract, its optimisers, its batch step and its noise."""

    def __init__(self):
        super().__init__()
        self.reset_noise(0)

    def training_loss(self, x, y, training: bool = False):
        """Mean loss of a batch and a dict of metric tensors to log.

        ``training`` says whether the batch trains; PyTorch layers read the module's mode,
        which ``fit`` and ``evaluate`` set, so the flag is there for the Keras twin's sake.
        """
        raise NotImplementedError

    def configure_optimizers(self, lr: float, weight_decay: float = 0.0) -> dict:
        """One optimiser per parameter group, ``{name: (optimizer, parameters)}``: Adam(W) here."""
        params = [p for p in self.parameters() if p.requires_grad]
        return {"model": (torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay), params)}

    def training_step(self, x, y, optimizers: dict) -> dict:
        """One gradient step on a batch; returns ``{"loss": ..., **metrics}`` as tensors."""
        (opt,) = optimizers.values()
        loss, metrics = self.training_loss(x, y, training=True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.detach(), **{k: v.detach() for k, v in metrics.items()}}

    def reset_noise(self, seed: int = 0) -> None:
        """Restart the model's own random stream (the latent samples of generative models)."""
        self._noise_seed = int(seed)
        self._noise_generators: dict = {}

    def _noise_generator(self, like):
        gen = self._noise_generators.get(like.device)
        if gen is None:
            gen = torch.Generator(device=like.device).manual_seed(self._noise_seed)
            self._noise_generators[like.device] = gen
        return gen

    def normal_noise(self, like, shape=None):
        """Standard normal noise of ``shape`` (default: like's) on like's device, from the
        model's own stream."""
        shape = tuple(like.shape if shape is None else shape)
        gen = self._noise_generator(like)
        return torch.randn(shape, generator=gen, device=like.device, dtype=like.dtype)

    def uniform_noise(self, like, shape=None):
        """Uniform noise on [0, 1) of ``shape`` (default: like's), from the model's own stream."""
        shape = tuple(like.shape if shape is None else shape)
        gen = self._noise_generator(like)
        return torch.rand(shape, generator=gen, device=like.device, dtype=like.dtype)

    @contextmanager
    def seeded_noise(self, seed: int = 0):
        """Within the block the noise stream restarts at ``seed``; afterwards it resumes."""
        saved = self._noise_seed, self._noise_generators
        self.reset_noise(seed)
        try:
            yield self
        finally:
            self._noise_seed, self._noise_generators = saved


class Classifier(A3Model):
    """A model whose output is one logit per class; trained with cross-entropy."""

    task = "classification"

    def training_loss(self, x, y, training=False):
        logits = self(x).float()
        loss = nn.functional.cross_entropy(logits, y)
        accuracy = (logits.argmax(dim=1) == y).float().mean()
        return loss, {"accuracy": accuracy}


class Regressor(A3Model):
    """A model whose output is ``n_outputs`` real numbers; trained with the mean squared error."""

    task = "regression"

    def training_loss(self, x, y, training=False):
        pred = self(x).float()
        loss = nn.functional.mse_loss(pred, y)
        return loss, {"mae": (pred - y).abs().mean()}


class ConditionalGenerator(A3Model):
    """A conditional generative model: trained on (samples, conditions); draws with ``generate``."""

    task = "generative"
    latent_dim = 1

    def decode_samples(self, z, c):
        """Samples (N, *sample_shape) for latent vectors z (N, latent_dim) and conditions c."""
        raise NotImplementedError


def count_parameters(model) -> int:
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


class TorchBackend(Backend):
    """The PyTorch pieces of the shared training loop."""

    name = "torch"
    optimizer_type = torch.optim.Optimizer

    def check_model(self, model):
        if not isinstance(model, A3Model):
            raise TypeError(f"model must be an a3net.torch model, got {type(model).__name__}.")
        model.to(device())

    def seed(self, seed):
        torch.manual_seed(seed)

    def to_device(self, array):
        return torch.as_tensor(array).to(device())

    def set_training(self, model, training):
        model.train(training)

    def trainable_parameters(self, model):
        return [p for p in model.parameters() if p.requires_grad]

    def prepare_optimizer(self, model, name, optimizer, parameters):
        held = {id(p) for g in optimizer.param_groups for p in g["params"]}
        if held != {id(p) for p in parameters}:
            raise ValueError(
                f"{type(model).__name__}.configure_optimizers()[{name!r}]: the optimizer "
                "holds other parameters than the ones listed with it; list the same ones."
            )

    def get_learning_rate(self, optimizer):
        return float(optimizer.param_groups[0]["lr"])

    def set_learning_rate(self, optimizer, rate):
        for group in optimizer.param_groups:
            group["lr"] = rate

    def batch_step(self, model, optimizers, x, y):
        def step(idx):
            idx = torch.as_tensor(idx, device=x.device)
            return model.training_step(x[idx], y[idx], optimizers)

        return step

    @torch.no_grad()
    def loss_of_batch(self, model, x, y):
        loss, metrics = model.training_loss(self.to_device(x), self.to_device(y), training=False)
        return {"loss": loss.float(), **{k: v.float() for k, v in metrics.items()}}


BACKEND = TorchBackend()


fit, evaluate = bind_loops(BACKEND)


@torch.no_grad()
def predict(model, x, *, batch_size: int = 256) -> np.ndarray:
    """Outputs of ``model`` for NumPy ``x``: logits (classifiers) or values (regressors)."""
    check_use(BACKEND, model, "predict")
    x = model.check_inputs(x)
    model.eval()
    out = [
        model(BACKEND.to_device(x[s : s + batch_size])).float().cpu()
        for s in range(0, len(x), batch_size)
    ]
    return torch.cat(out).numpy()


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
    model.eval()
    return _attribution_maps(
        x, model.task, lambda xb: _outputs(model, xb), lambda xb, u: _gradients(model, xb, u),
        output=output, batch_size=batch_size, method=method, n_samples=n_samples, noise=noise,
        steps=steps, baseline=baseline, seed=seed, signed=signed,
    )  # fmt: skip


@torch.no_grad()
def _outputs(model, xb: np.ndarray) -> np.ndarray:
    return model(BACKEND.to_device(xb)).float().cpu().numpy()


def _gradients(model, xb: np.ndarray, units) -> np.ndarray:
    """d out[i, units[i]] / d xb[i] for a batch; ``units=None``: each row's largest output."""
    xb = BACKEND.to_device(np.ascontiguousarray(xb)).requires_grad_(True)
    out = model(xb).float()
    if units is None:
        unit = out.argmax(dim=1)
    else:
        unit = torch.as_tensor(units, dtype=torch.long, device=xb.device)
    (grad,) = torch.autograd.grad(out.gather(1, unit[:, None]).sum(), xb)
    return grad.float().cpu().numpy()


@torch.no_grad()
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
    model.eval()
    out = [
        model.decode_samples(
            BACKEND.to_device(z_all[s : s + batch_size]), BACKEND.to_device(c[s : s + batch_size])
        )
        .float()
        .cpu()
        for s in range(0, len(c), batch_size)
    ]
    return torch.cat(out).numpy()
