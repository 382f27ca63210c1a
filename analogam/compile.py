"""Model -> circuit IR (DESIGN.md section 4). No SPICE text is produced here.

Scales: ``Vs`` volts per model unit, ``G0`` siemens per weight unit (``R0 = 1/G0``),
``T0`` seconds per model time unit. Each free unit u is a node at ``V_u = Vs*u`` with

    C dV_u/dt = sum_j G_j (Vs y_j - Vs y) + Vs y sum_j G_j + G0 Vs bias - G0 V_u
              = G0 Vs (sum_j xi_j y_j + bias - u),          C = tau T0 G0

i.e. the crossbar current into the unit's line (held at ``Vs y`` by its driver and
sensed), the self-compensation path, the bias current and the leak. Weights are
conductances ``G = G0 |xi|``; negative weights connect to an inverted copy
(``-Vs y``) of the visible unit's line. Levels:

* ``ideal``: controlled sources and behavioural activations.
* ``bjt``: softmax as N matched NPNs on a tail current (base drive
  ``beta V_T / Vs``, optional PTAT tracking), tanh as a differential pair.
* ``opamp``: ``bjt`` plus integrators, line drivers and ReLU rectifiers on a
  single-pole op-amp macromodel with finite gain, gain-bandwidth and swing.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field, replace

import numpy as np

from . import circuit as ir
from .activations import get_activation
from .circuit import GROUND, Circuit, CircuitBuilder, Probe, Transient
from .devices import DIODE, T_NOMINAL_K, BjtKit, OpampKit, thermal_voltage
from .errors import CircuitError
from .model import System
from .nonideal import Nonideality, Variation

LEVELS = ("ideal", "bjt", "opamp")


@dataclass(frozen=True)
class Scales:
    """Vs (V per model unit), G0 (S per weight unit), T0 (s per model time unit;
    None: chosen so the slowest group's tau is 1 us)."""

    vs: float = 1.0
    g0: float = 10e-6
    t0: float | None = None


@dataclass(frozen=True)
class DeviceWindow:
    """Realisable conductances [gmin, gmax] (S); optional quantisation to ``levels``
    evenly spaced conductances in that window; ``rescale`` lets the compiler pick G0
    so the weights fit (exact: C, the leak and the bias currents scale with G0)."""

    gmin: float = 1e-7
    gmax: float = 1e-4
    levels: int | None = None
    rescale: bool = False


@dataclass(frozen=True)
class CompileOptions:
    level: str = "ideal"
    scales: Scales = field(default_factory=Scales)
    window: DeviceWindow = field(default_factory=DeviceWindow)
    ptat: bool = False
    temperature_c: float = 27.0
    bjt: BjtKit = field(default_factory=BjtKit)
    opamp: OpampKit = field(default_factory=OpampKit)
    t_end: float | None = None
    points: int = 200
    steps_per_tau: float = 20.0
    nonideal: Nonideality | None = None
    sample: int = 0


@dataclass(frozen=True)
class Compiled:
    """A circuit with what is needed to read it back: the resolved scales and the
    bound system it realises (after any quantisation, see ``weights``)."""

    circuit: Circuit
    scales: Scales
    system: System
    level: str
    conductance_range: tuple[float, float]
    quantised: bool


def _check_options(opt: CompileOptions) -> None:
    if opt.level not in LEVELS:
        raise CircuitError(f"unknown level {opt.level!r}; valid: {', '.join(LEVELS)}")
    s, w = opt.scales, opt.window
    for name, val in (("Vs", s.vs), ("G0", s.g0), ("Gmin", w.gmin), ("Gmax", w.gmax)):
        if not (np.isfinite(val) and val > 0):
            raise CircuitError(f"{name} must be positive and finite, got {val}")
    if s.t0 is not None and not (np.isfinite(s.t0) and s.t0 > 0):
        raise CircuitError(f"T0 must be positive and finite, got {s.t0}")
    if w.gmin >= w.gmax:
        raise CircuitError(f"device window [Gmin={w.gmin:g}, Gmax={w.gmax:g}] S is empty")
    if w.levels is not None and w.levels < 2:
        raise CircuitError(f"quantisation needs at least 2 levels, got {w.levels}")
    if not -273.15 < opt.temperature_c < 1000:
        raise CircuitError(f"temperature {opt.temperature_c} degC is not physical")


def fit_conductances(weights: list[np.ndarray], g0: float, window: DeviceWindow
                     ) -> tuple[float, list[np.ndarray]]:
    """Map weights to conductances ``G = G0 |w|`` inside the device window.

    Returns the G0 used and the (possibly quantised) conductance arrays. Raises
    CircuitError when a nonzero weight does not fit and rescaling is off or impossible.
    """
    mags = np.concatenate([np.abs(w).ravel() for w in weights]) if weights else np.zeros(0)
    nz = mags[mags > 0]
    if nz.size:
        wmin, wmax = float(nz.min()), float(nz.max())
        if window.rescale:
            g0 = window.gmax / wmax
        lo, hi = g0 * wmin, g0 * wmax
        if lo < window.gmin * (1 - 1e-12) or hi > window.gmax * (1 + 1e-12):
            span = wmax / wmin
            ratio = window.gmax / window.gmin
            hint = (f"the weights span a ratio of {span:.3g} but the window only {ratio:.3g}; "
                    "widen it (--gmin/--gmax)" if span > ratio else
                    "pass --rescale to fold a new G0 into the scales, or set --g0")
            raise CircuitError(
                f"conductances [{lo:.3g}, {hi:.3g}] S (G0={g0:.3g} S) fall outside the device "
                f"window [{window.gmin:.3g}, {window.gmax:.3g}] S; {hint}")
    G = [g0 * np.abs(w) for w in weights]
    if window.levels:
        grid = np.linspace(window.gmin, window.gmax, window.levels)
        G = [np.where(g > 0, grid[np.abs(g[..., None] - grid).argmin(-1)], 0.0) for g in G]
    return g0, G


def build_circuit(system: System, options: CompileOptions | None = None) -> Compiled:
    """See :func:`_build_circuit`. The cyclic garbage collector is paused meanwhile:
    the IR is millions of small acyclic records, and generation-2 sweeps over them made
    building superlinear in the number of elements."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_circuit(system, options)
    finally:
        if enabled:
            gc.enable()


def _build_circuit(system: System, options: CompileOptions | None = None) -> Compiled:
    """Build the circuit IR realising ``system`` (one independent copy per batch element).

    The transient runs to ``t_end`` (default: the model's read-out time) with a maximum
    step of ``tau_min / steps_per_tau`` and ``points`` output samples.
    """
    opt = options or CompileOptions()
    _check_options(opt)
    m = system.model
    t0 = opt.scales.t0 if opt.scales.t0 is not None else 1e-6 / m.tau_max
    g0, G = fit_conductances([np.asarray(w) for w in system.weights], opt.scales.g0,
                             opt.window)
    var = Variation(opt.nonideal or Nonideality(), opt.sample)
    G = [var.conductances(g) for g in G]
    scales = Scales(opt.scales.vs, g0, t0)
    signs = [np.sign(np.asarray(w)) for w in system.weights]
    realised = tuple(s * g / g0 for s, g in zip(signs, G, strict=True))
    system_q = replace(system, weights=realised)
    b = CircuitBuilder(title=m.name)
    ctx = _Ctx(b, opt, scales, system_q, G, signs, var)
    for k in range(system.batch):
        ctx.copy(k)
    t_end = m.readout_time if opt.t_end is None else opt.t_end
    tstop = t_end * t0
    tran = Transient(tstep=tstop / opt.points, tstop=tstop,
                     tmax=min(m.tau_min * t0 / opt.steps_per_tau, tstop / opt.points),
                     options=(("method", "trap"), ("reltol", 1e-5), ("abstol", 1e-13),
                              ("vntol", 1e-8), ("chgtol", 1e-17), ("itl4", 50)))
    circ = b.freeze(tran, opt.temperature_c)
    nz = np.concatenate([g.ravel() for g in G]) if G else np.zeros(0)
    nz = nz[nz > 0]
    rng = (float(nz.min()), float(nz.max())) if nz.size else (0.0, 0.0)
    return Compiled(circ, scales, system_q, opt.level, rng, opt.window.levels is not None)


class _Ctx:
    """Emits one copy of the circuit into the builder. Net names:
    ``{p}u_{g}_{i}`` state, ``{p}a_{g}_{i}`` activation (Vs y), ``{p}l_{g}_{i}`` line,
    ``{p}ln_{g}_{i}`` inverted line, with ``p = k{copy}_`` for batched circuits."""

    def __init__(self, b: CircuitBuilder, opt: CompileOptions, scales: Scales, system: System,
                 G: list[np.ndarray], signs: list[np.ndarray],
                 var: Variation | None = None) -> None:
        self.b, self.opt, self.s, self.sys, self.G, self.signs = b, opt, scales, system, G, signs
        self.var = var or Variation(Nonideality())
        self.wires: dict[str, int] = {}
        self.m = system.model
        self.batched = system.batch > 1
        self.rails_done = False

    # ---------------------------------------------------------------- helpers
    def rails(self) -> tuple[str, str]:
        """Shared supply rails (ideal sources couple nothing between copies)."""
        if not self.rails_done:
            self.b.add("vsource", "cc", ("vcc", GROUND), self.opt.bjt.v_cc)
            self.b.add("vsource", "ee", ("vee", GROUND), self.opt.bjt.v_ee)
            self.rails_done = True
        return "vcc", "vee"

    def opamp(self, name: str, inp: str, inn: str, out: str) -> str:
        """An instance of the op-amp macromodel; returns its integrating node's net
        (a port, so that initial conditions can be set on it)."""
        x = f"{out}_oa"
        offset = self.var.offset()
        if offset:
            # input offset voltage: a source in series with the non-inverting input
            self.b.add("vsource", f"{name}_os", (f"{out}_os", inp), offset)
            inp = f"{out}_os"
        self.b.add("instance", name, (inp, inn, out, x),
                   self.b.subckt(opamp_subckt(self.opt.opamp)))
        return x

    # ---------------------------------------------------------------- one copy
    def copy(self, k: int) -> None:
        p = f"k{k}_" if self.batched else ""
        m, s = self.m, self.s
        u0 = np.asarray(self.sys.u0[k : k + 1])
        has_line, has_inv, gsum = self.connectivity(k)
        for grp in m.groups:
            sl = m.slices[grp.name]
            for i in range(grp.size):
                flat = sl.start + i
                u = f"{p}u_{grp.name}_{i}"
                self.b.probes.append(Probe(u, k, flat))
                if self.sys.clamped[flat]:
                    self.b.add("vsource", f"{p}clamp_{grp.name}_{i}", (u, GROUND),
                               s.vs * u0[0, flat])
                else:
                    self.integrator(p, grp, i, u, float(u0[0, flat]), has_line[flat],
                                    has_inv[flat], gsum[flat])
            self.activation(p, grp, has_line[sl])
        self.crossbar(k, p)
        self.inverted_lines(p, has_inv)

    def connectivity(self, k: int):
        """Per flat unit: has a line, needs an inverted line, sum of its conductances."""
        n = self.m.n_units
        has_line, has_inv, gsum = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n)
        for c, G, sg in zip(self.m.couplings, self.G, self.signs, strict=True):
            g = G[k if G.shape[0] > 1 else 0]
            sgn = sg[k if sg.shape[0] > 1 else 0]
            sh, sv = self.m.slices[c.hidden], self.m.slices[c.visible]
            has_line[sh] |= (g > 0).any(1)
            has_line[sv] |= ((g > 0) & (sgn > 0)).any(0)
            has_inv[sv] |= ((g > 0) & (sgn < 0)).any(0)
            gsum[sh] += g.sum(1)
            gsum[sv] += g.sum(0)
        return has_line, has_inv, gsum

    def integrator(self, p, grp, i, u, u0, line, inv, gsum) -> None:
        s, b = self.s, self.b
        tag = f"{p}{grp.name}_{i}"
        C = grp.tau * s.t0 * s.g0
        opamp = self.opt.level == "opamp"
        # the op-amp integrator is inverting: its summing node takes the negated currents
        node, sign = (f"{p}sum_{grp.name}_{i}", -1.0) if opamp else (u, 1.0)
        if line:
            b.add("cccs", f"{tag}_x", (GROUND, node), f"{tag}_s", -sign)
            b.add("vccs", f"{tag}_self", (GROUND, node, f"{p}l_{grp.name}_{i}", GROUND),
                  sign * gsum)
        if inv:
            b.add("cccs", f"{tag}_xn", (GROUND, node), f"{tag}_sn", sign)
        bias = float(grp.bias[i])
        if bias != 0.0:
            b.add("isource", f"{tag}_bias", (GROUND, node), sign * s.g0 * s.vs * bias)
        if opamp:
            b.add("resistor", f"{tag}_leak", (node, u), self.var.resistor(1.0 / s.g0))
            b.add("capacitor", f"{tag}_int", (node, u), self.var.capacitor(C))
            # u is driven by the op-amp output: set the initial state on its internal
            # node and hold the summing node at virtual ground while the DC point is found
            b.ic[self.opamp(f"{tag}_int", GROUND, node, u)] = s.vs * u0
            b.ic[node] = 0.0
        else:
            b.add("resistor", f"{tag}_leak", (u, GROUND), self.var.resistor(1.0 / s.g0))
            b.add("capacitor", f"{tag}_int", (u, GROUND), self.var.capacitor(C))
            b.ic[u] = s.vs * u0

    def line_driver(self, p, gname, i, act_net) -> None:
        """Hold the line at the activation voltage and sense its current."""
        tag = f"{p}{gname}_{i}"
        line = f"{p}l_{gname}_{i}"
        if self.opt.level == "opamp":
            drv = f"{p}d_{gname}_{i}"
            self.opamp(f"{tag}_drv", act_net, line, drv)
            self.b.add("vsource", f"{tag}_s", (drv, line), 0.0)
        else:
            self.b.add("vsource", f"{tag}_s", (act_net, line), 0.0)

    def activation(self, p: str, grp, has_line: np.ndarray) -> None:
        """Drive ``a_{g}_{i} = Vs * act(u)`` for units with a line, then their lines."""
        if not has_line.any():
            return
        s, b, lvl = self.s, self.b, self.opt.level
        g, n = grp.name, grp.size
        uv = [ir.volt(f"{p}u_{g}_{i}") for i in range(n)]
        a = [f"{p}a_{g}_{i}" for i in range(n)]
        act = get_activation(grp.activation)
        if act.name == "softmax" and lvl != "ideal":
            self.bjt_softmax(p, grp, has_line)
        elif act.name == "tanh" and lvl != "ideal":
            for i in np.flatnonzero(has_line):
                self.bjt_tanh(p, grp, i)
        elif act.name == "softmax":
            k = grp.param / s.vs
            # shift by the softmax's initial maximum so exp() stays in range
            shift = grp.param * float(np.max(self.sys.u0[:, self.m.slices[g]]))
            terms = [ir.call("exp", ir.add(ir.mul(ir.num(k), v), ir.num(-shift)) if shift
                             else ir.mul(ir.num(k), v)) for v in uv]
            den = f"{p}den_{g}"
            b.add("bvoltage", f"{p}{g}_den", (den, GROUND), ir.add(*terms))
            for i in np.flatnonzero(has_line):
                b.add("bvoltage", f"{p}{g}_{i}_act", (a[i], GROUND),
                      ir.mul(ir.num(s.vs), ir.div(terms[i], ir.volt(den))))
        else:
            for i in np.flatnonzero(has_line):
                if act.name == "identity":
                    b.add("vcvs", f"{p}{g}_{i}_act", (a[i], GROUND, f"{p}u_{g}_{i}", GROUND),
                          1.0)
                elif act.name == "relu" and lvl == "opamp":
                    self.rectifier(p, g, i)
                elif act.name == "relu":
                    b.add("bvoltage", f"{p}{g}_{i}_act", (a[i], GROUND),
                          ir.call("max", uv[i], ir.num(0.0)))
                else:  # tanh, ideal
                    b.add("bvoltage", f"{p}{g}_{i}_act", (a[i], GROUND), ir.mul(
                        ir.num(s.vs), ir.call("tanh", ir.mul(ir.num(grp.param / s.vs), uv[i]))))
        for i in np.flatnonzero(has_line):
            self.line_driver(p, g, i, a[i])

    def attenuator(self, name: str, base: str, u: str, gain: float) -> None:
        """Base drive ``gain * V(u)``; with PTAT tracking the gain scales with T/T_nom so
        the exponent ``gain V(u) / V_T`` does not drift with temperature."""
        if self.opt.ptat:
            self.b.add("bvoltage", name, (base, GROUND), ir.mul(
                ir.mul(ir.num(gain / T_NOMINAL_K), ir.temperature()), ir.volt(u)))
        else:
            self.b.add("vcvs", name, (base, GROUND, u, GROUND), gain)

    def bjt_softmax(self, p: str, grp, has_line: np.ndarray) -> None:
        """N matched NPNs, emitters on one tail current: I_c = alpha I_tail softmax(V_B/V_T);
        base drive beta V_T/Vs * V_u; transimpedance Vs/(alpha I_tail) to the line."""
        kit, s, b = self.opt.bjt, self.s, self.b
        vcc, vee = self.rails()
        b.model(kit.card())
        g = grp.name
        emit = f"{p}e_{g}"
        gain = grp.param * thermal_voltage() / s.vs
        b.add("isource", f"{p}{g}_tail", (emit, vee), kit.i_tail)
        alpha = kit.alpha(kit.v_cc + 0.75)
        for i in range(grp.size):
            base, col = f"{p}b_{g}_{i}", f"{p}c_{g}_{i}"
            self.attenuator(f"{p}{g}_{i}_att", base, f"{p}u_{g}_{i}", gain)
            b.add("npn", f"{p}{g}_{i}", (col, base, emit), kit.name, self.var.bjt_area())
            b.add("vsource", f"{p}{g}_{i}_ic", (vcc, col), 0.0)
            if has_line[i]:
                b.add("ccvs", f"{p}{g}_{i}_tz", (f"{p}a_{g}_{i}", GROUND), f"{p}{g}_{i}_ic",
                      s.vs / (alpha * kit.i_tail))

    def bjt_tanh(self, p: str, grp, i: int) -> None:
        """Differential pair: I_c+ - I_c- = alpha I_tail tanh(dV_B / 2V_T) with
        dV_B = 2 gain V_T/Vs * V_u, read out by two transimpedances in series."""
        kit, s, b = self.opt.bjt, self.s, self.b
        vcc, vee = self.rails()
        b.model(kit.card())
        g, tag = grp.name, f"{p}{grp.name}_{i}"
        emit, u = f"{p}e_{g}_{i}", f"{p}u_{g}_{i}"
        gain = grp.param * thermal_voltage() / s.vs
        alpha = kit.alpha(kit.v_cc + 0.75)
        b.add("isource", f"{tag}_tail", (emit, vee), kit.i_tail)
        for side, sgn in (("p", 1.0), ("m", -1.0)):
            base, col = f"{p}b{side}_{g}_{i}", f"{p}c{side}_{g}_{i}"
            self.attenuator(f"{tag}_att{side}", base, u, sgn * gain)
            b.add("npn", f"{tag}{side}", (col, base, emit), kit.name, self.var.bjt_area())
            b.add("vsource", f"{tag}_ic{side}", (vcc, col), 0.0)
        mid = f"{p}tzm_{g}_{i}"
        r = s.vs / (alpha * kit.i_tail)
        b.add("ccvs", f"{tag}_tzp", (f"{p}a_{g}_{i}", mid), f"{tag}_icp", r)
        b.add("ccvs", f"{tag}_tzm", (mid, GROUND), f"{tag}_icm", -r)

    def rectifier(self, p: str, g: str, i: int) -> None:
        """Precision rectifier (super-diode): op-amp drives a diode, feedback from the
        output; a 100 kOhm load pulls the output to 0 when the input is negative."""
        tag, out = f"{p}{g}_{i}", f"{p}a_{g}_{i}"
        self.b.model(DIODE)
        drv = f"{p}rd_{g}_{i}"
        self.opamp(f"{tag}_rect", f"{p}u_{g}_{i}", out, drv)
        self.b.add("diode", f"{tag}_rect", (drv, out), DIODE.name)
        self.b.add("resistor", f"{tag}_rload", (out, GROUND), self.var.resistor(1e5))

    def crossbar(self, k: int, p: str) -> None:
        """One resistor per nonzero weight between the two lines (the inverted visible
        line for negative weights); row-major order, so names and order are fixed.

        With wire resistance ``r`` per cell, each line is a ladder: the driver feeds
        cell 0 and every further cell along the line is one ``r`` further away
        (hidden lines run along the visible index, visible lines along the hidden)."""
        r_wire = self.opt.nonideal.r_per_cell if self.opt.nonideal else 0.0
        for c, G, sg in zip(self.m.couplings, self.G, self.signs, strict=True):
            g = G[k if G.shape[0] > 1 else 0]
            sgn = sg[k if sg.shape[0] > 1 else 0]
            hs, vs_ = c.hidden, c.visible
            rows, cols = np.nonzero(g)
            for mu, i in zip(rows.tolist(), cols.tolist(), strict=True):
                vline = f"{p}l_{vs_}_{i}" if sgn[mu, i] > 0 else f"{p}ln_{vs_}_{i}"
                hnode, vnode = f"{p}l_{hs}_{mu}", vline
                if r_wire:
                    hnode = self.wire(f"{p}{c.name}_h{mu}", hnode, i, r_wire)
                    vnode = self.wire(f"{p}{c.name}_v{i}{'p' if sgn[mu, i] > 0 else 'n'}",
                                      vline, mu, r_wire)
                self.b.add("resistor", f"{p}{c.name}_{mu}_{i}", (hnode, vnode),
                           1.0 / g[mu, i])

    def wire(self, tag: str, line: str, cell: int, r: float) -> str:
        """The net of cell ``cell`` on a ladder line: segments ``tag_w{j}`` of ``r``
        ohms chain cells 0..cell (created on first use, so cost is linear in cells)."""
        last = self.wires.get(tag, -1)
        for j in range(last + 1, cell + 1):
            prev = line if j == 0 else f"{tag}_n{j - 1}"
            self.b.add("resistor", f"{tag}_w{j}", (prev, f"{tag}_n{j}"), r)
        self.wires[tag] = max(last, cell)
        return f"{tag}_n{cell}"

    def inverted_lines(self, p: str, has_inv: np.ndarray) -> None:
        """``-Vs y`` copies of the lines that negative weights connect to."""
        for grp in self.m.groups:
            sl = self.m.slices[grp.name]
            for i in np.flatnonzero(has_inv[sl]):
                tag, g = f"{p}{grp.name}_{i}", grp.name
                self.b.add("vcvs", f"{tag}_inv", (f"{p}dn_{g}_{i}", GROUND,
                                                  f"{p}l_{g}_{i}", GROUND), -1.0)
                self.b.add("vsource", f"{tag}_sn", (f"{p}dn_{g}_{i}", f"{p}ln_{g}_{i}"), 0.0)


def opamp_subckt(k: OpampKit) -> ir.SubcktDef:
    """Single-pole op-amp macromodel ``anm_opamp inp inn out int``: transconductance
    ``gm = A0/R`` from (inp - inn) into R || C on node int (DC gain A0, pole at GBW/A0,
    so unity gain at GBW), output = int clamped to the swing [v_neg, v_pos]."""
    r = k.r_out_stage
    E = ir.Element
    return ir.SubcktDef("anm_opamp", ("inp", "inn", "out", "int"), (
        E("vccs", "gm", (GROUND, "int", "inp", "inn"), (k.a0 / r,)),
        E("resistor", "ro", ("int", GROUND), (r,)),
        E("capacitor", "co", ("int", GROUND), (k.a0 / (2 * np.pi * k.gbw * r),)),
        E("bvoltage", "out", ("out", GROUND), (ir.call(
            "min", ir.call("max", ir.volt("int"), ir.num(k.v_neg)), ir.num(k.v_pos)),)),
    ), "amplifiers", f"single-pole op-amp: A0 {k.a0:g}, GBW {k.gbw:g} Hz, "
       f"swing {k.v_neg:g} to {k.v_pos:g} V")


def build_softmax_testbench(u: np.ndarray, beta: float, options: CompileOptions | None = None
                            ) -> tuple[Circuit, list[list[str]]]:
    """The BJT softmax of the ``bjt`` level alone, driven by fixed states.

    ``u`` (K, n): K independent copies, each with its n inputs held at ``Vs*u`` by
    sources. Returns the circuit and, per copy, the nets whose voltages are
    ``Vs * softmax(beta u)`` (read them after a short transient)."""
    from .model import Group, Model, Stimulus, bind

    opt = options or CompileOptions(level="bjt")
    u = np.atleast_2d(np.asarray(u, dtype=float))
    K, n = u.shape
    grp = Group("s", n, "softmax", 1.0, np.zeros(n), param=beta)
    system = bind(Model("softmax_bench", (grp,), (), 1.0),
                  Stimulus(K, init={"s": u}, clamp={"s": np.ones(n, bool)}))
    ctx = _Ctx(CircuitBuilder(title="softmax testbench"), opt, replace(opt.scales, t0=1e-6),
               system, [], [])
    outs = []
    for k in range(K):
        p = f"k{k}_"
        for i in range(n):
            ctx.b.add("vsource", f"{p}in_{i}", (f"{p}u_s_{i}", GROUND), opt.scales.vs * u[k, i])
            # a load on each output so its net is not floating; current goes to the source
            ctx.b.add("resistor", f"{p}load_{i}", (f"{p}a_s_{i}", GROUND), 1e6)
        ctx.bjt_softmax(p, grp, np.ones(n, bool))
        outs.append([f"{p}a_s_{i}" for i in range(n)])
        ctx.b.probes.extend(Probe(net, k, i) for i, net in enumerate(outs[-1]))
    tran = Transient(1e-8, 1e-6, 1e-8, (("reltol", 1e-6),))
    return ctx.b.freeze(tran, opt.temperature_c), outs
