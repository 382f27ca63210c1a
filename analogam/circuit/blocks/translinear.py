"""What surrounds a translinear stage's transistors: the base drive and the collector
read-out, one emitter per level.

- ``attenuator``: the base drive ``V_B = shift + gain * V_u``. At ``bjt`` an ideal
  voltage-controlled source (the shift from one ideal source per group); at ``pdk`` a
  resistive divider from the state node, to ground and (for the shift) to a supply
  rail, ``V_tap = (G1 V_u + G3 V_rail) / (G1 + G2 + G3)``, buffered by an op-amp so the
  base current does not load it: a follower, or a non-inverting amplifier of gain ``m``
  where the divider alone cannot reach the gain and shift (then ``gain / m = G1 /
  G_sum`` and ``shift / m = G3 V_rail / G_sum``); a pair's minus side, whose gain is
  negative, through an inverting stage. A supply error moves every base of a group
  alike, which softmax and the differential pair ignore; the resistors' mismatch is a
  gain error per unit.
- ``readout``: ``V_out = r (I_c+ - I_c-)`` from the collector currents (the second
  collector only for a differential pair). At ``bjt`` zero-volt sense sources pin the
  collectors on ``V_cc`` and current-controlled sources read them; at ``pdk`` a
  transimpedance amplifier per collector holds it at its virtual ground, ``V_cc``
  (half the positive supply, set by the kit), with feedback ``r`` from the output and
  a resistor from the supply that takes the virtual ground's offset back out; for a
  pair the minus side's amplifier output is fed into the plus side's summing node
  through another ``r``, so the plus side's output is ``r (I_c+ - I_c-)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import CircuitError
from .. import ir
from ..ir import GROUND
from ..kits import T_NOMINAL_K
from .amplifier import current_limit, opamp
from .base import Emit

DIVIDER_R = 200e3
"""The attenuator divider's resistor from the state node (ohm): its current, at most
``V_u / 200 kohm``, is a small load for the integrator's class-A output."""
TAP_MAX = 0.5
"""The divider's gain plus shift over rail stays below this (its resistor to ground
keeps half the node's conductance); a base drive that asks for more is divided by
``m`` and the follower becomes a non-inverting amplifier of gain ``m``."""


@dataclass(frozen=True)
class AttenuatorSpec:
    """Base drive ``base = shift + gain * V(u)`` (V) of one transistor of ``group``."""

    name: str
    group: str
    base: str
    u: str
    gain: float
    shift: float


def _ptat(e: Emit, s: AttenuatorSpec) -> bool:
    """With PTAT tracking the gain scales with T/T_nom (behavioural) so the exponent
    ``gain V(u) / V_T`` does not drift with temperature; returns whether it was built."""
    if not e.config.bjt.ptat:
        return False
    x = ir.mul(ir.mul(ir.num(s.gain / T_NOMINAL_K), ir.temperature()), ir.volt(s.u))
    e.add("bvoltage", s.name, (s.base, GROUND), ir.add(ir.num(s.shift), x) if s.shift else x,
          role="attenuator")
    return True


def controlled_attenuator(e: Emit, s: AttenuatorSpec) -> None:
    """An ideal voltage-controlled source referred to the group's level-shift node (an
    ideal source at ``shift`` volts, one per group)."""
    e.b.guess(s.base, ir.add(ir.num(s.shift), ir.scale(s.gain, ir.volt(s.u))))
    if _ptat(e, s):
        return
    ref = GROUND
    if s.shift:
        ref = e.names.net("ls", s.group)
        if ref not in e.once:
            e.add("vsource", e.names.elem(s.group, None, "ls"), (ref, GROUND), s.shift,
                  role="bias")
            e.b.guess(ref, ir.num(s.shift))
            e.once.add(ref)
    e.add("vcvs", s.name, (s.base, ref, s.u, GROUND), s.gain, role="attenuator")


