"""The circuit IR: nets and elements as immutable records, no SPICE text.

An :class:`Element` has a primitive ``kind`` (see :data:`PRIMITIVES`: the SPICE prefix
letter, named ports and named parameters with SI units live there, as data), a name
unique within its kind, the nets on its ports, its parameter values (SI units, read by
name with :meth:`Element.param`), and a *role* (what the element does in the circuit:
crossbar, leak, bias, tail, supply, sense, ...; see :data:`ROLES`). Analysis code finds
parts by role, never by name. Behavioural sources carry an expression tree
(:class:`Expr`) that each netlist dialect formats.

The IR holds no analysis settings: transient and operating-point cards are records of
:mod:`analogam.netlist.analysis` handed to the writer with the circuit. A
:class:`Circuit` is built through :class:`~analogam.circuit.builder.CircuitBuilder`
and checked (:mod:`analogam.circuit.checks`) when frozen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from ..errors import CircuitError

GROUND = "0"

ROLES = (
    "activation",      # behavioural activation source (ideal level)
    "amplifier",       # an op-amp instance
    "attenuator",      # base drive of a translinear stage
    "bias",            # bias current of a neuron
    "buffer",          # unity-gain buffer (identity activation)
    "clamp",           # source holding a clamped input unit
    "copy",            # current copy from a line into an integrator
    "crossbar",        # one weight: a conductance between two lines
    "inverter",        # the inverted copy of a line (negative weights)
    "integrator",      # the integrating capacitor of a neuron
    "leak",            # the leak conductance of a neuron
    "load",            # a load resistor
    "noise",           # a noise source (thermal noise of a resistor, an amplifier's input)
    "offset",          # an amplifier's input offset voltage
    "parasitic",       # a device's parasitic capacitance (a kit resistor's to substrate)
    "rectifier",       # the diode of a precision rectifier
    "reset",           # a switch closed during the reset (a calibration's integrator short)
    "self",            # self-compensation of a line's own term
    "sense",           # zero-volt source sensing a branch current
    "supply",          # a supply rail
    "tail",            # tail current of a translinear stage
    "transimpedance",  # current-to-voltage stage of a translinear read-out
    "transistor",      # a bipolar transistor
    "wire",            # a wire segment of a crossbar line
    "internal",        # inside a library block
)


@dataclass(frozen=True)
class Param:
    """One parameter of a primitive: ``name``, ``unit`` (an SI unit, ``"expr"`` for a
    behavioural expression, or ``"ref:source"``/``"ref:model"``/``"ref:subckt"`` for a
    reference to another object), the text before the value on a card (``"DC "``,
    ``"V="``) and a ``default`` whose value is left off the card; ``written`` False: a
    value the IR keeps (a kit passive's designed ohms or farads) but the card does not
    carry (the kit's device takes its drawn size)."""

    name: str
    unit: str
    prefix: str = ""
    default: float | None = None
    written: bool = True


@dataclass(frozen=True)
class Primitive:
    """A device type: SPICE prefix letter, port names, parameters, which port pairs
    conduct at DC (for the DC-path check) and whether it is a voltage-defined branch
    (for the voltage-source-loop check), and the category it counts as."""

    letter: str
    ports: tuple[str, ...]
    params: tuple[Param, ...]
    dc_paths: tuple[tuple[str, str], ...] = ()
    voltage_branch: bool = False
    category: str = "other"


MOS_KINDS = ("nmos", "pmos")
NPN_KINDS = ("npn", "kit_npn")
RESISTOR_KINDS = ("resistor", "poly_resistor")
CAPACITOR_KINDS = ("capacitor", "kit_capacitor")
"""An ideal element and a process kit's device (its poly resistor's linear model, its
MIM capacitor drawn to size); the first value of each is the designed ohms or
farads."""

PRIMITIVES: dict[str, Primitive] = {
    "resistor": Primitive("R", ("p", "n"), (Param("r", "ohm"),), (("p", "n"),),
                          category="resistors"),
    "capacitor": Primitive("C", ("p", "n"), (Param("c", "F"),), category="capacitors"),
    "vsource": Primitive("V", ("p", "n"), (Param("dc", "V", "DC "),), (("p", "n"),), True,
                         "sources"),
    "acsource": Primitive("V", ("p", "n"), (Param("dc", "V", "DC "), Param("ac", "V", "AC ")),
                          (("p", "n"),), True, "sources"),
    "isource": Primitive("I", ("p", "n"), (Param("dc", "A", "DC "),), category="sources"),
    # noise: piecewise-linear waveforms (time s, value) drawn by analogam, so a seed
    # gives the same netlist (ngspice's own TRNOISE draws differ from run to run)
    "noise_current": Primitive("I", ("p", "n"), (Param("pwl", "pwl"),),
                               category="noise sources"),
    "noise_voltage": Primitive("V", ("p", "n"), (Param("pwl", "pwl"),), (("p", "n"),), True,
                               "noise sources"),
    "vcvs": Primitive("E", ("p", "n", "cp", "cn"), (Param("gain", "V/V"),), (("p", "n"),),
                      True, "controlled sources"),
    "vccs": Primitive("G", ("p", "n", "cp", "cn"), (Param("gm", "S"),),
                      category="controlled sources"),
    "cccs": Primitive("F", ("p", "n"), (Param("sense", "ref:source"),
                                        Param("gain", "A/A")),
                      category="controlled sources"),
    "ccvs": Primitive("H", ("p", "n"), (Param("sense", "ref:source"), Param("r", "ohm")),
                      (("p", "n"),), True, "controlled sources"),
    "bvoltage": Primitive("B", ("p", "n"), (Param("expr", "expr", "V="),), (("p", "n"),), True,
                          "behavioural sources"),
    "bcurrent": Primitive("B", ("p", "n"), (Param("expr", "expr", "I="),),
                          category="behavioural sources"),
    "npn": Primitive("Q", ("c", "b", "e"), (Param("model", "ref:model"),
                                            Param("area", "1", default=1.0)),
                     (("c", "e"), ("b", "e")), category="transistors"),
    "diode": Primitive("D", ("p", "n"), (Param("model", "ref:model"),), (("p", "n"),),
                       category="diodes"),
    # a process kit's devices (subcircuits its model files define; the device name is
    # the first value): drawn width and length in the kit's units (um), multiplicity
    **{kind: Primitive("X", ("d", "g", "s", "b"), (
        Param("device", "ref:kit"), Param("w", "um", "w="), Param("l", "um", "l="),
        Param("m", "1", "mult=", default=1.0)), (("d", "s"),), category="transistors")
       for kind in MOS_KINDS},
    "kit_npn": Primitive("X", ("c", "b", "e", "s"), (
        Param("device", "ref:kit"), Param("m", "1", "mult=", default=1.0)),
        (("c", "e"), ("b", "e")), category="transistors"),
    # a kit's poly resistor as a linear resistor with its temperature coefficients
    # (R(T) = R (1 + tc1 dT + tc2 dT^2), dT from the nominal temperature)
    "poly_resistor": Primitive("R", ("p", "n"), (
        Param("r", "ohm"), Param("tc1", "1/K", "tc1="), Param("tc2", "1/K^2", "tc2=")),
        (("p", "n"),), category="resistors"),
    # a kit's MIM capacitor drawn to the designed value (the kit's subcircuit)
    "kit_capacitor": Primitive("X", ("p", "n"), (
        Param("c", "F", written=False), Param("device", "ref:kit"), Param("w", "um", "w="),
        Param("l", "um", "l=")), category="capacitors"),
    # ports come from the subcircuit definition; checks run on the flattened circuit
    "instance": Primitive("X", (), (Param("subckt", "ref:subckt"),), category="subcircuits"),
}


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Expr:
    """Dialect-neutral behavioural expression.

    op: 'num' (args=(value,)), 'v' (args=(net,): node voltage), 'i' (args=(source,):
    branch current of a voltage source), 'temp' (circuit
    temperature in kelvin), 'add' (any number of terms), 'mul' / 'div' (two), or a
    function 'exp', 'ln', 'tanh', 'max', 'min' (operands); 'step' (1 where the operand is
    positive, else 0) and 'log' exist only in voltage predictions, never written."""

    op: str
    args: tuple

    def nets(self) -> set[str]:
        if self.op == "v":
            return {self.args[0]}
        return set().union(*(a.nets() for a in self.args if isinstance(a, Expr)))

    def sources(self) -> set[str]:
        """The voltage sources whose branch currents the expression reads (``i``)."""
        if self.op == "i":
            return {self.args[0]}
        return set().union(*(a.sources() for a in self.args if isinstance(a, Expr)))

    def numbers(self) -> list[float]:
        """Every numeric constant in the expression."""
        if self.op == "num":
            return [self.args[0]]
        return [x for a in self.args if isinstance(a, Expr) for x in a.numbers()]

    def rename(self, mapping: dict[str, str], sources: dict[str, str] | None = None
               ) -> Expr:
        """The same expression with nets (and branch-current sources) renamed."""
        if self.op == "v":
            return Expr("v", (mapping.get(self.args[0], self.args[0]),))
        if self.op == "i":
            return Expr("i", ((sources or {}).get(self.args[0], self.args[0]),))
        return Expr(self.op, tuple(a.rename(mapping, sources) if isinstance(a, Expr) else a
                                   for a in self.args))


def num(x: float) -> Expr:
    return Expr("num", (float(x),))


def volt(net: str) -> Expr:
    return Expr("v", (net,))


def current(source: str) -> Expr:
    """The branch current of voltage source ``source`` (A, from its + node through it)."""
    return Expr("i", (source,))


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


def scale(k: float, a: Expr) -> Expr:
    """``k * a``."""
    return Expr("mul", (num(k), a))


def step(a: Expr) -> Expr:
    """1 where ``a`` > 0, else 0 (predictions only)."""
    return Expr("step", (a,))


def div(a: Expr, b: Expr) -> Expr:
    return Expr("div", (a, b))


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Element:
    """One element: ``values`` follow the primitive's parameters in order; read them by
    name with :meth:`param`. ``role`` is one of :data:`ROLES`."""

    kind: str
    name: str
    nets: tuple[str, ...]
    values: tuple
    role: str = "internal"

    @property
    def primitive(self) -> Primitive:
        return PRIMITIVES[self.kind]

    def param(self, name: str):
        for p, v in zip(self.primitive.params, self.values, strict=True):
            if p.name == name:
                return v
        raise CircuitError(f"{self.kind} {self.name!r} has no parameter {name!r}")

    @property
    def value(self) -> float:
        """The first (main) parameter: R, C, DC value, gain."""
        return self.values[0]


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
class Probe:
    """Where one model unit lives: the net whose voltage is ``Vs * u`` for copy
    ``copy`` (batch element) and flat unit index ``unit``."""

    net: str
    copy: int
    unit: int


@dataclass(frozen=True)
class Limit:
    """A device's safe operating condition: ``lo <= expr <= hi`` (in ``unit``: volts, or
    amperes for an output current; either bound may be None) for ``quantity`` of
    ``device`` on copy ``copy`` of the circuit (e.g. a transistor's V_BC below the
    forward-active margin, an amplifier's output inside its swing or its current)."""

    device: str
    quantity: str
    expr: Expr
    lo: float | None
    hi: float | None
    copy: int = 0
    unit: str = "V"


@dataclass(frozen=True)
class Meter:
    """A voltage source whose branch current measures power: ``P = volts * sign *
    i(source)`` (W) delivered to ``role`` of copy ``copy`` (``copy`` -1: the supply
    itself, shared by every copy). A supply's sense source sits between the rail and
    the rail net of one block role (``sign`` +1); an input's clamp delivers ``-i``."""

    source: str
    role: str
    copy: int
    volts: float
    sign: float = 1.0


@dataclass(frozen=True)
class Process:
    """What a circuit on a process kit needs before its elements: the kit's model
    files (absolute paths), its parameters and its geometry scale (m per drawn unit);
    ``seed``, where the kit's own statistics are switched on, seeds the simulator's
    draws of them (ngspice draws every device instance's mismatch from it, in netlist
    order: the same seed and the same elements give the same chip)."""

    kit: str
    corner: str
    includes: tuple[str, ...]
    params: tuple[tuple[str, float], ...]
    scale: float
    seed: int | None = None


@dataclass(frozen=True)
class Circuit:
    """A checked circuit: elements in emission order, model cards, library blocks,
    initial conditions (net, volts), probes, free-text notes, and each block's
    prediction of its nets' voltages (``guesses``: net -> Expr over other nets, exact
    where the block works as designed), from which the initial operating point is
    guessed and the operating-point checks predict node voltages; the sources whose
    currents measure the energy drawn (``meters``); the process kit it is built on."""

    title: str
    elements: tuple[Element, ...]
    models: tuple[ModelCard, ...]
    ic: tuple[tuple[str, float], ...]
    probes: tuple[Probe, ...]
    notes: tuple[str, ...] = ()
    subckts: tuple[SubcktDef, ...] = ()
    guesses: tuple[tuple[str, Expr], ...] = ()
    limits: tuple[Limit, ...] = ()
    meters: tuple[Meter, ...] = ()
    process: Process | None = None

    def counts(self) -> dict[str, int]:
        """Element counts per category (resistors, capacitors, transistors, amplifiers,
        sources, ...); a subcircuit instance counts once, as its block's category."""
        cat = {d.name: d.category for d in self.subckts}
        return dict(sorted(Counter(
            cat.get(e.values[0], "subcircuits") if e.kind == "instance"
            else e.primitive.category for e in self.elements).items()))

    def silicon(self) -> dict[str, float]:
        """What a designer tallies, over the flattened circuit: transistors (MOS count and
        drawn area sum W x L x mult in um^2, NPN count), total resistance (ohm) of the
        crossbar and of everything else, total capacitance (F)."""
        flat = flatten(self)
        mos = [e for e in flat.elements if e.kind in MOS_KINDS]
        res = [e for e in flat.elements if e.kind in RESISTOR_KINDS]
        return {
            "mos": len(mos),
            "mos_area_um2": float(sum(e.values[1] * e.values[2] * e.values[3] for e in mos)),
            "npn": sum(e.kind in NPN_KINDS for e in flat.elements),
            "crossbar_ohm": float(sum(e.value for e in res if e.role == "crossbar")),
            "other_resistance_ohm": float(sum(e.value for e in res if e.role != "crossbar")),
            "capacitance_f": float(sum(e.value for e in flat.elements
                                       if e.kind in CAPACITOR_KINDS)),
        }

    def by_role(self, *roles: str) -> list[Element]:
        """The elements playing any of ``roles``, in emission order."""
        return [e for e in self.elements if e.role in roles]


def flatten(c: Circuit) -> Circuit:
    """The circuit with every subcircuit instance expanded in place: internal nets and
    element names prefixed ``{instance}_``, port nets mapped to the instance's nets.
    Expanded elements keep their role inside the block (``internal`` by default)."""
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
        src_map = {inner.name: f"{e.name}_{inner.name}" for inner in d.elements}
        for inner in d.elements:
            vals = tuple(v.rename(net_map, src_map) if isinstance(v, Expr) else
                         f"{e.name}_{v}" if p.unit == "ref:source" else v
                         for p, v in zip(inner.primitive.params, inner.values, strict=True))
            out.append(Element(inner.kind, f"{e.name}_{inner.name}",
                               tuple(net_map.get(n, n) for n in inner.nets), vals, inner.role))
    return replace(c, elements=tuple(out), subckts=())
