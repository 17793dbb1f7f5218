"""Framework-free pieces of the training loops shared by a3net.torch and a3net.keras."""
from __future__ import annotations

import numpy as np

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
