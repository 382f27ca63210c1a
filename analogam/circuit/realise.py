"""Model -> circuit IR (docs/design.md section 4). No SPICE text is produced here.

Scales: ``Vs`` volts per model unit, ``G0`` siemens per weight unit (``R0 = 1/G0``),
``T0`` seconds per model time unit. Each free unit u is a node at ``V_u = Vs*u`` with

    C dV_u/dt = sum_j G_j (Vs y_j - Vs y) + Vs y sum_j G_j + G0 Vs bias - G0 V_u
              = G0 Vs (sum_j xi_j y_j + bias - u),          C = tau T0 G0

i.e. the crossbar current into the unit's line (held at ``Vs y`` by its driver and
sensed), the self-compensation path, the bias current and the leak. Weights are
conductances ``G = G0 |xi|``; negative weights connect to an inverted copy
(``-Vs y``) of the visible unit's line.

:func:`build_circuit` walks the model once per copy and asks the level's block table
(:mod:`analogam.circuit.blocks`) for each part: the physics of every part (its
capacitance, conductances, currents) is computed here, its circuit there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import CircuitError
from ..model import System
from ..model.activations import get_activation
from .blocks import Emit, block
from .blocks.activations import ActivationSpec, softmax_shift
from .blocks.crossbar import CrossbarSpec
from .blocks.dual import ColumnsSpec, DualCrossbarSpec
from .blocks.lines import LineSpec
from .blocks.neuron import ClampSpec, InputsSpec, IntegratorSpec
from .builder import CircuitBuilder
from .config import Conductance, Scales
from .design import bandwidth_limit, emitter_charge_error, emitter_junctions
from .ir import Circuit, Probe
from .kits import thermal_voltage
from .levels import LEVELS, get_level
from .naming import Names
from .options import CompileOptions
from .pdk import get_process_kit
from .plan import KitSetting, bias_plan, line_swing
from .speed import (
    EMITTER_FRACTION,
    UnitSpeed,
    UnitTiming,
    plan_time_scale,
    slowest_settling,
    tail_for,
)
from .variation import Variation

T0_DEFAULT_TAU_S = 1e-6
"""With ``scales.t0`` unset (0), T0 is chosen so the slowest group's tau is 1 us, or
slower where the op-amp integrators need it (:func:`~.design.bandwidth_limit`)."""


@dataclass(frozen=True)
class Compiled:
    """A circuit and exactly what it holds: the resolved scales (V, S, s), the bound
    system it realises (the weights after the device window, quantisation and
    programming noise; with dual arrays, the backward array's as ``system.backward``),
    and the options it was built with."""

    circuit: Circuit
    scales: Scales
    system: System
    options: CompileOptions
    conductance_range: tuple[float, float]
    pruned: int = 0
    asymmetry: float = 0.0
    kit_settings: tuple[KitSetting, ...] = ()
    """The configuration keys the process kit decided (empty without one)."""
    speeds: tuple[UnitSpeed, ...] = ()
    """Each integrating unit's timing (:mod:`.speed`), in emission order."""

    def predicted_settling_s(self) -> float:
        """Seconds until the circuit settles, by the compiler's estimate
        (:func:`~.speed.slowest_settling`)."""
        m = self.system.model
        return slowest_settling(self.speeds, self.options.settle or m.readout_time,
                                  m.tau_max, self.scales.t0)

    @property
    def level(self) -> str:
        return self.options.level

    @property
    def quantised(self) -> bool:
        return bool(self.options.config.conductance.levels)


def prune(weights: list[np.ndarray], below: float) -> tuple[list[np.ndarray], int]:
    """Weights with every magnitude under ``below`` times the largest set to 0 (no
    device), and how many nonzero weights that removed."""
    if not below or not weights:
        return weights, 0
    top = max(float(np.abs(w).max(initial=0.0)) for w in weights)
    out = [np.where(np.abs(w) < below * top, 0.0, w) for w in weights]
    return out, sum(int(np.count_nonzero(w) - np.count_nonzero(o))
                    for w, o in zip(weights, out, strict=True))


def fit_conductances(weights: list[np.ndarray], g0: float, window: Conductance
                     ) -> tuple[float, list[np.ndarray]]:
    """Map weights to conductances ``G = G0 |w|`` (S) inside the device window.

    Returns the G0 used and the (possibly quantised) conductance arrays. Raises
    CircuitError when a nonzero weight does not fit and rescaling is off or impossible.
    """
    mags = np.concatenate([np.abs(w).ravel() for w in weights]) if weights else np.zeros(0)
    nz = mags[mags > 0]
    if nz.size:
        wmin, wmax = float(nz.min()), float(nz.max())
        if window.rescale:
            g0 = window.g_max / wmax
        lo, hi = g0 * wmin, g0 * wmax
        if lo < window.g_min * (1 - 1e-12) or hi > window.g_max * (1 + 1e-12):
            span = wmax / wmin
            ratio = window.g_max / window.g_min
            g0_fit = window.g_max / wmax   # the G0 that puts the largest weight at g_max
            scale = (f"pass --rescale to fold a new G0 into the scales, or set --g0 "
                     f"{g0_fit:.3g}")
            # every remedy the weights need, in one message
            hint = (f"the weights span a ratio of {span:.3g} but the window only {ratio:.3g}; "
                    "widen it (--gmin/--gmax) or drop the negligible ones with --prune-below "
                    f"FRACTION (conductance.prune_below, e.g. {1 / ratio:.3g})"
                    + ("" if hi <= window.g_max * (1 + 1e-12) else f", and {scale}")
                    if span > ratio else scale)
            raise CircuitError(
                f"conductances [{lo:.3g}, {hi:.3g}] S (G0={g0:.3g} S) fall outside the device "
                f"window [{window.g_min:.3g}, {window.g_max:.3g}] S; {hint}")
    G = [g0 * np.abs(w) for w in weights]
    if window.levels:
        grid = np.linspace(window.g_min, window.g_max, window.levels)
        G = [np.where(g > 0, grid[np.abs(g[..., None] - grid).argmin(-1)], 0.0) for g in G]
    return g0, G


def _programmed(var: Variation, system: System, k: int, G: np.ndarray, array: str = ""
                ) -> np.ndarray:
    """Programming noise on coupling k's conductances (1 or B, H, V). A static crossbar
    is one part; a token crossbar's row l holding token x is the part ``(l, x)``, so
    every input sees the same devices, batched or not. ``array``: a second array of
    the same coupling (its own devices, its own draws)."""
    c = system.model.couplings[k]
    if c.source == "static":
        return var.program(c.name + array, G[0])[None]
    out = np.empty_like(G)
    for b in range(G.shape[0]):
        for pos, tok in enumerate(system.tokens[b]):
            out[b, pos] = var.program(f"{c.name}{array}:{pos}:{int(tok)}", G[b, pos])
    return out


@dataclass(frozen=True)
class Connectivity:
    """Per flat unit of one copy: has a line, needs an inverted line, sum of its
    conductances (S), and has cells of positive / of negative weight on its own side
    (the columns of the dual arrays)."""

    line: np.ndarray
    inverted: np.ndarray
    gsum: np.ndarray
    positive: np.ndarray
    negative: np.ndarray


def _of_copy(a: np.ndarray, k: int) -> np.ndarray:
    """Copy k's slice of a per-copy array (1 or B, ...): a static coupling has one."""
    return a[k if a.shape[0] > 1 else 0]


def connectivity(system: System, G: list[np.ndarray], signs: list[np.ndarray], k: int,
                 backward: tuple[list[np.ndarray], list[np.ndarray]] | None = None
                 ) -> Connectivity:
    """``backward``: the dual arrays' backward conductances and signs, which set the
    visible units' columns (default: the forward array's)."""
    m = system.model
    n = m.n_units
    line, inv, gsum = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n)
    pos, neg = np.zeros(n, bool), np.zeros(n, bool)
    G_b, signs_b = backward or (G, signs)
    for c, g, sg, gb, sgb in zip(m.couplings, G, signs, G_b, signs_b, strict=True):
        g, sgn, gb, sgb = (_of_copy(x, k) for x in (g, sg, gb, sgb))
        sh, sv = m.slices[c.hidden], m.slices[c.visible]
        on_p, on_n = (g > 0) & (sgn > 0), (g > 0) & (sgn < 0)
        # a hidden line drives the cells of the array into the visible units (the one
        # array, or the backward one of dual arrays: the forward array's hidden ends are
        # columns, and a line with no cell of its own would hang from its driver alone)
        line[sh] |= (gb > 0).any(1)
        line[sv] |= on_p.any(0)
        inv[sv] |= on_n.any(0)
        pos[sh] |= on_p.any(1)
        neg[sh] |= on_n.any(1)
        pos[sv] |= ((gb > 0) & (sgb > 0)).any(0)
        neg[sv] |= ((gb > 0) & (sgb < 0)).any(0)
        gsum[sh] += g.sum(1)
        gsum[sv] += g.sum(0)
    return Connectivity(line, inv, gsum, pos, neg)


