"""The op-amp: a two-pole macromodel as a library block, and its instances.

``anm_opamp inp inn out int p2 vdd vss`` (the defaults of :class:`~..kits.OpampKit`)::

    input stage   I = I_max tanh(gm (v_inp - v_inn) / I_max)    into R1 || C1 at int
                  gm = A0 / R1, C1 = A0 / (2 pi GBW R1): DC gain A0, unity gain at GBW;
                  I_max = SR C1: the stage slews at SR
    clamp         int held inside the supplies by a conductance past them that sinks
                  I_max 10 mV beyond: no wind-up, so a railed amplifier recovers at once
    second pole   p2 follows int through a unity-gain stage with a pole at
                  pole2_ratio * GBW
    output        min(max(v_p2, v_neg), v_pos), through R_out to out; with output
                  current limits (i_source_max, i_sink_max > 0, as ``analogam
                  datasheet`` fits them) the current past them is taken back at out,
                  so out receives min(max((v_o - v_out) / R_out, -I_sink), I_source)
    supplies      I_q = iq_per_gbw * GBW from vdd to vss, and the output current from
                  the rail on the side it flows (class-AB): the supply current is the
                  amplifier's own
    inputs        each draws i_bias (offset: a seeded source in series, per instance)

``int`` and ``p2`` are ports so that initial conditions can be set on them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .. import ir
from ..ir import GROUND, SubcktDef
from ..kits import OpampKit
from ..variation import trim_code
from .base import Emit

OPAMP = "anm_opamp"
CLAMP_EXCESS = 0.01
"""Volts past a supply at which the clamp sinks the input stage's largest current."""


def opamp_subckt(k: OpampKit, name: str = OPAMP) -> SubcktDef:
    """The macromodel of the module docstring with the kit's parameters."""
    r1 = k.r_out_stage
    c1 = k.a0 / (2 * np.pi * k.gbw * r1)
    i_max = k.slew_rate * c1
    hi, lo = k.supplies
    r2 = r1
    c2 = 1 / (2 * np.pi * k.pole2_ratio * k.gbw * r2)
    E, v, n = ir.Element, ir.volt, ir.num
    diff = ir.add(v("inp"), ir.scale(-1.0, v("inn")))
    gm = ir.scale(i_max, ir.call("tanh", ir.scale(k.a0 / r1 / i_max, diff)))
    past = ir.add(ir.call("max", ir.add(v("int"), n(-hi)), n(0.0)),
                  ir.call("min", ir.add(v("int"), n(-lo)), n(0.0)))
    i_out = ir.current("so")
    output = [E("vsource", "so", ("o", "os"), (0.0,)),
              E("resistor", "ro", ("os", "out"), (k.r_out,))]
    if k.i_source_max > 0 or k.i_sink_max > 0:
        # the output stage delivers at most what the amplifier can: the current past
        # the limit is taken back at the output (R_out keeps the DC path)
        wanted = i_out
        i_out = ir.call("min", ir.call("max", wanted, n(-(k.i_sink_max or 1e3))),
                        n(k.i_source_max or 1e3))
        output.append(E("bcurrent", "olim", ("out", GROUND),
                        (ir.add(wanted, ir.scale(-1.0, i_out)),)))
    elements = [
        E("bcurrent", "gm", (GROUND, "int"), (gm,)),
        E("resistor", "r1", ("int", GROUND), (r1,)),
        E("capacitor", "c1", ("int", GROUND), (c1,)),
        E("bcurrent", "clamp", ("int", GROUND), (ir.scale(i_max / CLAMP_EXCESS, past),)),
        E("vccs", "g2", (GROUND, "p2", "int", GROUND), (1 / r2,)),
        E("resistor", "r2", ("p2", GROUND), (r2,)),
        E("capacitor", "c2", ("p2", GROUND), (c2,)),
        E("bvoltage", "o", ("o", GROUND), (ir.call(
            "min", ir.call("max", v("p2"), n(k.v_neg)), n(k.v_pos)),)),
        *output,
        # the output current comes from the rail on its side, and returns to ground
        E("bcurrent", "ip", ("vdd", GROUND), (ir.call("max", i_out, n(0.0)),)),
        E("bcurrent", "in", (GROUND, "vss"), (ir.call("max", ir.scale(-1.0, i_out),
                                                        n(0.0)),)),
        E("isource", "iq", ("vdd", "vss"), (k.iq,)),
    ]
    if k.i_bias:
        elements += [E("isource", "ibp", ("inp", GROUND), (k.i_bias,)),
                     E("isource", "ibn", ("inn", GROUND), (k.i_bias,))]
    return SubcktDef(name, ("inp", "inn", "out", "int", "p2", "vdd", "vss"),
                     tuple(elements), "amplifiers",
                     f"two-pole op-amp macromodel: A0 {k.a0:g}, GBW {k.gbw:g} Hz, SR "
                     f"{k.slew_rate:g} V/s, second pole {k.pole2_ratio:g} GBW, Rout "
                     f"{k.r_out:g} ohm, swing {k.v_neg:g} to {k.v_pos:g} V, Iq {k.iq:g} A")


@dataclass(frozen=True)
class AmplifierSpec:
    """An op-amp ``name`` from ``inp`` (after its offset source), ``inn`` to ``out`` on
    the rails ``vdd``/``vss``, its output (and internal nodes) held to ``[lo, hi]``."""

    name: str
    inp: str
    inn: str
    out: str
    vdd: str
    vss: str
    lo: float
    hi: float
    gbw: float | None = None
    """The gain-bandwidth (Hz) this instance is biased for, where the level's
    amplifiers are tunable (None: the configuration's)."""


