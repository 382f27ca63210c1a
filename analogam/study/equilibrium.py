"""Non-equilibrium diagnostics of a circuit (docs/design.md section 9): its linearisation
measured in ngspice at a state, and what it and the circuit's trajectory say.

The linearisation is one DC operating point of a batched circuit held at the state
(:mod:`analogam.circuit.probe`): copy 0 at the state itself, two copies per free unit
with that unit moved by ``+-delta`` (a column of the Jacobian ``J``), two per line
with that line offset by ``+-delta Vs`` (a column of the effective coupling ``A``).
Central differences of the measured forces against the measured states and lines
give ``J`` and ``A`` in model units, whatever the devices do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..circuit import CompileOptions, build_circuit
from ..circuit.limits import Violation, check_limits
from ..circuit.probe import Held, hold_circuit, line_nets
from ..compare.equilibrium import (
    Oscillation,
    Spectrum,
    activation_matrix,
    coupling_asymmetry,
    detect_oscillation,
    directed_coupling_proxy,
    entropy_rate,
    metric_coupling,
    programmed_coupling,
    spectrum,
)
from ..model import Model, System, outputs
from ..netlist import format_netlist, operating_point_for
from ..reference import SETTLE_TOL
from ..spice import DEFAULT_TIMEOUT_S, Runner, SpiceResult
from ..tasks import bind_task
from .checks import measured_env, readout_rate
from .record import SimulationReport
from .runs import run_netlists

ALONG = (0.0, 0.05, 0.2)
"""Where along the transient (fractions of the read-out time) the circuit is linearised
besides its read-out state."""
DELTA = 1e-3
"""Central-difference step (model units): the softmax's curvature gives an error of
order ``(beta delta)^2`` relative, 1e-6 at beta 1."""


@dataclass(frozen=True)
class Linearisation:
    """The circuit's linearisation at state ``u`` (N,): ``J`` (N, N) per model time
    unit and ``A`` (N, N) model units (rows of clamped units and columns of units
    without lines are 0; ``A`` is None where the level has no line sense sources),
    with ``Dg`` the model's activation Jacobian at ``u`` and ``tau`` per unit."""

    u: np.ndarray
    J: np.ndarray
    A: np.ndarray | None
    Dg: np.ndarray
    tau: np.ndarray
    free: np.ndarray
    wall_s: float
    violations: tuple[Violation, ...] = ()
    """The devices' limits broken at the held operating points (a linearisation of a
    railed amplifier or a saturated transistor is not the circuit's)."""


def _force(held: Held, r: SpiceResult, t0: float, vs: float, shape) -> np.ndarray:
    """du/dt (model units per model time) of every held unit, per copy."""
    f = np.zeros(shape)
    for h in held.holds:
        f[h.copy, h.unit] = h.sign * r.current(h.sense)[-1] * t0 / (h.c * vs)
    return f