def divider(e: Emit, name: str, out: str, target: float, rails: str, role: str,
            src: str | None = None, gain: float = 1.0, r: float = DIVIDER_R) -> None:
    """A divider node ``out`` at ``gain * V(src) + target`` (no ``src``: ``target``
    alone) on the amplifier rails of ``rails``, its resistors playing ``role``: a
    resistor ``r`` from ``src``, one to ground and, for ``target``, one to the supply
    rail of that sign. The node's total
    conductance is ``G_sum = G_src / gain`` (``1 / r`` without ``src``), ``G_rail =
    target G_sum / V_rail``, the ground resistor takes the rest."""
    vdd, vss = e.rails(rails, "opamp")
    rail, volts = (vdd, e.config.opamp.supplies[0]) if target >= 0 else (
        vss, e.config.opamp.supplies[1])
    g_src = 1.0 / r if src else 0.0
    g_sum = g_src / gain if src else 1.0 / r
    g_rail = target / volts * g_sum
    g_gnd = g_sum - g_src - g_rail
    if (src and not 0 < gain < 1) or g_gnd <= 0:
        raise CircuitError(
            f"{name}: a divider cannot give gain {gain:.3g} with a {target:+.3g} V shift "
            f"from the {volts:+g} V rail (gain + shift / rail must stay below 1); lower the "
            "activation's parameter or raise scales.vs")
    for suffix, a, b, g in (("r1", src, out, g_src), ("r2", out, GROUND, g_gnd),
                            ("r3", out, rail, g_rail)):
        if g:
            e.matched_resistor(f"{name}_{suffix}", (a, b), 1.0 / g, role)
    e.b.guess(out, ir.add(ir.num(target), ir.scale(gain, ir.volt(src))) if src
              else ir.num(target))


def divider_attenuator(e: Emit, s: AttenuatorSpec) -> None:
    """The module docstring's divider and follower for a positive gain; for a negative
    one (a pair's minus side) an inverting stage, ``R1`` from the state node into the
    summing node and ``|gain| R1`` in the feedback, its non-inverting input on a divider
    at ``shift / (1 + |gain|)``. Resistors are drawn with the sensing resistors'
    mismatch, the op-amps with their offsets."""
    e.b.guess(s.base, ir.add(ir.num(s.shift), ir.scale(s.gain, ir.volt(s.u))))
    if _ptat(e, s):
        return
    tap = f"{s.base}_tap"
    if s.gain > 0:
        rail = e.config.opamp.supplies[0 if s.shift >= 0 else 1]
        m = max(1.0, (s.gain + s.shift / rail) / TAP_MAX)
        divider(e, s.name, tap, s.shift / m, "attenuator", "attenuator", s.u,
                s.gain / m)
        inn = s.base
        if m > 1:
            inn = f"{s.base}_fb"
            for suffix, a, b, r in (("rg", inn, GROUND, DIVIDER_R),
                                    ("rf", s.base, inn, (m - 1) * DIVIDER_R)):
                e.matched_resistor(f"{s.name}_{suffix}", (a, b), r, "attenuator")
            e.b.guess(inn, ir.add(ir.num(s.shift / m), ir.scale(s.gain / m, ir.volt(s.u))))
        opamp(e, s.name, tap, inn, s.base, "attenuator")
        return
    k = -s.gain
    ref = GROUND
    if s.shift:
        ref = f"{s.base}_ref"
        divider(e, f"{s.name}_ref", ref, s.shift / (1 + k), "attenuator", "attenuator")
    for suffix, a, b, r in (("ri", s.u, tap, DIVIDER_R), ("rf", tap, s.base, k * DIVIDER_R)):
        e.matched_resistor(f"{s.name}_{suffix}", (a, b), r, "attenuator")
    opamp(e, s.name, ref, tap, s.base, "attenuator")
    e.b.guess(tap, ir.num(s.shift / (1 + k)))


@dataclass(frozen=True)
class ReadoutSpec:
    """``out = r (I(col) - I(minus))`` (V; currents into the collectors, A; ``minus``
    empty for a single transistor; ``out`` empty for a collector nothing reads, which is
    only held where the others are); ``guess`` predicts ``out`` and ``guess_minus`` the
    voltage ``r I(minus)``."""

    name: str
    out: str
    col: str
    r: float
    guess: ir.Expr | None = None
    minus: str = ""
    guess_minus: ir.Expr | None = None


