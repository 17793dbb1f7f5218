"""PyTorch side: the device, the base classes and the primitives of the shared engine.

Data stay NumPy float32 at the boundary ((N, C, H, W) images); inside ``fit`` the whole training
set is moved to the device once and batches are cut from it by index, with no DataLoader and no
per-sample Python loop. ``fit``, ``evaluate``, ``predict``, ``saliency``, ``generate`` and
``count_parameters`` are written once in ``a3net._engine``; this module supplies their
:class:`TorchBackend` and the primitives of :class:`A3Model`. Importing it changes no
process-wide setting: threads and TF32 products are set when the first model is built or
trained (``a3net._threads.configure``).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from .._engine.api import bind_api
from .._engine.contract import GenerativeContract, ModelContract
from .._engine.training import Backend
from .._threads import configure

_WARMED_UP = False


def warm_up() -> None:
    """Take one throwaway step of each optimiser a3net uses, once per process, deaf to Ctrl-C.

    The first optimiser step imports torch's compiler modules (torch._dynamo, sympy, ...: about
    800 modules, seconds on a CPU) lazily. A Ctrl-C in the middle of those imports used to leave
    partly initialised modules behind, and every later ``fit`` in the process then failed
    ("partially initialized module 'torch._dynamo'"). Here the imports happen when the first
    model is built or trained, with SIGINT held back (in the main thread) until they are done:
    an interrupt then arrives as a KeyboardInterrupt right after them, with nothing half-imported.
    """
    global _WARMED_UP
    if _WARMED_UP:
        return
    import signal
    import threading

    held: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    previous = (
        signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum)) if main else None
    )
    try:
        weight = nn.Parameter(torch.zeros(1))
        for opt in (torch.optim.AdamW([weight], lr=1e-3), torch.optim.RMSprop([weight], lr=1e-3)):
            weight.grad = torch.zeros(1)
            opt.step()
        _WARMED_UP = True
    finally:
        if main:
            signal.signal(
                signal.SIGINT, signal.default_int_handler if previous is None else previous
            )
    if held:
        raise KeyboardInterrupt


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
        configure("torch")
        warm_up()
        super().__init__()
        self.reset_noise(0)

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

    # --- primitives of the shared engine (documented on ModelContract) -------------------------

    def _parameters_of(self, *modules):
        return [p for m in modules for p in m.parameters() if p.requires_grad]

    def _optimizer(self, parameters, lr, *, weight_decay=0.0, kind="adam", betas=(0.9, 0.999)):
        if kind == "rmsprop":
            return torch.optim.RMSprop(parameters, lr=lr, alpha=0.99, eps=1e-8)
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, weight_decay=weight_decay)

    def _gradient_step(self, groups, loss_fn):
        loss, metrics = loss_fn()
        for opt, _ in groups:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt, _ in groups:
            opt.step()
        return loss.detach(), {k: v.detach() for k, v in metrics.items()}

    def _repeat(self, n, body, initial):
        value = initial
        for _ in range(n):
            value = body()
        return value

    @torch.no_grad()
    def _clip(self, parameters, value):
        torch._foreach_clamp_min_(parameters, -value)
        torch._foreach_clamp_max_(parameters, value)

    def _input_gradient(self, fn, x, create_graph):
        with torch.enable_grad():  # input gradients are needed in evaluation too
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(fn(x), x, create_graph=create_graph)
        return grad

    def _call(self, layer, *inputs, training=False):
        return layer(*inputs)  # the mode is the module's, set by fit and evaluate

    def _rows(self, x):
        return len(x)

    def _mean(self, x):
        return x.mean()

    def _sum(self, x):
        return x.sum()

    def _row_norm(self, x):
        return x.norm(dim=1)

    def _concat(self, tensors):
        return torch.cat(tensors, dim=1)

    def _stop_gradient(self, x):
        return x.detach()

    def _zeros_like(self, x):
        return torch.zeros_like(x)

    @torch.no_grad()
    def _weight_checksum(self):
        values = [t.detach().double() for t in self.state_dict().values() if t.is_floating_point()]
        if not values:
            return ()
        return (
            float(sum(v.sum().cpu() for v in values)),
            float(sum((v * v).sum().cpu() for v in values)),
        )


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


class ConditionalGenerator(GenerativeContract, A3Model):
    """A conditional generative model: trained on (samples, conditions); draws with ``generate``."""


class TorchBackend(Backend):
    """The PyTorch pieces of the shared engine."""

    name = "torch"
    optimizer_type = torch.optim.Optimizer

    def configure(self):
        configure("torch")
        warm_up()

    def check_model(self, model):
        if not isinstance(model, A3Model):
            raise TypeError(f"model must be an a3net.torch model, got {type(model).__name__}.")
        model.to(device())

    def seed(self, seed):
        torch.manual_seed(seed)

    def initial_weights(self, model, seed):
        args, kwargs = model.twin_arguments()
        torch.manual_seed(seed)
        twin = type(model)(*args, **kwargs)
        model.load_state_dict(twin.state_dict())

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

    @torch.no_grad()
    def outputs(self, model, x):
        return model(self.to_device(x)).float().cpu().numpy()

    def input_gradients(self, model, x, units):
        x = self.to_device(np.ascontiguousarray(x)).requires_grad_(True)
        out = model(x).float()
        if units is None:
            unit = out.argmax(dim=1)
        else:
            unit = torch.as_tensor(units, dtype=torch.long, device=x.device)
        (grad,) = torch.autograd.grad(out.gather(1, unit[:, None]).sum(), x)
        return grad.float().cpu().numpy()

    @torch.no_grad()
    def decode(self, model, z, c):
        return model.decode_samples(self.to_device(z), self.to_device(c)).float().cpu().numpy()


BACKEND = TorchBackend()
_API = bind_api(BACKEND)
fit, evaluate, predict = _API.fit, _API.evaluate, _API.predict
saliency, generate, count_parameters = _API.saliency, _API.generate, _API.count_parameters
