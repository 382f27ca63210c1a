"""The speed model (docs/design.md section 10): how fast each unit of a compiled circuit
really is, what compensating its integrator buys, and the time scale that meets a
latency target.

An op-amp integrator with unity-gain frequency ``w_u = 2 pi GBW``, open-loop gain
``A0``, input conductances ``G_in`` and leak ``G_L`` on its summing node (``G_node =
G_in + G_L``) obeys, to first order in ``1/A0`` and ``s / w_u``::

    sum_j G_j V_j + V_u [(G_L + G_node / A0) + s (C (1 + 1/A0) + G_node / w_u)] = 0

so its leak grows by ``G_node / A0`` (the fixed point shrinks by that fraction) and its
capacitor by ``G_node / w_u`` (its time constant stretches by ``1 + e``, ``e = G_node /
(w_u C)``): a predictable error that is compensated by programming

    G_L' = (G_L - G_in / A0) / (1 + 1/A0),     C' = (C - G_node' / w_u) / (1 + 1/A0),

while ``C'`` stays above ``c_floor C``; below that the amplifier sets the unit's pace.
The amplifiers in a unit's input path (a copy's difference amplifier at ``w_u / (1 +
b)``, the line driver at ``w_u``) add their lags to its time constant (Elmore), and a
translinear emitter adds ``C_E V_T / I_tail``.

Settling of the whole circuit is then predicted from the model's own settling time
``t_s`` (model units, from the ODE on the design inputs) as ``(t_s / tau_max) max(
tau_max T0, max_i tau_eff_i)``: the slowest effective time constant sets the pace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CircuitError


@dataclass(frozen=True)
class UnitSpeed:
    """One integrating unit: its nominal time constant ``tau_s`` (s); the capacitor as
    designed and as programmed (F); its summing-node conductance (S); the lag of the
    amplifiers in its input path (s); its effective time constant (s); and whether its
    amplifier, not its capacitor, sets it (``limited``)."""

    unit: str
    group: str
    index: int
    tau_s: float
    c_nominal: float
    c_programmed: float
    g_node: float
    lag_s: float
    tau_eff_s: float
    limited: bool

    @property
    def stretch(self) -> float:
        """Effective over nominal time constant."""
        return self.tau_eff_s / self.tau_s


@dataclass(frozen=True)
class Compensation:
    """What an op-amp integrator is programmed with (F, S) and what it then does."""

    c: float
    g_leak: float
    tau_eff_s: float
    limited: bool


def compensate(c: float, g_leak: float, g_in: float, gbw: float, a0: float,
               floor: float, enabled: bool = True, c_min: float = 0.0) -> Compensation:
    """The integrator's programmed capacitor and leak for an amplifier of ``gbw`` (Hz)
    and ``a0``, and its effective time constant (s) (module docstring); the capacitor
    is never below ``c_min`` (F, the smallest the process draws). ``enabled`` False:
    the nominal values, and the stretch they get."""
    w = 2 * np.pi * gbw
    if not enabled:
        g_node = g_in + g_leak
        c_eff = c * (1 + 1 / a0) + g_node / w
        return Compensation(c, g_leak, c_eff / (g_leak + g_node / a0), False)
    g_l = (g_leak - g_in / a0) / (1 + 1 / a0)
    if g_l <= 0:        # the amplifier's gain cannot be made up for by the leak
        g_l = g_leak
    g_node = g_in + g_l
    c_p = (c - g_node / w) / (1 + 1 / a0)
    limited = c_p < max(floor * c, c_min)
    if limited:
        c_p = max(floor * c, c_min)
    c_eff = c_p * (1 + 1 / a0) + g_node / w
    return Compensation(c_p, g_l, c_eff / (g_l + g_node / a0), limited)


GBW_STEP = 2 ** 0.5
"""Amplifiers biased per unit come in half-octave steps of gain-bandwidth."""


def scaled_gbw(base: float, c: float, g_node: float) -> float:
    """The gain-bandwidth (Hz) that keeps ``G_node / w_u`` at most half the capacitor
    ``c`` (``w_u >= 2 G_node / C``), rounded up to a half-octave step above ``base``
    (never below it): a unit keeps its time constant whatever its fan-in, and its
    amplifier's power grows with the conductance it integrates."""
    need = 2 * g_node / (2 * np.pi * c)
    if need <= base:
        return base
    return base * GBW_STEP ** float(np.ceil(np.log(need / base) / np.log(GBW_STEP) - 1e-9))


