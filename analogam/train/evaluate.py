"""The model at its free fixed points: predictions, loss, residuals, decay rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Model
from ..tasks import bind_task, get_task
from .data import task_loss
from .relax import relax, slowest_rate


@dataclass(frozen=True)
class Evaluation:
    """The model at its free fixed points on every task input."""

    predictions: np.ndarray
    correct: np.ndarray
    loss: np.ndarray
    residual: np.ndarray
    converged: np.ndarray
    rate: np.ndarray


def evaluate(model: Model, inputs: np.ndarray, tol: float = 1e-8) -> Evaluation:
    """Relax every input to its free fixed point and read the prediction there."""
    task = get_task(model.task)
    system = bind_task(model, inputs)
    r = relax(system, tol=tol)
    pred = task.predict(model, r.u)
    loss = task_loss(model, inputs).value(model, r.u)
    return Evaluation(pred, np.all(pred == task.target(inputs), axis=1), loss, r.residual,
                      r.converged, slowest_rate(system, r.u))
