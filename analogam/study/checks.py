"""The checks of docs/design.md section 5 that a run's numbers pass before they are a
result: the model's (pre-flight), the devices' operating points predicted from the ODE
and read from ngspice, the circuit's own dynamics (oscillation, still moving at the
read-out) and its fidelity to the ODE. Each returns its findings as lines (or
:class:`~analogam.circuit.limits.Violation` records) with their numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..circuit import Circuit, Compiled
from ..circuit.design import DesignReview, design_review
from ..circuit.levels import get_level
from ..circuit.limits import Violation, check_limits, limit_nets, state_env
from ..compare import Comparison
from ..compare.equilibrium import detect_oscillation
from ..errors import SimulationError
from ..model import System
from ..reference import SETTLE_TOL, OdeResult, simulate_ode
from ..spice import SpiceResult
from .latency import predicted_settling


def preflight(system: System, ode: OdeResult | None = None, t_end: float | None = None
              ) -> list[str]:
    """docs/design.md section 5 on the model before anything is written: energy bounded
    below, and the ODE reference settled (and energy non-increasing) by the read-out.
    Returns one line per failed check (empty when all pass)."""
    ode = ode or simulate_ode(system, t_end=t_end)
    return list(ode.warnings)


def copy_slices(compiled: list[Compiled]) -> list[slice]:
    """Which inputs of the batch each circuit holds."""
    out, start = [], 0
    for c in compiled:
        out.append(slice(start, start + c.system.batch))
        start += c.system.batch
    return out


def labels(inputs: np.ndarray) -> list[str]:
    return ["".join(map(str, np.asarray(r).ravel()[:64])) for r in inputs]


def copy_maps(compiled: list[Compiled]) -> list[dict[int, int]]:
    """Per circuit: its copies' input indices in the batch."""
    return [{k: sl.start + k for k in range(c.system.batch)}
            for c, sl in zip(compiled, copy_slices(compiled), strict=True)]


def predicted_violations(compiled: list[Compiled], ode: OdeResult) -> list[Violation]:
    """The devices' limits against node voltages predicted from the ODE trajectory,
    before anything is simulated (see :mod:`analogam.circuit.limits`)."""
    out = []
    for c, sl, cmap in zip(compiled, copy_slices(compiled), copy_maps(compiled), strict=True):
        env = state_env(c.circuit, ode.u[sl], c.scales.vs)
        out += check_limits(c.circuit, env, ode.t, "predicted", cmap)
    return out


def measured_env(circuit: Circuit, result: SpiceResult) -> dict[str, np.ndarray]:
    """The voltages (V) ngspice computed on the nets ``circuit``'s limits read (a net
    not saved is left to the blocks' prediction)."""
    env = {}
    for net in limit_nets(circuit):
        try:
            env[net] = result.voltage(net)
        except SimulationError:
            pass
    return env


def circuit_violations(circuit: Circuit, result: SpiceResult, t0: float,
                       copy_map: dict[int, int] | None = None) -> list[Violation]:
    """The devices' limits of ``circuit`` against the node voltages of a transient
    (``t0``: seconds per model time unit)."""
    return check_limits(circuit, measured_env(circuit, result), result.time / t0,
                        "simulated", copy_map)


def simulated_violations(compiled: list[Compiled], results: list[SpiceResult]
                         ) -> list[Violation]:
    """The devices' limits against the node voltages ngspice computed."""
    return [v for c, r, cmap in zip(compiled, results, copy_maps(compiled), strict=True)
            for v in circuit_violations(c.circuit, r, c.scales.t0, cmap)]


def readout_rate(t: np.ndarray, u: np.ndarray, system: System) -> np.ndarray:
    """Per trajectory (B, T, N), ``max |tau du/dt|`` over the free units between its
    last two samples (model units): how far from rest it still is at the read-out."""
    du = np.abs(u[:, -1] - u[:, -2]) / (t[-1] - t[-2]) * system.model.tau
    return du[:, system.free].max(axis=1) if system.free.any() else np.zeros(len(u))


