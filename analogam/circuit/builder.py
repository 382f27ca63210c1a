"""Building a circuit: a mutable accumulator that checks what it built when frozen."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import CircuitError
from .checks import check_circuit
from .ir import (
    PRIMITIVES,
    RESISTOR_KINDS,
    ROLES,
    Circuit,
    Element,
    Expr,
    Limit,
    Meter,
    ModelCard,
    Probe,
    Process,
    SubcktDef,
)

_ROLES = frozenset(ROLES)


@dataclass
class CircuitBuilder:
    """Mutable accumulator; :meth:`freeze` checks and returns a :class:`Circuit`."""

    title: str
    elements: list[Element] = field(default_factory=list)
    models: dict[str, ModelCard] = field(default_factory=dict)
    ic: dict[str, float] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    subckts: dict[str, SubcktDef] = field(default_factory=dict)
    guesses: dict[str, Expr] = field(default_factory=dict)
    limits: list[Limit] = field(default_factory=list)
    meters: list[Meter] = field(default_factory=list)
    process: Process | None = None
    conductance: dict[str, float] = field(default_factory=dict)
    """Per net, the sum of the conductances (S) of the resistors on it so far."""
    lags: dict[str, float] = field(default_factory=dict)
    """Per integrator port, the lag (s) of the amplifiers in its input path."""
    speeds: list = field(default_factory=list)
    """:class:`~.speed.UnitSpeed` per integrating unit, in emission order."""

    def add(self, kind: str, name: str, nets: tuple[str, ...], *values, role: str,
            nominal: float | None = None) -> str:
        """Append an element; ``values`` in the order of the primitive's parameters.
        ``nominal``: a resistor's designed value (ohm) where ``values`` hold a varied
        one (the design counts conductances as designed, never the chip's draw)."""
        prim = PRIMITIVES[kind]
        arity_ok = kind == "instance" or len(nets) == len(prim.ports)
        if not arity_ok or len(values) != len(prim.params):
            raise CircuitError(f"{kind} {name!r}: expected ports {prim.ports} and "
                               f"parameters {[p.name for p in prim.params]}")
        if role not in _ROLES:
            raise CircuitError(f"{kind} {name!r}: unknown role {role!r}; valid: "
                               + ", ".join(ROLES))
        self.elements.append(Element(kind, name, tuple(nets), tuple(values), role))
        if kind in RESISTOR_KINDS:
            g = 1.0 / (values[0] if nominal is None else nominal)
            for net in nets:
                self.conductance[net] = self.conductance.get(net, 0.0) + g
        return name

    def guess(self, net: str, expr: Expr) -> None:
        """Record the voltage ``net`` has when the block works as designed."""
        self.guesses[net] = expr

    def model(self, card: ModelCard) -> str:
        self.models.setdefault(card.name, card)
        return card.name

    def subckt(self, definition: SubcktDef) -> str:
        self.subckts.setdefault(definition.name, definition)
        return definition.name

    def freeze(self) -> Circuit:
        c = Circuit(self.title, tuple(self.elements), tuple(self.models.values()),
                    tuple(self.ic.items()), tuple(self.probes), tuple(self.notes),
                    tuple(self.subckts.values()), tuple(self.guesses.items()),
                    tuple(self.limits), tuple(self.meters), self.process)
        check_circuit(c)
        return c
