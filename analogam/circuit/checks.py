"""Structural checks on the circuit IR, run before any writer sees it.

On the flattened circuit: unique names, every reference defined, every value finite
and realisable, no floating net, a DC path to ground from every net, no loop of ideal
voltage sources. Each failure is a CircuitError naming the first offending net or
element.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np

from ..errors import CircuitError
from .ir import CAPACITOR_KINDS, GROUND, RESISTOR_KINDS, Circuit, Expr, flatten

LIMIT = 1e30
"""Largest magnitude any emitted value may have: beyond it ngspice's arithmetic, not the
circuit, decides the result."""


def _finite(what: str, val: float) -> None:
    if not (np.isfinite(val) and abs(val) <= LIMIT):
        raise CircuitError(f"{what} is {val:g}, not a finite value a device can realise "
                           "(check the scales --vs/--g0/--t0 and the weights)")


def _check_names(c: Circuit) -> None:
    """Each SPICE name (letter and name) once: ngspice keeps one of two and says
    nothing."""
    names = Counter((e.primitive.letter, e.name) for e in c.elements)
    dup = [f"{k[0]}{k[1]}" for k, n in names.items() if n > 1]
    if dup:
        raise CircuitError(f"duplicate element names: {', '.join(dup[:5])}")


def _check_values(c: Circuit) -> None:
    _check_names(c)
    refs = {"ref:source": {e.name for e in c.elements if e.kind == "vsource"},
            "ref:model": {m.name for m in c.models}}
    has_process = c.process is not None
    for e in c.elements:
        for p, val in zip(e.primitive.params, e.values, strict=True):
            if p.unit in refs:
                if val not in refs[p.unit]:
                    raise CircuitError(f"{e.kind} {e.name!r}: {p.name} {val!r} is not defined")
            elif isinstance(val, Expr):
                for x in val.numbers():
                    _finite(f"{e.kind} {e.name!r}: a constant in its expression", x)
                missing = sorted(val.sources() - refs["ref:source"])
                if missing:
                    raise CircuitError(f"{e.kind} {e.name!r}: its expression reads the current "
                                       f"of {missing[0]!r}, which is not a voltage source")
            elif p.unit == "ref:kit":
                if not has_process:
                    raise CircuitError(f"{e.kind} {e.name!r} is a process-kit device "
                                       f"({val!r}) but the circuit names no process kit")
            elif p.unit != "ref:subckt":
                _finite(f"{e.kind} {e.name!r}: {p.name} ({p.unit})", val)
        if e.kind in RESISTOR_KINDS + CAPACITOR_KINDS and not e.values[0] > 0:
            raise CircuitError(f"{e.kind} {e.name!r}: value {e.values[0]} must be positive")
    for net, v in c.ic:
        _finite(f"initial condition of net {net!r}", v)
    for m in c.meters:
        if m.source not in refs["ref:source"]:
            raise CircuitError(f"meter of {m.role!r} reads source {m.source!r}, which is not a "
                               "voltage source")


def dc_edges(c: Circuit):
    """(net, net, element, is-voltage-branch) for every DC-conducting port pair."""
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


def check_circuit(c: Circuit) -> None:
    """Structural checks on the flattened circuit; raise CircuitError naming the first
    offending net or element."""
    _check_names(c)   # before flattening: a block's instance against a kit device (X both)
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
    # a net set by a voltage source alone (a clamped unit with no cell: a probed
    # terminal) has a defined potential; any other net on one terminal floats
    sourced = {e.nets[0] for e in c.elements if e.kind == "vsource" and e.nets[1] == GROUND}
    floating = sorted(n for n, k in terminals.items() if k < 2 and n != GROUND
                      and n not in controls and n not in sourced)
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