def linearise(system: System, states: np.ndarray, options: CompileOptions | None = None, *,
              delta: float = DELTA, runner: Runner | None = None,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Linearisation]:
    """Measure ``J`` and ``A`` of the circuit compiled from ``system`` (one input; a
    directed one on dual arrays) with ``options`` at each state of ``states`` (K, N):
    one operating-point netlist per state, run together."""
    options = options or CompileOptions()
    m = system.model
    N = m.n_units
    one = system.sample(0)
    free = np.flatnonzero(one.free)
    states = np.atleast_2d(states)
    base = build_circuit(replace(one, u0=states[:1]), options)
    lines = sorted(unit for (_, unit) in line_nets(base))
    first = 1 + 2 * free.size
    P = first + 2 * len(lines)
    vs = base.scales.vs
    off = np.zeros((P, N))
    for k, j in enumerate(lines):
        off[first + 2 * k, j] = delta * vs
        off[first + 2 * k + 1, j] = -delta * vs
    plans = []
    for u in states:
        U = np.repeat(u[None], P, axis=0)
        for k, j in enumerate(free):
            U[1 + 2 * k, j] += delta
            U[2 + 2 * k, j] -= delta
        compiled = build_circuit(replace(one, u0=U, tokens=None if one.tokens is None
                                         else np.repeat(one.tokens, P, axis=0)), options)
        held = hold_circuit(compiled, off)
        # the writer saves the limits' nets too
        op = operating_point_for(compiled, tuple(held.lines.values()),
                                 tuple(h.sense for h in held.holds))
        plans.append((compiled, held, format_netlist(held.circuit, op)))
    results = run_netlists([p[2] for p in plans], runner, timeout_s)
    out = []
    for u, (compiled, held, _), r in zip(states, plans, results, strict=True):
        r.raise_for_status()
        f = _force(held, r, compiled.scales.t0, vs, (P, N))
        us, y = np.zeros((P, N)), np.zeros((P, N))
        for p in compiled.circuit.probes:
            us[p.copy, p.unit] = r.voltage(p.net)[-1] / vs
        for (k, unit), net in held.lines.items():
            y[k, unit] = r.voltage(net)[-1] / vs
        J = np.zeros((N, N))
        if free.size:
            dF = (f[1:first:2] - f[2:first:2])[:, free]
            dU = (us[1:first:2] - us[2:first:2])[:, free]
            J[np.ix_(free, free)] = np.linalg.solve(dU, dF).T
        A = None
        if lines:
            drive = f * m.tau + us                        # tau du/dt = drive - u
            dD = (drive[first::2] - drive[first + 1::2])[:, free]
            dY = (y[first::2] - y[first + 1::2])[:, lines]
            A = np.zeros((N, N))
            A[np.ix_(free, lines)] = np.linalg.solve(dY, dD).T
        out.append(Linearisation(u, J, A, activation_matrix(one, u), m.tau, one.free,
                                 r.wall_s, _held_violations(held, r)))
    return out


def _held_violations(held: Held, r: SpiceResult) -> tuple[Violation, ...]:
    """The devices' limits at the operating points of every held copy, one violation
    per device and quantity (the worst copy)."""
    env = {net: v[-1:] for net, v in measured_env(held.circuit, r).items()}
    return tuple(check_limits(held.circuit, env, np.zeros(1), "linearisation"))


