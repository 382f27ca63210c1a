"""The model at its free fixed points: predictions, loss, residuals, decay rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Model
from ..tasks import bind_task, task_for
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


RATE_SAMPLES = 256
"""At most this many inputs (the first) get the eigenvalue decay rate: it costs
O(N^3) per input, and the slowest of a few hundred says what it has to say."""


def evaluate(model: Model, inputs: np.ndarray, tol: float = 1e-8, *,
             contracting: bool = False) -> Evaluation:
    """Relax every input to its free fixed point and read the prediction there
    (``contracting``: see :func:`~.relax.relax`)."""
    task = task_for(model)
    system = bind_task(model, inputs, task)
    r = relax(system, tol=tol, contracting=contracting)
    pred = task.predict(model, r.u)
    loss = task_loss(model, inputs).value(model, r.u)
    n = min(RATE_SAMPLES, inputs.shape[0])
    rate = slowest_rate(system.select(slice(0, n)), r.u[:n])
    return Evaluation(pred, np.all(pred == task.target(inputs), axis=1), loss, r.residual,
                      r.converged, rate)
