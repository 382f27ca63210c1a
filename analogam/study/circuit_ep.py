"""Equilibrium propagation run by the circuit itself (docs/design.md sections 6 and 9).

Each step: the free phase is an ngspice transient of the circuit as programmed (every
device error included); the nudged phases, from the free phase's settled state, are
one more transient of two copies with EP's force injected at the supervised outputs
(``+beta`` and ``-beta``, :func:`~analogam.circuit.probe.nudge_circuit`). The update is
the local product of the settled line voltages,

    dC/dW ~ (dE/dW(s+) - dE/dW(s-)) / (2 beta),   dE/dW = -f g^T,  dE/dbias = -g,

and the new weights are programmed into the same devices: a device keeps its relative
programming error (the Monte Carlo sample names the chip), so learning can correct
what the devices do rather than chase new draws. Two ngspice runs per input and update
(its free phase; its two nudged copies).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..circuit import Circuit, Compiled, CompileOptions, build_circuit
from ..circuit.probe import line_nets, nudge_circuit
from ..compare import spice_states
from ..errors import ModelError
from ..model import Model, System, concat_systems, energy_gradients, outputs
from ..netlist import format_netlist, transient_for
from ..reference import SETTLE_TOL
from ..spice import DEFAULT_TIMEOUT_S, Runner
from ..tasks import Task, bind_task, task_for
from ..train.loss import Loss
from ..train.params import Optimizer, from_theta, theta_grads, to_theta
from .checks import circuit_violations, readout_rate
from .files import noisy
from .runs import run_netlists


def _settled(jobs: list[tuple[Compiled, Circuit]], runner: Runner | None, timeout_s: float,
             phase: str) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, list[str]]]:
    """Run each (compiled, circuit: its own or a nudged one) to its read-out, together,
    and read the settled states (B, N) and each group's outputs from its line voltages
    (B, size), copies in order; a unit without a line gives the model's activation of
    its measured state. The third result: the checks every transient gets, by kind
    (the devices' limits from ngspice's voltages; a circuit still moving at the
    read-out), named by ``phase`` and input."""
    lines = [line_nets(compiled) for compiled, _ in jobs]
    analyses = [replace(transient_for(compiled), nets=tuple(ln.values()))
                for (compiled, _), ln in zip(jobs, lines, strict=True)]
    trans = [format_netlist(noisy(compiled, a, circuit), a)
             for (compiled, circuit), a in zip(jobs, analyses, strict=True)]
    us, gs = [], []
    findings: dict[str, list[str]] = {}
    for j, ((compiled, circuit), ln, r) in enumerate(zip(
            jobs, lines, run_netlists(trans, runner, timeout_s), strict=True)):
        t, u = spice_states(compiled, r)
        where = f"{phase} phase, input {j}"
        for v in circuit_violations(circuit, r, compiled.scales.t0):
            findings.setdefault("operating_point", []).append(f"{where}: {v.describe()}")
        rate = readout_rate(t, u, compiled.system)
        if rate.max() > SETTLE_TOL:
            findings.setdefault("dynamics", []).append(
                f"{where}: still moving at the read-out (|tau du/dt| {rate.max():.3g}, "
                f"tolerance {SETTLE_TOL:g}); its settled state is not a fixed point")
        u = u[:, -1]
        m = compiled.system.model
        g = outputs(compiled.system, u)
        flat = np.concatenate([g[grp.name] for grp in m.groups], axis=1)
        for (k, unit), net in ln.items():
            flat[k, unit] = r.voltage(net)[-1] / compiled.scales.vs
        us.append(u)
        gs.append(flat)
    u, flat = np.concatenate(us), np.concatenate(gs)
    m = jobs[0][0].system.model
    return u, {grp.name: flat[:, m.slices[grp.name]] for grp in m.groups}, findings


@dataclass(frozen=True)
class CircuitPhases:
    """The settled states (B, N) and outputs of the free and the two nudged phases, and
    the ngspice runs they took."""

    free: tuple[np.ndarray, dict]
    plus: tuple[np.ndarray, dict]
    minus: tuple[np.ndarray, dict]
    runs: int
    wall_s: float
    findings: dict[str, list[str]] = field(default_factory=dict)
    """The failed checks of every phase's transients, by kind (:func:`_settled`)."""