@dataclass(frozen=True)
class NonEquilibrium:
    """What the circuit's linearisation and trajectory say about its distance from
    equilibrium (model units, model time; ``tau_s`` seconds per tau_v):

    ``asymmetry``: ``||W - V^T|| / ||W + V^T||`` of the measured coupling (None without
    line sense sources) and ``asymmetry_programmed`` the same from the programmed
    arrays; ``entropy_production`` (k_B per tau_v; None: no stationary state);
    ``spectrum`` of the measured Jacobian; ``proxy`` the directed-coupling
    ``sigma_tot``; ``oscillation`` in the transient; ``settled``: whether the
    transient came to rest; ``energy_rise``: the largest rise of the model energy
    along the circuit's trajectory (meaningful only where an energy exists);
    ``trajectory``: the linearisation at earlier states of the transient, as (time in
    tau_v, largest real part per tau_v, entropy production per tau_v or None)."""

    asymmetry: float | None
    asymmetry_programmed: float
    entropy_production: float | None
    spectrum: Spectrum
    proxy: float | None
    oscillation: Oscillation | None
    settled: bool
    energy_rise: float
    tau_s: float
    linearisation: Linearisation
    trajectory: tuple[tuple[float, float, float | None], ...] = ()
    entropy_floor: float = 0.0
    """The entropy production rounding alone gives (k_B per tau_v): a value at or below
    it is reported as this bound (:func:`~analogam.compare.equilibrium.entropy_rate`)."""

    @property
    def entropy_bounded(self) -> bool:
        """True when the entropy production is below its numerical floor (a bound)."""
        return (self.entropy_production is not None
                and self.entropy_production <= self.entropy_floor)

    @property
    def linear_warnings(self) -> tuple[str, ...]:
        """An unstable linearisation at the read-out state, with its numbers (what the
        trajectory checks of :func:`~.checks.dynamics_warnings` cannot see), and a
        linearisation taken outside the devices' safe region."""
        out = []
        sp = self.spectrum
        if sp.unstable:
            what = (f"a complex pair grows at {sp.max_real:.3g} per tau_v with period "
                    f"{sp.period:.4g} tau_v" if sp.period else
                    f"an eigenvalue grows at {sp.max_real:.3g} per tau_v")
            out.append(f"the linearisation at the read-out state is unstable: {what}")
        bad = self.linearisation.violations
        if bad:
            out.append(f"the linearisation's operating points break {len(bad)} device "
                       f"limit(s), so J and A are not the circuit's in its safe region; "
                       f"first: {bad[0].describe()}")
        return tuple(out)

    @property
    def warnings(self) -> tuple[str, ...]:
        """A run that oscillates, a transient that never settles, an unstable fixed
        point: each with its numbers."""
        out = []
        osc, ts = self.oscillation, self.tau_s
        if osc is not None:
            out.append(f"the circuit oscillates: unit {osc.unit}, period {osc.period:.4g} "
                       f"tau_v ({osc.period * ts:.4g} s), amplitude {osc.amplitude:.3g} "
                       f"(model units), {osc.cycles:.1f} cycles in the second half")
        if not self.settled and osc is None:
            out.append("the transient never settles (it is still moving at the read-out)")
        return tuple(out) + self.linear_warnings

    def as_dict(self) -> dict:
        sp, osc = self.spectrum, self.oscillation
        return {
            "asymmetry_circuit": self.asymmetry,
            "asymmetry_programmed": self.asymmetry_programmed,
            "entropy_production_per_tau_v": (None if self.entropy_bounded
                                             else self.entropy_production),
            "entropy_production_below_per_tau_v": (self.entropy_floor if self.entropy_bounded
                                                   else None),
            "directed_coupling_proxy": self.proxy,
            "jacobian_max_real_per_tau_v": sp.max_real,
            "jacobian_omega_per_tau_v": sp.omega,
            "linear_period_tau_v": sp.period,
            "oscillation": None if osc is None else {
                "unit": osc.unit, "period_tau_v": osc.period, "period_s": osc.period
                * self.tau_s, "amplitude": osc.amplitude, "cycles": osc.cycles},
            "settled": self.settled,
            "energy_rise": self.energy_rise,
            "linearisation_wall_s": self.linearisation.wall_s,
            "along_trajectory": [{"t_tau_v": t, "jacobian_max_real_per_tau_v": r,
                                  "entropy_production_per_tau_v": ep}
                                 for t, r, ep in self.trajectory],
            "warnings": list(self.warnings),
        }


def _rates(lin: Linearisation, tv: float) -> tuple[Spectrum, float | None, float]:
    """The spectrum, the entropy production and its numerical floor (both per tau_v) of
    one linearisation."""
    f = np.flatnonzero(lin.free)
    ep, floor = None, 0.0
    if lin.A is not None:
        S = metric_coupling(lin.A, lin.Dg)[np.ix_(f, f)]
        ep, floor = entropy_rate(S, lin.tau[f])
    return (spectrum(lin.J[np.ix_(f, f)] * tv), None if ep is None else ep * tv,
            floor * tv)