def dynamics_warnings(cmp: Comparison, system: System, labels: list[str]
                      ) -> tuple[str, ...]:
    """The circuit's own trajectories: one warning per input that oscillates (period
    and amplitude, :func:`~analogam.compare.equilibrium.detect_oscillation`), and one
    for the other inputs whose circuit is still moving at the read-out (``|tau du/dt|``
    above the settling tolerance) while the ODE has come to rest."""
    out = []
    tv = system.model.tau_max
    swinging = np.zeros(len(labels), bool)
    for b, label in enumerate(labels):
        osc = detect_oscillation(cmp.t, cmp.u_spice[b], system.free)
        if osc is not None:
            swinging[b] = True
            out.append(f"the circuit oscillates on input {label}: unit {osc.unit}, period "
                       f"{osc.period / tv:.4g} tau_v ({osc.period / tv * cmp.tau_s:.4g} s), "
                       f"amplitude {osc.amplitude:.3g} (model units)")
    rate = readout_rate(cmp.t, cmp.u_spice, system)
    still = ((rate > SETTLE_TOL) & (readout_rate(cmp.t, cmp.u_ode, system) <= SETTLE_TOL)
             & ~swinging)
    if still.any():
        worst = int(np.argmax(np.where(still, rate, -1)))
        out.append(f"the circuit has not settled at the read-out on {int(still.sum())} of "
                   f"{len(labels)} inputs (|tau du/dt| up to {rate[worst]:.3g} on input "
                   f"{labels[worst]}, tolerance {SETTLE_TOL:g}) while the ODE has")
    return tuple(out)


def fidelity_warnings(cmp: Comparison, level: str, labels: list[str],
                      tolerance: float = 0.0) -> tuple[str, ...]:
    """One warning when the circuit's read-out is further from its ODE's than the
    tolerance (``tolerance``, ``design.tolerance``; 0: the level's own,
    :class:`~analogam.circuit.levels.Level`), even where the predictions agree: naming
    the worst input, its error and the tolerance. The trajectory error is reported
    beside it, never a warning: a circuit is judged by its answer."""
    tol = tolerance or get_level(level).tolerance
    worst = int(np.argmax(cmp.readout_err))
    err = float(cmp.readout_err[worst])
    if err <= tol:
        return ()
    n = int(np.sum(cmp.readout_err > tol))
    return (f"the circuit's read-out is up to {err:.3g} (model units; input "
            f"{labels[worst]}) from the ODE's on {n} of {len(labels)} inputs, more than the "
            f"tolerance {tol:g}" + ("" if tolerance else f" (the {level} level's)"),)


# ---------------------------------------------------------------- one sequence, every run


@dataclass(frozen=True)
class Review:
    """The checks of one batch of circuits, before and after ngspice: the model's
    (``preflight``), the design review (``design``), the operating points predicted and
    simulated (``violations``), the fidelity to the ODE of what the circuits hold and
    the circuits' own dynamics. Every path that runs a circuit (simulate, Monte Carlo,
    sweeps) fills one and reports it whole."""

    preflight: tuple[str, ...]
    design: DesignReview
    settle_s: np.ndarray
    """Per input, the settling the speed model predicts (s)."""
    violations: tuple[Violation, ...] = ()
    fidelity: tuple[str, ...] = ()
    dynamics: tuple[str, ...] = ()

    def findings(self, labels: list[str]) -> dict[str, list[str]]:
        """The failed checks by kind (kinds with none left out), each a line with its
        numbers."""
        kinds = {"preflight": list(self.preflight),
                 "design": list(self.design.warnings),
                 "operating_point": [v.describe(labels) for v in self.violations],
                 "fidelity": list(self.fidelity), "dynamics": list(self.dynamics)}
        return {k: v for k, v in kinds.items() if v}


def review_before(system: System, ode_nominal: OdeResult, compiled: list[Compiled],
                  ode: OdeResult) -> Review:
    """The checks that need no simulation: the model's ODE (``ode_nominal``, the
    weights as trained), the design review at the fixed points of what the circuits
    hold (``ode``) and the operating points predicted along that trajectory."""
    settle = predicted_settling(system, compiled)
    design = design_review(compiled, ode.u_final, float(settle.max()))
    return Review(preflight(system, ode_nominal), design, settle,
                  tuple(predicted_violations(compiled, ode)))


def review_after(review: Review, compiled: list[Compiled], results: list[SpiceResult],
                 cmp: Comparison, system: System, labels: list[str]) -> Review:
    """``review`` with the checks of the simulation added: operating points read from
    ngspice, fidelity to the ODE of what the circuits hold (``cmp`` compares with it),
    and the circuits' dynamics."""
    options = compiled[0].options
    return Review(review.preflight, review.design, review.settle_s,
                  review.violations + tuple(simulated_violations(compiled, results)),
                  fidelity_warnings(cmp, options.level, labels,
                                    options.config.design.tolerance),
                  dynamics_warnings(cmp, system, labels))

