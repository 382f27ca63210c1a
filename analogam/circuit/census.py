"""The idealisation census: which elements of a circuit are ideal, and what they do.

A reviewer's first question about a transistor-level netlist is what is *not* made
of the kit's devices. Every element of the flattened circuit (an element inside a
library block takes the role of the instance that placed it) falls in one class:

- ``signal``: an ideal element on the signal path: a controlled source (E, F, G, H),
  a behavioural source (B), an ideal current source, or a non-zero voltage source
  that is neither a supply nor an input. These are what a chip cannot build as
  drawn; at a level meant to be signed off there should be none.
- ``passive``: an ideal resistor or capacitor outside the crossbar (the crossbar's
  cells and wires are resistors by design: the memory device is not the kit's).
- ``allowed``: ideal elements a testbench keeps: supplies, the input drive (the
  clamps), and zero-volt sources (meters and shorts: a wire with an ammeter).
- ``model``: a nonideality drawn into the circuit (noise sources, input offsets, a
  device's parasitic capacitance): physics the circuit has, not a part it lacks.
- ``device``: a transistor or diode (the kit's, or a generic model card's), or the
  kit's MIM capacitor (its subcircuit) or poly resistor (a linear model with the
  drawn value, temperature coefficients and substrate capacitance of the kit's).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .ir import MOS_KINDS, NPN_KINDS, PRIMITIVES, Circuit, Element

CLASSES = ("signal", "passive", "allowed", "model", "device")
_ALLOWED_ROLES = {"supply": "supply", "clamp": "input drive", "reset": "reset"}
_MODEL_ROLES = ("noise", "offset", "parasitic")
KIT_PASSIVES = {"poly_resistor": "poly R (linear model)", "kit_capacitor": "MIM C"}
_CROSSBAR_ROLES = ("crossbar", "wire")


def classify(e: Element) -> tuple[str, str]:
    """The census class of one element and what it is counted as (its role, or for an
    allowed source what it stands for)."""
    if e.kind in MOS_KINDS or e.kind in NPN_KINDS or e.kind == "diode":
        return "device", e.role
    if e.role in _MODEL_ROLES or e.kind.startswith("noise_"):
        return "model", e.role
    if e.kind in KIT_PASSIVES:
        return "device", e.role
    if e.kind in ("resistor", "capacitor"):
        return ("device" if e.role in _CROSSBAR_ROLES else "passive"), e.role
    if e.role in _ALLOWED_ROLES:
        return "allowed", _ALLOWED_ROLES[e.role]
    if e.kind == "vsource" and float(e.value) == 0.0:
        return "allowed", "meter"
    return "signal", e.role


def _elements(c: Circuit) -> list[Element]:
    """Every element with library blocks expanded; an element inside a block takes the
    role of the instance that placed it (an op-amp's inner sources count as
    'amplifier', not 'internal')."""
    defs = {d.name: d for d in c.subckts}
    out = []
    for e in c.elements:
        if e.kind != "instance":
            out.append(e)
            continue
        for inner in defs[e.values[0]].elements:
            out.append(Element(inner.kind, inner.name, inner.nets, inner.values,
                               e.role if inner.role == "internal" else inner.role))
    return out


@dataclass(frozen=True)
class Census:
    """Counts per class, SPICE letter and role: ``counts[cls][(letter, role)]``."""

    counts: dict[str, dict[tuple[str, str], int]]
    kit_passives: dict[str, int] = field(default_factory=dict)
    """The kit's resistors and capacitors by what they are (:data:`KIT_PASSIVES`)."""

    def total(self, cls: str) -> int:
        return sum(self.counts.get(cls, {}).values())

    @property
    def signal_path(self) -> dict[tuple[str, str], int]:
        """The ideal elements on the signal path (empty: none)."""
        return self.counts.get("signal", {})

    def to_dict(self) -> dict:
        """JSON form: class -> 'LETTER role' -> count."""
        out = {cls: {f"{k[0]} {k[1]}": n for k, n in sorted(self.counts.get(cls, {}).items())}
               for cls in CLASSES}
        return out | {"kit_passives": dict(sorted(self.kit_passives.items()))}

    def describe(self) -> str:
        """One line: the signal path's ideal elements first (what a reviewer objects
        to), then the ideal passives and what a testbench keeps."""
        def items(cls: str) -> str:
            return ", ".join(f"{n} {k[0]} ({k[1]})"
                             for k, n in sorted(self.counts.get(cls, {}).items()))
        sig = (f"{self.total('signal')} ideal elements on the signal path: {items('signal')}"
               if self.signal_path else "no ideal element on the signal path")
        kit = ", ".join(f"{n} {k}" for k, n in sorted(self.kit_passives.items()))
        return (f"idealisation: {sig}; ideal R/C outside the crossbar: "
                f"{items('passive') or 'none'}{f' (kit passives: {kit})' if kit else ''}; "
                f"kept as testbench: {items('allowed')}")


def census(c: Circuit) -> Census:
    """Classify every element of ``c`` (see the module docstring)."""
    tally: dict[str, Counter] = {cls: Counter() for cls in CLASSES}
    kit: Counter = Counter()
    for e in _elements(c):
        cls, what = classify(e)
        tally[cls][(PRIMITIVES[e.kind].letter, what)] += 1
        if e.kind in KIT_PASSIVES:
            kit[KIT_PASSIVES[e.kind]] += 1
    return Census({cls: dict(t) for cls, t in tally.items() if t}, dict(kit))
