"""Latency from the model's own dynamics (docs/design.md section 10): each unit of
the circuit integrates at its effective time constant (:mod:`analogam.circuit.speed`:
the programmed capacitor plus what its amplifier adds) an input that reaches it
through the lag of the amplifiers in its path (the partner's line driver, the copy's
difference amplifier). Integrating the model's own drive with that timing predicts the
circuit's trajectory to first order, and its settling time the circuit's latency; the
time scale that meets a latency target is found on it (the compiler's own plan, from
the slowest time constant alone, is the first guess)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from ..circuit import Compiled, CompileOptions, build_circuit
from ..errors import SimulationError
from ..model import System, force
from ..reference import settling_time

PLAN_STEPS = 8
"""Refinements of the time scale (each a compile and an ODE of the slowest inputs)."""
PLAN_TOL = 0.02
"""Relative distance from the latency target at which the plan stops."""
PLAN_INPUTS = 8
"""The design inputs the plan integrates: the ones the ODE takes longest to settle."""


def unit_timing(system: System, compiled: Compiled) -> tuple[np.ndarray, np.ndarray]:
    """Per flat unit of ``system``, its effective time constant and its input-path lag,
    in model time units of the circuit's T0 (the slowest copy's, where the circuit holds
    several)."""
    m, t0 = system.model, compiled.scales.t0
    tau, lag = np.array(m.tau, float), np.zeros(m.n_units)
    for u in compiled.speeds:
        k = m.slices[u.group].start + u.index
        tau[k] = max(tau[k], u.tau_eff_s / t0)
        lag[k] = max(lag[k], u.lag_s / t0)
    return tau, lag


def predicted_settling(system: System, compiled: Compiled | list[Compiled]) -> np.ndarray:
    """Per input, the seconds the circuit takes to settle (1 % band), from the model's
    drive at the circuit's timing: each unit integrates at its effective time constant
    a copy of its input that reaches it through the lag of its input path,

        tau_eff du/dt = z - u,      lag dz/dt = drive(u) - z,

    ``drive(u) = u + tau force(u)`` the model's own (:func:`analogam.model.force`).
    ``compiled``: the circuit holding ``system``, or the circuits holding consecutive
    slices of its batch (one per input: integrated together, as independent blocks)."""
    parts = compiled if isinstance(compiled, list) else [compiled]
    m = system.model
    B, N = system.u0.shape
    tau_eff, lag, t0 = np.empty((B, N)), np.empty((B, N)), np.empty(B)
    start = 0
    for c in parts:
        stop = start + c.system.batch
        tau_eff[start:stop], lag[start:stop] = unit_timing(system, c)
        t0[start:stop] = c.scales.t0
        start = stop
    free = system.free
    lagged = lag > 0
    stretch = float(np.max((tau_eff + lag) / m.tau))
    t_end = m.readout_time * max(1.0, stretch) * 1.5

    def rhs(_t, y):
        u = y[: B * N].reshape(B, N)
        z = y[B * N:].reshape(B, N)
        d = u + m.tau * force(system, u)
        target = np.where(lagged, z, d)
        du = np.where(free, (target - u) / tau_eff, 0.0)
        dz = np.where(lagged, (d - z) / np.where(lagged, lag, 1.0), 0.0)
        return np.concatenate([du.ravel(), dz.ravel()])

    u0 = np.asarray(system.u0, float)
    z0 = u0 + m.tau * force(system, u0)
    t = np.linspace(0.0, t_end, 801)
    # inputs are independent: each one's (u, z) couple only among themselves
    states = np.concatenate([np.arange(B * N).reshape(B, N),
                             B * N + np.arange(B * N).reshape(B, N)], axis=1)   # (B, 2N)
    rows = np.repeat(states, 2 * N, axis=1).ravel()
    cols = np.tile(states, (1, 2 * N)).ravel()
    sparsity = sp.csr_matrix((np.ones(rows.size, bool), (rows, cols)),
                             shape=(2 * B * N, 2 * B * N))
    sol = solve_ivp(rhs, (0.0, t_end), np.concatenate([u0.ravel(), z0.ravel()]),
                    method="BDF", t_eval=t, rtol=1e-6, atol=1e-9, jac_sparsity=sparsity)
    if not sol.success:
        raise SimulationError(f"the speed model's integration failed: {sol.message}")
    u = sol.y[: B * N].T.reshape(t.size, B, N).transpose(1, 0, 2)
    return settling_time(t, u, free) * t0


def plan_latency(system: System, options: CompileOptions, settle: np.ndarray
                 ) -> CompileOptions:
    """The options with ``scales.t0`` chosen so the circuit's predicted settling on the
    inputs that settle slowest (``settle``: the ODE's per input, model units) meets
    ``design.latency`` (unchanged when there is no target or T0 is set)."""
    cfg = options.config
    target = cfg.design.latency
    if not target or cfg.scales.t0:
        return options
    slow = np.argsort(-settle)[:PLAN_INPUTS]
    sub = system.select(np.sort(slow))
    # planned on the nominal chip: the kit's drawn mismatch is what the plan must survive
    nominal = cfg.with_value("environment.kit_mismatch", False)
    opts = options.with_config(nominal)
    for _ in range(PLAN_STEPS):
        c = build_circuit(sub, opts)
        pred = float(predicted_settling(sub, c).max())
        t0 = c.scales.t0 * target / pred
        opts = options.with_config(nominal.with_value("scales.t0", t0))
        if abs(pred - target) <= PLAN_TOL * target:
            break
    return options.with_config(cfg.with_value("scales.t0", opts.config.scales.t0))
