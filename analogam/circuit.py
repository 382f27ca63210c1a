"""The circuit IR: nets and elements as immutable records, no SPICE text.

An :class:`Element` has a primitive ``kind`` (see :data:`PRIMITIVES`: the SPICE prefix
letter, named ports and parameters with SI units live there, as data), a name unique
within its kind, the nets on its ports, and parameter values in SI units. Behavioural
sources carry an expression tree (:class:`Expr`) that each netlist dialect formats.

:func:`check_circuit` runs the structural checks before any writer sees the IR: no
floating net, a DC path to ground from every net, no loop of ideal voltage sources, and
every value finite and realisable. A :class:`Circuit` is built through
:class:`CircuitBuilder` and validated when frozen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from .errors import CircuitError

GROUND = "0"


@dataclass(frozen=True)
class Primitive:
    """A device type: SPICE prefix letter, port names, parameters (name, unit), and
    which port pairs conduct at DC (for the DC-path check) or are voltage-defined
    branches (for the voltage-source-loop check)."""

    letter: str
    ports: tuple[str, ...]
    params: tuple[tuple[str, str], ...]
    dc_paths: tuple[tuple[str, str], ...] = ()
    voltage_branch: bool = False
    category: str = "other"


PRIMITIVES: dict[str, Primitive] = {
    "resistor": Primitive("R", ("p", "n"), (("r", "ohm"),), (("p", "n"),),
                          category="resistors"),
    "capacitor": Primitive("C", ("p", "n"), (("c", "F"),), category="capacitors"),
    "vsource": Primitive("V", ("p", "n"), (("dc", "V"),), (("p", "n"),), True, "sources"),
    "isource": Primitive("I", ("p", "n"), (("dc", "A"),), category="sources"),
    "vcvs": Primitive("E", ("p", "n", "cp", "cn"), (("gain", "V/V"),), (("p", "n"),), True,
                      "controlled sources"),
    "vccs": Primitive("G", ("p", "n", "cp", "cn"), (("gm", "S"),),
                      category="controlled sources"),
    "cccs": Primitive("F", ("p", "n"), (("sense", "-"), ("gain", "A/A")),
                      category="controlled sources"),
    "ccvs": Primitive("H", ("p", "n"), (("sense", "-"), ("r", "ohm")), (("p", "n"),), True,
                      "controlled sources"),
    "bvoltage": Primitive("B", ("p", "n"), (("expr", "V"),), (("p", "n"),), True,
                          "behavioural sources"),
    "npn": Primitive("Q", ("c", "b", "e"), (("model", "-"), ("area", "1")),
                     (("c", "e"), ("b", "e")), category="transistors"),
    "diode": Primitive("D", ("p", "n"), (("model", "-"),), (("p", "n"),), category="diodes"),
    # ports come from the subcircuit definition; checks run on the flattened circuit
    "instance": Primitive("X", (), (("subckt", "-"),), category="subcircuits"),
}


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Expr:
    """Dialect-neutral behavioural expression.

    op: 'num' (args=(value,)), 'v' (args=(net,): node voltage), 'temp' (circuit
    temperature in kelvin), 'add' (any number of terms), 'mul' / 'div' (two), or a
    function 'exp', 'tanh', 'max', 'min' (operands)."""

    op: str
    args: tuple

    def nets(self) -> set[str]:
        if self.op == "v":
            return {self.args[0]}
        return set().union(*(a.nets() for a in self.args if isinstance(a, Expr)))

    def rename(self, mapping: dict[str, str]) -> Expr:
        """The same expression with nets renamed (nets not in ``mapping`` unchanged)."""
        if self.op == "v":
            return Expr("v", (mapping.get(self.args[0], self.args[0]),))
        return Expr(self.op, tuple(a.rename(mapping) if isinstance(a, Expr) else a
                                   for a in self.args))


def num(x: float) -> Expr:
    return Expr("num", (float(x),))


def volt(net: str) -> Expr:
    return Expr("v", (net,))


def call(fn: str, *args: Expr) -> Expr:
    return Expr(fn, tuple(args))


def add(*terms: Expr) -> Expr:
    """n-ary sum (flat, so a 1000-term softmax denominator is one level deep)."""
    return terms[0] if len(terms) == 1 else Expr("add", tuple(terms))


def temperature() -> Expr:
    """The circuit temperature in kelvin."""
    return Expr("temp", ())


def mul(a: Expr, b: Expr) -> Expr:
    return Expr("mul", (a, b))


def div(a: Expr, b: Expr) -> Expr:
    return Expr("div", (a, b))


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Element:
    kind: str
    name: str
    nets: tuple[str, ...]
    values: tuple

    @property
    def primitive(self) -> Primitive:
        return PRIMITIVES[self.kind]


@dataclass(frozen=True)
class ModelCard:
    """A device model (``.model NAME TYPE (params)``): swappable like a process kit."""

    name: str
    type: str
    params: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class SubcktDef:
    """A library block (``.subckt``): ports, elements on port and internal nets, and
    the category it counts as (e.g. amplifiers). Net ``0`` inside is global ground."""

    name: str
    ports: tuple[str, ...]
    elements: tuple[Element, ...]
    category: str
    doc: str = ""


@dataclass(frozen=True)
class Transient:
    """Transient analysis: print step, stop time and maximum internal step (seconds),
    and the simulator options that set its accuracy."""

    tstep: float
    tstop: float
    tmax: float
    options: tuple[tuple[str, float | str], ...]


@dataclass(frozen=True)
class Probe:
    """Where one model unit lives: the net whose voltage is ``Vs * u`` for copy
    ``copy`` (batch element) and flat unit index ``unit``."""

    net: str
    copy: int
    unit: int


@dataclass(frozen=True)
class Circuit:
    title: str
    elements: tuple[Element, ...]
    models: tuple[ModelCard, ...]
    ic: tuple[tuple[str, float], ...]
    tran: Transient
    probes: tuple[Probe, ...]
    temperature_c: float = 27.0
    notes: tuple[str, ...] = ()
    subckts: tuple[SubcktDef, ...] = ()

    def counts(self) -> dict[str, int]:
        """Element counts per category (resistors, capacitors, transistors, amplifiers,
        sources, ...); a subcircuit instance counts once, as its block's category."""
        cat = {d.name: d.category for d in self.subckts}
        return dict(sorted(Counter(
            cat.get(e.values[0], "subcircuits") if e.kind == "instance"
            else e.primitive.category for e in self.elements).items()))


