"""Design checks on a compiled circuit, before anything is simulated: what its
topology does to the model's dynamics, computed from its element values.

- **Integrator bandwidth.** An op-amp integrator's summing node is a virtual ground
  only to within ``V_sum = (dV_u/dt) / (2 pi GBW)``; every conductance on that node
  then draws ``V_sum G`` away from the integrating capacitor, a fraction

      e_bw = G_node / (2 pi GBW C)

  of the unit's input current while it moves (zero once settled): to first order an
  extra capacitance, which stretches the unit's time constant and leaves its fixed
  point alone. It is compensated (:mod:`.speed`); what remains (a unit whose
  amplifier, not its capacitor, sets its pace) is reported as the stretch
  ``tau_eff / tau - 1``. Under ``design.fidelity = "trajectory"`` a stretch beyond the
  limit is a warning and the automatic time scale slows for it; under the default
  (``answer``) it is the latency's business, not a fault.

- **Translinear emitter charge.** The transistors of a softmax (or a tanh pair) share
  one emitter node held by the tail current. When the base drives move together the
  emitter follows them, and the current that charges the node's capacitance

      C_E = N C_je(V_BE) + TF I_tail / V_T

  is taken from the collectors: the outputs add up to ``I_tail - C_E dV_E/dt`` while
  the state moves. Over a transient the charge missing from the outputs, against what
  the tail delivers in the slowest time constant, is

      e_em = C_E V_T P / (I_tail T0 tau_max),

  ``P`` the path the emitter travels in units of ``V_T`` along the ODE trajectory of
  the design inputs (:func:`~.plan.design_excursions`). ``C_je`` is the
  Gummel-Poon forward-bias capacitance (FC = 0.5, VJE = 0.75 V, MJE = 0.33) at ``V_BE =
  V_T ln(I_tail / (N I_S))``. Under ``design.fidelity = "trajectory"``, ``e_em`` is
  held to the same limit as the integrator bandwidth, and the automatic time scale is
  slowed for it; under ``answer`` it is reported (the fixed point does not move).
  Measured on a random 32x128 DenseAM (beta 10, the emitter travels 2.5 V): e_em =
  4.8e-2 at T0 = 1 us, state error 0.29; at 10 us 0.028.

- **Wire resistance.** With ``r`` ohms per crossbar cell the lines are resistive
  ladders. The drivers hold each line's end, the copies sense the current there and
  the self term reads the driver-end voltage, so a unit receives

      J = (diag(g_sum) - M^T S(r) M) V_act,

  ``S(r)`` the Schur complement of the ladder network onto the line ends (the
  conductance matrix the drivers see), ``M`` mapping units to line ends (+1 on a
  line, -1 on an inverted line). At ``r = 0`` this is ``G0 W V_act`` exactly; for
  ``r > 0`` the diagonal ``g_sum - S_uu > 0`` is positive self-feedback. The
  circuit's linearisation at the model's fixed point ``u*`` is ``tau du/dt = (-1 +
  A(r) dg/du) du`` with ``A = (diag(g_sum) - M^T S M) / G0``; its largest real
  eigenvalue crossing zero is the instability threshold ``r*``, found by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..model import System, concat_systems
from ..model.dynamics import activation_jacobians
from .kits import BjtKit, thermal_voltage
from .levels import get_level

R_SEARCH_MAX = 1e6
"""The wire-resistance threshold search stops here (ohm per cell)."""


# --------------------------------------------------------------- integrator bandwidth


@dataclass(frozen=True)
class BandwidthError:
    """The op-amp integrator that loses the largest fraction of its input while it
    moves: ``error`` = G_node / (2 pi GBW C), with its node conductance (S) and
    capacitance (F)."""

    integrator: str
    error: float
    g_node: float
    c: float


def bandwidth_limit(level: str, ranges=()) -> float:
    """The largest integrator bandwidth error accepted at ``level``: the fraction of
    the largest state of the design range ``ranges`` ((group, lo, hi), model units;
    at least 1) that is half the level's error tolerance against the ODE."""
    scale = max([1.0] + [max(abs(lo), abs(hi)) for _, lo, hi in ranges])
    return get_level(level).tolerance / (2 * scale)


def integrator_bandwidth_error(speeds) -> BandwidthError | None:
    """The op-amp integrator whose time constant is stretched most by its amplifier
    after compensation (:mod:`.speed`): ``error`` = tau_eff / tau - 1 (None: no op-amp
    integrators)."""
    worst = None
    for u in speeds:
        if u.c_programmed == u.c_nominal and u.tau_eff_s == u.tau_s:
            continue   # an ideal integrator: its node is the state itself
        err = u.stretch - 1
        if worst is None or err > worst.error:
            worst = BandwidthError(u.unit, float(err), u.g_node, u.c_programmed)
    return worst


