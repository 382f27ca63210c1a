"""The registered tasks, looked up by name."""

from __future__ import annotations

import numpy as np

from ..errors import TaskError, lookup
from ..model import Model, System, bind
from . import hamming, parity, xor
from .task import Task

TASKS: dict[str, Task] = {t.name: t for t in (xor.TASK, hamming.TASK, parity.TASK)}


def get_task(name: str) -> Task:
    """Look a task up by name; a wrong name lists the valid ones."""
    return lookup(TASKS, name, "task", TaskError)


def bind_task(model: Model, inputs: np.ndarray) -> System:
    """The system of ``model`` on a batch of its task's inputs."""
    return bind(model, get_task(model.task).stimulus(model, inputs))