@dataclass
class CircuitBuilder:
    """Mutable accumulator; :meth:`freeze` validates and returns a :class:`Circuit`."""

    title: str
    elements: list[Element] = field(default_factory=list)
    models: dict[str, ModelCard] = field(default_factory=dict)
    ic: dict[str, float] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    subckts: dict[str, SubcktDef] = field(default_factory=dict)

    def add(self, kind: str, name: str, nets: tuple[str, ...], *values) -> str:
        prim = PRIMITIVES[kind]
        arity_ok = kind == "instance" or len(nets) == len(prim.ports)
        if not arity_ok or len(values) != len(prim.params):
            raise CircuitError(f"{kind} {name!r}: expected ports {prim.ports} and "
                               f"parameters {[p for p, _ in prim.params]}")
        self.elements.append(Element(kind, name, tuple(nets), tuple(values)))
        return name

    def model(self, card: ModelCard) -> str:
        self.models.setdefault(card.name, card)
        return card.name

    def subckt(self, definition: SubcktDef) -> str:
        self.subckts.setdefault(definition.name, definition)
        return definition.name

    def freeze(self, tran: Transient, temperature_c: float = 27.0) -> Circuit:
        c = Circuit(self.title, tuple(self.elements), tuple(self.models.values()),
                    tuple(self.ic.items()), tran, tuple(self.probes), temperature_c,
                    tuple(self.notes), tuple(self.subckts.values()))
        check_circuit(c)
        return c


# --------------------------------------------------------------------------- checks


def _check_values(c: Circuit) -> None:
    names = Counter((e.primitive.letter, e.name) for e in c.elements)
    dup = [f"{k[0]}{k[1]}" for k, n in names.items() if n > 1]
    if dup:
        raise CircuitError(f"duplicate element names: {', '.join(dup[:5])}")
    vsources = {e.name for e in c.elements if e.kind == "vsource"}
    models = {m.name for m in c.models}
    for e in c.elements:
        for (pname, unit), val in zip(e.primitive.params, e.values, strict=True):
            if unit == "-":
                ok = val in (vsources if pname == "sense" else models)
                if not ok:
                    raise CircuitError(f"{e.kind} {e.name!r}: {pname} {val!r} is not defined")
            elif isinstance(val, Expr):
                continue
            elif not np.isfinite(val):
                raise CircuitError(f"{e.kind} {e.name!r}: {pname} is {val} {unit}")
        if e.kind in ("resistor", "capacitor") and not e.values[0] > 0:
            raise CircuitError(f"{e.kind} {e.name!r}: value {e.values[0]} must be positive")
    for net, v in c.ic:
        if not np.isfinite(v):
            raise CircuitError(f"initial condition of net {net!r} is {v}")
    t = c.tran
    if not (0 < t.tmax <= t.tstop and 0 < t.tstep <= t.tstop):
        raise CircuitError(f"transient steps out of range: {t}")


