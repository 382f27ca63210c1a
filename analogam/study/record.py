"""The record of a simulated batch (:class:`SimulationReport`) and what pruning
negligible conductances did to the model's answers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..circuit import Compiled
from ..circuit.design import DesignReview
from ..circuit.limits import Violation
from ..circuit.realise import prune
from ..compare import Comparison, InferenceEnergy
from ..model import System, concat_systems
from ..reference import OdeResult, simulate_ode
from ..tasks import Task


@dataclass(frozen=True)
class PruningEffect:
    """What dropping negligible conductances (``conductance.prune_below``) did: how many
    of how many nonzero weights, and how the tight ODE's read-out changes with them gone
    (inputs whose prediction changes, largest state change in model units)."""

    pruned: int
    nonzero: int
    changed: int
    inputs: int
    max_state_change: float

    def describe(self) -> str:
        return (f"pruned {self.pruned} of {self.nonzero} conductances; the ODE prediction "
                f"changes on {self.changed}/{self.inputs} inputs (largest read-out state "
                f"change {self.max_state_change:.3g} model units)")


def pruning_effect(system: System, compiled: list[Compiled], task: Task,
                   t_end: float | None = None, ode_pruned: OdeResult | None = None
                   ) -> PruningEffect | None:
    """The effect of pruning on the ODE reference (None when nothing was pruned)."""
    if not any(c.pruned for c in compiled):
        return None
    params = [np.asarray(c.weights) for c in system.model.couplings]
    _, pruned = prune(params, compiled[0].options.config.conductance.prune_below)
    nominal = simulate_ode(system, t_end=t_end, n_points=2)
    pr = ode_pruned or simulate_ode(concat_systems([c.system for c in compiled]), t_end=t_end,
                                    n_points=2)
    m = system.model
    diff = np.abs(nominal.u_final - pr.u_final).max(axis=1)
    changed = np.any(task.predict(m, nominal.u_final) != task.predict(m, pr.u_final), axis=1)
    nonzero = sum(int(np.count_nonzero(w)) for w in params)
    return PruningEffect(pruned, nonzero, int(changed.sum()), system.batch, float(diff.max()))


@dataclass(frozen=True)
class SimulationReport:
    """Everything ``analogam simulate`` reports for a batch of task inputs."""

    model: str
    task: Task
    level: str
    inputs: np.ndarray
    targets: np.ndarray
    pred_ode: np.ndarray
    pred_spice: np.ndarray
    ode: OdeResult
    comparison: Comparison
    compiled: tuple[Compiled, ...]
    spice_wall_s: float
    """Wall time of the ngspice stage (s): what the user waited."""
    backend: str
    preflight: tuple[str, ...] = field(default_factory=tuple)
    pred_trainer: np.ndarray | None = None
    energy: tuple[InferenceEnergy, ...] | None = None
    supply_balance: float | None = None
    pruning: PruningEffect | None = None
    simulator: str = ""
    violations: tuple[Violation, ...] = ()
    design: DesignReview | None = None
    fidelity: tuple[str, ...] = ()
    dynamics: tuple[str, ...] = ()
    nonequilibrium: tuple = ()
    """:class:`~analogam.study.equilibrium.NonEquilibrium` per diagnosed input."""
    spice_run_s: float = 0.0
    """The runs' own times added up (s; above the wall time when runs overlap)."""
    predicted_settle_s: np.ndarray | None = None
    """Per input, the settling (s) the speed model predicts (:mod:`.latency`)."""

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every check that failed: pre-flight, fidelity, the circuit's dynamics, an
        unstable linearisation (the diagnostics' trajectory findings are the dynamics
        checks' own)."""
        return (self.preflight + self.fidelity + self.dynamics
                + tuple(w for d in self.nonequilibrium for w in d.linear_warnings))

    @property
    def agreement(self) -> float:
        return float(np.mean(np.all(self.pred_spice == self.pred_ode, axis=1)))

    @property
    def accuracy_spice(self) -> float:
        return float(np.mean(np.all(self.pred_spice == self.targets, axis=1)))

    @property
    def accuracy_ode(self) -> float:
        return float(np.mean(np.all(self.pred_ode == self.targets, axis=1)))