def build_circuit(system: System, options: CompileOptions | None = None) -> Compiled:
    """Build the circuit IR realising ``system``, one independent copy per batch
    element (copy k's names start with ``k{k}_`` when there are several).

    A directed ``system`` (``system.backward``: ``tau_v dv/dt = V^T f + ...`` with ``V
    != W``, no energy, docs/design.md section 9) needs dual arrays: its backward array
    (hidden lines into the visible units' columns) holds ``V``."""
    opt = options or CompileOptions()
    level = get_level(opt.level)
    m = system.model
    opt, shifts, kit_settings = bias_plan(m, opt)
    cfg = opt.config
    t0 = cfg.scales.t0 or T0_DEFAULT_TAU_S / m.tau_max
    dual = cfg.conductance.dual_arrays
    topology = "dual" if dual else "single"
    if not level.builds(topology):
        where = [lv.name for lv in LEVELS.values() if lv.builds(topology)]
        raise CircuitError(f"the {level.name} level builds no {topology} arrays "
                           f"(conductance.dual_arrays = {str(dual).lower()}); levels that "
                           f"do: {', '.join(where)}")
    backward = system.backward
    if backward is not None and not dual:
        raise CircuitError("separate backward weights need dual arrays "
                           "(conductance.dual_arrays): one resistor serves both directions")
    nominal = [np.asarray(w) for w in system.weights]
    nc = len(nominal)
    weights, pruned = prune(nominal + [np.asarray(w) for w in backward or ()],
                            cfg.conductance.prune_below)
    g0, G = fit_conductances(weights, cfg.scales.g0, cfg.conductance)
    var = Variation(cfg, opt.sample, opt.calibration)
    signs = [np.sign(np.asarray(w)) for w in weights]
    if backward is None:
        G, signs = G + G, signs + signs
    # the backward array only has cells into units that integrate (a clamp takes none)
    receives = [system.free[m.slices[c.visible]] for c in m.couplings]
    G_bwd = ([_programmed(var, system, k, g, ":bwd") * receives[k]
              for k, g in enumerate(G[nc:])] if dual else [])
    G = [_programmed(var, system, k, g) for k, g in enumerate(G[:nc])]
    signs, signs_bwd = signs[:nc], signs[nc:]
    realised = replace(system, weights=tuple(s * g / g0 for s, g in zip(signs, G,
                                                                          strict=True)),
                       backward=tuple(s * g / g0 for s, g in zip(signs_bwd, G_bwd,
                                                                 strict=True)) if dual else None)

    kit = get_process_kit(opt.pdk) if level.process_kit else None
    if cfg.environment.kit_mismatch and cfg.opamp.trim_bits and not opt.calibration:
        raise CircuitError("opamp.trim_bits with environment.kit_mismatch trims what a "
                           "calibration measured of the devices, and this sample has none: "
                           "calibrate it first (analogam.study.calibrate.calibrate; "
                           "simulate, Monte Carlo and compile do)")
    if cfg.environment.kit_mismatch and system.batch > 1:
        raise CircuitError(f"environment.kit_mismatch: ngspice draws every device of a "
                           f"netlist apart, so the {system.batch} copies of a batched "
                           f"netlist would be {system.batch} different chips; build one "
                           "netlist per input (simulate without --batch, compile with "
                           "--per-input)")
    process = kit.process(opt.corner, var.kit_seed() if cfg.environment.kit_mismatch
                          else None) if kit else None

    def emit(t0: float) -> Emit:
        e = Emit(CircuitBuilder(title=m.name), Names(), cfg, var, Scales(cfg.scales.vs, g0, t0),
                 level, block, line_swing(m, opt.ranges), kit=kit)
        e.b.process = process
        for k in range(system.batch):
            _emit_copy(e.for_copy(f"k{k}_" if system.batch > 1 else "", k), realised, k, G,
                       signs, shifts, (G_bwd, signs_bwd) if dual else None)
        return e

    e = emit(t0)
    t0, e = _plan_time_scale(m, opt, level.name, t0, e, emit)
    tail = _latency_tail(m, cfg, level, t0)
    if tail > cfg.bjt.i_tail:
        cfg = cfg.with_value("bjt.i_tail", tail)
        opt = replace(opt, config=cfg)
        e = emit(t0)     # the blocks read the raised tail through cfg
        e.b.notes.append(f"translinear tails raised to {tail:.4g} A: each shared emitter "
                         f"within {EMITTER_FRACTION:g} of its group's time constant")
    if process is not None and process.seed is not None:
        d = np.array([v for _, v in opt.calibration])
        e.b.notes.append(
            f"the kit's mismatch drawn per device (seed {process.seed}); " + (
                f"calibrated in reset: {d.size} amplifiers' input "
                f"differences rms {np.sqrt(np.mean(d**2)) * 1e3:.3g} mV, max "
                f"{np.abs(d).max() * 1e3:.3g} mV" + (
                    f", trimmed to {cfg.opamp.trim_bits}-bit codes"
                    if cfg.opamp.trim_bits else "")
                if d.size else "not calibrated (summing nodes reset to 0 V)"))
    scales = e.scales
    nz = np.concatenate([g.ravel() for g in G]) if G else np.zeros(0)
    nz = nz[nz > 0]
    rng = (float(nz.min()), float(nz.max())) if nz.size else (0.0, 0.0)
    _check_scales(scales)
    asym = array_asymmetry(tuple(w * r for w, r in zip(realised.weights, receives,
                                                       strict=True)),
                           realised.backward) if dual else 0.0
    return Compiled(e.b.freeze(), scales, realised, opt, rng, pruned, asym, kit_settings,
                    tuple(e.b.speeds))


