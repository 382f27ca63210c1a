"""The pipeline of DESIGN.md section 2 for task inputs: bind, pre-flight checks,
compile, simulate in ngspice, compare with the ODE reference. The CLI and the examples
call these; each stage lives in its own module."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .compare import Comparison, compare
from .compile import Compiled, CompileOptions, build_circuit
from .errors import CircuitError
from .model import Model, System
from .netlist import format_netlist
from .ode import OdeResult, simulate_ode
from .power import inference_energy
from .spice import DEFAULT_TIMEOUT_S, SpiceResult, simulate_spice
from .tasks import bind_task, get_task


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


@dataclass(frozen=True)
class SimulationReport:
    """Everything ``analogam simulate`` reports for a batch of task inputs."""

    model: str
    task: str
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
    energy_j: np.ndarray | None = None

    @property
    def agreement(self) -> float:
        return float(np.mean(np.all(self.pred_spice == self.pred_ode, axis=1)))

    @property
    def accuracy_spice(self) -> float:
        return float(np.mean(np.all(self.pred_spice == self.targets, axis=1)))

    @property
    def accuracy_ode(self) -> float:
        return float(np.mean(np.all(self.pred_ode == self.targets, axis=1)))


def _merge(compiled: list[Compiled], results: list[SpiceResult], ode: OdeResult
           ) -> Comparison:
    """Compare each circuit with its slice of the ODE batch and stack the figures."""
    parts, start = [], 0
    for c, r in zip(compiled, results, strict=True):
        n = c.system.batch
        sl = slice(start, start + n)
        sub = replace(ode, u=ode.u[sl], energy=ode.energy[sl], residual=ode.residual[sl],
                      energy_rise=ode.energy_rise[sl])
        parts.append(compare(c, r, sub))
        start += n
    if len(parts) == 1:
        return parts[0]
    cat = {f: np.concatenate([getattr(p, f) for p in parts])
           for f in ("u_spice", "u_ode", "energy_spice", "max_err", "readout_err",
                     "settle_spice_tau", "settle_ode_tau")}
    return Comparison(t=parts[0].t, tau_s=parts[0].tau_s, **cat)


def simulate_task(
    model: Model,
    inputs: np.ndarray,
    options: CompileOptions | None = None,
    *,
    batched: bool = False,
    backend: str = "auto",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    strict: bool = False,
    trainer: np.ndarray | None = None,
    reference: str = "realised",
) -> SimulationReport:
    """Compile the model on ``inputs``, run ngspice, compare with the ODE reference.

    ``trainer``: the trainer's predictions on ``inputs`` (see
    :func:`trainer_predictions`), reported as a third column.
    ``reference``: the ODE the circuit is compared with: ``"realised"`` integrates the
    weights the circuit holds (after quantisation and programming noise), so the
    comparison measures the circuit alone; ``"nominal"`` integrates the model's own
    weights, so it measures everything the hardware changes (Monte Carlo).

    By default each input is its own netlist, run in a worker pool: ngspice 39's sparse
    solver costs grow faster than linearly with independent copies in one netlist
    (``batched=True``), so per-input runs are faster beyond a few copies.

    Raises SimulationError on a failed simulation (a failed run is never compared).
    """
    options = options or CompileOptions()
    task = get_task(model.task)
    system = bind_task(model, inputs)
    compiled = compile_system(system, options, batched)
    if reference == "nominal":
        ode = simulate_ode(system, t_end=options.t_end)
        # energy and read-back use the model's own weights too
        start, nominal = 0, []
        for c in compiled:
            nominal.append(replace(c, system=system.select(slice(start, start + c.system.batch))))
            start += c.system.batch
        compiled = nominal
    else:
        ode = simulate_ode(compiled[0].system if len(compiled) == 1 else _requantised(
            system, compiled), t_end=options.t_end)
    checks = preflight(system, ode)
    if strict and checks:
        raise CircuitError(f"pre-flight check failed (--strict): {checks[0]}")
    netlists = [format_netlist(c.circuit, header=netlist_header(c)) for c in compiled]
    results = _default_runner(netlists, backend, timeout_s)
    for r in results:
        r.raise_for_status()
    cmp = _merge(compiled, results, ode)
    u_final = cmp.u_spice[:, -1, :]
    energy_j = _energies(compiled, options, cmp) if options.level == "opamp" else None
    return SimulationReport(
        model=model.name, task=task.name, level=options.level, inputs=inputs,
        targets=task.target(inputs), pred_ode=task.predict(model, ode.u_final),
        pred_spice=task.predict(model, u_final), ode=ode, comparison=cmp,
        compiled=tuple(compiled), spice_wall_s=float(sum(r.wall_s for r in results)),
        backend=results[0].backend, preflight=tuple(checks), pred_trainer=trainer,
        energy_j=energy_j,
    )


def _energies(compiled: list[Compiled], options: CompileOptions, cmp: Comparison
              ) -> np.ndarray:
    """Energy drawn per inference (J) by each input's circuit until it settled."""
    where = [(c, k) for c in compiled for k in range(c.system.batch)]
    tau = compiled[0].system.model.tau_max
    return np.array([inference_energy(c, options, cmp.t, cmp.u_spice[b],
                                      cmp.settle_spice_tau[b] * tau, copy=k).total_j
                     for b, (c, k) in enumerate(where)])