def circuit_phases(system: System, loss: Loss, beta: float, options: CompileOptions, *,
                   runner: Runner | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
                   ) -> CircuitPhases:
    """The free phase and the ``+-beta`` nudged phases of ``system``'s circuit: per input
    one free netlist, then one netlist of its two nudged copies started from the free
    phase's settled state."""
    m = system.model
    grp = m.group(loss.group)
    if loss.kind != "squared" or grp.activation != "identity":
        raise ModelError("in-circuit EP nudges identity units with a squared loss (a "
                         "transconductor toward the target); this loss is "
                         f"{loss.kind} on a {grp.activation} group")
    t = time.perf_counter()
    B = system.batch
    free_c = [build_circuit(system.sample(b), options) for b in range(B)]
    *free, found = _settled([(c, c.circuit) for c in free_c], runner, timeout_s, "free")
    units = np.zeros(m.n_units, bool)
    units[m.slices[grp.name]] = loss.units
    target = np.zeros((B, m.n_units))
    target[:, m.slices[grp.name]] = loss.target
    start = replace(system, u0=free[0])
    jobs = []
    for b in range(B):
        one = start.sample(b)
        c = build_circuit(concat_systems([one, one]), options)
        jobs.append((c, nudge_circuit(c, np.array([beta, -beta]), target[[b, b]], units)))
    u, g, nudged = _settled(jobs, runner, timeout_s, "nudged")
    for kind, lines in nudged.items():
        found.setdefault(kind, []).extend(lines)
    return CircuitPhases(tuple(free), (u[0::2], {k: v[0::2] for k, v in g.items()}),
                         (u[1::2], {k: v[1::2] for k, v in g.items()}), 2 * B,
                         time.perf_counter() - t, found)


def circuit_ep_gradient(system: System, phases: CircuitPhases, beta: float
                        ) -> dict[str, np.ndarray]:
    """dC/dtheta from the circuit's settled phases (symmetric EP, batch mean), keyed as
    :func:`~analogam.model.parameters.energy_gradients`."""
    gp = energy_gradients(system, phases.plus[0], g=phases.plus[1])
    gm = energy_gradients(system, phases.minus[0], g=phases.minus[1])
    return {k: (gp[k] - gm[k]) / (2 * beta) for k in gp}


@dataclass(frozen=True)
class CircuitTraining:
    """Per step (the first is the model as deployed): the free phase's loss (mean, model
    units) and accuracy; the final model; ngspice runs per update and wall time."""

    loss: list[float]
    accuracy: list[float]
    model: Model
    runs_per_update: int
    wall_s: float
    findings: list[dict[str, list[str]]] = field(default_factory=list)
    """Per step, the failed checks of its phases by kind (empty: all passed)."""


def train_in_circuit(model: Model, inputs: np.ndarray, loss_of: Callable[[Model], Loss],
                     options: CompileOptions, *, steps: int, lr: float, beta: float,
                     optimizer: str = "adam", task: Task | None = None,
                     runner: Runner | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                     progress: Callable[[int, float, float], None] | None = None
                     ) -> CircuitTraining:
    """``steps`` full-batch EP updates on ``inputs``, every phase run by the circuit
    (``options``: level, devices, the chip's sample). The trainer's parametrisation
    (conductances as squares, so they stay >= 0) and ``optimizer`` (Adam or plain
    descent) with rate ``lr``, on the couplings and the groups' biases.
    ``progress(step, loss, accuracy)`` after each free phase. A weight that falls below
    the device window's reach (``g_min / g_max`` of the largest) is an unprogrammed cell,
    unless ``conductance.prune_below`` says otherwise."""
    window = options.config.conductance
    if not window.prune_below:
        options = replace(options, config=options.config.with_value(
            "conductance.prune_below", window.g_min / window.g_max))
    task = task or task_for(model)
    targets = task.target(inputs)
    losses, accs, findings = [], [], []
    t0 = time.perf_counter()
    runs = 0
    opt = Optimizer(lr, optimizer)
    theta = to_theta(model)
    for step in range(steps + 1):
        system = bind_task(model, inputs, task)
        loss = loss_of(model)
        ph = circuit_phases(system, loss, beta, options, runner=runner, timeout_s=timeout_s)
        runs = ph.runs
        findings.append(ph.findings)
        u_free = ph.free[0]
        losses.append(float(np.mean(loss.value(model, u_free))))
        accs.append(float(np.mean(np.all(task.predict(model, u_free) == targets, axis=1))))
        if progress:
            progress(step, losses[-1], accs[-1])
        if step == steps:
            break
        grads = circuit_ep_gradient(system, ph, beta)
        theta = opt.step(theta, theta_grads(theta, grads))
        model = from_theta(model, theta)
    return CircuitTraining(losses, accs, model, runs, time.perf_counter() - t0, findings)
