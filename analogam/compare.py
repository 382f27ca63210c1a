"""Circuit vs ODE reference: map SPICE waveforms back to model units and time, and
score them (DESIGN.md section 5). Reads both results; imports neither runner.

A failed SPICE run is never compared: :func:`compare` raises on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compile import Compiled
from .errors import SimulationError
from .model import energy, repeat_system
from .ode import OdeResult
from .spice import SpiceResult


def spice_states(compiled: Compiled, result: SpiceResult) -> tuple[np.ndarray, np.ndarray]:
    """(t, u): model time ``t = time / T0`` (T,) and states ``u = V / Vs`` (B, T, N)."""
    result.raise_for_status()
    sc = compiled.scales
    t = result.time / sc.t0
    B, N = compiled.system.u0.shape
    u = np.zeros((B, t.size, N))
    for p in compiled.circuit.probes:
        u[p.copy, :, p.unit] = result.voltage(p.net) / sc.vs
    return t, u


def op_states(compiled: Compiled, result: SpiceResult) -> np.ndarray:
    """States ``u = V / Vs`` (B, N) of a DC operating-point run."""
    result.raise_for_status()
    B, N = compiled.system.u0.shape
    u = np.zeros((B, N))
    for p in compiled.circuit.probes:
        u[p.copy, p.unit] = result.voltage(p.net)[-1] / compiled.scales.vs
    return u


def resample(t_src: np.ndarray, u: np.ndarray, t_dst: np.ndarray) -> np.ndarray:
    """Linear interpolation of (B, T, N) trajectories onto new times."""
    out = np.empty(u.shape[:1] + (t_dst.size,) + u.shape[2:])
    for b in range(u.shape[0]):
        for n in range(u.shape[2]):
            out[b, :, n] = np.interp(t_dst, t_src, u[b, :, n])
    return out


def settling_time(t: np.ndarray, u: np.ndarray, free: np.ndarray, frac: float = 0.01
                  ) -> np.ndarray:
    """Per sample, the first time after which every free unit stays within ``frac`` of
    its total excursion ``max_i |u_i(T) - u_i(0)|`` from its final value (model time)."""
    d = np.abs(u[:, :, free] - u[:, -1:, free]).max(axis=2)           # (B, T)
    span = np.abs(u[:, -1, free] - u[:, 0, free]).max(axis=1)         # (B,)
    tol = frac * np.maximum(span, 1e-12)
    out = np.empty(u.shape[0])
    for b in range(u.shape[0]):
        outside = np.flatnonzero(d[b] > tol[b])
        out[b] = t[outside[-1] + 1] if outside.size and outside[-1] + 1 < t.size else (
            t[-1] if outside.size else t[0])
    return out


@dataclass(frozen=True)
class Comparison:
    """Per-input and summary figures of circuit vs ODE, on the ODE's time grid.

    Errors are in model units; times in units of the slowest time constant (tau_v).
    """

    t: np.ndarray
    u_spice: np.ndarray
    u_ode: np.ndarray
    energy_spice: np.ndarray
    max_err: np.ndarray
    readout_err: np.ndarray
    settle_spice_tau: np.ndarray
    settle_ode_tau: np.ndarray
    tau_s: float

    @property
    def energy_rise(self) -> np.ndarray:
        """Largest increase of the model energy along each SPICE trajectory."""
        return np.maximum(np.diff(self.energy_spice, axis=1).max(axis=1, initial=0.0), 0.0)


def compare(compiled: Compiled, spice: SpiceResult, ode: OdeResult) -> Comparison:
    """Map SPICE back to model units and compare with the ODE over the ODE's grid."""
    if not spice.success:
        raise SimulationError(f"not comparing a failed simulation: {spice.message}")
    t_sp, u_sp = spice_states(compiled, spice)
    if t_sp.size < 2 or t_sp[-1] < ode.t[-1] * (1 - 1e-6):
        raise SimulationError(f"SPICE trajectory ends at t={t_sp[-1] if t_sp.size else 0:g} "
                              f"before the read-out t={ode.t[-1]:g}")
    u_s = resample(t_sp, u_sp, ode.t)
    system = compiled.system
    T = ode.t.size
    e = energy(repeat_system(system, T), u_s.reshape(-1, u_s.shape[2])).reshape(u_s.shape[0], T)
    err = np.abs(u_s - ode.u)
    tau = system.model.tau_max
    free = system.free
    return Comparison(
        t=ode.t, u_spice=u_s, u_ode=ode.u, energy_spice=e,
        max_err=err.max(axis=(1, 2)), readout_err=err[:, -1, :].max(axis=1),
        settle_spice_tau=settling_time(ode.t, u_s, free) / tau,
        settle_ode_tau=settling_time(ode.t, ode.u, free) / tau,
        tau_s=tau * compiled.scales.t0,
    )