def slowest_settling(units: tuple[UnitSpeed, ...], settle: float, tau_max: float,
                       t0: float) -> float:
    """The compiler's estimate of the seconds until the circuit settles (the study's
    is the model's ODE at the circuit's timing, :mod:`analogam.study.latency`):
    ``(t_s / tau_max) max(tau_max T0, max_i tau_eff_i + lag_i)`` with ``settle`` = t_s
    (model units)."""
    slowest = max([tau_max * t0] + [u.tau_eff_s + u.lag_s for u in units])
    return settle / tau_max * slowest


@dataclass(frozen=True)
class UnitTiming:
    """What the latency plan needs of a unit, independent of the time scale: its
    model time constant, summing-node conductance (S), input-path lag (s)."""

    unit: str
    tau: float
    g_node: float
    lag_s: float


def settling_at(t0: float, timings: tuple[UnitTiming, ...], settle: float, tau_max: float,
                g0: float, gbw: float, a0: float, floor: float, compensated: bool,
                scaled: bool = False, c_min: float = 0.0) -> tuple[float, UnitTiming]:
    """Predicted settling (s) at time scale ``t0`` and the unit that sets it
    (``scaled``: each integrator's amplifier biased per :func:`scaled_gbw`; ``c_min``:
    the smallest capacitor the process draws, F)."""
    worst, slowest = None, tau_max * t0
    for u in timings:
        g_in = u.g_node - g0
        c = u.tau * t0 * g0
        w = scaled_gbw(gbw, c, u.g_node) if scaled else gbw
        comp = compensate(c, g0, g_in, w, a0, floor, compensated, c_min)
        eff = comp.tau_eff_s + u.lag_s
        if eff > slowest:
            worst, slowest = u, eff
    return settle / tau_max * slowest, worst


def plan_time_scale(latency: float, timings: tuple[UnitTiming, ...], settle: float,
                    tau_max: float, g0: float, gbw: float, a0: float, floor: float,
                    compensated: bool, scaled: bool = False, c_min: float = 0.0) -> float:
    """The largest T0 (s per model time unit) whose predicted settling is within
    ``latency`` (s): larger capacitors and less power per unit time for the same
    answer. Raises CircuitError naming the unit and block that forbid the target and
    the fastest latency they allow."""
    fastest, worst = settling_at(1e-18, timings, settle, tau_max, g0, gbw, a0, floor,
                                 compensated, scaled, c_min)
    if fastest > latency:
        lag = worst.lag_s if worst else 0.0
        amp = 0.0 if scaled or not worst else worst.g_node / (2 * np.pi * gbw * g0)
        what = (f"unit {worst.unit}: its integrator's amplifier ({gbw:.3g} Hz over a summing "
                f"node of {worst.g_node:.3g} S: {amp:.3g} s) and the amplifiers in its "
                f"input path ({lag:.3g} s)" if worst else "the translinear emitters")
        raise CircuitError(f"a latency of {latency:.3g} s is out of reach: the fastest this "
                           f"circuit settles is {fastest:.3g} s, set by {what}; relax "
                           "design.latency, or raise opamp.gbw (at a level with a process "
                           "kit, its amplifier's sizing)")
    lo, hi = 1e-18, 1e3
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        if settling_at(mid, timings, settle, tau_max, g0, gbw, a0, floor,
                       compensated, scaled, c_min)[0] > latency:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1 + 1e-9:
            break
    return float(lo)


EMITTER_FRACTION = 0.1
"""A translinear emitter's time constant is held to this fraction of its group's."""


def tail_for(n: int, cje: float, tf: float, vt: float, tau_s: float) -> float:
    """The tail current (A) that holds a shared emitter of ``n`` junctions (zero-bias
    capacitance ``cje`` each, forward-biased to about twice that, transit time ``tf``)
    to ``EMITTER_FRACTION`` of its group's time constant ``tau_s`` (s):

        C_E V_T / I <= f tau,   C_E = 2 n cje + tf I / V_T
        =>  I >= 2 n cje V_T / (f tau - tf)

    (inf when the transit time alone is too slow)."""
    room = EMITTER_FRACTION * tau_s - tf
    return float("inf") if room <= 0 else 2 * n * cje * vt / room
