"""What every block emitter gets: the emission context of one circuit copy.

A block is a small function ``emit(e: Emit, spec)`` taking the context and a frozen
record of its typed parameters (SI units), and adding elements through ``e.add`` with
their role. Blocks never build names by hand: ``e.names`` does. Values that vary from
part to part are drawn through ``e.var`` keyed by the part's identity on the chip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..builder import CircuitBuilder
from ..config import DeviceConfig, Scales
from ..ir import GROUND, Limit, Meter, num
from ..levels import Level
from ..naming import Names
from ..pdk import ProcessKit
from ..variation import Variation

IDEAL_PASSIVE_ROLES = ("crossbar", "wire", "load", "parasitic")
"""Resistors and capacitors that stay as they are on a kit: the crossbar's cells and
wires (a cell's device model is a separate choice; the wires' values are the kit's
metal), a testbench's loads, and parasitic capacitances."""


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
    device configuration, the seeded variation, the resolved scales, the level (its
    traits) and, at a level with one, the process kit. Blocks find the other blocks
    they build on through :meth:`block` (the level's table), never by testing the
    level or the kit.
    ``line_swing``: the largest line-to-cell voltage over the design range, in model
    units (sizes the sense resistors). ``once`` records circuit-wide parts already
    emitted (supply rails)."""

    b: CircuitBuilder
    names: Names
    config: DeviceConfig
    var: Variation
    scales: Scales
    level: Level
    resolve: Callable[[str, str], object]
    line_swing: float = 1.0
    once: set = field(default_factory=set)
    copy: int = 0
    kit: ProcessKit | None = None

    def block(self, kind: str):
        """The emitter of block ``kind`` at this level (:func:`~..blocks.block`)."""
        return self.resolve(kind, self.level.name)

    def for_copy(self, prefix: str, copy: int = 0) -> Emit:
        """The context of copy ``copy`` (same builder, rails and variation)."""
        return replace(self, names=Names(prefix), copy=copy)

    def limit(self, device: str, quantity: str, expr, lo: float | None = None,
              hi: float | None = None, unit: str = "V") -> None:
        """Record a safe operating condition ``lo <= expr <= hi`` (``unit``) of
        ``device``."""
        self.b.limits.append(Limit(device, quantity, expr, lo, hi, self.copy, unit))

    def add(self, kind: str, name: str, nets: tuple[str, ...], *values, role: str,
            nominal: float | None = None) -> str:
        """Add an element (``values`` in its primitive's order). With a process kit
        that has them, a resistor or capacitor outside the crossbar is the kit's device
        drawn to the value (:meth:`~..pdk.ProcessKit.passive`)."""
        if not self.level.process_kit or role in IDEAL_PASSIVE_ROLES:
            return self.b.add(kind, name, nets, *values, role=role, nominal=nominal)
        made = self.kit.passive(kind, name, nets, values, role)
        for i, x in enumerate(made):
            self.b.add(x.kind, x.name, x.nets, *x.values, role=x.role,
                       nominal=None if i else nominal)
        return made[0].name

    def matched_resistor(self, name: str, nets: tuple[str, str], ohms: float,
                         role: str) -> str:
        """A resistor of a stage defined by resistor ratios (sensing, dividers,
        transimpedance), drawn with the sensing resistors' mismatch (``sense.mismatch``)
        keyed by its identity."""
        return self.add("resistor", name, nets, self.var.sense_resistor(self.key(name), ohms),
                        role=role)

    def key(self, name: str) -> str:
        """The identity of element ``name`` on the chip (its variation key)."""
        return self.names.identity(name)

    @property
    def metered(self) -> bool:
        """At a metered level every block draws from rails of its own, through a sense
        source per copy and role (energy is measured there)."""
        return self.level.metered

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