# ----------------------------------------------------------- translinear emitter charge

GP_FC, GP_VJE, GP_MJE = 0.5, 0.75, 0.33
"""The Gummel-Poon junction defaults the kit's card leaves in place."""


@dataclass(frozen=True)
class EmitterError:
    """The translinear group whose shared emitter takes the largest charge from its
    outputs: ``error`` = C_E V_T P / (I_tail T0 tau_max), with the node capacitance
    ``c_e`` (F) and the emitter's path ``path_v`` (V)."""

    group: str
    error: float
    c_e: float
    path_v: float


def emitter_junctions(grp) -> int:
    """How many base-emitter junctions share a translinear group's emitter: every unit
    of a softmax, the two of a tanh pair."""
    return grp.size if grp.activation == "softmax" else 2


def junction_capacitance(cj0: float, v: float) -> float:
    """Gummel-Poon depletion capacitance (F) at forward bias ``v`` (V): ``CJ0 (1 -
    V/VJ)^-M`` below ``FC VJ``, its linear extension above."""
    if v < GP_FC * GP_VJE:
        return cj0 * (1 - v / GP_VJE) ** -GP_MJE
    return cj0 * (1 - GP_FC) ** -(1 + GP_MJE) * (1 - GP_FC * (1 + GP_MJE) + GP_MJE * v / GP_VJE)


def emitter_charge_error(model, level: str, kit: BjtKit, excursions, t0: float
                         ) -> EmitterError | None:
    """The worst translinear group of ``model`` at ``level``, its emitter travelling
    ``excursions`` ((group, path in V_T), from the design trajectory), with ``t0``
    seconds per model time unit (None: no transistors or no trajectory)."""
    if not get_level(level).transistors:
        return None
    vt = thermal_voltage()
    worst = None
    for name, path in excursions:
        grp = model.group(name)
        n = emitter_junctions(grp)
        vbe = vt * np.log(kit.i_tail / (n * kit.i_s))
        c_e = n * junction_capacitance(kit.cje, vbe) + kit.tf * kit.i_tail / vt
        err = c_e * vt * path / (kit.i_tail * t0 * model.tau_max)
        if worst is None or err > worst.error:
            worst = EmitterError(name, float(err), float(c_e), float(vt * path))
    return worst


# ------------------------------------------------------------------- wire resistance


@dataclass(frozen=True)
class _Ladders:
    """The crossbar network of one copy with unit-resistance wire segments: ``Gx``
    (crossbar conductances between nodes), ``Ew`` (wire segments, each 1/r), the
    number of line ends (ports, first in the node order) and the +-1 unit-to-port map
    ``M`` (ports x units)."""

    n_nodes: int
    n_ports: int
    cross: tuple[np.ndarray, np.ndarray, np.ndarray]
    wires: tuple[np.ndarray, np.ndarray]
    M: sp.csr_matrix
    gsum: np.ndarray


def _ladders(system: System, g0: float) -> _Ladders:
    """The ladders exactly as the crossbar block lays them out (cell k of a line is
    k+1 segments from its driver; hidden lines run along the visible index, visible
    lines along the hidden), for the realised weights ``G = g0 |w|``."""
    m = system.model
    ports: dict[tuple[int, int], int] = {}     # (unit, +-1) -> port index

    def port(unit: int, sign: int) -> int:
        return ports.setdefault((unit, sign), len(ports))

    cells = []
    for c, W in zip(m.couplings, system.weights, strict=True):
        w = np.asarray(W)[0]
        h0, v0 = m.slices[c.hidden].start, m.slices[c.visible].start
        for mu, i in zip(*np.nonzero(w), strict=True):
            s = 1 if w[mu, i] > 0 else -1
            cells.append((c.name, h0 + mu, v0 + i, s, int(mu), int(i), g0 * abs(w[mu, i])))
    for _, h, v, s, _, _, _ in cells:
        port(h, 1)
        port(v, s)
    n = len(ports)
    ladder_nodes: dict[tuple, int] = {}
    reach: dict[tuple, int] = {}
    for name, h, v, s, mu, i, _ in cells:
        reach[(name, h, 1)] = max(reach.get((name, h, 1), -1), i)
        reach[(name, v, s)] = max(reach.get((name, v, s), -1), mu)
    wa, wb = [], []
    for (name, unit, sign), last in reach.items():
        prev = ports[(unit, sign)]
        for k in range(last + 1):
            node = ladder_nodes.setdefault((name, unit, sign, k), n + len(ladder_nodes))
            wa.append(prev)
            wb.append(node)
            prev = node
    xa, xb, xg = [], [], []
    for name, h, v, s, mu, i, g in cells:
        xa.append(ladder_nodes[(name, h, 1, i)])
        xb.append(ladder_nodes[(name, v, s, mu)])
        xg.append(g)
    rows = [p for p in ports.values()]
    cols = [u for (u, _) in ports]
    vals = [float(s) for (_, s) in ports]
    M = sp.csr_matrix((vals, (rows, cols)), shape=(n, m.n_units))
    gsum = np.zeros(m.n_units)
    for _, h, v, _, _, _, g in cells:
        gsum[h] += g
        gsum[v] += g
    return _Ladders(n + len(ladder_nodes), n, (np.array(xa), np.array(xb), np.array(xg)),
                    (np.array(wa), np.array(wb)), M, gsum)