def trainer_predictions(provenance: dict, model: Model, inputs: np.ndarray
                        ) -> np.ndarray | None:
    """The predictions the trainer stored (for every task input, in task order) picked
    out for ``inputs``; None when the weights did not come from the trainer."""
    stored = provenance.get("trainer_predictions")
    task = get_task(model.task)
    every = task.inputs()
    try:
        stored = np.asarray(stored, dtype=int).reshape(every.shape[0], -1)
    except (TypeError, ValueError):
        return None
    index = {tuple(row): i for i, row in enumerate(every.tolist())}
    rows = [index.get(tuple(x)) for x in np.asarray(inputs).tolist()]
    return None if None in rows else stored[rows]


def _requantised(system: System, compiled: list[Compiled]) -> System:
    """The batched system with each copy's realised (possibly quantised) weights."""
    ws = []
    for k in range(len(system.weights)):
        ws.append(np.concatenate([np.broadcast_to(c.system.weights[k],
                                                  (1,) + c.system.weights[k].shape[1:])
                                  for c in compiled]))
    return replace(system, weights=tuple(ws))


def _default_runner(netlists: list[str], backend: str, timeout_s: float
                    ) -> list[SpiceResult]:
    if len(netlists) > 1 and backend in ("auto", "shared"):
        from .spice import ngspice_library
        from .spice_shared import SpicePool

        if ngspice_library():
            with SpicePool(timeout_s=timeout_s) as pool:
                return list(pool.map(netlists))
    return [simulate_spice(n, backend=backend, timeout_s=timeout_s) for n in netlists]


@dataclass(frozen=True)
class OpCheck:
    """DC operating points (a fast fixed-point solve) against the settled transient.
    ``differs`` flags inputs where they are more than ``tol`` apart (model units):
    a multistable model's Newton solve can land on another fixed point."""

    u_op: np.ndarray
    diff: np.ndarray
    tol: float

    @property
    def differs(self) -> np.ndarray:
        return self.diff > self.tol


def check_operating_points(rep: SimulationReport, *, backend: str = "auto",
                           timeout_s: float = DEFAULT_TIMEOUT_S, tol: float = 1e-2) -> OpCheck:
    """Solve the DC operating point of every compiled circuit (``.op``, Newton from the
    initial state) and compare with the transient's settled state."""
    from .compare import op_states

    netlists = [format_netlist(c.circuit, analysis="op") for c in rep.compiled]
    results = _default_runner(netlists, backend, timeout_s)
    u_op = np.concatenate([op_states(c, r) for c, r in zip(rep.compiled, results,
                                                             strict=True)])
    diff = np.abs(u_op - rep.comparison.u_spice[:, -1, :]).max(axis=1)
    return OpCheck(u_op, diff, tol)


def format_report(rep: SimulationReport) -> str:
    """A short text summary: agreement, errors, settling, energy, checks."""
    c = rep.comparison
    n = len(rep.inputs)
    ok_sp = int(np.sum(np.all(rep.pred_spice == rep.targets, axis=1)))
    ok_ode = int(np.sum(np.all(rep.pred_ode == rep.targets, axis=1)))
    lines = [
        f"{rep.model} ({rep.task}), level {rep.level}, {n} inputs, "
        f"{len(rep.compiled)} netlist(s), ngspice {rep.backend} backend "
        f"{rep.spice_wall_s:.2f} s",
        f"  correct: circuit {ok_sp}/{n}, ODE {ok_ode}/{n}; circuit agrees with ODE on "
        f"{100 * rep.agreement:.1f}%",
        f"  state error vs ODE (model units): max over trajectory {c.max_err.max():.3e}, "
        f"at read-out {c.readout_err.max():.3e}",
        f"  settling (1%): circuit {np.median(c.settle_spice_tau):.2f} tau_v median, "
        f"{c.settle_spice_tau.max():.2f} max = {c.settle_spice_tau.max() * c.tau_s:.3e} s "
        f"(ODE {c.settle_ode_tau.max():.2f} tau_v)",
        f"  circuit energy non-increasing on {int(np.sum(c.energy_rise <= 1e-3))}/{n} "
        f"trajectories (max rise {c.energy_rise.max():.2e})",
    ]
    if rep.energy_j is not None:
        lines.append(f"  energy per inference until settled (amplifiers, bias, tails): median "
                     f"{1e9 * np.median(rep.energy_j):.3g} nJ, max {1e9 * rep.energy_j.max():.3g}"
                     f" nJ")
    if rep.pred_trainer is not None:
        agree = np.all(rep.pred_trainer == rep.pred_spice, axis=1)
        lines.append(f"  trainer (digital, settled fixed point): correct "
                     f"{int(np.sum(np.all(rep.pred_trainer == rep.targets, axis=1)))}/{n}; "
                     f"circuit agrees with the trainer on {100 * agree.mean():.1f}%")
    lines += [f"  WARNING: {w}" for w in rep.preflight]
    return "\n".join(lines)


def simulate_weights(path, inputs: np.ndarray | None = None,
                     options: CompileOptions | None = None, **kw) -> SimulationReport:
    """:func:`simulate_task` on a weights file: every task input by default, and the
    trainer's stored predictions (if the weights came from the trainer) as the third
    column."""
    from .weights import load_model, load_provenance

    model = load_model(path)
    if inputs is None:
        inputs = get_task(model.task).inputs()
    trainer = trainer_predictions(load_provenance(path), model, inputs)
    return simulate_task(model, inputs, options, trainer=trainer, **kw)