def diagnose(system: System, lin: Linearisation, t: np.ndarray, u: np.ndarray,
             tau_s: float, *, settled: bool = True, energy_rise: float = 0.0,
             earlier: tuple[tuple[float, Linearisation], ...] = ()) -> NonEquilibrium:
    """The diagnostics of one input: ``lin`` measured at its read-out state, ``t``
    (T,) and ``u`` (T, N) its circuit trajectory, ``system`` the realised system (the
    weights its arrays hold); ``earlier``: (model time, linearisation) at earlier
    states of the trajectory."""
    one = system.sample(0)
    free = lin.free
    tv = float(system.model.tau_max)
    sp, ep, floor = _rates(lin, tv)
    proxy = asym = None
    if lin.A is not None:
        asym = coupling_asymmetry(lin.A, one)
        y = np.concatenate(list(outputs(one, u).values()), axis=1)
        proxy = directed_coupling_proxy(lin.A, t, y, free,
                                        float(lin.tau[np.flatnonzero(free)].min()))
    osc = detect_oscillation(t / tv, u, free)
    along = []
    for te, le in earlier:
        s_e, ep_e, _ = _rates(le, tv)
        along.append((float(te / tv), s_e.max_real, ep_e))
    return NonEquilibrium(asym, coupling_asymmetry(programmed_coupling(one), one),
                          ep, sp, proxy, osc, settled, energy_rise, tau_s, lin, tuple(along),
                          floor)


def format_nonequilibrium(d: NonEquilibrium, label: str = "") -> list[str]:
    """Text report lines."""
    sp = d.spectrum
    head = f"  non-equilibrium{f' ({label})' if label else ''}:"
    asym = ("not measured (no line sense sources at this level)" if d.asymmetry is None
            else f"{d.asymmetry:.3g}")
    ep = ("n/a (no stationary state)" if d.entropy_production is None and d.asymmetry
          is not None else "n/a" if d.entropy_production is None
          else f"< {d.entropy_floor:.2g} k_B per tau_v (its numerical floor: detailed "
          "balance to rounding)" if d.entropy_bounded
          else f"{d.entropy_production:.3g} k_B per tau_v")
    lines = [
        head,
        f"    coupling asymmetry ||W - V^T|| / ||W + V^T||: circuit {asym}, programmed "
        f"arrays {d.asymmetry_programmed:.3g}",
        f"    entropy production (linearised, noise in the dynamics' metric): {ep}",
        f"    Jacobian: largest real part {sp.max_real:.4g} per tau_v"
        + (f", growing pair with period {sp.period:.4g} tau_v" if sp.period else ""),
    ]
    if d.trajectory:
        lines.append("    along the transient (t/tau_v: largest real part, entropy "
                     "production): " + "; ".join(
                         f"{t:.2g}: {r:.3g}, {'n/a' if e is None else format(e, '.3g')}"
                         for t, r, e in d.trajectory))
    if d.proxy is not None:
        lines.append(f"    directed-coupling proxy sigma_tot: {d.proxy:.3g}")
    lines += [f"    WARNING: {w}" for w in d.linear_warnings]
    return lines


def diagnose_report(model: Model, rep: SimulationReport, inputs: int, *,
                    along: tuple[float, ...] = ALONG, runner: Runner | None = None,
                    timeout_s: float = DEFAULT_TIMEOUT_S) -> SimulationReport:
    """``rep`` with the non-equilibrium diagnostics of its first ``inputs`` inputs: each
    circuit linearised at its own read-out state and at ``along`` fractions of the
    read-out time along its transient (the same devices: the compile is repeated with
    the same options)."""
    n = min(inputs, len(rep.inputs))
    system = bind_task(model, rep.inputs[:n], rep.task)
    cmp = rep.comparison
    rate = readout_rate(cmp.t, cmp.u_spice[:n], system)
    where = [(c, k) for c in rep.compiled for k in range(c.system.batch)]
    out = []
    for b in range(n):
        c, k = where[b]
        at = [int(np.argmin(np.abs(cmp.t - a * cmp.t[-1]))) for a in along] + [-1]
        # the same options draw the same devices (dual arrays: both arrays)
        *earlier, lin = linearise(system.sample(b), cmp.u_spice[b, at], c.options,
                                  runner=runner, timeout_s=timeout_s)
        out.append(diagnose(c.system.sample(k), lin, cmp.t, cmp.u_spice[b], cmp.tau_s,
                            settled=bool(rate[b] <= SETTLE_TOL),
                            energy_rise=float(cmp.energy_rise[b]),
                            earlier=tuple(zip(cmp.t[at[:-1]], earlier, strict=True))))
    return replace(rep, nonequilibrium=tuple(out))