def _laplacian(n: int, a: np.ndarray, b: np.ndarray, g: np.ndarray) -> sp.csr_matrix:
    rows = np.concatenate([a, b, a, b])
    cols = np.concatenate([a, b, b, a])
    vals = np.concatenate([g, g, -g, -g])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def effective_coupling(lad: _Ladders, r: float, g0: float) -> np.ndarray:
    """``A(r) = (diag(g_sum) - M^T S(r) M) / G0`` (units x units, weight units)."""
    p = lad.n_ports
    Y = _laplacian(lad.n_nodes, *lad.cross)
    if r > 0:
        wa, wb = lad.wires
        Y = Y + _laplacian(lad.n_nodes, wa, wb, np.full(wa.size, 1.0 / r))
        Y = Y.tocsc()
        Ypp, Ypi = Y[:p, :p].toarray(), Y[:p, p:]
        Yii = Y[p:, p:].tocsc()
        S = Ypp - Ypi @ spla.splu(Yii).solve(Ypi.T.toarray())
    else:
        # no wires: the ladder nodes are the ports themselves
        raise ValueError("effective_coupling needs r > 0; at r = 0 it is the model's W")
    MSM = lad.M.T @ S @ lad.M
    return (np.diag(lad.gsum) - np.asarray(MSM)) / g0


def growth_rate(system: System, u: np.ndarray, A: np.ndarray) -> float:
    """Largest real part of the eigenvalues of the free units' linearisation ``(-1 + A
    dg/du) / tau`` at states ``u`` (B, N), over the batch (per model time unit)."""
    m = system.model
    free = system.free
    Jg = activation_jacobians(system, u)
    worst = -np.inf
    for b in range(u.shape[0]):
        D = np.zeros((m.n_units, m.n_units))
        for grp in m.groups:
            sl = m.slices[grp.name]
            D[sl, sl] = Jg[grp.name][b]
        J = (-np.eye(m.n_units) + A @ D) / m.tau[:, None]
        Jf = J[np.ix_(free, free)]
        if Jf.size:
            worst = max(worst, float(np.max(np.linalg.eigvals(Jf).real)))
    return worst


@dataclass(frozen=True)
class WireStability:
    """At ``r`` ohm per cell the circuit's linearisation grows at ``rate`` (per model
    time unit; > 0: unstable); it turns unstable from ``threshold`` ohm per cell (inf:
    not below :data:`R_SEARCH_MAX`)."""

    r: float
    rate: float
    threshold: float

    @property
    def unstable(self) -> bool:
        return self.rate > 0


def wire_stability(system: System, u: np.ndarray, g0: float, r: float,
                   rel_tol: float = 0.02) -> WireStability:
    """The growth rate at ``r`` and the threshold (bisection on a log scale to
    ``rel_tol``) of the circuit realising ``system`` (one copy: the batch of ``u``
    shares its weights) at the fixed points ``u`` (B, N)."""
    varying = any(np.asarray(w).shape[0] > 1 for w in system.weights)
    parts = [system.select(slice(b, b + 1)) for b in range(u.shape[0])] if varying \
        else [system]
    states = [u[b : b + 1] for b in range(u.shape[0])] if varying else [u]
    ladders = [_ladders(p.select(slice(0, 1)), g0) for p in parts]

    def rate(x: float) -> float:
        return max(growth_rate(p, s, effective_coupling(lad, x, g0))
                   for p, s, lad in zip(parts, states, ladders, strict=True))

    at_r = rate(r)
    hi = r if at_r > 0 else None
    lo = 0.0 if at_r > 0 else r
    x = max(r, 1.0)
    while hi is None:
        x *= 4
        if x > R_SEARCH_MAX:
            return WireStability(r, at_r, float("inf"))
        if rate(x) > 0:
            hi = x
        else:
            lo = x
    lo = max(lo, hi / 1e6)
    while hi / lo > 1 + rel_tol:
        mid = np.sqrt(lo * hi)
        if rate(mid) > 0:
            hi = mid
        else:
            lo = mid
    return WireStability(r, at_r, float(hi))


