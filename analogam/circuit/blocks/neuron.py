"""The neuron: its integrator, the currents it integrates (current copy of its line,
self-compensation, bias), or the clamp that replaces it for an input unit.

A free unit integrates (docs/design.md section 4)::

    C dV_u/dt = I_copy + I_self + I_bias - V_u / R_leak
              = G0 Vs (sum_j xi_j y_j + bias - u),        C = tau T0 G0,  R_leak = 1/G0

with ``I_copy = -I_line`` (the current the line's driver pushes into the crossbar,
``sum_j G_j (Vs y - Vs y_j)``), ``I_self = Vs y sum_j G_j`` and ``I_bias = G0 Vs bias``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .. import ir
from ..ir import GROUND, Meter
from ..speed import UnitSpeed, compensate, scaled_gbw
from .amplifier import difference, input_offset, opamp
from .base import Emit, Port, UnitSpec
from .lines import add_flow, flow, negated, sense_resistance, sensed


@dataclass(frozen=True)
class ClampSpec(UnitSpec):
    """An input unit held at ``volts`` (V) by a source on its state node."""

    volts: float


def clamp(e: Emit, s: ClampSpec) -> None:
    """A voltage source (metered, where the level measures energy: what the inputs
    deliver)."""
    u = e.names.state(s.group, s.index)
    src = e.names.net("clamp", s.group, s.index)
    e.add("vsource", src, (u, GROUND), s.volts, role="clamp")
    e.b.guess(u, ir.num(s.volts))
    if e.metered:
        e.b.meters.append(Meter(src, "input", e.copy, s.volts, -1.0))


@dataclass(frozen=True)
class IntegratorSpec(UnitSpec):
    """``C dV_u/dt = I_in - V_u / r_leak``: capacitance ``c`` (F), leak ``r_leak``
    (ohm), initial state ``v0`` (V)."""

    c: float
    r_leak: float
    v0: float


def ideal_port(e: Emit, group: str, i: int) -> Port:
    """The ideal integrator takes its currents on the state node itself."""
    return Port(e.names.state(group, i), 1.0)


def _unit(e: Emit, s: IntegratorSpec) -> str:
    return f"{e.names.prefix}{s.group}_{s.index}"


def ideal_integrator(e: Emit, s: IntegratorSpec) -> None:
    """Leak and capacitor from the state node to ground; the initial state by ``.ic``.
    Its time constant is exactly ``C r_leak``."""
    n, u = e.names, e.names.state(s.group, s.index)
    tau = s.c * s.r_leak
    e.b.speeds.append(UnitSpeed(_unit(e, s), s.group, s.index, tau, s.c, s.c, 1.0 / s.r_leak,
                                e.b.lags.get(u, 0.0), tau, False))
    e.add("resistor", n.elem(s.group, s.index, "leak"), (u, GROUND),
          e.var.resistor(e.key(n.elem(s.group, s.index, "leak")), s.r_leak), role="leak")
    e.add("capacitor", n.elem(s.group, s.index, "int"), (u, GROUND),
          e.var.capacitor(e.key(n.elem(s.group, s.index, "int")), s.c), role="integrator")
    e.b.ic[u] = s.v0


def opamp_port(e: Emit, group: str, i: int) -> Port:
    """The op-amp integrator is inverting: its summing node takes the negated currents."""
    return Port(e.names.net("sum", group, i), -1.0)


def opamp_integrator(e: Emit, s: IntegratorSpec) -> None:
    """Inverting integrator: leak and capacitor from the summing node (virtual ground) to
    the op-amp output, which is the state node. The initial state is set on the
    op-amp's internal node, and the summing node is held at the amplifier's offset
    (0 without one) while the DC point is found. The capacitor and leak are programmed
    for the amplifier's finite gain-bandwidth and gain (:func:`~..speed.compensate`,
    ``design.compensate``)."""
    n, amp, d = e.names, e.config.opamp, e.config.design
    node, u = n.net("sum", s.group, s.index), n.state(s.group, s.index)
    leak, cap = n.elem(s.group, s.index, "leak"), n.elem(s.group, s.index, "int")
    g_in = e.b.conductance.get(node, 0.0)
    gbw = integrator_gbw(e, s.c, g_in + 1.0 / s.r_leak)
    comp = compensate(s.c, 1.0 / s.r_leak, g_in, gbw, amp.a0, d.c_floor, d.compensate,
                      d.c_min)
    e.b.speeds.append(UnitSpeed(_unit(e, s), s.group, s.index, s.c * s.r_leak, s.c, comp.c,
                                g_in + 1.0 / s.r_leak, e.b.lags.get(node, 0.0),
                                comp.tau_eff_s, comp.limited))
    e.add("resistor", leak, (node, u), e.var.resistor(e.key(leak), 1.0 / comp.g_leak),
          role="leak")
    e.add("capacitor", cap, (node, u), e.var.capacitor(e.key(cap), comp.c),
          role="integrator")
    internal = opamp(e, cap, GROUND, node, u, "integrator",
                     None if gbw == amp.gbw else gbw)
    e.b.ic[internal] = s.v0
    # the virtual ground sits where the amplifier's input offset holds it (the same keyed
    # draw, or the calibration's measurement of the kit's own): held anywhere else, a
    # transistor amplifier fights the .ic at switch-on
    e.b.ic[node] = input_offset(e, cap)[1]
    if internal != u:   # a transistor amplifier's state is its output itself
        e.b.guess(u, ir.volt(internal))


def integrator_gbw(e: Emit, c: float, g_node: float) -> float:
    """The gain-bandwidth (Hz) of a unit's integrator amplifier: the configuration's,
    or, with a latency target at a level whose amplifiers are tunable
    (``design.scale_amplifiers``), what its summing node needs
    (:func:`~..speed.scaled_gbw`)."""
    base, d = e.config.opamp.gbw, e.config.design
    if not (d.latency and d.scale_amplifiers and e.level.tunable_amplifiers):
        return base
    return scaled_gbw(base, c, g_node)


class IntegratorBlock(NamedTuple):
    """An integrator variant: where it takes its input currents, and its elements."""

    port: Callable[[Emit, str, int], Port]
    emit: Callable[[Emit, IntegratorSpec], None]


@dataclass(frozen=True)
class InputsSpec(UnitSpec):
    """The currents unit i integrates, into its integrator's ``port``: the copy of its
    line's sensed current (``line``: it has cells on its line), of its inverted line's
    (``inverted``), the self term ``gsum V_act`` (``gsum``, S: the sum of the unit's
    conductances on both lines) and the bias ``amps`` (A, ``G0 Vs bias``)::

        I_port / port.sign = -I_line + I_inv + gsum V_act + amps
                           = G0 Vs (sum_j xi_j y_j + bias)
    """

    port: Port
    line: bool
    inverted: bool
    gsum: float
    amps: float


def ideal_inputs(e: Emit, s: InputsSpec) -> None:
    """Current-controlled current sources reading the lines' sense sources (each copy's
    gain off by ``sense.copy_gain_sigma``: a mirror's mismatch), a transconductor from
    the line voltage for the self term, a current source for the bias."""
    n, g, i, sign = e.names, s.group, s.index, s.port.sign

    def copy(inverted: bool) -> None:
        name = n.elem(g, i, "xn" if inverted else "x")
        gain = sign if inverted else -sign
        e.add("cccs", name, (GROUND, s.port.node), n.sense(g, i, inverted),
              e.var.copy_gain(e.key(name), gain), role="copy")

    if s.line:
        copy(False)
    if s.gsum:
        # from the line (a line offset moves it too, as the linearisation expects), or
        # the activation node when the unit's cells are all negative and it has no line
        control = n.line(g, i) if s.line else n.act(g, i)
        e.add("vccs", n.elem(g, i, "self"), (GROUND, s.port.node, control, GROUND),
              sign * s.gsum, role="self")
    if s.inverted:
        copy(True)
    if s.amps:
        e.add("isource", n.elem(g, i, "bias"), (GROUND, s.port.node), sign * s.amps,
              role="bias")


def amplified_inputs(e: Emit, s: InputsSpec) -> None:
    """Difference amplifiers across the sense resistors, injection resistors into the
    summing node (a virtual ground; the port of an inverting integrator, ``port.sign``
    -1), a bias resistor from a rail.

    Line: the amplifier reads the driver's output ``V_d`` and the line ``V_l`` at the
    same instant, through resistors only (no lag between the two large terms), with
    the self term folded into its gains::

        V_o = a V_d - b V_l = k R_s (I_x - gsum V_l),   I = V_o / (k R_s)

    ``k = sense.gain``, ``x = R_s gsum``, ``rho = R_s / r_amp``; its line-side input
    draws ``(V_l - V_vg) / r_amp`` through the sense resistor too, which the gains
    absorb: ``b = k (1 + x + rho)``, ``a = k (1 + k rho / (1 + k (1 + x)))``. The
    injection resistor carries the useful current ``G0 Vs sum_j xi_j y_j`` only.
    Inverted line: ``V_o = a V_ln - b V_dn = -k R_s I_x`` with ``b = k``, ``a = k (1 +
    rho)(1 + k) / (1 + k + k rho)`` (its divider loads the line). A unit with cells on
    its inverted line only gets its self term from a replica conductance ``gsum`` on
    the negated activation.

    Errors: the driver's offset; resistor mismatch (``sense.mismatch``) as a gain
    error on the line current and an error ``~ mismatch k (1 + x) V_l`` on the self
    term; and the integrator loses ``G_node / (2 pi GBW C)`` of its input while it
    moves (:mod:`analogam.circuit.design`)."""
    if s.port.sign > 0:
        raise ValueError("amplified inputs need an inverting integrator's summing node")
    n, g, i = e.names, s.group, s.index
    k, r = e.config.sense.gain, e.config.sense.r_amp
    rs = sense_resistance(e, s.gsum) if s.gsum else 0.0
    rho = rs / r
    node = s.port.node
    # the lag of the input path (s): each amplifier's noise gain over w_u: the copy's
    # difference amplifier (and, for the inverted line, the inverting amplifier); the
    # line drivers' own lag largely cancels, the copy reading driver and line together
    # (against ngspice: within 10 % at 1 GHz and on sky130, docs/design.md section 10)
    w_u = 2 * np.pi * e.config.opamp.gbw
    x = rs * s.gsum
    paths = []
    if s.line:
        paths.append((1 + k * (1 + x + rho)) / w_u)
    if s.inverted:
        paths.append((1 + k) / w_u + 2 / w_u)
    e.b.lags[node] = max(paths, default=0.0)

    def inject(name: str, src: str, res: float, role: str) -> None:
        e.add("resistor", name, (src, node), e.var.sense_resistor(e.key(name), res),
              role=role, nominal=res)

    if s.line:
        line, name, out = n.line(g, i), n.elem(g, i, "cp"), n.net("xo", g, i)
        a, b = k * (1 + k * rho / (1 + k * (1 + x))), k * (1 + x + rho)
        difference(e, name, n.net("d", g, i), line, out, r, "copy", a, b)
        # I_s = I_x + (V_l - f V_d) / r with V_d = V_l + R_s I_s, f = a / (1 + b)
        f = a / (1 + b)
        e.b.guess(sensed(line), ir.scale(1 / (1 + f * rho), ir.add(
            ir.volt(flow(line)), ir.scale((1 - f) / r, ir.volt(line)))))
        inject(f"{name}_rinj", out, k * rs, "copy")
    elif s.gsum:
        inject(n.elem(g, i, "self"), negated(e, g, i), 1.0 / s.gsum, "self")
    if s.inverted:
        line, name, out = n.inv_line(g, i), n.elem(g, i, "cpn"), n.net("xon", g, i)
        a = k * (1 + rho) * (1 + k) / (1 + k + k * rho)
        difference(e, name, line, n.net("dn", g, i), out, r, "copy", a, k)
        add_flow(e, line, [ir.scale((1 + k - a) / (r * (1 + k)), ir.volt(line))])
        inject(f"{name}_rinj", out, k * rs, "copy")
    if s.amps:
        # from the supply on the current's side: R = |V_rail| / |I| into a virtual ground
        side = 0 if s.amps < 0 else 1   # the inverting port takes -amps
        volts = e.config.opamp.supplies[side]
        name = n.elem(g, i, "bias")
        r_bias = abs(volts / s.amps)
        e.add("resistor", name, (e.rail("bias", side, "opamp"), node),
              e.var.resistor(e.key(name), r_bias), role="bias", nominal=r_bias)


BLOCKS = {
    "clamp": {"ideal": clamp},
    "integrator": {"ideal": IntegratorBlock(ideal_port, ideal_integrator),
                   "opamp": IntegratorBlock(opamp_port, opamp_integrator)},
    "inputs": {"ideal": ideal_inputs, "opamp": amplified_inputs},
}
