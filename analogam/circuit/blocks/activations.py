"""Activation blocks: drive each unit's activation node at ``Vs * y`` from the state
nodes ``Vs * u`` of its group, one emitter per activation and level.

- identity: a unity buffer;
- relu: ``max(u, 0)`` (behavioural), or a precision rectifier (super-diode);
- tanh: ``Vs tanh(gain u)`` (behavioural), or a BJT differential pair: the pair's
  differential collector current is ``I_tail tanh(dV_B / 2 V_T)``, so a base drive of
  ``dV_B = 2 gain V_T / Vs * V_u`` gives ``tanh(gain u)``;
- softmax: ``Vs softmax(beta u)`` (behavioural), or N matched NPNs on one tail current:
  collector currents ``alpha I_tail softmax(V_B / V_T)`` with base drive
  ``beta V_T / Vs * V_u``, read by transimpedances ``Vs / (alpha I_tail)``.

Translinear blocks drift as ``1/T`` unless their attenuators track temperature
(``bjt.ptat``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir
from ..ir import GROUND
from ..kits import DIODE, thermal_voltage
from .amplifier import opamp
from .base import Emit
from .devices import NpnSpec, TailSpec
from .translinear import AttenuatorSpec, ReadoutSpec


@dataclass(frozen=True)
class ActivationSpec:
    """Group ``group`` of ``size`` units with activation parameter ``param`` (gain or
    beta); ``lines[i]`` says whether unit i has a line (only those need an activation
    node); ``shift`` (model units x param) is subtracted inside a behavioural softmax's
    exponentials so they stay in range (the softmax is invariant to it); ``base_shift``
    (V) is added to every base drive of a translinear block (a common-mode level shift:
    softmax and the differential pair are invariant to it) so its transistors stay
    forward-active over the states the design expects."""

    group: str
    size: int
    param: float
    lines: tuple[bool, ...]
    shift: float = 0.0
    base_shift: float = 0.0

    def with_line(self) -> list[int]:
        return [i for i, has in enumerate(self.lines) if has]


def buffer(e: Emit, s: ActivationSpec) -> None:
    """identity: ``V_act = V_u``."""
    n = e.names
    for i in s.with_line():
        e.add("vcvs", n.elem(s.group, i, "act"), (n.act(s.group, i), GROUND,
                                                  n.state(s.group, i), GROUND), 1.0,
              role="buffer")
        e.b.guess(n.act(s.group, i), ir.volt(n.state(s.group, i)))


def wire(e: Emit, s: ActivationSpec) -> None:
    """identity as what it is on a chip: the activation node is the state node (a
    zero-volt source joins the two names; the driver that reads it draws no current)."""
    n = e.names
    for i in s.with_line():
        e.add("vsource", n.elem(s.group, i, "act"), (n.act(s.group, i), n.state(s.group, i)),
              0.0, role="buffer")
        e.b.guess(n.act(s.group, i), ir.volt(n.state(s.group, i)))


def _behavioural(e: Emit, s: ActivationSpec, expr) -> None:
    n = e.names
    for i in s.with_line():
        x = expr(ir.volt(n.state(s.group, i)))
        e.add("bvoltage", n.elem(s.group, i, "act"), (n.act(s.group, i), GROUND), x,
              role="activation")
        e.b.guess(n.act(s.group, i), x)


def relu_behavioural(e: Emit, s: ActivationSpec) -> None:
    """relu: ``V_act = max(V_u, 0)``."""
    _behavioural(e, s, lambda v: ir.call("max", v, ir.num(0.0)))


def tanh_behavioural(e: Emit, s: ActivationSpec) -> None:
    """tanh: ``V_act = Vs tanh(gain V_u / Vs)``."""
    vs = e.scales.vs
    _behavioural(e, s, lambda v: ir.mul(ir.num(vs), ir.call(
        "tanh", ir.mul(ir.num(s.param / vs), v))))


def softmax_behavioural(e: Emit, s: ActivationSpec) -> None:
    """softmax in log-sum-exp form: one node at ``lse = ln sum_j exp(k V_j - shift)``
    (volts as a number), then ``V_act_i = Vs exp(k V_i - shift - lse)``, ``k = beta/Vs``.
    No division: at the simulator's first Newton iterate (every unknown at 0) each term
    is finite, where a normalising denominator node would divide by zero."""
    n, vs = e.names, e.scales.vs
    k = s.param / vs
    exps = [ir.add(ir.mul(ir.num(k), v), ir.num(-s.shift)) if s.shift
            else ir.mul(ir.num(k), v)
            for v in (ir.volt(n.state(s.group, i)) for i in range(s.size))]
    lse = n.net("lse", s.group)
    x = ir.call("ln", ir.add(*(ir.call("exp", t) for t in exps)))
    e.add("bvoltage", n.elem(s.group, None, "lse"), (lse, GROUND), x, role="activation")
    e.b.guess(lse, x)
    for i in s.with_line():
        a = ir.mul(ir.num(vs), ir.call("exp", ir.add(exps[i], ir.scale(-1.0, ir.volt(lse)))))
        e.add("bvoltage", n.elem(s.group, i, "act"), (n.act(s.group, i), GROUND), a,
              role="activation")
        e.b.guess(n.act(s.group, i), a)


RECTIFIER_R = 100e3
"""Resistors of the rectifier's two inverting stages (ohm)."""
DIODE_DROP = 0.65
"""Forward drop of a conducting junction (V), for the voltage predictions only."""


