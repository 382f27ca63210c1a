"""The registered tasks, looked up by name, and the task a model runs."""

from __future__ import annotations

import numpy as np

from ..errors import ModelError, TaskError, lookup
from ..model import Model, System, bind
from . import digits, hamming, parity, xor
from .recall import RECALL, recall_task
from .table import TABLE_TASK, table_task
from .task import Task
from .text import DEFAULT_CORPUS, TEXT_TASK, text_task

TASKS: dict[str, Task] = {t.name: t for t in (xor.TASK, hamming.TASK, parity.TASK,
                                              digits.TASK)}


def get_task(name: str) -> Task:
    """Look a registered task up by name; a wrong name lists the valid ones."""
    return lookup(TASKS, name, "task", TaskError)


def task_for(model: Model, name: str | None = None, clamp: np.ndarray | None = None,
             text: str | None = None, data: str | None = None) -> Task:
    """The task ``model`` runs: ``name`` (default: the model's own task when it is a
    registered one, else the generic recall task of a DenseAM). ``clamp`` (a mask of
    visible units held at their inputs) exists for the recall task only; ``text`` is
    the file a character model learnt (default: the shipped corpus); ``data`` the table
    a classifier learnt (its held-out rows are the inputs)."""
    name = name or (model.task if model.task in (*TASKS, TEXT_TASK, TABLE_TASK) else RECALL)
    if name == RECALL:
        return recall_task(model, clamp)
    if name == TEXT_TASK and clamp is None:
        return text_task(model, text or DEFAULT_CORPUS)
    if name == TABLE_TASK and clamp is None:
        return table_task(model, data)
    if clamp is not None:
        raise TaskError(f"--clamp applies to the recall task only; task {name!r} fixes its own "
                        "clamps (use --task recall)")
    task = get_task(name)
    if name != model.task:
        _check_fits(model, task)
    return task


def _check_fits(model: Model, task: Task) -> None:
    """Refuse a task whose stimulus does not fit the model's groups (another model's
    task: other bit counts, tokens or groups), by binding its first input."""
    try:
        bind(model, task.stimulus(model, task.inputs()[:1]))
    except (ValueError, IndexError, KeyError, ModelError) as e:
        own = f"its own task is {model.task!r}; " if model.task in TASKS else ""
        raise TaskError(f"task {task.name!r} does not fit model {model.name[:60]!r} "
                        f"({str(e)[:120]}); {own}give --task recall or leave --task "
                        "out") from None


def bind_task(model: Model, inputs: np.ndarray, task: Task | None = None) -> System:
    """The system of ``model`` on a batch of its task's inputs."""
    return bind(model, (task or task_for(model)).stimulus(model, inputs))
