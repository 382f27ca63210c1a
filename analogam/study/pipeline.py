"""The pipeline of docs/design.md section 2 on task inputs: bind, pre-flight checks,
compile, simulate in ngspice, compare with the ODE reference. The CLI and the examples
call this; each stage lives in its own package, and each concern of this one in its
own module (checks, runs, the report record, files).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..circuit import Compiled, CompileOptions
from ..compare import (
    Comparison,
    InferenceEnergy,
    compare,
    inference_energy,
    op_states,
    stack,
    supply_balance,
)
from ..errors import CircuitError, SimulationError
from ..model import Model, System, concat_systems, residual
from ..netlist import format_netlist, operating_point_for
from ..reference import OdeResult, simulate_ode
from ..spice import DEFAULT_TIMEOUT_S, Runner, SpiceResult
from ..tasks import TASKS, Task, bind_task, get_task, task_for
from .build import compile_system, reference_to_readout, with_design_range
from .checks import copy_slices, labels, review_after, review_before
from .files import transient_netlist
from .record import SimulationReport, pruning_effect
from .runs import run_netlists, simulator_description


def compare_all(compiled: list[Compiled], results: list[SpiceResult], ode: OdeResult,
                system: System | None = None) -> Comparison:
    """Each circuit against its slice of the ODE batch, stacked in input order; the
    model energy along the circuit trajectories is ``system``'s (default: the weights
    each circuit holds)."""
    parts = []
    for c, r, sl in zip(compiled, results, copy_slices(compiled), strict=True):
        sub = replace(ode, u=ode.u[sl], energy=ode.energy[sl], residual=ode.residual[sl],
                      energy_rise=ode.energy_rise[sl])
        parts.append(compare(c, r, sub, None if system is None else system.select(sl)))
    return stack(parts)


def simulate_task(
    model: Model,
    inputs: np.ndarray,
    options: CompileOptions | None = None,
    *,
    batched: bool = False,
    t_end: float | None = None,
    runner: Runner | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    strict: bool = False,
    trainer: np.ndarray | None = None,
    reference: str = "realised",
    task: Task | None = None,
    cache: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationReport:
    """Compile the model on ``inputs``, run ngspice, compare with the ODE reference.

    ``trainer``: the trainer's predictions on ``inputs`` (see
    :func:`trainer_predictions`), reported as a third column.
    ``reference``: the ODE the circuit is compared with: ``"realised"`` integrates the
    weights the circuit holds (after quantisation and programming noise), so the
    comparison measures the circuit alone; ``"nominal"`` integrates the model's own
    weights, so it measures everything the hardware changes (Monte Carlo).
    ``runner``: where the ngspice jobs run (default: a local pool, ``timeout_s`` each).
    ``task``: how inputs enter and states are read (default: the model's task).
    ``cache``: a directory keeping every finished ngspice result (see
    :class:`ResultCache`): an interrupted run started again resumes. ``progress(done,
    total)`` is called as netlists finish.

    By default each input is its own netlist: ngspice 39's sparse solver costs grow
    faster than linearly with independent copies in one netlist (``batched=True``).

    Raises SimulationError on a failed simulation (a failed run is never compared).
    """
    options = options or CompileOptions()
    task = task or task_for(model)
    system = bind_task(model, inputs, task)
    ode_nominal = simulate_ode(system, t_end=t_end)
    options = with_design_range(options, model, ode_nominal, system)
    t_end, ode_nominal = reference_to_readout(model, options, system, ode_nominal, t_end)
    compiled = compile_system(system, options, batched, timeout_s)
    nominal = reference == "nominal"
    ode = ode_nominal if nominal else realised_ode(compiled, system, ode_nominal, t_end)
    review = review_before(system, ode_nominal, compiled, ode)
    design = review.design
    checks = list(review.preflight) + list(design.warnings)
    if strict and checks:
        raise CircuitError(f"pre-flight check failed (--strict): {checks[0]}")
    if strict and review.violations:
        raise CircuitError("operating-point check failed (--strict): "
                           + review.violations[0].describe(labels(inputs)))
    netlists = [transient_netlist(c, t_end) for c in compiled]
    started = time.perf_counter()
    results = run_netlists(netlists, runner, timeout_s, cache, progress)
    wall = time.perf_counter() - started
    for r in results:
        try:
            r.raise_for_status()
        except SimulationError as err:
            if not design.warnings or r.timed_out:
                raise  # a timeout is the wall clock's (and the machine's load), not physics
            raise SimulationError(f"{err}; the design check predicted it: "
                                  f"{design.warnings[0]}", netlist_path=err.netlist_path,
                                  log_tail=err.log_tail) from None
    cmp = compare_all(compiled, results, ode, system if nominal else None)
    review = review_after(review, compiled, results, cmp, system, labels(inputs))
    simulated = [v.describe(labels(inputs)) for v in review.violations
                 if v.stage == "simulated"]
    for kind, found in (("operating-point check failed in the simulation", simulated),
                        ("fidelity check failed", review.fidelity),
                        ("dynamics check failed", review.dynamics)):
        if strict and found:
            raise CircuitError(f"{kind} (--strict): {found[0]}")
    energy, balance = _energies(compiled, results, cmp)
    return SimulationReport(
        model=model.name, task=task, level=options.level, inputs=inputs,
        targets=task.target(inputs), pred_ode=task.predict(model, ode.u_final),
        pred_spice=task.predict(model, cmp.u_spice[:, -1, :]), ode=ode, comparison=cmp,
        compiled=tuple(compiled), spice_wall_s=wall,
        spice_run_s=float(sum(r.wall_s for r in results)),
        backend=results[0].backend, preflight=tuple(checks), pred_trainer=trainer,
        energy=energy, supply_balance=balance,
        pruning=pruning_effect(system, compiled, task, t_end, None if nominal else ode),
        simulator=simulator_description(netlists, results),
        violations=review.violations, design=design, fidelity=review.fidelity,
        dynamics=review.dynamics, predicted_settle_s=review.settle_s,
    )


def realised_ode(compiled: list[Compiled], system: System, ode_nominal: OdeResult,
                 t_end: float | None = None) -> OdeResult:
    """The ODE of the weights the circuits hold (after quantisation, programming noise,
    pruning): ``ode_nominal`` itself when they hold exactly the model's."""
    if holds_nominal(compiled, system):
        return ode_nominal
    return simulate_ode(concat_systems([c.system for c in compiled]), t_end=t_end)


def holds_nominal(compiled: list[Compiled], system: System) -> bool:
    """True when the circuits hold exactly the model's weights (nothing perturbed), in
    both directions."""
    def same(a, b):
        return np.array_equal(np.broadcast_to(a, b.shape) if a.shape != b.shape else a, b)

    for c, sl in zip(compiled, copy_slices(compiled), strict=True):
        nominal = system.select(sl).weights
        back = c.system.backward if c.system.backward is not None else c.system.weights
        if not all(same(a, b) and same(v, b) for a, v, b in
                   zip(c.system.weights, back, nominal, strict=True)):
            return False
    return True


def _energies(compiled: list[Compiled], results: list[SpiceResult], cmp: Comparison
              ) -> tuple[tuple[InferenceEnergy, ...] | None, float | None]:
    """Each input's energy until it settled, measured at the supplies, and the largest
    supply imbalance over the circuits (None, None: the level has no supplies)."""
    if not compiled[0].circuit.meters:
        return None, None
    tau = compiled[0].system.model.tau_max
    out, b = [], 0
    for c, r in zip(compiled, results, strict=True):
        for k in range(c.system.batch):
            out.append(inference_energy(c, r, cmp.settle_spice_tau[b] * tau * c.scales.t0,
                                        copy=k))
            b += 1
    balance = max((supply_balance(c, r) for c, r in zip(compiled, results, strict=True)),
                  key=abs)
    return tuple(out), float(balance)


def trainer_predictions(provenance: dict, model: Model, inputs: np.ndarray
                        ) -> np.ndarray | None:
    """The predictions the trainer stored (for every task input, in task order) picked
    out for ``inputs``; None when the weights did not come from the trainer."""
    stored = provenance.get("trainer_predictions")
    if model.task not in TASKS or not isinstance(stored, list):
        return None
    every = get_task(model.task).inputs()
    try:
        arr = np.asarray(stored)
    except (ValueError, OverflowError):
        return None  # ragged, or integers beyond 64 bits
    if arr.dtype.kind not in "iu" or arr.ndim != 2 or arr.shape[0] != every.shape[0]:
        return None  # not what the trainer writes: one list of class indices per input
    stored = arr
    index = {tuple(row): i for i, row in enumerate(every.tolist())}
    rows = [index.get(tuple(x)) for x in np.asarray(inputs).tolist()]
    return None if None in rows else stored[rows]


@dataclass(frozen=True)
class OpCheck:
    """DC operating points (a fast fixed-point solve) against the settled transient.
    ``differs`` flags inputs where they are more than ``tol`` apart (model units):
    a multistable model's Newton solve can land on another fixed point. ``residual``
    is the model's ``max |tau du/dt|`` at each operating point."""

    u_op: np.ndarray
    diff: np.ndarray
    tol: float
    residual: np.ndarray

    @property
    def differs(self) -> np.ndarray:
        return self.diff > self.tol


def check_operating_points(rep: SimulationReport, *, runner: Runner | None = None,
                           timeout_s: float = DEFAULT_TIMEOUT_S, tol: float = 1e-2) -> OpCheck:
    """Solve the DC operating point of every compiled circuit (``.op``, Newton from the
    initial state) and compare with the transient's settled state."""
    netlists = [format_netlist(c.circuit, operating_point_for(c)) for c in rep.compiled]
    results = run_netlists(netlists, runner, timeout_s)
    u_op = np.concatenate([op_states(c, r) for c, r in zip(rep.compiled, results,
                                                             strict=True)])
    diff = np.abs(u_op - rep.comparison.u_spice[:, -1, :]).max(axis=1)
    realised = concat_systems([c.system for c in rep.compiled])
    return OpCheck(u_op, diff, tol, residual(realised, u_op))


def simulate_weights(path, inputs: np.ndarray | None = None,
                     options: CompileOptions | None = None, **kw) -> SimulationReport:
    """:func:`simulate_task` on a weights file (read once): every task input by
    default, and the trainer's stored predictions (if the weights came from the
    trainer) as the third column."""
    from ..model.weights import load_weights

    model, prov = load_weights(path)
    if inputs is None:
        inputs = task_for(model).inputs()
    trainer = trainer_predictions(prov, model, inputs)
    return simulate_task(model, inputs, options, trainer=trainer, **kw)
