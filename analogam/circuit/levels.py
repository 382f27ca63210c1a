"""Fidelity levels, each a superset of the one before (DESIGN.md section 4). A level
names its parent; a block it does not register itself comes from the parent."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CircuitError, lookup


@dataclass(frozen=True)
class Level:
    """``tolerance``: the largest state error against the ODE (model units) a circuit
    of this level is expected to stay within on the shipped examples (the bound the
    generated tests hold every activation to)."""

    name: str
    parent: str | None
    description: str
    tolerance: float


LEVELS: dict[str, Level] = {lv.name: lv for lv in (
    Level("ideal", None, "crossbar resistors; controlled sources and behavioural "
          "activations; must match the ODE to solver tolerance", 1e-3),
    Level("bjt", "ideal", "+ softmax and tanh from matched NPNs on tail currents "
          "(Gummel-Poon card)", 2e-2),
    Level("opamp", "bjt", "+ integrators, line drivers and ReLU rectifiers on an "
          "op-amp macromodel with finite gain, bandwidth and swing", 2e-2),
    Level("pdk", "opamp", "+ every amplifier a transistor-level two-stage Miller op-amp and "
          "every translinear transistor the NPN of a process kit (by name, at a corner), on "
          "the kit's supply; crossbar conductances stay ideal resistors", 5e-2),
)}


def get_level(name: str) -> Level:
    """Look a level up by name; a wrong name lists the valid ones."""
    return lookup(LEVELS, name, "level", CircuitError)


def lineage(name: str) -> list[str]:
    """The level and its ancestors, nearest first: where a block is looked up."""
    out = []
    lv: str | None = name
    while lv is not None:
        out.append(lv)
        lv = get_level(lv).parent
    return out
