"""The op-amp: a single-pole macromodel as a library block, and its instances."""

from __future__ import annotations

import numpy as np

from .. import ir
from ..ir import GROUND, SubcktDef
from ..kits import OpampKit
from .base import Emit

OPAMP = "anm_opamp"


def opamp_subckt(k: OpampKit) -> SubcktDef:
    """Single-pole op-amp macromodel ``anm_opamp inp inn out int``: transconductance
    ``gm = A0/R`` from (inp - inn) into R || C on node int (DC gain A0, pole at GBW/A0,
    so unity gain at GBW), output = int clamped to the swing [v_neg, v_pos]."""
    r = k.r_out_stage
    E = ir.Element
    return SubcktDef(OPAMP, ("inp", "inn", "out", "int"), (
        E("vccs", "gm", (GROUND, "int", "inp", "inn"), (k.a0 / r,)),
        E("resistor", "ro", ("int", GROUND), (r,)),
        E("capacitor", "co", ("int", GROUND), (k.a0 / (2 * np.pi * k.gbw * r),)),
        E("bvoltage", "out", ("out", GROUND), (ir.call(
            "min", ir.call("max", ir.volt("int"), ir.num(k.v_neg)), ir.num(k.v_pos)),)),
    ), "amplifiers", f"single-pole op-amp: A0 {k.a0:g}, GBW {k.gbw:g} Hz, "
       f"swing {k.v_neg:g} to {k.v_pos:g} V")


def opamp(e: Emit, name: str, inp: str, inn: str, out: str) -> str:
    """An instance of the op-amp macromodel, with its seeded input offset (a source in
    series with the non-inverting input); returns its integrating node's net (a port,
    so that initial conditions can be set on it)."""
    x = f"{out}_oa"
    offset = e.var.offset(e.key(name))
    if offset:
        e.add("vsource", f"{name}_os", (f"{out}_os", inp), offset, role="offset")
        e.b.guess(f"{out}_os", ir.add(ir.volt(inp), ir.num(offset)))
        inp = f"{out}_os"
    e.b.guess(x, ir.volt(out))  # in its linear region the stage sits at its output
    e.add("instance", name, (inp, inn, out, x), e.b.subckt(opamp_subckt(e.config.opamp)),
          role="amplifier")
    k = e.config.opamp
    lo, hi = k.v_neg + k.swing_margin, k.v_pos - k.swing_margin
    e.limit(name, "output inside the swing", ir.volt(out), lo, hi)
    e.limit(name, "internal node inside the swing (no wind-up)", ir.volt(x), lo, hi)
    return x
