"""What a task is: how its inputs enter a model and how a settled state is read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..model import Model, Stimulus


@dataclass(frozen=True)
class Task:
    """A task: its inputs, how they enter a model (a :class:`~analogam.model.Stimulus`:
    clamps, initial states, context tokens), how predictions are read from settled
    states ``u`` (B, N), and the truth for each input."""

    name: str
    n_bits: int
    inputs: Callable[[], np.ndarray]
    stimulus: Callable[[Model, np.ndarray], Stimulus]
    predict: Callable[[Model, np.ndarray], np.ndarray]
    target: Callable[[np.ndarray], np.ndarray]
    description: str
    parse: Callable[[str], np.ndarray] | None = None
    """One input written as text -> its row (None: a string of ``n_bits`` bits)."""


def trained_file(provenance: dict, key: str = "text") -> str | None:
    """The file a trained model learnt (``text``: a character model's text, ``data``: a
    classifier's table), from its provenance; None when it names none."""
    trainer = provenance.get("trainer") if isinstance(provenance, dict) else None
    path = trainer.get(key) if isinstance(trainer, dict) else None
    return path if isinstance(path, str) and path else None
