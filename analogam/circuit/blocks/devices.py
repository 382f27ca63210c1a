"""Device blocks the translinear stages are built from: the matched NPN and the tail
current that biases a shared emitter. The ``bjt`` level registers the generic ones (a
Gummel-Poon card, an ideal current source); the ``pdk`` level registers the process
kit's (its NPN with the substrate on the negative rail, a 1:1 NMOS mirror sized by the
kit, fed by a bias generator) in the same table, so no block asks which level or kit it is at."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import CircuitError
from ..ir import num
from .amplifier import opamp
from .base import Emit
from .translinear import divider


@dataclass(frozen=True)
class NpnSpec:
    """A translinear NPN ``name`` with collector, base and emitter nets."""

    name: str
    col: str
    base: str
    emit: str


def gp_npn(e: Emit, s: NpnSpec) -> None:
    """The Gummel-Poon card of the ``bjt`` kit, with its seeded area mismatch."""
    e.b.model(e.config.bjt.card())
    e.add("npn", s.name, (s.col, s.base, s.emit), e.config.bjt.name,
          e.var.bjt_area(e.key(s.name)), role="transistor")


def kit_npn(e: Emit, s: NpnSpec) -> None:
    """The process kit's NPN, its substrate on the negative rail of the activation
    blocks. Its mismatch is the kit's (its model card's own statistics), so the generic
    card's ``bjt.is_mismatch`` cannot reach it: refused rather than ignored."""
    if e.config.bjt.is_mismatch:
        raise CircuitError(
            f"bjt.is_mismatch = {e.config.bjt.is_mismatch:g} applies to the generic NPN "
            f"card; the kit's {e.kit.npn} does not take it (its IS mismatch is its own); "
            "set it to 0 at this level")
    sub = e.rail("activation", 1)
    e.add("kit_npn", s.name, (s.col, s.base, s.emit, sub), e.kit.npn, 1.0,
          role="transistor")


@dataclass(frozen=True)
class TailSpec:
    """A translinear stage's tail current ``amps`` (A) from ``emit`` into ``vee``."""

    name: str
    emit: str
    vee: str
    amps: float


def ideal_tail(e: Emit, s: TailSpec) -> None:
    """An ideal current source."""
    e.add("isource", s.name, (s.emit, s.vee), s.amps, role="tail")


BIAS_DROP = 1.0
"""Volts the bias generator sets across its reference resistor (from the positive
amplifier rail): the tail current is ``BIAS_DROP / R_ref``."""
BIAS_DIVIDER_AMPS = 10e-6
"""Current through the bias generator's reference divider (A)."""


def mirror_tail(e: Emit, s: TailSpec) -> None:
    """A 1:1 NMOS mirror (the kit's ``tail_mirror`` sizing) of a reference current from
    a bias generator into its diode-connected twin. The generator is a voltage-to-current
    converter: a divider puts ``V_dd - BIAS_DROP`` on an op-amp's non-inverting input;
    the op-amp drives a PMOS whose source it holds there, across ``R_ref = BIAS_DROP /
    amps`` to ``V_dd``, so ``I = BIAS_DROP / R_ref`` flows from its drain into the
    mirror, whatever the transistors' thresholds (corners move only the mirror's
    matching)."""
    m = e.kit.tail_mirror
    e.kit.check_size(s.name, m.w, m.l)
    ref, tap, src, gate = (f"{s.name}_{k}" for k in ("ref", "tap", "src", "gate"))
    vdd = e.rail("tail", 0, "opamp")
    v_dd = e.config.opamp.supplies[0]
    # the divider's two resistors in parallel: BIAS_DROP over the top one at its current
    divider(e, s.name, tap, v_dd - BIAS_DROP, "tail", "tail",
            r=1.0 / (BIAS_DIVIDER_AMPS / BIAS_DROP + BIAS_DIVIDER_AMPS / (v_dd - BIAS_DROP)))
    e.matched_resistor(f"{s.name}_rref", (vdd, src), BIAS_DROP / s.amps, "tail")
    opamp(e, f"{s.name}_gen", tap, src, gate, "tail")
    e.add("pmos", f"{s.name}_mp", (ref, gate, src, vdd), e.kit.pmos, m.w, m.l, 1.0,
          role="tail")
    e.add("nmos", f"{s.name}_md", (ref, ref, s.vee, s.vee), e.kit.nmos, m.w, m.l, 1.0,
          role="tail")
    e.add("nmos", s.name, (s.emit, ref, s.vee, s.vee), e.kit.nmos, m.w, m.l, 1.0,
          role="tail")
    for net, v in ((tap, v_dd - BIAS_DROP), (src, v_dd - BIAS_DROP),
                   (gate, v_dd - BIAS_DROP - 1.2), (ref, e.config.bjt.v_ee + 1.4)):
        e.b.guess(net, num(v))


BLOCKS = {
    "npn": {"bjt": gp_npn, "pdk": kit_npn},
    "tail": {"bjt": ideal_tail, "pdk": mirror_tail},
}