def _latency_tail(m, cfg, level, t0: float) -> float:
    """Under a latency target, at a level with transistors and no process kit (a kit's
    tail is set by its device), the tail current that keeps every translinear group's
    emitter fast against the group (:func:`~.speed.tail_for`; 0: no change)."""
    if not (cfg.design.latency and level.transistors) or level.process_kit:
        return 0.0
    need = 0.0
    for grp in m.groups:
        if get_activation(grp.activation).translinear:
            need = max(need, tail_for(emitter_junctions(grp), cfg.bjt.cje, cfg.bjt.tf,
                                      thermal_voltage(), grp.tau * t0))
    if not np.isfinite(need):
        raise CircuitError(f"T0 {t0:.3g} s leaves the translinear transistors' transit "
                           f"time ({cfg.bjt.tf:g} s) no room; relax design.latency")
    return need


def _plan_time_scale(m, opt: CompileOptions, level: str, t0: float, e: Emit, emit
                     ) -> tuple[float, Emit]:
    """The time scale (docs/design.md section 10) and the circuit emitted at it.

    - ``scales.t0`` set: as given (the study's latency plan sets it, from the model's
      ODE at the circuit's effective time constants: :mod:`analogam.study.latency`).
    - ``design.latency`` set: the largest T0 whose settling, predicted from the slowest
      effective time constant (:mod:`.speed`), is within the target (CircuitError
      naming the limiting block when none is).
    - otherwise the slowest tau is 1 us; under ``design.fidelity = "trajectory"`` it is
      slowed until each integrator's residual stretch (after compensation) and each
      translinear emitter's charge error are within the bandwidth limit."""
    cfg = opt.config
    d, amp = cfg.design, cfg.opamp
    if cfg.scales.t0:
        return t0, e
    if d.latency:
        settle = opt.settle or m.readout_time
        g0 = e.scales.g0
        timings = tuple(UnitTiming(u.unit, u.tau_s / t0, u.g_node, u.lag_s)
                        for u in e.b.speeds)
        t0 = plan_time_scale(d.latency, timings, settle, m.tau_max, g0, amp.gbw, amp.a0,
                             d.c_floor, d.compensate,
                             d.scale_amplifiers and e.level.tunable_amplifiers, d.c_min)
        e = emit(t0)
        e.b.notes.append(f"T0 {t0:.4g} s: planned to settle within {d.latency:.4g} s "
                         f"(the model settles in {settle:.4g} time units)")
        return t0, e
    if d.fidelity != "trajectory":
        return t0, e
    limit = bandwidth_limit(level, opt.ranges)
    residual = max([u.stretch - 1 for u in e.b.speeds] + [0.0])
    em = emitter_charge_error(m, level, cfg.bjt, opt.excursions, t0)
    # both errors fall as 1/T0 (C = tau T0 G0 on the same integrator node; the same
    # emitter charge against a longer time unit)
    slow = max(residual, em.error if em else 0.0) / limit
    if slow > 1:
        t0 *= slow * 1.02
        e = emit(t0)
        e.b.notes.append(f"T0 slowed to {t0:.4g} s: the op-amp integrators' bandwidth "
                         f"and the translinear emitters' charge errors stay within "
                         f"{limit:g}")
    return t0, e


