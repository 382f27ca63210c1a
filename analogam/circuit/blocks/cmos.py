"""A transistor-level op-amp on a process kit: the two-stage Miller amplifier.

``cmos_opamp inp inn out vdd vss``::

    first stage   NMOS pair m1 (inn) / m2 (inp) on tail m5, PMOS mirror load m3 / m4:
                  gm1 = sqrt(2 k_n (W/L)_1 I_tail / 2); the output d2 follows inp
    second stage  PMOS common source m6 on NMOS sink m7 (inverting), so inp is the
                  non-inverting input
    bias          a resistor from vdd into diode m8; m5 and m7 mirror it
    compensation  Miller capacitor cc with nulling resistor rz from d2 to out:
                  GBW ~ gm1 / (2 pi cc), slew ~ I_tail / cc

Sized by the kit (:class:`~..pdk.MillerSizing`, its ``miller`` record): sky130's is
designed for its 5 V devices on split +-2.5 V supplies around the circuit's ground
(the analog mid-rail): about 20 uA of bias, a 20 uA tail, 100 uA in the output stage.
Measured by the tool itself (``analogam datasheet``).
The compensation capacitor and the bias and nulling resistors are the kit's MIM
capacitor and poly resistors (:meth:`~..pdk.ProcessKit.passive`).
"""

from __future__ import annotations

from ..ir import MOS_KINDS, Element, SubcktDef
from ..pdk import MillerSizing, ProcessKit
from .amplifier import AmplifierSpec
from .base import Emit

CMOS_OPAMP = "cmos_opamp"


def cmos_opamp(kit: ProcessKit, s: MillerSizing | None = None) -> SubcktDef:
    """The two-stage Miller op-amp of the module docstring on ``kit``'s devices, sized
    by ``s`` (default: the kit's own sizing)."""
    s = s or kit.miller
    n, p = "nmos", "pmos"

    def mos(name, d, g, src, b, kind, w, ln):
        kit.check_size(f"{CMOS_OPAMP} {name}", w, ln)
        return Element(kind, name, (d, g, src, b), (getattr(kit, kind), w, ln, 1.0),
                       "transistor")

    def passive(kind, name, nets, value):
        return kit.passive(kind, name, nets, (value,), "internal")

    elements = (
        mos("m1", "d1", "inn", "tail", "vss", n, s.w_in, s.l_in),
        mos("m2", "d2", "inp", "tail", "vss", n, s.w_in, s.l_in),
        mos("m3", "d1", "d1", "vdd", "vdd", p, s.w_load, s.l_load),
        mos("m4", "d2", "d1", "vdd", "vdd", p, s.w_load, s.l_load),
        mos("m5", "tail", "nb", "vss", "vss", n, s.w_tail, s.l_tail),
        mos("m8", "nb", "nb", "vss", "vss", n, s.w_tail, s.l_tail),
        *passive("resistor", "rbias", ("vdd", "nb"), s.r_bias),
        mos("m6", "out", "d2", "vdd", "vdd", p, s.w_out, s.l_out),
        mos("m7", "out", "nb", "vss", "vss", n, s.w_sink, s.l_sink),
        *passive("capacitor", "cmiller", ("d2", "z"), s.c_c),
        *passive("resistor", "rnull", ("z", "out"), s.r_z),
    )
    return SubcktDef(CMOS_OPAMP, ("inp", "inn", "out", "vdd", "vss"), elements, "amplifiers",
                     f"two-stage Miller op-amp on {kit.name}: input pair W/L {s.w_in}/"
                     f"{s.l_in} um, Cc {s.c_c:g} F")


def transistor_area(sub: SubcktDef) -> float:
    """Sum of W x L (um^2) over the block's transistors."""
    return sum(e.values[1] * e.values[2] * e.values[3] for e in sub.elements
               if e.kind in MOS_KINDS)


def miller(e: Emit, s: AmplifierSpec) -> str:
    """The kit's transistor-level amplifier: its state is its output itself."""
    sizing, _ = e.kit.amplifier_sizing(e.config.design.amplifier)
    e.add("instance", s.name, (s.inp, s.inn, s.out, s.vdd, s.vss),
          e.b.subckt(cmos_opamp(e.kit, sizing)), role="amplifier")
    return s.out


BLOCKS = {"amplifier": {"pdk": miller}}
