"""Reading a SPICE run back in model terms: states ``u = V / Vs`` at model times
``t / T0`` (docs/design.md section 4's scales)."""

from __future__ import annotations

import numpy as np

from ..circuit import Compiled
from ..spice import SpiceResult


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
