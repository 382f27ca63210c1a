"""Crossbar lines: the driver that holds a line at its unit's activation voltage and
senses the current it delivers, and the inverted line negative weights connect to."""

from __future__ import annotations

from dataclasses import dataclass

from .. import ir
from ..ir import GROUND
from .amplifier import opamp
from .base import Emit
from .neuron import UnitSpec


@dataclass(frozen=True)
class LineSpec(UnitSpec):
    """The line of unit ``index`` of ``group``: ``V_line = V_act``, current sensed by a
    zero-volt source (:meth:`Names.sense`)."""


def ideal_driver(e: Emit, s: LineSpec) -> None:
    """The sense source connects the activation node to the line directly."""
    n = e.names
    e.add("vsource", n.sense(s.group, s.index), (n.act(s.group, s.index),
                                                 n.line(s.group, s.index)), 0.0, role="sense")
    e.b.guess(n.line(s.group, s.index), ir.volt(n.act(s.group, s.index)))


def opamp_driver(e: Emit, s: LineSpec) -> None:
    """A unity-gain op-amp buffer (feedback from the line) drives the line through the
    sense source."""
    n = e.names
    line, drv = n.line(s.group, s.index), n.net("d", s.group, s.index)
    opamp(e, n.elem(s.group, s.index, "drv"), n.act(s.group, s.index), line, drv)
    e.add("vsource", n.sense(s.group, s.index), (drv, line), 0.0, role="sense")
    for net in (line, drv):
        e.b.guess(net, ir.volt(n.act(s.group, s.index)))


def ideal_inverter(e: Emit, s: LineSpec) -> None:
    """``V = -V_line`` by an ideal voltage-controlled source, through its own sense
    source onto the inverted line."""
    n = e.names
    dn = n.net("dn", s.group, s.index)
    e.add("vcvs", n.elem(s.group, s.index, "inv"), (dn, GROUND, n.line(s.group, s.index),
                                                   GROUND), -1.0, role="inverter")
    e.add("vsource", n.sense(s.group, s.index, inverted=True), (dn, n.inv_line(s.group,
                                                                              s.index)),
          0.0, role="sense")
    for net in (dn, n.inv_line(s.group, s.index)):
        e.b.guess(net, ir.scale(-1.0, ir.volt(n.line(s.group, s.index))))


BLOCKS = {
    "driver": {"ideal": ideal_driver, "opamp": opamp_driver},
    "inverter": {"ideal": ideal_inverter},
}
