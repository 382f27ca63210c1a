"""Crossbar lines: the driver that holds a line at its unit's activation voltage and
senses the current it delivers, and the inverted line negative weights connect to.

At the ideal level a zero-volt source senses the line current (a current copy reads
it). From the opamp level a buffer drives the line through a sense resistor ``R_s``
with its feedback from the line side, so the line sits at the reference voltage
whatever the current, and the drop ``R_s I_line`` across the resistor is what the
copy's difference amplifier reads (:mod:`.neuron`). ``R_s = v_full_scale / (g_sum
Vs S)``, ``S`` the largest line-to-cell voltage of the design range (model units):
the drop reaches ``sense.v_full_scale`` at the line's full-scale current.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import ir
from ..ir import GROUND
from .amplifier import current_limit, inverting, opamp
from .base import Emit, UnitSpec


@dataclass(frozen=True)
class LineSpec(UnitSpec):
    """The line of unit ``index`` of ``group``: ``V_line = V_act``; ``gsum`` (S) is the
    sum of the unit's conductances (its full-scale line current is ``gsum Vs``)."""

    gsum: float = 0.0
    has_line: bool = True
    """False for a unit whose cells are all negative: only its inverted line exists."""


def sense_resistance(e: Emit, gsum: float) -> float:
    """``R_s = v_full_scale / (gsum Vs S)`` (ohm): the sense resistor of a line, ``S =
    e.line_swing``."""
    return e.config.sense.v_full_scale / (gsum * e.scales.vs * e.line_swing)


def ideal_driver(e: Emit, s: LineSpec) -> None:
    """The sense source connects the activation node to the line directly."""
    n = e.names
    e.add("vsource", n.sense(s.group, s.index), (n.act(s.group, s.index),
                                                 n.line(s.group, s.index)), 0.0, role="sense")
    e.b.guess(n.line(s.group, s.index), ir.volt(n.act(s.group, s.index)))


def _sensed_driver(e: Emit, name: str, ref: str, line: str, out: str, gsum: float,
                   role: str) -> None:
    """A buffer holding ``line`` at ``ref`` through a sense resistor from its output
    ``out`` (feedback from the line side). The output sits ``R_s I_line`` above the
    line: the current the crossbar predicts (:func:`flow`)."""
    rs = sense_resistance(e, gsum)
    current_limit(e, name, out, line, rs)      # the line's current flows through R_s
    opamp(e, name, ref, line, out, role)
    rname = f"{name}_rs"
    e.matched_resistor(rname, (out, line), rs, "sense")
    e.b.guess(line, ir.volt(ref))
    e.b.guess(out, ir.add(ir.volt(ref), ir.mul(ir.num(rs), ir.volt(sensed(line)))))
    e.b.guesses.setdefault(sensed(line), ir.volt(flow(line)))


def flow(line: str) -> str:
    """The pseudo-net whose prediction is the current (A) out of a line into what it
    drives (never a net of the netlist; the crossbar and the blocks that load the line
    add their terms with :func:`add_flow`)."""
    return f"i_{line}"


def sensed(line: str) -> str:
    """The pseudo-net whose prediction is the current (A) through a line's sense
    resistor: its :func:`flow`, unless a block that loads the line through the sense
    resistor itself predicts it first."""
    return f"is_{line}"


def add_flow(e: Emit, line: str, terms: list[ir.Expr]) -> None:
    """Add currents (A, out of ``line``) to its predicted flow."""
    prior = e.b.guesses.get(flow(line))
    e.b.guess(flow(line), ir.add(*([prior] if prior is not None else []), *terms))


def opamp_driver(e: Emit, s: LineSpec) -> None:
    """A buffer drives the line through its sense resistor."""
    n = e.names
    _sensed_driver(e, n.elem(s.group, s.index, "drv"), n.act(s.group, s.index),
                   n.line(s.group, s.index), n.net("d", s.group, s.index), s.gsum, "driver")


def ideal_inverter(e: Emit, s: LineSpec) -> None:
    """``V = -V_line`` by an ideal voltage-controlled source, through its own sense
    source onto the inverted line (``-V_act`` when the unit's cells are all negative and
    it has no line)."""
    n = e.names
    dn = n.net("dn", s.group, s.index)
    src = n.line(s.group, s.index) if s.has_line else n.act(s.group, s.index)
    e.add("vcvs", n.elem(s.group, s.index, "inv"), (dn, GROUND, src, GROUND), -1.0,
          role="inverter")
    e.add("vsource", n.sense(s.group, s.index, inverted=True), (dn, n.inv_line(s.group,
                                                                              s.index)),
          0.0, role="sense")
    for net in (dn, n.inv_line(s.group, s.index)):
        e.b.guess(net, ir.scale(-1.0, ir.volt(src)))


def negated(e: Emit, group: str, i: int) -> str:
    """The net at ``-V_act`` of unit i (an inverting amplifier from its activation
    node, emitted once): the reference of its inverted line and of its self path."""
    n = e.names
    out = n.net("ni", group, i)
    if out not in e.once:
        inverting(e, n.elem(group, i, "neg"), n.act(group, i), out,
                  e.config.sense.r_amp, "inverter")
        e.once.add(out)
    return out


def opamp_inverter(e: Emit, s: LineSpec) -> None:
    """The inverted line: a sensed driver from the negated activation."""
    n = e.names
    _sensed_driver(e, n.elem(s.group, s.index, "drvn"), negated(e, s.group, s.index),
                   n.inv_line(s.group, s.index), n.net("dn", s.group, s.index), s.gsum,
                   "inverter")


BLOCKS = {
    "driver": {"ideal": ideal_driver, "opamp": opamp_driver},
    "inverter": {"ideal": ideal_inverter, "opamp": opamp_inverter},
}
