"""Framework-free pieces of the training loops shared by a3net.torch and a3net.keras."""
from __future__ import annotations

import numpy as np

from ._validation import check_positive_int

SCHEDULES = ("cosine", "constant")


def learning_rates(lr: float, epochs: int, schedule: str = "cosine") -> list[float]:
    """The learning rate of every epoch: constant, or a cosine decay from ``lr`` to ``lr / 100``."""
    if not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    if schedule == "constant":
        return [float(lr)] * epochs
    if schedule == "cosine":
        floor = lr / 100
        t = np.arange(epochs) / max(epochs - 1, 1)
        return [float(floor + (lr - floor) * 0.5 * (1 + np.cos(np.pi * v))) for v in t]
    raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}.")


def prepare_fit(model, x, y, *, epochs, batch_size, lr, schedule, validation):
    """Check the arguments of ``fit`` (both frameworks): returns x, y, validation, rates, batch_size."""
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
