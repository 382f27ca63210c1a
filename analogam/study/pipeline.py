"""The pipeline of DESIGN.md section 2 on task inputs: bind, pre-flight checks,
compile, simulate in ngspice, compare with the ODE reference. The CLI and the examples
call this; each stage lives in its own package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..atomic import atomic_open, check_output
from ..circuit import Compiled, CompileOptions, build_circuit
from ..circuit.design import DesignReview, design_review
from ..circuit.levels import get_level
from ..circuit.limits import Violation, check_limits, limit_nets, state_env
from ..circuit.realise import design_excursions, design_ranges, prune
from ..compare import (
    Comparison,
    InferenceEnergy,
    compare,
    inference_energy,
    op_states,
    stack,
    supply_balance,
)
from ..compare.equilibrium import detect_oscillation
from ..errors import AnalogamError, CircuitError, SimulationError, printable
from ..model import Model, System, concat_systems, residual
from ..model.npz import read_npz
from ..netlist import format_netlist, operating_point_for, transient_for
from ..reference import SETTLE_TOL, OdeResult, simulate_ode
from ..spice import DEFAULT_TIMEOUT_S, Runner, SpiceResult, ngspice_info
from ..tasks import TASKS, Task, bind_task, get_task, task_for


def preflight(system: System, ode: OdeResult | None = None, t_end: float | None = None
              ) -> list[str]:
    """DESIGN.md section 5 on the model before anything is written: energy bounded
    below, and the ODE reference settled (and energy non-increasing) by the read-out.
    Returns one line per failed check (empty when all pass)."""
    ode = ode or simulate_ode(system, t_end=t_end)
    return list(ode.warnings)


def compile_system(system: System, options: CompileOptions, batched: bool = True
                   ) -> list[Compiled]:
    """One circuit holding every input as an independent copy, or one per input."""
    if batched or system.batch == 1:
        return [build_circuit(system, options)]
    return [build_circuit(system.sample(b), options) for b in range(system.batch)]


def netlist_header(compiled: Compiled, inputs: np.ndarray | None = None) -> tuple[str, ...]:
    """Comment lines that say what a netlist realises (numbers and names only)."""
    s = compiled.scales
    lines = [f"level {compiled.level} Vs {s.vs:g} V G0 {s.g0:.6g} S T0 {s.t0:.6g} s "
             f"conductances {compiled.conductance_range[0]:.4g} to "
             f"{compiled.conductance_range[1]:.4g} S",
             f"copies {compiled.system.batch} units per copy {compiled.system.model.n_units}"]
    if inputs is not None and len(inputs) <= 16:
        lines.append("inputs " + " ".join("".join(map(str, r)) for r in inputs))
    return tuple(lines)


def transient_netlist(compiled: Compiled, t_end: float | None = None,
                      inputs: np.ndarray | None = None) -> str:
    """The netlist of a compiled circuit with its transient to ``t_end`` (model time)."""
    return format_netlist(compiled.circuit, transient_for(compiled, t_end),
                          header=netlist_header(compiled, inputs))


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


def _slices(compiled: list[Compiled]) -> list[slice]:
    """Which inputs of the batch each circuit holds."""
    out, start = [], 0
    for c in compiled:
        out.append(slice(start, start + c.system.batch))
        start += c.system.batch
    return out


def compare_all(compiled: list[Compiled], results: list[SpiceResult], ode: OdeResult,
                system: System | None = None) -> Comparison:
    """Each circuit against its slice of the ODE batch, stacked in input order; the
    model energy along the circuit trajectories is ``system``'s (default: the weights
    each circuit holds)."""
    parts = []
    for c, r, sl in zip(compiled, results, _slices(compiled), strict=True):
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
    options = with_design_range(options, model, ode_nominal)
    compiled = compile_system(system, options, batched)
    nominal = reference == "nominal"
    ode = ode_nominal if nominal or _holds_nominal(compiled, system) else simulate_ode(
        concat_systems([c.system for c in compiled]), t_end=t_end)
    design = design_review(compiled, ode.u_final)
    checks = preflight(system, ode_nominal) + list(design.warnings)
    if strict and checks:
        raise CircuitError(f"pre-flight check failed (--strict): {checks[0]}")
    predicted = predicted_violations(compiled, ode)
    if strict and predicted:
        raise CircuitError("operating-point check failed (--strict): "
                           + predicted[0].describe(_labels(inputs)))
    netlists = [transient_netlist(c, t_end) for c in compiled]
    results = run_netlists(netlists, runner, timeout_s, cache, progress)
    for r in results:
        try:
            r.raise_for_status()
        except SimulationError as err:
            if not design.warnings:
                raise
            raise SimulationError(f"{err}; the design check predicted it: "
                                  f"{design.warnings[0]}", netlist_path=err.netlist_path,
                                  log_tail=err.log_tail) from None
    simulated = simulated_violations(compiled, results)
    if strict and simulated:
        raise CircuitError("operating-point check failed in the simulation (--strict): "
                           + simulated[0].describe(_labels(inputs)))
    cmp = compare_all(compiled, results, ode, system if nominal else None)
    fidelity = fidelity_warnings(cmp, options.level, _labels(inputs))
    if strict and fidelity:
        raise CircuitError(f"fidelity check failed (--strict): {fidelity[0]}")
    dynamics = dynamics_warnings(cmp, system, _labels(inputs))
    if strict and dynamics:
        raise CircuitError(f"dynamics check failed (--strict): {dynamics[0]}")
    energy, balance = _energies(compiled, results, cmp)
    return SimulationReport(
        model=model.name, task=task, level=options.level, inputs=inputs,
        targets=task.target(inputs), pred_ode=task.predict(model, ode.u_final),
        pred_spice=task.predict(model, cmp.u_spice[:, -1, :]), ode=ode, comparison=cmp,
        compiled=tuple(compiled), spice_wall_s=float(sum(r.wall_s for r in results)),
        backend=results[0].backend, preflight=tuple(checks), pred_trainer=trainer,
        energy=energy, supply_balance=balance,
        pruning=pruning_effect(system, compiled, task, t_end, None if nominal else ode),
        simulator=_simulator(netlists),
        violations=tuple(predicted + simulated), design=design, fidelity=fidelity,
        dynamics=dynamics,
    )


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


def fidelity_warnings(cmp: Comparison, level: str, labels: list[str]) -> tuple[str, ...]:
    """One warning when the circuit's read-out is further from its ODE's than the
    level's tolerance (:class:`~analogam.circuit.levels.Level`), even where the
    predictions agree: naming the worst input, its error and the tolerance. (The
    trajectory error is reported beside it; between output points it also measures
    how finely the transient was resolved.)"""
    tol = get_level(level).tolerance
    worst = int(np.argmax(cmp.readout_err))
    err = float(cmp.readout_err[worst])
    if err <= tol:
        return ()
    n = int(np.sum(cmp.readout_err > tol))
    return (f"the circuit's read-out is up to {err:.3g} (model units; input "
            f"{labels[worst]}) from the ODE's on {n} of {len(labels)} inputs, more than the "
            f"{level} level's tolerance {tol:g}",)


def with_design_range(options: CompileOptions, model: Model, ode: OdeResult
                      ) -> CompileOptions:
    """The options with the design range and emitter paths taken from the ODE on the
    task's inputs (the bias and the time scale are planned for it), unless given."""
    if options.ranges or not ode.success:
        return options
    return replace(options, ranges=design_ranges(model, ode.u),
                   excursions=design_excursions(model, ode.t, ode.u))