def rectifier(e: Emit, s: ActivationSpec) -> None:
    """relu as an inverting stage followed by the two-diode precision half-wave
    rectifier, so neither op-amp ever leaves its linear region (a super-diode's op-amp
    rails while its unit is off and recovers slowly):

    - A1: ``V_n = -V_u`` (input and feedback resistors R);
    - A2: input R from ``V_n`` to its summing node; D1 from the summing node to A2's
      output closes the loop while ``V_n > 0`` (output held a diode drop below virtual
      ground, ``V_act = 0`` through R); D2 from A2's output to the activation node, and
      R from there back to the summing node, give ``V_act = -V_n = V_u`` while
      ``V_u > 0``. So ``V_act = max(V_u, 0)``; resistor mismatch is a gain error."""
    n = e.names
    e.b.model(DIODE)
    for i in s.with_line():
        u, out = n.state(s.group, i), n.act(s.group, i)
        neg, s1, s2, o2 = (n.net(k, s.group, i) for k in ("rn", "rs1", "rs2", "rd"))

        def res(suffix: str, a: str, b: str, i: int = i) -> None:
            name = n.elem(s.group, i, suffix)
            e.add("resistor", name, (a, b), e.var.resistor(e.key(name), RECTIFIER_R),
                  role="rectifier")

        res("rin1", u, s1)
        res("rfb1", s1, neg)
        opamp(e, n.elem(s.group, i, "rinv"), GROUND, s1, neg, "activation")
        res("rin2", neg, s2)
        opamp(e, n.elem(s.group, i, "rect"), GROUND, s2, o2, "activation")
        e.add("diode", n.elem(s.group, i, "rclamp"), (s2, o2), DIODE.name, role="rectifier")
        e.add("diode", n.elem(s.group, i, "rect"), (o2, out), DIODE.name, role="rectifier")
        res("rfb2", out, s2)
        vu = ir.volt(u)
        relu = ir.call("max", vu, ir.num(0.0))
        for net, x in ((neg, ir.scale(-1.0, vu)), (s1, ir.num(0.0)), (s2, ir.num(0.0)),
                       (out, relu),
                       # a diode drop above the output while on, below ground while off
                       (o2, ir.add(relu, ir.scale(2 * DIODE_DROP, ir.step(vu)),
                                   ir.num(-DIODE_DROP)))):
            e.b.guess(net, x)


def _bjt_limits(e: Emit, q: str, col: str, base: str, emit: str) -> None:
    """A translinear transistor must stay forward-active: V_BC below the kit's margin,
    V_CE above saturation, and its emitter-base junction short of reverse breakdown."""
    k = e.config.bjt
    d = lambda a, b: ir.add(ir.volt(a), ir.scale(-1.0, ir.volt(b)))  # noqa: E731
    e.limit(q, "V_BC (forward-active)", d(base, col), hi=k.vbc_max)
    e.limit(q, "V_CE (not saturated)", d(col, emit), lo=k.vce_min)
    e.limit(q, "V_EB (below reverse breakdown)", d(emit, base), hi=k.bv_ebo)


def _tail_limit(e: Emit, name: str, emit: str, vee: str) -> None:
    """A tail current source needs ``compliance`` volts across it."""
    e.limit(name, "tail source compliance",
            ir.add(ir.volt(emit), ir.scale(-1.0, ir.volt(vee))), lo=e.config.bjt.compliance)


def _alpha(e: Emit) -> float:
    """alpha_F of the kit at the collector-emitter voltage the transistors sit at
    (collectors on V_cc, emitters a diode drop below the bases near 0 V)."""
    kit = e.config.bjt
    return kit.alpha(kit.v_cc + 0.75)


