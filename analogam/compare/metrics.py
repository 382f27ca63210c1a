"""Circuit vs ODE reference (docs/design.md section 5): state error over the trajectory and
at the read-out, settling, and the model energy along the circuit's trajectory. Reads
both results; imports neither runner. A failed SPICE run is never compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..circuit import Compiled
from ..errors import SimulationError
from ..model import System, energy, energy_rise, repeat_system
from ..reference import OdeResult, settling_time
from ..spice import SpiceResult
from .readback import resample, spice_states


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
        return energy_rise(self.energy_spice)

    def summary(self) -> dict:
        """The comparison's figures over all inputs (model units, tau_v, seconds)."""
        return {
            "max_state_error": float(self.max_err.max()),
            "max_readout_error": float(self.readout_err.max()),
            "settling_tau_median": float(np.median(self.settle_spice_tau)),
            "settling_tau_max": float(self.settle_spice_tau.max()),
            "settling_s_max": float(self.settle_spice_tau.max() * self.tau_s),
            "settling_tau_ode_max": float(self.settle_ode_tau.max()),
            "tau_v_s": self.tau_s,
            "circuit_energy_rise_max": float(self.energy_rise.max()),
        }


def compare(compiled: Compiled, spice: SpiceResult, ode: OdeResult,
            system: System | None = None) -> Comparison:
    """Map SPICE back to model units and compare with the ODE over the ODE's grid.
    The model energy along the circuit trajectory is that of ``system`` (default: the
    weights the circuit holds)."""
    if not spice.success:
        raise SimulationError(f"not comparing a failed simulation: {spice.message}")
    t_sp, u_sp = spice_states(compiled, spice)
    if t_sp.size < 2 or t_sp[-1] < ode.t[-1] * (1 - 1e-6):
        raise SimulationError(f"SPICE trajectory ends at t={t_sp[-1] if t_sp.size else 0:g} "
                              f"before the read-out t={ode.t[-1]:g}")
    u_s = resample(t_sp, u_sp, ode.t)
    system = system or compiled.system
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


def stack(parts: list[Comparison]) -> Comparison:
    """The comparisons of several circuits (same time grid) as one, inputs in order."""
    if len(parts) == 1:
        return parts[0]
    cat = {f: np.concatenate([getattr(p, f) for p in parts])
           for f in ("u_spice", "u_ode", "energy_spice", "max_err", "readout_err",
                     "settle_spice_tau", "settle_ode_tau")}
    return Comparison(t=parts[0].t, tau_s=parts[0].tau_s, **cat)
