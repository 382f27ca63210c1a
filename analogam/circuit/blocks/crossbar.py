"""The crossbar: one conductance per nonzero weight between two lines, optionally on
resistive wire ladders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir
from .base import Emit
from .lines import add_flow


@dataclass(frozen=True)
class CrossbarSpec:
    """Coupling ``name`` between ``hidden`` and ``visible`` groups: conductances ``G``
    (H, V) in S (0 = no device), ``signs`` (H, V) (negative weights sit on the visible
    unit's inverted line), ``r_wire`` ohms of line per cell (0: ideal wires) and
    ``c_wire`` farads of line to ground per cell."""

    name: str
    hidden: str
    visible: str
    G: np.ndarray
    signs: np.ndarray
    r_wire: float = 0.0
    c_wire: float = 0.0


def crossbar(e: Emit, s: CrossbarSpec) -> None:
    """One resistor ``1/G`` per nonzero weight between the two lines, row-major (so names
    and order are fixed).

    With wire resistance ``r`` per cell, each line is a ladder: the driver feeds cell 0
    and every further cell along the line is one ``r`` further away (hidden lines run
    along the visible index, visible lines along the hidden), each ladder node with
    ``c_wire`` to ground; on ideal wires a line carries ``c_wire`` per cell on it."""
    n = e.names
    wires: dict[str, int] = {}
    cells: dict[str, int] = {}
    rows, cols = np.nonzero(s.G)
    for mu, i in zip(rows.tolist(), cols.tolist(), strict=True):
        pos = s.signs[mu, i] > 0
        vline = n.line(s.visible, i) if pos else n.inv_line(s.visible, i)
        hnode, vnode = n.line(s.hidden, mu), vline
        if s.r_wire:
            hnode = _wire(e, wires, n.elem(s.name, f"h{mu}"), hnode, i, s.r_wire, s.c_wire)
            vnode = _wire(e, wires, n.elem(s.name, f"v{i}{'p' if pos else 'n'}"), vline, mu,
                          s.r_wire, s.c_wire)
        else:
            for line in (hnode, vnode):
                cells[line] = cells.get(line, 0) + 1
        e.add("resistor", n.elem(s.name, mu, str(i)), (hnode, vnode), 1.0 / s.G[mu, i],
              role="crossbar")
    if s.c_wire:
        for line, k in cells.items():
            e.add("capacitor", n.elem(s.name, line, "cw"), (line, ir.GROUND), k * s.c_wire,
                  role="parasitic")


def _wire(e: Emit, wires: dict[str, int], tag: str, line: str, cell: int, r: float,
          c: float) -> str:
    """The net of cell ``cell`` on a ladder line: segments ``tag_w{j}`` of ``r`` ohms
    (and ``c`` farads to ground at their far ends) chain cells 0..cell (created on
    first use, so cost is linear in cells)."""
    last = wires.get(tag, -1)
    for j in range(last + 1, cell + 1):
        prev = line if j == 0 else f"{tag}_n{j - 1}"
        e.add("resistor", f"{tag}_w{j}", (prev, f"{tag}_n{j}"), r, role="wire")
        if c:
            e.add("capacitor", f"{tag}_c{j}", (f"{tag}_n{j}", ir.GROUND), c, role="parasitic")
        e.b.guess(f"{tag}_n{j}", ir.volt(line))  # the drop along the wire is small
    wires[tag] = max(last, cell)
    return f"{tag}_n{cell}"


def crossbar_sensed(e: Emit, s: CrossbarSpec) -> None:
    """The crossbar, and the current each line delivers into it predicted (for the
    sense resistors' drops): ``I_line = sum_j G_j (V_line - V_other_j)`` (wire drops
    neglected), accumulated over every coupling the line is on."""
    crossbar(e, s)
    n, terms = e.names, {}
    rows, cols = np.nonzero(s.G)
    for mu, i in zip(rows.tolist(), cols.tolist(), strict=True):
        g = float(s.G[mu, i])
        h = n.line(s.hidden, mu)
        v = n.line(s.visible, i) if s.signs[mu, i] > 0 else n.inv_line(s.visible, i)
        for a, b in ((h, v), (v, h)):
            terms.setdefault(a, []).append(ir.scale(g, ir.add(ir.volt(a),
                                                              ir.scale(-1.0, ir.volt(b)))))
    for line, t in terms.items():
        add_flow(e, line, t)


BLOCKS = {"crossbar": {"ideal": crossbar, "opamp": crossbar_sensed}}