def input_offset(e: Emit, name: str) -> tuple[float, float]:
    """Amplifier ``name``'s offset source, in series with its + input (V), and where
    its closed loop holds its - input from the + input's net (V): analogam's drawn
    offset ``os`` (trimmed by ``opamp.trim_bits``) plus, with the kit's own mismatch
    and a trim, the DAC code nearest the input difference ``d`` a calibration measured
    on the devices (+ pin minus - pin, held in closed loop), so the - input sits at
    ``source - d``: the code's residual where the trim cancels ``d``."""
    key = e.key(name)
    source, d = e.var.offset(key), e.var.measured(key)
    k = e.config.opamp
    if e.config.environment.kit_mismatch and k.trim_bits:   # a kit level (plan.py)
        sigma = e.kit.amplifier_sizing(e.config.design.amplifier)[1]["offset_sigma"]
        source += trim_code(d, sigma, k.trim_bits)
    return source, source - d


def opamp(e: Emit, name: str, inp: str, inn: str, out: str, role: str,
          gbw: float | None = None) -> str:
    """An instance of the level's ``amplifier`` block on the rails of ``role``, with its
    seeded input offset (a source in series with the non-inverting input) and its
    output swing as a limit. Returns the net its integrating state is set on (the
    block's answer: an internal node, or the output)."""
    offset = input_offset(e, name)[0]
    if offset:
        e.add("vsource", f"{name}_os", (f"{out}_os", inp), offset, role="offset")
        e.b.guess(f"{out}_os", ir.add(ir.volt(inp), ir.num(offset)))
        inp = f"{out}_os"
    vdd, vss = e.rails(role, "opamp")
    k = e.config.opamp
    lo, hi = k.v_neg + k.swing_margin, k.v_pos - k.swing_margin
    e.limit(name, "output inside the swing", ir.volt(out), lo, hi)
    return e.block("amplifier")(e, AmplifierSpec(name, inp, inn, out, vdd, vss, lo, hi,
                                                 gbw))


def current_limit(e: Emit, name: str, out: str, node: str, r: float) -> None:
    """Amplifier ``name`` delivers its output current through ``r`` (ohm) from ``out``
    to ``node``: ``(V_out - V_node) / r`` must stay inside what its output stage can
    source and sink (``opamp.i_source_max``, ``i_sink_max``; a class-A stage sinks
    only its bias). Not checked where neither is set."""
    k = e.config.opamp
    if k.i_source_max or k.i_sink_max:
        drop = ir.add(ir.volt(out), ir.scale(-1.0, ir.volt(node)))
        e.limit(name, "output current", ir.scale(1.0 / r, drop), -k.i_sink_max or None,
                k.i_source_max or None, unit="A")


def macromodel(e: Emit, s: AmplifierSpec) -> str:
    """The macromodel (:func:`opamp_subckt`); its internal node is a port, so the
    initial state is set there, and it must stay inside the swing too (no wind-up)."""
    x, p2 = f"{s.out}_oa", f"{s.out}_p2"
    e.b.guess(x, ir.volt(s.out))  # in its linear region the stage sits at its output
    e.b.guess(p2, ir.volt(x))
    k = e.config.opamp
    sub = (opamp_subckt(k) if s.gbw is None or s.gbw == k.gbw else
           opamp_subckt(replace(k, gbw=s.gbw), f"{OPAMP}_{s.gbw / 1e6:.0f}mhz"))
    e.add("instance", s.name, (s.inp, s.inn, s.out, x, p2, s.vdd, s.vss),
          e.b.subckt(sub), role="amplifier")
    e.limit(s.name, "internal node inside the swing (no wind-up)", ir.volt(x), s.lo, s.hi)
    return x


def inverting(e: Emit, name: str, inp: str, out: str, r: float, role: str,
              gain: float = 1.0) -> None:
    """``V_out = -gain V_inp``: input resistor ``r`` and feedback ``gain r`` (ohm, each
    mismatched as a sensing resistor) around an op-amp whose non-inverting input is
    grounded."""
    s = f"{out}_vg"
    for suffix, a, b, val in (("ri", inp, s, r), ("rf", s, out, gain * r)):
        e.matched_resistor(f"{name}_{suffix}", (a, b), val, "sense")
    opamp(e, name, GROUND, s, out, role)
    e.b.guess(s, ir.num(0.0))
    e.b.guess(out, ir.scale(-gain, ir.volt(inp)))


def difference(e: Emit, name: str, plus: str, minus: str, out: str, r: float, role: str,
               a: float = 1.0, b: float = 1.0) -> None:
    """``V_out = a V_plus - b V_minus`` (``a < 1 + b``): the four-resistor difference
    amplifier, ``r`` from the minus input and ``b r`` in the feedback, ``r`` from the
    plus input over ``r a / (1 + b - a)`` to ground (each mismatched as a sensing
    resistor). A mismatch is a gain error on the difference and a common-mode error
    ``~ mismatch b V_minus``."""
    if not 0 < a < 1 + b:
        raise ValueError(f"difference amplifier gains a={a:g}, b={b:g} need 0 < a < 1 + b")
    s, d = f"{out}_vg", f"{out}_vd"
    for suffix, x, y, val in (("ra", plus, d, r), ("rb", d, GROUND, r * a / (1 + b - a)),
                              ("rc", minus, s, r), ("rd", s, out, b * r)):
        e.matched_resistor(f"{name}_{suffix}", (x, y), val, "sense")
    opamp(e, name, d, s, out, role)
    frac = a / (1 + b)
    e.b.guess(d, ir.scale(frac, ir.volt(plus)))
    e.b.guess(s, ir.scale(frac, ir.volt(plus)))
    e.b.guess(out, ir.add(ir.scale(a, ir.volt(plus)), ir.scale(-b, ir.volt(minus))))


BLOCKS = {"amplifier": {"opamp": macromodel}}
