"""The free parameters the optimiser moves, and the hardware constraints on them.

Conductances (every coupling) are squares of free parameters, ``w = theta^2 >= 0``, so
``dC/dtheta = 2 theta dC/dw``; biases and the digital decoder are signed. Couplings
between two unbounded groups are scaled so their largest singular value stays at or
below ``sigma_bound`` (< 1): the energy stays bounded below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model import (
    Model,
    System,
    check_energy_bounded,
    contraction,
    get_activation,
    parameters,
    with_parameters,
)
from .config import TrainError


def _nonneg(key: str) -> bool:
    return key.startswith("coupling.")


def to_theta(model: Model) -> dict[str, np.ndarray]:
    """Free parameters: sqrt of every conductance, the signed ones as they are."""
    out = {}
    for k, v in parameters(model).items():
        if _nonneg(k) and np.any(v < 0):
            raise TrainError(f"{k} has negative weights; conductances must be >= 0")
        out[k] = np.sqrt(v) if _nonneg(k) else np.array(v, dtype=float)
    return out


def from_theta(template: Model, theta: dict[str, np.ndarray]) -> Model:
    return with_parameters(template, {k: (v * v if _nonneg(k) else v) for k, v in theta.items()})


def theta_grads(theta: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> dict:
    """Chain rule through w = theta^2: dC/dtheta = 2 theta dC/dw."""
    return {k: (2.0 * theta[k] * g if _nonneg(k) else g) for k, g in grads.items()}


def bound_scaling(model: Model, system: System, sigma_bound: float) -> dict[str, float]:
    """The factor ``sigma_bound / sigma_max`` for every coupling between two unbounded
    groups when their stacked largest singular value exceeds ``sigma_bound`` (empty
    when the energy is already bounded with margin)."""
    bc = check_energy_bounded(system)
    if bc.sigma_max <= sigma_bound:
        return {}
    unbounded = {g.name for g in model.groups if not get_activation(g.activation).bounded}
    return {f"coupling.{c.name}.weights": sigma_bound / bc.sigma_max
            for c in model.couplings if {c.hidden, c.visible} <= unbounded}


def contraction_scaling(system: System, margin: float) -> dict[str, float]:
    """The factor ``sqrt((1 - margin) / gain)`` for every coupling into the visible
    group when the largest contraction gain over the batch exceeds ``1 - margin`` (the
    gain scales with the square of the weights; empty when it already holds).

    One factor for all couplings keeps their ratio; it lets the fastest-growing one
    crowd the others out (on the fortunes text the memories decayed to nothing). Equal
    shares per coupling were tried: they kept the memories but learnt slower (held-out
    2.74 against 2.66 nats/char after two epochs)."""
    c = contraction(system)
    gain = float(c.gain.max(initial=0.0))
    if gain <= 1.0 - margin:
        return {}
    return {f"coupling.{k}.weights": float(np.sqrt((1.0 - margin) / gain)) for k in c.sigma}


def project_bounded(model: Model, system: System, sigma_bound: float) -> Model:
    """``model`` with :func:`bound_scaling` applied to its weights."""
    f = bound_scaling(model, system, sigma_bound)
    p = parameters(model)
    return with_parameters(model, {k: p[k] * v for k, v in f.items()})


@dataclass
class Optimizer:
    """Adam (Kingma & Ba) or plain gradient descent on a dict of arrays; the state is
    checkpointed. Plain descent suits fine-tuning a constructed solution, where Adam's
    per-parameter normalisation moves sensitive thresholds as far as idle weights."""

    lr: float
    kind: str = "adam"
    m: dict[str, np.ndarray] = field(default_factory=dict)
    v: dict[str, np.ndarray] = field(default_factory=dict)
    t: int = 0
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8

    def step(self, theta: dict, grads: dict) -> dict:
        self.t += 1
        out = dict(theta)
        for k, g in grads.items():
            if self.kind == "sgd":
                out[k] = theta[k] - self.lr * g
                continue
            m = self.b1 * self.m.get(k, np.zeros_like(g)) + (1 - self.b1) * g
            v = self.b2 * self.v.get(k, np.zeros_like(g)) + (1 - self.b2) * g * g
            self.m[k], self.v[k] = m, v
            mh, vh = m / (1 - self.b1**self.t), v / (1 - self.b2**self.t)
            out[k] = theta[k] - self.lr * mh / (np.sqrt(vh) + self.eps)
        return out
