"""Run the ODE reference on task inputs and score it against the task's truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import printable
from ..model import Model
from ..reference import OdeResult, simulate_ode
from ..tasks import Task, bind_task, task_for


@dataclass(frozen=True)
class TaskOdeReport:
    """ODE reference on a batch of task inputs: predictions, truth and the checks."""

    task: str
    inputs: np.ndarray
    predictions: np.ndarray
    targets: np.ndarray
    ode: OdeResult

    @property
    def correct(self) -> np.ndarray:
        return np.all(self.predictions == self.targets, axis=1)

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean())


def evaluate_ode(model: Model, inputs: np.ndarray, task: Task | None = None,
                 **ode_kwargs) -> TaskOdeReport:
    """Integrate the model on every input (one batched call) and score predictions."""
    task = task or task_for(model)
    ode = simulate_ode(bind_task(model, inputs, task), **ode_kwargs)
    return TaskOdeReport(task.name, inputs, task.predict(model, ode.u_final),
                         task.target(inputs), ode)


def format_ode_report(rep: TaskOdeReport) -> str:
    """Accuracy and the checks of docs/design.md section 5, as text."""
    o = rep.ode
    n = rep.inputs.shape[0]
    lines = [
        f"ODE reference ({printable(rep.task)}, {n} inputs): accuracy {rep.correct.sum()}/{n} "
        f"= {100 * rep.accuracy:.1f}%",
        f"  solver: {'ok' if o.success else 'FAILED'} ({o.message}); {o.nfev} evaluations",
        f"  energy: {o.bound.message}; non-increasing on "
        f"{int(o.energy_monotone.sum())}/{n} trajectories (max rise {o.energy_rise.max():.2e}, "
        f"tolerance {o.energy_tol:.2e})",
        f"  settled at t={o.t[-1]:g}: {int(o.settled.sum())}/{n} "
        f"(max residual |tau du/dt| {o.residual.max():.2e}, tolerance {o.settle_tol:g})",
    ]
    wrong = np.flatnonzero(~rep.correct)[:8]
    for i in wrong:
        bits = "".join(map(str, rep.inputs[i]))
        lines.append(f"  wrong: input {bits} -> {rep.predictions[i].tolist()} "
                     f"(expected {rep.targets[i].tolist()})")
    lines += [f"  WARNING: {w}" for w in o.warnings]
    return "\n".join(lines)
