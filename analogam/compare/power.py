"""Energy per inference, measured at the supplies of the SPICE run.

From the opamp level every block draws from rail nets of its own role (integrators,
line drivers, current copies, inverters, activations, bias), joined to the supplies
by zero-volt sense sources (:meth:`~analogam.circuit.blocks.base.Emit.rail`); the
circuit lists them as meters. A meter's power is ``P = V_rail i(sense)`` (W), so
the energy a role draws until the input settled is

    E_role = integral_0^t_settle sum_{meters of the role} V_rail i(t) dt      (J)

by the trapezoidal rule on ngspice's own time points (the last interval cut at
``t_settle``). By Kirchhoff's current law the roles of every copy add up to what the
supplies deliver: :func:`supply_balance` checks it, so a block wired past its meter
shows. Listed apart: what the input sources deliver, the supply power once settled
(the cost of holding the answer while it is read out, W), and the reset, ``sum C
V0^2`` over the integrators (charging a capacitor to V0 from a source through a
switch draws ``C V0^2``: half stored, half lost).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..circuit import Compiled
from ..spice import SpiceResult

Array = np.ndarray


@dataclass(frozen=True)
class InferenceEnergy:
    """One inference: energy drawn from the supplies until settled, per block role and
    in total (J); delivered by the inputs (J); supply power at the settled state (W);
    reset energy (J); the settling time (s)."""

    by_role_j: dict[str, float]
    total_j: float
    inputs_j: float
    hold_w: float
    reset_j: float
    t_settle_s: float


def _power(result: SpiceResult, meters) -> Array:
    p = np.zeros(result.time.size)
    for m in meters:
        p = p + m.volts * m.sign * result.current(m.source)
    return p


def _energy(t: Array, p: Array, t_end: float) -> float:
    """Trapezoidal integral of ``p`` over ``[t[0], t_end]`` (``p`` linear between
    samples)."""
    t_end = min(max(t_end, t[0]), t[-1])
    k = int(np.searchsorted(t, t_end, side="right"))
    tt = np.append(t[:k], t_end)
    pp = np.append(p[:k], np.interp(t_end, t, p))
    return float(np.sum(0.5 * (pp[1:] + pp[:-1]) * np.diff(tt)))


def inference_energy(compiled: Compiled, result: SpiceResult, t_settle_s: float,
                     copy: int = 0) -> InferenceEnergy:
    """The energy of copy ``copy`` of ``compiled`` in ``result`` until ``t_settle_s``
    (seconds), from the circuit's meters (see the module docstring)."""
    meters = [m for m in compiled.circuit.meters if m.copy == copy]
    if not meters:
        raise ValueError(f"circuit {compiled.circuit.title!r} has no supply meters (the "
                         "supplies are measured from the opamp level up)")
    t = result.time
    roles = sorted({m.role for m in meters if m.role != "input"})
    by_role = {r: _energy(t, _power(result, [m for m in meters if m.role == r]), t_settle_s)
               for r in roles}
    supplies = [m for m in meters if m.role != "input"]
    sys, sc = compiled.system, compiled.scales
    c = sys.model.tau * sc.t0 * sc.g0
    v0 = sc.vs * sys.u0[copy]
    free = sys.free
    return InferenceEnergy(
        by_role_j=by_role, total_j=float(sum(by_role.values())),
        inputs_j=_energy(t, _power(result, [m for m in meters if m.role == "input"]),
                         t_settle_s),
        hold_w=float(_power(result, supplies)[-1]),
        reset_j=float(np.sum((c * v0**2)[free])), t_settle_s=float(t_settle_s))


def supply_balance(compiled: Compiled, result: SpiceResult) -> float:
    """``(E_supplies - sum_copies sum_roles E) / E_supplies`` over the whole run: zero
    when every block's current passes its meter."""
    meters = compiled.circuit.meters
    t = result.time
    at_supplies = _energy(t, _power(result, [m for m in meters if m.copy < 0]), t[-1])
    by_roles = _energy(t, _power(result, [m for m in meters
                                          if m.copy >= 0 and m.role != "input"]), t[-1])
    return (at_supplies - by_roles) / at_supplies if at_supplies else 0.0


EULER_STEPS_PER_TAU = 10
"""The digital baseline's step: forward Euler at a tenth of the fastest tau."""
DIGITAL_PJ_PER_OP = {"int8 arithmetic, 45 nm": 0.115, "fp32 arithmetic, 45 nm": 2.3}
"""Energy per operation of digital arithmetic alone (a multiply-accumulate is two
operations; no memory traffic): Horowitz, "Computing's energy problem", ISSCC 2014
(45 nm: int8 add 0.03 pJ + multiply 0.2 pJ; fp32 add 0.9 pJ + multiply 3.7 pJ)."""
IN_MEMORY_PJ_PER_OP = (0.1, 0.4)
"""Analog in-memory computing chips (the IBM HERMES phase-change chip, Nature
Electronics 2023): 0.1 to 0.4 pJ per operation."""


def equivalent_ops(weights, settle: float, tau_min: float) -> float:
    """The operations a digital machine spends on the same answer: forward Euler on the
    model's ODE at ``tau_min / EULER_STEPS_PER_TAU`` until the settling time ``settle``
    (model units), each step both matrix-vector products of every coupling, two
    operations per multiply-accumulate:

        ops = 4 nnz ceil(EULER_STEPS_PER_TAU settle / tau_min)

    ``weights``: one copy's coupling matrices (nnz counts their nonzero entries)."""
    nnz = sum(int(np.count_nonzero(np.asarray(w))) for w in weights)
    steps = max(1, int(np.ceil(EULER_STEPS_PER_TAU * settle / tau_min)))
    return float(4 * nnz * steps)