# ------------------------------------------------------------------------- the review


@dataclass(frozen=True)
class DesignReview:
    """The design checks of a compiled circuit: its worst integrator's residual stretch
    and its worst translinear emitter-charge error (both against ``bandwidth_limit``
    under the trajectory policy), its wire-resistance stability (None: ideal wires),
    one warning line per failed check, and the speed model's prediction: settling (s),
    how many units their amplifier sets the pace of (``amplifier_limited``) of how many
    integrate."""

    bandwidth: BandwidthError | None
    bandwidth_limit: float
    wire: WireStability | None
    warnings: tuple[str, ...]
    emitter: EmitterError | None = None
    fidelity: str = "answer"
    predicted_settling_s: float = 0.0
    amplifier_limited: int = 0
    units: int = 0

    def as_dict(self) -> dict:
        bw, w, em = self.bandwidth, self.wire, self.emitter
        return {
            "fidelity": self.fidelity,
            "predicted_settling_s": self.predicted_settling_s,
            "amplifier_limited_units": self.amplifier_limited, "integrating_units": self.units,
            "integrator_bandwidth_error": None if bw is None else {
                "integrator": bw.integrator, "error": bw.error, "limit": self.bandwidth_limit,
                "g_node_S": bw.g_node, "c_F": bw.c},
            "emitter_charge_error": None if em is None else {
                "group": em.group, "error": em.error, "limit": self.bandwidth_limit,
                "c_emitter_F": em.c_e, "emitter_path_V": em.path_v},
            "wire": None if w is None else {
                "r_per_cell_ohm": w.r, "growth_rate_per_tau": w.rate,
                "threshold_ohm_per_cell": None if np.isinf(w.threshold) else w.threshold},
        }


def design_review(compiled, u: np.ndarray, settling_s: float | None = None
                  ) -> DesignReview:
    """The design checks of the circuits ``compiled`` (a list of Compiled: one circuit,
    or one per input) at the model's fixed points ``u`` (inputs, N); ``settling_s``:
    the predicted settling (s; default the compiler's estimate from the slowest
    effective time constant)."""
    first = compiled[0]
    cfg = first.options.config
    trajectory = cfg.design.fidelity == "trajectory"
    limit = bandwidth_limit(first.level, first.options.ranges)
    worst = integrator_bandwidth_error([u for c in compiled for u in c.speeds])
    warnings = []
    if trajectory and worst is not None and worst.error > limit:
        warnings.append(
            f"integrator {worst.integrator} runs {worst.error:.2g} slower than its tau "
            f"after compensation (summing-node conductance {worst.g_node:.3g} S, C = "
            f"{worst.c:.3g} F; limit {limit:.2g}): its amplifier sets its pace; raise "
            "opamp.gbw, or slow the circuit (--t0)")
    em = emitter_charge_error(first.system.model, first.level, cfg.bjt,
                              first.options.excursions, first.scales.t0)
    if trajectory and em is not None and em.error > limit:
        warnings.append(
            f"the {em.group} transistors' shared emitter (C_E {em.c_e:.3g} F, travelling "
            f"{em.path_v:.3g} V) takes {em.error:.2g} of a time unit's tail charge from "
            f"the outputs (limit {limit:.2g}): raise bjt.i_tail, or slow the circuit (--t0)")
    wire = None
    r = cfg.wire.r_per_cell
    if r > 0:
        system = concat_systems([c.system for c in compiled])
        wire = wire_stability(system, u, first.scales.g0, r)
        if wire.unstable:
            warnings.append(
                f"wire resistance {r:g} ohm/cell makes the circuit unstable (linearised at "
                f"the model's fixed points it grows at {wire.rate:.3g} per model time "
                f"unit; stable below {wire.threshold:.3g} ohm/cell): the self term reads "
                "the driver end of each line, the cells see less")
    amp = cfg.opamp
    top, bottom = amp.supplies
    if get_level(first.level).amplifiers and top - bottom > amp.max_supply_span:
        warnings.append(
            f"the op-amp supplies span {top - bottom:.4g} V ({bottom:g} to {top:g} V, the "
            f"swing widened to the design range's states at Vs {first.scales.vs:g} V), "
            f"more than opamp.max_supply_span {amp.max_supply_span:g} V: lower scales.vs, "
            "or raise the limit for a high-voltage process")
    speeds = [u for c in compiled for u in c.speeds]
    return DesignReview(worst, limit, wire, tuple(warnings), em, cfg.design.fidelity,
                        max(c.predicted_settling_s() for c in compiled)
                        if settling_s is None else settling_s,
                        sum(u.limited for u in speeds), len(speeds))