def bjt_softmax(e: Emit, s: ActivationSpec) -> None:
    """N matched NPNs, emitters on one tail current: ``I_c = alpha I_tail
    softmax(V_B / V_T)``; base drive ``beta V_T / Vs * V_u`` (the level's
    ``attenuator``); each collector read by the level's ``readout`` at transimpedance
    ``Vs / (alpha I_tail)``."""
    kit, n, vs = e.config.bjt, e.names, e.scales.vs
    vee = e.rail("activation", 1)
    emit = n.net("e", s.group)
    gain = s.param * thermal_voltage() / vs
    e.block("tail")(e, TailSpec(n.elem(s.group, None, "tail"), emit, vee, kit.i_tail))
    _tail_limit(e, n.elem(s.group, None, "tail"), emit, vee)
    r = vs / (_alpha(e) * kit.i_tail)
    vt = thermal_voltage()
    bases = [n.net("b", s.group, i) for i in range(s.size)]
    terms = [ir.call("exp", ir.scale(1 / vt, ir.volt(b))) for b in bases]
    for i in range(s.size):
        base, col = bases[i], n.net("c", s.group, i)
        e.block("attenuator")(e, AttenuatorSpec(n.elem(s.group, i, "att"), s.group, base,
                                                n.state(s.group, i), gain, s.base_shift))
        q = n.elem(s.group, i)
        e.block("npn")(e, NpnSpec(q, col, base, emit))
        _bjt_limits(e, q, col, base, emit)
        out = n.act(s.group, i) if s.lines[i] else ""
        e.block("readout")(e, ReadoutSpec(
            q, out, col, r, ir.scale(vs, ir.div(terms[i], ir.add(*terms)))))
    # the emitters sit where the transistors' currents add up to the tail:
    # V_E = V_T ln(sum exp(V_B / V_T)) - V_T ln(I_tail / I_S)
    e.b.guess(emit, ir.add(ir.scale(vt, ir.call("ln", ir.add(*terms))),
                           ir.num(-vt * np.log(kit.i_tail / kit.i_s))))


def bjt_tanh(e: Emit, s: ActivationSpec) -> None:
    """Differential pair per unit: ``I_c+ - I_c- = alpha I_tail tanh(dV_B / 2V_T)`` with
    ``dV_B = 2 gain V_T / Vs * V_u`` (each base driven by ``+-gain V_T / Vs * V_u``
    through the level's ``attenuator``), read by the level's differential
    ``readout``."""
    kit, n, vs = e.config.bjt, e.names, e.scales.vs
    gain = s.param * thermal_voltage() / vs
    vt = thermal_voltage()
    for i in s.with_line():
        vee = e.rail("activation", 1)
        emit, u = n.net("e", s.group, i), n.state(s.group, i)
        e.block("tail")(e, TailSpec(n.elem(s.group, i, "tail"), emit, vee, kit.i_tail))
        _tail_limit(e, n.elem(s.group, i, "tail"), emit, vee)
        for side, sgn in (("p", 1.0), ("m", -1.0)):
            base, col = n.net(f"b{side}", s.group, i), n.net(f"c{side}", s.group, i)
            e.block("attenuator")(e, AttenuatorSpec(n.elem(s.group, i, f"att{side}"),
                                                    s.group, base, u, sgn * gain,
                                                    s.base_shift))
            q = n.elem(s.group, i) + side
            e.block("npn")(e, NpnSpec(q, col, base, emit))
            _bjt_limits(e, q, col, base, emit)
        t = ir.call("tanh", ir.scale(s.param / vs, ir.volt(u)))
        e.block("readout")(e, ReadoutSpec(
            n.elem(s.group, i), n.act(s.group, i), n.net("cp", s.group, i),
            vs / (_alpha(e) * kit.i_tail), ir.scale(vs, t), n.net("cm", s.group, i),
            ir.scale(vs / 2, ir.add(ir.num(1.0), ir.scale(-1.0, t)))))
        bp, bm = n.net("bp", s.group, i), n.net("bm", s.group, i)
        terms = [ir.call("exp", ir.scale(1 / vt, ir.volt(b))) for b in (bp, bm)]
        e.b.guess(emit, ir.add(ir.scale(vt, ir.call("ln", ir.add(*terms))),
                               ir.num(-vt * np.log(kit.i_tail / kit.i_s))))


BLOCKS = {
    "activation:identity": {"ideal": buffer, "pdk": wire},
    "activation:relu": {"ideal": relu_behavioural, "opamp": rectifier},
    "activation:tanh": {"ideal": tanh_behavioural, "bjt": bjt_tanh},
    "activation:softmax": {"ideal": softmax_behavioural, "bjt": bjt_softmax},
}


def softmax_shift(beta: float, u0: np.ndarray) -> float:
    """The behavioural softmax's exponent shift: beta times the largest initial state."""
    return beta * float(np.max(u0))
