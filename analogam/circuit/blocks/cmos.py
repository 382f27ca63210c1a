"""A transistor-level op-amp on a process kit: the two-stage Miller amplifier.

``cmos_opamp inp inn out vdd vss``::

    first stage   NMOS pair m1 (inn) / m2 (inp) on tail m5, PMOS mirror load m3 / m4:
                  gm1 = sqrt(2 k_n (W/L)_1 I_tail / 2); the output d2 follows inp
    second stage  PMOS common source m6 on NMOS sink m7 (inverting), so inp is the
                  non-inverting input
    bias          a resistor from vdd into diode m8; m5 and m7 mirror it
    compensation  Miller capacitor cc with nulling resistor rz from d2 to out:
                  GBW ~ gm1 / (2 pi cc), slew ~ I_tail / cc

Designed for sky130's 5 V devices on split +-2.5 V supplies around the circuit's
ground (the analog mid-rail): about 20 uA of bias, a 20 uA tail, 100 uA in the output
stage. Measured by the tool itself (``analogam datasheet``).
The compensation capacitor and the bias and nulling resistors are ideal elements here
(a chip would use MIM capacitors and poly resistors of the kit).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import Element, SubcktDef
from ..pdk import ProcessKit

CMOS_OPAMP = "cmos_opamp"


@dataclass(frozen=True)
class MillerSizing:
    """Drawn width and length (um) per device pair, the bias resistor (ohm), the
    compensation capacitor (F) and the nulling resistor (ohm)."""

    w_in: float = 8.0
    l_in: float = 1.0
    w_load: float = 8.0
    l_load: float = 1.0
    w_tail: float = 8.0
    l_tail: float = 2.0
    w_out: float = 80.0
    l_out: float = 1.0
    w_sink: float = 40.0
    l_sink: float = 2.0
    r_bias: float = 200e3
    c_c: float = 0.5e-12
    r_z: float = 2e3


def cmos_opamp(kit: ProcessKit, s: MillerSizing | None = None) -> SubcktDef:
    """The two-stage Miller op-amp of the module docstring on ``kit``'s devices."""
    s = s or MillerSizing()
    n, p = kit.nmos, kit.pmos

    def mos(name, d, g, src, b, dev, w, ln):
        if w < kit.w_min or ln < kit.l_min:
            raise ValueError(f"{name}: W={w} L={ln} below the kit's minimum "
                             f"({kit.w_min}, {kit.l_min} um)")
        return Element("pmosfet", name, (d, g, src, b), (dev, w, ln, 1.0), "transistor")

    elements = (
        mos("m1", "d1", "inn", "tail", "vss", n, s.w_in, s.l_in),
        mos("m2", "d2", "inp", "tail", "vss", n, s.w_in, s.l_in),
        mos("m3", "d1", "d1", "vdd", "vdd", p, s.w_load, s.l_load),
        mos("m4", "d2", "d1", "vdd", "vdd", p, s.w_load, s.l_load),
        mos("m5", "tail", "nb", "vss", "vss", n, s.w_tail, s.l_tail),
        mos("m8", "nb", "nb", "vss", "vss", n, s.w_tail, s.l_tail),
        Element("resistor", "rbias", ("vdd", "nb"), (s.r_bias,), "internal"),
        mos("m6", "out", "d2", "vdd", "vdd", p, s.w_out, s.l_out),
        mos("m7", "out", "nb", "vss", "vss", n, s.w_sink, s.l_sink),
        Element("capacitor", "cmiller", ("d2", "z"), (s.c_c,), "internal"),
        Element("resistor", "rnull", ("z", "out"), (s.r_z,), "internal"),
    )
    return SubcktDef(CMOS_OPAMP, ("inp", "inn", "out", "vdd", "vss"), elements, "amplifiers",
                     f"two-stage Miller op-amp on {kit.name}: input pair W/L {s.w_in}/"
                     f"{s.l_in} um, Cc {s.c_c:g} F")


def transistor_area(sub: SubcktDef) -> float:
    """Sum of W x L (um^2) over the block's transistors."""
    return sum(e.values[1] * e.values[2] * e.values[3] for e in sub.elements
               if e.kind == "pmosfet")