def _holds_nominal(compiled: list[Compiled], system: System) -> bool:
    """True when the circuits hold exactly the model's weights (nothing perturbed), in
    both directions."""
    def same(a, b):
        return np.array_equal(np.broadcast_to(a, b.shape) if a.shape != b.shape else a, b)

    for c, sl in zip(compiled, _slices(compiled), strict=True):
        nominal = system.select(sl).weights
        back = c.system.backward if c.system.backward is not None else c.system.weights
        if not all(same(a, b) and same(v, b) for a, v, b in
                   zip(c.system.weights, back, nominal, strict=True)):
            return False
    return True


def _labels(inputs: np.ndarray) -> list[str]:
    return ["".join(map(str, np.asarray(r).ravel()[:64])) for r in inputs]


def _copy_maps(compiled: list[Compiled]) -> list[dict[int, int]]:
    """Per circuit: its copies' input indices in the batch."""
    return [{k: sl.start + k for k in range(c.system.batch)}
            for c, sl in zip(compiled, _slices(compiled), strict=True)]


def predicted_violations(compiled: list[Compiled], ode: OdeResult) -> list[Violation]:
    """The devices' limits against node voltages predicted from the ODE trajectory,
    before anything is simulated (see :mod:`analogam.circuit.limits`)."""
    out = []
    for c, sl, cmap in zip(compiled, _slices(compiled), _copy_maps(compiled), strict=True):
        env = state_env(c.circuit, ode.u[sl], c.scales.vs)
        out += check_limits(c.circuit, env, ode.t, "predicted", cmap)
    return out


def simulated_violations(compiled: list[Compiled], results: list[SpiceResult]
                         ) -> list[Violation]:
    """The devices' limits against the node voltages ngspice computed."""
    out = []
    for c, r, cmap in zip(compiled, results, _copy_maps(compiled), strict=True):
        nets = limit_nets(c.circuit)
        if not nets:
            continue
        env = {}
        for net in nets:
            try:
                env[net] = r.voltage(net)
            except SimulationError:
                pass   # not saved: the prediction stands in
        out += check_limits(c.circuit, env, r.time / c.scales.t0, "simulated", cmap)
    return out


def _simulator(netlists: list[str]) -> str:
    """Which ngspice ran, and with which solvers (from the netlists' options)."""
    info = ngspice_info()
    solvers = sorted({"KLU" if ".options klu " in n else "Sparse" for n in netlists})
    return (info.describe() if info else "ngspice") + "; netlists for " + " and ".join(solvers)