def _check_scales(s: Scales) -> None:
    for name, v in (("Vs", s.vs), ("G0", s.g0), ("T0", s.t0)):
        if not (np.isfinite(v) and v > 0):
            raise CircuitError(f"{name} resolved to {v:g}; choose other scales")


def array_asymmetry(W: tuple[np.ndarray, ...], V: tuple[np.ndarray, ...]) -> float:
    """``||W - V|| / ||W + V||`` (Frobenius, over every coupling) of the forward and
    backward arrays' weights: how far the dual topology is from one symmetric coupling
    (0: exactly)."""
    d = sum(float(np.sum((w - v) ** 2)) for w, v in zip(W, V, strict=True))
    s = sum(float(np.sum((w + v) ** 2)) for w, v in zip(W, V, strict=True))
    return float(np.sqrt(d / s)) if s > 0 else 0.0


def _emit_copy(e: Emit, system: System, k: int, G: list[np.ndarray],
               signs: list[np.ndarray], shifts: dict[str, float],
               backward: tuple[list[np.ndarray], list[np.ndarray]] | None = None) -> None:
    """One copy: per group, its units (clamp, or currents into an integrator), the
    group's activation block and its line drivers; then the crossbars and the inverted
    lines. With ``backward`` (dual arrays: the backward array's conductances and
    signs) each unit collects its currents on columns at
    virtual ground, every line carries both signs and there are no inverted lines."""
    m, n, sc = system.model, e.names, e.scales
    u0 = np.asarray(system.u0[k])
    conn = connectivity(system, G, signs, k, backward)
    dual = backward is not None
    lines_all = conn.line | conn.inverted if dual else conn.line
    integrator = e.block("integrator")
    for grp in m.groups:
        sl = m.slices[grp.name]
        for i in range(grp.size):
            flat = sl.start + i
            e.b.probes.append(Probe(n.state(grp.name, i), k, flat))
            if system.clamped[flat]:
                e.block("clamp")(e, ClampSpec(grp.name, i, sc.vs * u0[flat]))
                continue
            port = integrator.port(e, grp.name, i)
            amps = sc.g0 * sc.vs * float(grp.bias[i])
            if dual:
                e.block("columns")(e, ColumnsSpec(grp.name, i, port,
                                                    bool(conn.positive[flat]),
                                                    bool(conn.negative[flat]), amps))
            else:
                e.block("inputs")(e, InputsSpec(
                    grp.name, i, port, bool(conn.line[flat]), bool(conn.inverted[flat]),
                    float(conn.gsum[flat]), amps))
            integrator.emit(e, IntegratorSpec(grp.name, i, grp.tau * sc.t0 * sc.g0,
                                              1.0 / sc.g0, sc.vs * float(u0[flat])))
        # a unit whose cells are all negative has an inverted line and no line: its
        # activation is still built, to drive the inverter
        lines = lines_all[sl]
        active = lines | conn.inverted[sl]
        if not active.any():
            continue
        shift = (softmax_shift(grp.param, system.u0[:, sl]) if grp.activation == "softmax"
                 else 0.0)
        e.block(f"activation:{grp.activation}")(
            e, ActivationSpec(grp.name, grp.size, grp.param, tuple(bool(x) for x in active),
                              shift, shifts.get(grp.name, 0.0)))
        for i in np.flatnonzero(lines):
            e.block("driver")(e, LineSpec(grp.name, int(i), float(conn.gsum[sl][i])))
    r_wire = e.config.wire.r_per_cell
    if dual and (r_wire or e.config.wire.c_per_cell):
        raise CircuitError("wire.r_per_cell and wire.c_per_cell apply to the single array; "
                           "the dual array's lines are ideal wires: set both to 0")
    for j, c in enumerate(m.couplings):
        g, sg = _of_copy(G[j], k), _of_copy(signs[j], k)
        if dual:
            e.block("dual_crossbar")(e, DualCrossbarSpec(
                c.name, c.hidden, c.visible, g, _of_copy(backward[0][j], k), sg,
                _of_copy(backward[1][j], k)))
        else:
            e.block("crossbar")(e, CrossbarSpec(c.name, c.hidden, c.visible, g, sg,
                                                   r_wire, e.config.wire.c_per_cell))
    if dual:
        return
    for grp in m.groups:
        sl = m.slices[grp.name]
        for i in np.flatnonzero(conn.inverted[sl]):
            e.block("inverter")(e, LineSpec(grp.name, int(i), float(conn.gsum[sl][i]),
                                            bool(conn.line[sl][i])))
