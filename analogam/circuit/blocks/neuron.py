"""The neuron: its integrator, the currents it integrates (current copy of its line,
self-compensation, bias), or the clamp that replaces it for an input unit.

A free unit integrates (DESIGN.md section 4)::

    C dV_u/dt = I_copy + I_self + I_bias - V_u / R_leak
              = G0 Vs (sum_j xi_j y_j + bias - u),        C = tau T0 G0,  R_leak = 1/G0

with ``I_copy = -I_line`` (the current the line's driver pushes into the crossbar,
``sum_j G_j (Vs y - Vs y_j)``), ``I_self = Vs y sum_j G_j`` and ``I_bias = G0 Vs bias``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .. import ir
from ..ir import GROUND
from .amplifier import opamp
from .base import Emit, Port


@dataclass(frozen=True)
class UnitSpec:
    """A part of unit ``index`` of ``group``."""

    group: str
    index: int


@dataclass(frozen=True)
class ClampSpec(UnitSpec):
    """An input unit held at ``volts`` (V) by a source on its state node."""

    volts: float


def clamp(e: Emit, s: ClampSpec) -> None:
    u = e.names.state(s.group, s.index)
    e.add("vsource", e.names.net("clamp", s.group, s.index), (u, GROUND), s.volts,
          role="clamp")
    e.b.guess(u, ir.num(s.volts))


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


def ideal_integrator(e: Emit, s: IntegratorSpec) -> None:
    """Leak and capacitor from the state node to ground; the initial state by ``.ic``."""
    n, u = e.names, e.names.state(s.group, s.index)
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
    op-amp's internal node, and the summing node is held at 0 while the DC point is
    found."""
    n = e.names
    node, u = n.net("sum", s.group, s.index), n.state(s.group, s.index)
    leak, cap = n.elem(s.group, s.index, "leak"), n.elem(s.group, s.index, "int")
    e.add("resistor", leak, (node, u), e.var.resistor(e.key(leak), s.r_leak), role="leak")
    e.add("capacitor", cap, (node, u), e.var.capacitor(e.key(cap), s.c), role="integrator")
    internal = opamp(e, cap, GROUND, node, u)
    e.b.ic[internal] = s.v0
    e.b.ic[node] = 0.0
    e.b.guess(u, ir.volt(internal))


class IntegratorBlock(NamedTuple):
    """An integrator variant: where it takes its input currents, and its elements."""

    port: Callable[[Emit, str, int], Port]
    emit: Callable[[Emit, IntegratorSpec], None]


@dataclass(frozen=True)
class PortSpec(UnitSpec):
    """A current into the unit's integrator ``port``."""

    port: Port


@dataclass(frozen=True)
class CopySpec(PortSpec):
    """Copy of the line's (``inverted``: the inverted line's) sensed current into the
    port, with gain -1 (+1) A/A: the current the crossbar draws from the line is the
    current the unit receives, negated."""

    inverted: bool


def cccs_copy(e: Emit, s: CopySpec) -> None:
    """An ideal current-controlled current source reading the line's sense source."""
    n = e.names
    gain = s.port.sign if s.inverted else -s.port.sign
    e.add("cccs", n.elem(s.group, s.index, "xn" if s.inverted else "x"),
          (GROUND, s.port.node), n.sense(s.group, s.index, s.inverted), gain, role="copy")


@dataclass(frozen=True)
class SelfSpec(PortSpec):
    """Self-compensation ``I = gsum * V_line`` into the port: ``gsum`` (S) is the sum of
    the conductances on the unit's line (positive and inverted)."""

    gsum: float


def vccs_self(e: Emit, s: SelfSpec) -> None:
    """An ideal transconductor from the line voltage."""
    n = e.names
    e.add("vccs", n.elem(s.group, s.index, "self"),
          (GROUND, s.port.node, n.line(s.group, s.index), GROUND), s.port.sign * s.gsum,
          role="self")


@dataclass(frozen=True)
class BiasSpec(PortSpec):
    """Bias current ``amps`` (A) into the port: ``G0 Vs bias``."""

    amps: float


def isource_bias(e: Emit, s: BiasSpec) -> None:
    e.add("isource", e.names.elem(s.group, s.index, "bias"), (GROUND, s.port.node),
          s.port.sign * s.amps, role="bias")


BLOCKS = {
    "clamp": {"ideal": clamp},
    "integrator": {"ideal": IntegratorBlock(ideal_port, ideal_integrator),
                   "opamp": IntegratorBlock(opamp_port, opamp_integrator)},
    "copy": {"ideal": cccs_copy},
    "self": {"ideal": vccs_self},
    "bias": {"ideal": isource_bias},
}
