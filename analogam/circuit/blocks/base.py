"""What every block emitter gets: the emission context of one circuit copy.

A block is a small function ``emit(e: Emit, spec)`` taking the context and a frozen
record of its typed parameters (SI units), and adding elements through ``e.add`` with
their role. Blocks never build names by hand: ``e.names`` does. Values that vary from
part to part are drawn through ``e.var`` keyed by the part's identity on the chip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..builder import CircuitBuilder
from ..config import DeviceConfig, Scales
from ..ir import GROUND, Limit, Meter, num
from ..levels import lineage
from ..naming import Names
from ..pdk import ProcessKit
from ..variation import Variation


@dataclass(frozen=True)
class Port:
    """Where a neuron integrates its input current: ``node``, and the ``sign`` with
    which a current injected there adds to ``C dV_u/dt`` (an inverting integrator's
    summing node takes currents negated)."""

    node: str
    sign: float


@dataclass
class Emit:
    """Emission context: the builder (shared by all copies), this copy's names, the
    device configuration, the seeded variation, the resolved scales, the level and (at
    the pdk level) the process kit.
    ``line_swing``: the largest line-to-cell voltage over the design range, in model
    units (sizes the sense resistors). ``once`` records circuit-wide parts already
    emitted (supply rails)."""

    b: CircuitBuilder
    names: Names
    config: DeviceConfig
    var: Variation
    scales: Scales
    level: str
    line_swing: float = 1.0
    once: set = field(default_factory=set)
    copy: int = 0
    kit: ProcessKit | None = None

    def for_copy(self, prefix: str, copy: int = 0) -> Emit:
        """The context of copy ``copy`` (same builder, rails and variation)."""
        return replace(self, names=Names(prefix), copy=copy)

    def npn(self, name: str, col: str, base: str, emit: str) -> None:
        """A translinear NPN: the process kit's (substrate on the negative rail) at the pdk
        level, else the Gummel-Poon card of ``bjt`` with its seeded area mismatch."""
        if self.kit is not None:
            _, sub = self.rails("activation")
            self.add("pnpn", name, (col, base, emit, sub), self.kit.npn, 1.0,
                     role="transistor")
            return
        self.b.model(self.config.bjt.card())
        self.add("npn", name, (col, base, emit), self.config.bjt.name,
                 self.var.bjt_area(self.key(name)), role="transistor")

    def tail(self, name: str, emit: str, vee: str, amps: float) -> None:
        """A translinear stage's tail current ``amps`` from ``emit`` into ``vee``: an
        ideal source, or at the pdk level a 1:1 NMOS mirror (W/L 20/4 um) of an ideal
        reference into its diode-connected twin."""
        if self.kit is None:
            self.add("isource", name, (emit, vee), amps, role="tail")
            return
        ref = f"{name}_ref"
        self.add("isource", f"{name}_i", (GROUND, ref), amps, role="tail")
        self.add("pmosfet", f"{name}_md", (ref, ref, vee, vee), self.kit.nmos, 20.0, 4.0,
                 1.0, role="tail")
        self.add("pmosfet", name, (emit, ref, vee, vee), self.kit.nmos, 20.0, 4.0, 1.0,
                 role="tail")
        self.b.guess(ref, num(self.config.bjt.v_ee + 1.4))

    def limit(self, device: str, quantity: str, expr, lo: float | None = None,
              hi: float | None = None) -> None:
        """Record a safe operating condition ``lo <= expr <= hi`` of ``device``."""
        self.b.limits.append(Limit(device, quantity, expr, lo, hi, self.copy))

    def add(self, kind: str, name: str, nets: tuple[str, ...], *values, role: str) -> str:
        return self.b.add(kind, name, nets, *values, role=role)

    def key(self, name: str) -> str:
        """The identity of element ``name`` on the chip (its variation key)."""
        return self.names.identity(name)

    @property
    def metered(self) -> bool:
        """From the opamp level up every block draws from rails of its own, through a
        sense source per copy and role (energy is measured there)."""
        return "opamp" in lineage(self.level)

    def rails(self, role: str, kit: str = "bjt") -> tuple[str, str]:
        """The positive and negative supply nets for ``role`` of this copy
        (:meth:`rail`)."""
        return self.rail(role, 0, kit), self.rail(role, 1, kit)

    def rail(self, role: str, side: int, kit: str = "bjt") -> str:
        """The supply net on ``side`` (0 positive, 1 negative) for ``role`` of this copy:
        the BJT kit's ``vcc``/``vee`` or the op-amps' ``vdd``/``vss``, each supply
        emitted once per circuit. Where the level is :attr:`metered`, each copy's role
        gets rail nets of its own, joined to the supply by a zero-volt source whose
        current is the role's supply current."""
        if kit == "bjt":
            net = ("vcc", "vee")[side]
            volts = (self.config.bjt.v_cc, self.config.bjt.v_ee)[side]
        else:
            net = ("vdd", "vss")[side]
            volts = self.config.opamp.supplies[side]
        if net not in self.once:
            self.b.add("vsource", net[1:], (net, GROUND), volts, role="supply")
            self.b.guess(net, num(volts))
            if self.metered:
                self.b.meters.append(Meter(net[1:], "supply", -1, volts, -1.0))
            self.once.add(net)
        if not self.metered:
            return net
        local = self.names.net(net, role)
        if local not in self.once:
            src = self.names.elem("sup", role, net)
            self.b.add("vsource", src, (net, local), 0.0, role="supply")
            self.b.meters.append(Meter(src, role, self.copy, volts))
            self.b.guess(local, num(volts))
            self.once.add(local)
        return local


@dataclass(frozen=True)
class UnitSpec:
    """A part of unit ``index`` of ``group``."""

    group: str
    index: int