def dc_edges(c: Circuit):
    """(net, net, element label, is-voltage-branch) for every DC-conducting port pair."""
    for e in c.elements:
        prim = e.primitive
        ports = dict(zip(prim.ports, e.nets, strict=True))
        for a, b in prim.dc_paths:
            yield ports[a], ports[b], e, prim.voltage_branch


def circuit_graph(c: Circuit) -> nx.Graph:
    """Nets as nodes, an edge wherever some element conducts at DC between two nets."""
    g = nx.Graph()
    g.add_node(GROUND)
    g.add_nodes_from(n for e in c.elements for n in e.nets)
    g.add_edges_from((a, b) for a, b, _, _ in dc_edges(c))
    return g


def flatten(c: Circuit) -> Circuit:
    """The circuit with every subcircuit instance expanded in place: internal nets and
    element names prefixed ``{instance}_``, port nets mapped to the instance's nets."""
    defs = {d.name: d for d in c.subckts}
    if not any(e.kind == "instance" for e in c.elements):
        return c
    out = []
    for e in c.elements:
        if e.kind != "instance":
            out.append(e)
            continue
        d = defs.get(e.values[0])
        if d is None:
            raise CircuitError(f"instance {e.name!r} names undefined subcircuit {e.values[0]!r}")
        if len(d.ports) != len(e.nets):
            raise CircuitError(f"instance {e.name!r} has {len(e.nets)} nets; subcircuit "
                               f"{d.name!r} has ports {d.ports}")
        net_map = dict(zip(d.ports, e.nets, strict=True))
        for inner in d.elements:
            for n in inner.nets:
                if n not in net_map and n != GROUND:
                    net_map[n] = f"{e.name}_{n}"
        for inner in d.elements:
            vals = tuple(v.rename(net_map) if isinstance(v, Expr) else
                         f"{e.name}_{v}" if pn == "sense" else v
                         for (pn, _), v in zip(inner.primitive.params, inner.values, strict=True))
            out.append(Element(inner.kind, f"{e.name}_{inner.name}",
                               tuple(net_map.get(n, n) for n in inner.nets), vals))
    return Circuit(c.title, tuple(out), c.models, c.ic, c.tran, c.probes, c.temperature_c,
                   c.notes, ())


def check_circuit(c: Circuit) -> None:
    """Structural checks on the flattened circuit; raise CircuitError naming the first
    offending net or element."""
    c = flatten(c)
    _check_values(c)
    terminals = Counter(n for e in c.elements for n in e.nets)
    controls = set()
    for e in c.elements:
        for v in e.values:
            if isinstance(v, Expr):
                controls |= v.nets()
    undefined = sorted(controls - set(terminals) - {GROUND})
    if undefined:
        raise CircuitError(f"behavioural expression reads undefined net {undefined[0]!r}")
    floating = sorted(n for n, k in terminals.items() if k < 2 and n != GROUND
                      and n not in controls)
    if floating:
        raise CircuitError(f"floating net {floating[0]!r} (connected to one terminal only)"
                           + (f" and {len(floating) - 1} more" if len(floating) > 1 else ""))
    reach = nx.node_connected_component(circuit_graph(c), GROUND)
    nodc = sorted(set(terminals) - reach)
    if nodc:
        raise CircuitError(f"net {nodc[0]!r} has no DC path to ground"
                           + (f" ({len(nodc)} nets in all)" if len(nodc) > 1 else ""))
    # union-find keeps the loop check linear in the number of sources
    joined = nx.utils.UnionFind()
    for a, b, e, vbranch in dc_edges(c):
        if not vbranch:
            continue
        if joined[a] == joined[b]:
            raise CircuitError(f"loop of ideal voltage sources closed by "
                               f"{e.primitive.letter}{e.name} between nets {a!r} and {b!r}")
        joined.union(a, b)
