"""The circuit held at a state, for its linearisation (docs/design.md section 9), and the
circuit nudged toward a target, for equilibrium propagation run by the circuit itself.

Every integrating capacitor is replaced by a voltage source that holds its voltage at
the copy's state, in series with a zero-volt source whose current is what the
capacitor would have integrated: ``C dV_C/dt = i``. A DC operating point of the held
circuit therefore gives the circuit's own force at that state, with every device as
simulated (copy gains, programming noise, wires, transistors, amplifiers). Offsetting a
line's sense source by ``d`` volts moves that line alone, so the change of every held
current is the circuit's effective coupling from that line: a column of
``G0 Vs A``.

Copies of a batched compile are the perturbations: copy p holds its own state and
offsets its own lines, so one operating point measures every column.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import CircuitError
from .ir import CAPACITOR_KINDS, GROUND, Circuit, Element
from .naming import Names
from .realise import Compiled


@dataclass(frozen=True)
class Hold:
    """Unit ``unit`` of copy ``copy`` held: ``sense`` carries ``i = C dV_C/dt`` (A) with
    ``V_C`` the capacitor's voltage, and the state's rate is ``dV_u/dt = sign i / c``."""

    copy: int
    unit: int
    sense: str
    c: float
    sign: float


@dataclass(frozen=True)
class Held:
    """The held circuit, its holds, and per (copy, unit) the line net (None where the
    unit has no line)."""

    circuit: Circuit
    holds: tuple[Hold, ...]
    lines: dict[tuple[int, int], str]


def line_nets(compiled: Compiled) -> dict[tuple[int, int], str]:
    """(copy, unit) -> the net of the unit's line, for every unit whose line is driven
    through a sense source (the ideal and bjt levels)."""
    m, B = compiled.system.model, compiled.system.batch
    nets = {e.nets[1] for e in compiled.circuit.elements if e.role == "sense"
            and e.kind == "vsource"}
    out = {}
    for k in range(B):
        names = Names(f"k{k}_" if B > 1 else "")
        for grp in m.groups:
            for i in range(grp.size):
                net = names.line(grp.name, i)
                if net in nets:
                    out[(k, m.slices[grp.name].start + i)] = net
    return out


def hold_circuit(compiled: Compiled, offsets: np.ndarray | None = None) -> Held:
    """``compiled`` with each free unit held at its copy's initial state (``Vs u0``)
    and each line of copy k offset by ``offsets[k, unit]`` volts (0 or None: none).

    Raises CircuitError when the level drives its lines without a sense source (the
    op-amp level's buffers) and offsets are asked for."""
    sc, system = compiled.scales, compiled.system
    states = {p.net: (p.copy, p.unit) for p in compiled.circuit.probes}
    lines = line_nets(compiled)
    by_line = {net: key for key, net in lines.items()}
    if offsets is not None and np.any(offsets) and not lines:
        raise CircuitError(f"the {compiled.level} level drives its lines through "
                           "amplifiers, not sense sources: line offsets cannot be applied")
    elements: list[Element] = []
    holds = []
    for e in compiled.circuit.elements:
        if e.role == "integrator" and e.kind in CAPACITOR_KINDS:
            at = [n for n in e.nets if n in states]
            if len(at) != 1:
                raise CircuitError(f"integrator {e.name!r} is not on one state node")
            copy, unit = states[at[0]]
            sign = 1.0 if e.nets[0] == at[0] else -1.0
            mid = f"{e.name}_hm"
            sense = f"{e.name}_hs"
            elements.append(Element("vsource", sense, (e.nets[0], mid), (0.0,), "sense"))
            elements.append(Element("vsource", f"{e.name}_hv", (mid, e.nets[1]),
                                    (sign * sc.vs * float(system.u0[copy, unit]),),
                                    "integrator"))
            holds.append(Hold(copy, unit, sense, float(e.value), sign))
        elif (offsets is not None and e.role == "sense" and e.kind == "vsource"
              and e.nets[1] in by_line):
            # V(act) - V(line) = value: a line raised by d takes value -d
            d = float(offsets[by_line[e.nets[1]]])
            elements.append(replace(e, values=(e.value - d,)))
        else:
            elements.append(e)
    return Held(replace(compiled.circuit, elements=tuple(elements)), tuple(holds),
                lines)


def nudge_circuit(compiled: Compiled, beta: np.ndarray, target: np.ndarray,
                  units: np.ndarray) -> Circuit:
    """``compiled`` with EP's nudging force on the supervised ``units`` (N,) bool: into
    unit i of copy k a transconductor injects

        I = beta_k G0 (Vs target[k, i] - V_u),   i.e.  tau du/dt += beta_k (target - u),

    the force ``-beta dC/du`` of ``C = 1/2 (u - target)^2`` (``beta`` (B,), ``target``
    (B, N) model units). A local element at each output: a reference voltage and a
    transconductance (``beta < 0`` needs the transconductor; a resistor gives only
    ``beta > 0``). Needs integrators whose state node is the capacitor's (the ideal and
    bjt levels); raises CircuitError otherwise."""
    sc = compiled.scales
    states = {p.net: (p.copy, p.unit) for p in compiled.circuit.probes}
    out = list(compiled.circuit.elements)
    caps = {e.nets[0]: e for e in compiled.circuit.elements
            if e.role == "integrator" and e.kind in CAPACITOR_KINDS and e.nets[1] == GROUND}
    for net, (copy, unit) in states.items():
        if not units[unit] or not beta[copy]:
            continue
        if net not in caps:
            raise CircuitError(f"unit {unit} has no grounded integrating capacitor at the "
                               f"{compiled.level} level: in-circuit nudging needs the ideal "
                               "or bjt level's integrators")
        ref = f"{net}_nt"
        out.append(Element("vsource", f"{net}_nt", (ref, GROUND),
                           (sc.vs * float(target[copy, unit]),), "bias"))
        out.append(Element("vccs", f"{net}_ng", (GROUND, net, ref, net),
                           (float(beta[copy]) * sc.g0,), "bias"))
    return replace(compiled.circuit, elements=tuple(out))
