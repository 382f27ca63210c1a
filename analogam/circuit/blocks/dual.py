"""Dual arrays: one crossbar per direction, columns held at virtual ground, no
self-compensation (``conductance.dual_arrays``).

Each coupling is programmed twice: the forward array carries the visible lines into
the hidden units' columns, the backward array the hidden lines into the visible
units' columns, each array with its own programming noise. A unit's column sits at
0 V, so the current it collects is the useful one itself::

    I_col+ - I_col- = sum_j G+_ij V_j - sum_j G-_ij V_j = G0 Vs sum_j w_ij y_j

(negative weights on a second column per unit), and the copy into the integrator
carries that current, not the difference of two large ones: a copy's gain error
``sigma`` is an error ``sigma |useful|`` instead of ``sigma g_sum V_line``. The price
is twice the cells, and a coupling that is symmetric only as far as the two arrays
agree: with programming noise the dynamics are no longer a gradient flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import GROUND
from .base import Emit, Port, UnitSpec


@dataclass(frozen=True)
class ColumnsSpec(UnitSpec):
    """The columns of unit i (``positive``/``negative``: it has cells of that sign) and
    its bias ``amps`` (A), into its integrator's ``port``."""

    port: Port
    positive: bool
    negative: bool
    amps: float


def columns(e: Emit, s: ColumnsSpec) -> None:
    """Each column is a 0 V source to ground (the virtual ground an integrator's summing
    node gives); a current copy per column (gain error ``sense.copy_gain_sigma``) into
    the port, the negative column's inverted; a current source for the bias."""
    n, g, i, sign = e.names, s.group, s.index, s.port.sign
    for negative, present in ((False, s.positive), (True, s.negative)):
        if not present:
            continue
        col = n.net("coln" if negative else "col", g, i)
        src = n.elem(g, i, "vcn" if negative else "vc")
        e.add("vsource", src, (col, GROUND), 0.0, role="sense")
        name = n.elem(g, i, "cn" if negative else "cc")
        # the source's current flows col -> ground: the collected current itself
        gain = -sign if negative else sign
        e.add("cccs", name, (GROUND, s.port.node), src, e.var.copy_gain(e.key(name), gain),
              role="copy")
    if s.amps:
        e.add("isource", n.elem(g, i, "bias"), (GROUND, s.port.node), sign * s.amps,
              role="bias")


@dataclass(frozen=True)
class DualCrossbarSpec:
    """Coupling ``name`` between ``hidden`` and ``visible``: the forward array's
    conductances ``G_fwd`` (H, V) in S (visible lines into hidden columns) and their
    weights' ``signs`` (H, V), the backward array's ``G_bwd`` (H, V) (hidden lines into
    visible columns) and ``signs_bwd``."""

    name: str
    hidden: str
    visible: str
    G_fwd: np.ndarray
    G_bwd: np.ndarray
    signs: np.ndarray
    signs_bwd: np.ndarray


def dual_crossbar(e: Emit, s: DualCrossbarSpec) -> None:
    """One resistor per nonzero weight in each array, row-major (forward array first);
    a negative weight's cell ends on the receiving unit's negative column."""
    n = e.names
    for G, signs, tag, forward in ((s.G_fwd, s.signs, "f", True),
                                   (s.G_bwd, s.signs_bwd, "b", False)):
        rows, cols = np.nonzero(G)
        for mu, i in zip(rows.tolist(), cols.tolist(), strict=True):
            column = "coln" if signs[mu, i] < 0 else "col"
            nets = ((n.line(s.visible, i), n.net(column, s.hidden, mu)) if forward
                    else (n.line(s.hidden, mu), n.net(column, s.visible, i)))
            e.add("resistor", n.elem(s.name, mu, f"{i}{tag}"), nets, 1.0 / G[mu, i],
                  role="crossbar")


BLOCKS = {"columns": {"ideal": columns}, "dual_crossbar": {"ideal": dual_crossbar}}