class ResultCache:
    """Finished ngspice results on disk, one ``.npz`` per netlist, named by the SHA-256
    of the netlist text (any change of model, input, options or analysis is a different
    netlist): what a long run has finished survives an interruption."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)

    def _path(self, netlist: str) -> Path:
        return self.dir / (hashlib.sha256(netlist.encode()).hexdigest()[:32] + ".npz")

    def get(self, netlist: str) -> SpiceResult | None:
        p = self._path(netlist)
        if not p.is_file():
            return None
        try:
            vectors = read_npz(p, "cached result")
        except AnalogamError:
            return None   # damaged: run it again
        return SpiceResult(True, "ok (cached)", "cache", vectors.get("time", np.zeros(0)),
                           vectors)

    def put(self, netlist: str, result: SpiceResult) -> None:
        if result.success:
            self.dir.mkdir(parents=True, exist_ok=True)
            with atomic_open(self._path(netlist), "wb") as f:
                np.savez(f, **result.vectors)


def run_netlists(netlists: list[str], runner: Runner | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, cache: Path | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[SpiceResult]:
    """Every netlist's result: from ``cache`` when it holds it, else run (on ``runner``,
    default a local pool) and kept there as it finishes."""
    store = ResultCache(cache) if cache is not None else None
    results: list[SpiceResult | None] = [store.get(n) if store else None for n in netlists]
    todo = [i for i, r in enumerate(results) if r is None]
    done = len(netlists) - len(todo)
    if progress is not None:
        progress(done, len(netlists))

    def finished(j: int, r: SpiceResult) -> None:
        nonlocal done
        results[todo[j]] = r
        if store is not None:
            store.put(netlists[todo[j]], r)
        done += 1
        if progress is not None:
            progress(done, len(netlists))

    if todo:
        if runner is None:
            with Runner("local", timeout_s=timeout_s) as r:
                r.run([netlists[i] for i in todo], finished)
        else:
            runner.run([netlists[i] for i in todo], finished)
    return results  # type: ignore[return-value]


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


@dataclass(frozen=True)
class CompiledFiles:
    """What ``analogam compile`` wrote: the netlist paths, the circuits, and the
    pre-flight warnings."""

    paths: tuple
    compiled: tuple[Compiled, ...]
    warnings: tuple[str, ...]
    pruning: PruningEffect | None = None


def compile_to_files(model: Model, inputs: np.ndarray, options: CompileOptions, *,
                     output=None, stem: str = "circuit", per_input: bool = False,
                     strict: bool = False, t_end: float | None = None,
                     task: Task | None = None, protect=()) -> CompiledFiles:
    """Pre-flight checks, then one netlist of independent copies (``output`` or
    ``STEM_LEVEL.cir``), or one per input in the directory ``output``; each written
    atomically. Under ``strict`` a failed check is an error and nothing is written."""
    from pathlib import Path

    from ..netlist import save_netlist

    system = bind_task(model, inputs, task_for(model) if task is None else task)
    ode = simulate_ode(system, t_end=t_end)
    checks = preflight(system, ode)
    if strict and checks:
        raise CircuitError(f"pre-flight check failed (--strict): {checks[0]}")
    compiled = compile_system(system, with_design_range(options, model, ode),
                              batched=not per_input)
    predicted = predicted_violations(compiled, ode)
    if strict and predicted:
        raise CircuitError("operating-point check failed (--strict): "
                           + predicted[0].describe(_labels(inputs)))
    checks += [f"operating point: {v.describe(_labels(inputs))}" for v in predicted[:8]]
    if len(predicted) > 8:
        checks.append(f"operating point: ... and {len(predicted) - 8} more predicted "
                      "violations")
    name = f"{stem}_{options.level}"
    if per_input and len(compiled) > 1:
        outdir = Path(output or name)
        paths = [outdir / f"{name}_{''.join(map(str, b))}.cir" for b in inputs]
        groups = [b[None] for b in inputs]
    else:
        paths, groups = [Path(output or f"{name}.cir")], [inputs]
    for path in paths:
        check_output(path, protect)
    effect = pruning_effect(system, compiled, task or task_for(model), t_end)
    for c, path, b in zip(compiled, paths, groups, strict=True):
        save_netlist(c.circuit, path, transient_for(c, t_end), header=netlist_header(c, b))
    return CompiledFiles(tuple(paths), tuple(compiled), tuple(checks), effect)


def format_compiled(files: CompiledFiles) -> str:
    """What was written, the element counts and the scales."""
    c0 = files.compiled[0]
    where = (files.paths[0] if len(files.paths) == 1
             else f"{len(files.paths)} netlists in {files.paths[0].parent}")
    counts = ", ".join(f"{n} {k}" for k, n in c0.circuit.counts().items())
    lo, hi = c0.conductance_range
    lines = [
        f"wrote {printable(where)}: level {c0.level}, {c0.system.batch} cop"
        f"{'y' if c0.system.batch == 1 else 'ies'} per netlist",
        f"  elements: {counts}",
        f"  conductances {lo:.4g} .. {hi:.4g} S (G0 {c0.scales.g0:.4g} S), "
        f"Vs {c0.scales.vs:g} V, T0 {c0.scales.t0:.4g} s"]
    if files.pruning is not None:
        lines.append(f"  {files.pruning.describe()}")
    return "\n".join(lines)
