"""Device blocks the translinear stages are built from: the matched NPN and the tail
current that biases a shared emitter. The ``bjt`` level registers the generic ones (a
Gummel-Poon card, an ideal current source); the ``pdk`` level registers the process
kit's (its NPN with the substrate on the negative rail, a 1:1 NMOS mirror sized by the
kit) in the same table, so no block asks which level or kit it is at."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import GROUND, num
from .base import Emit


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
    blocks."""
    _, sub = e.rails("activation")
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


def mirror_tail(e: Emit, s: TailSpec) -> None:
    """A 1:1 NMOS mirror (the kit's ``tail_mirror`` sizing) of a reference current into
    its diode-connected twin."""
    m = e.kit.tail_mirror
    e.kit.check_size(s.name, m.w, m.l)
    ref = f"{s.name}_ref"
    e.add("isource", f"{s.name}_i", (GROUND, ref), s.amps, role="tail")
    e.add("nmos", f"{s.name}_md", (ref, ref, s.vee, s.vee), e.kit.nmos, m.w, m.l, 1.0,
          role="tail")
    e.add("nmos", s.name, (s.emit, ref, s.vee, s.vee), e.kit.nmos, m.w, m.l, 1.0,
          role="tail")
    e.b.guess(ref, num(e.config.bjt.v_ee + 1.4))


BLOCKS = {
    "npn": {"bjt": gp_npn, "pdk": kit_npn},
    "tail": {"bjt": ideal_tail, "pdk": mirror_tail},
}