def sensed_readout(e: Emit, s: ReadoutSpec) -> None:
    """Zero-volt sense sources from ``V_cc`` into each collector; one current-controlled
    source per collector, in series (``+r`` from ``out`` and ``-r`` below it)."""
    vcc = e.rail("activation", 0)
    mid = f"{s.out}_tzm" if s.minus else GROUND
    for col, tag, r, (p, n) in ((s.col, "", s.r, (s.out, mid)),
                                (s.minus, "m", -s.r, (mid, GROUND))):
        if not col:
            continue
        sense = f"{s.name}_ic{tag}"
        e.add("vsource", sense, (vcc, col), 0.0, role="sense")
        e.b.guess(col, ir.volt(vcc))
        if s.out:
            e.add("ccvs", f"{s.name}_tz{tag}", (p, n), sense, r, role="transimpedance")
    if s.minus:
        e.b.guess(mid, ir.scale(-1.0, s.guess_minus))
    if s.out:
        e.b.guess(s.out, s.guess)


def transimpedance_readout(e: Emit, s: ReadoutSpec) -> None:
    """A transimpedance amplifier per collector (the module docstring), its virtual
    ground at ``V_c = bjt.v_cc`` (the kit sets half the positive amplifier supply,
    from a divider shared by the copy) so the bases have room below the collectors: a
    resistor ``r_x = r (V_dd - V_c) / (n V_c)`` from ``V_dd`` into the summing node
    takes the offset back out (``n`` = 2 on a pair's plus side, whose node also takes
    the minus side's output through ``r``, else 1), so ``V_out = r (I_c+ - I_c-)``
    referred to ground; ``r |V_ss| / V_c`` from the output to the negative supply takes
    the feedback resistor's ``V_c / r`` at zero signal, so the amplifier's output stage
    carries no current there (sinking it, sky130's class-A stage showed 0.69 mV of
    offset at ``r`` = 23.5 kohm, against 0.04 mV unloaded: 15 losing memories' offsets
    add up on every visible line). A collector nothing reads is tied to the supply (its current
    would move the shared divider)."""
    vc, vdd_v = e.config.bjt.v_cc, e.config.opamp.supplies[0]
    if not 0 < vc < vdd_v:
        raise CircuitError(f"the transimpedance read-out holds the collectors at bjt.v_cc "
                           f"= {vc:g} V, which must lie between 0 and the amplifiers' "
                           f"{vdd_v:g} V supply (the kit sets it)")
    ref = e.names.net("vc", "readout")
    if ref not in e.once:
        divider(e, e.names.elem("readout", None, "vc"), ref, vc, "readout",
                "transimpedance")
        e.once.add(ref)
    vdd, vss = e.rails("readout", "opamp")
    vss_v = e.config.opamp.supplies[1]

    def tia(name: str, col: str, out: str, n: int) -> None:
        e.matched_resistor(f"{name}_rf", (out, col), s.r, "transimpedance")
        e.matched_resistor(f"{name}_rx", (vdd, col), s.r * (vdd_v - vc) / (n * vc),
                           "transimpedance")
        e.matched_resistor(f"{name}_rd", (out, vss), s.r * -vss_v / vc, "transimpedance")
        current_limit(e, name, out, col, s.r)
        opamp(e, name, ref, col, out, "readout")
        e.b.guess(col, ir.num(vc))

    if not s.out:     # its current must not load the divider: on the supply instead
        e.add("vsource", f"{s.name}_ic", (vdd, s.col), 0.0, role="sense")
        e.b.guess(s.col, ir.num(vdd_v))
        return
    if s.minus:
        mid = f"{s.out}_tzm"
        tia(f"{s.name}_tzm", s.minus, mid, 1)
        e.b.guess(mid, s.guess_minus)
        e.matched_resistor(f"{s.name}_tzx", (mid, s.col), s.r, "transimpedance")
    tia(f"{s.name}_tz", s.col, s.out, 2 if s.minus else 1)
    e.b.guess(s.out, s.guess)


BLOCKS = {
    "attenuator": {"bjt": controlled_attenuator, "pdk": divider_attenuator},
    "readout": {"bjt": sensed_readout, "pdk": transimpedance_readout},
}
