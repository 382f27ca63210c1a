"""Latency from the model's own dynamics (docs/design.md section 10): the circuit's
units run at their effective time constants (:mod:`analogam.circuit.speed`: the
programmed capacitor plus what the amplifier adds, plus the lag of the amplifiers in
the input path), so its trajectory is, to first order, the model's ODE with each
group's tau replaced by its slowest unit's effective one. Its settling time is the
circuit's predicted latency, and the time scale that meets a latency target is found
on it (the compiler's own plan, from the slowest time constant alone, is the first
guess)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..circuit import Compiled, CompileOptions, build_circuit
from ..model import System
from ..reference import settling_time, simulate_ode

PLAN_STEPS = 8
"""Refinements of the time scale (each a compile and an ODE of the slowest inputs)."""
PLAN_TOL = 0.02
"""Relative distance from the latency target at which the plan stops."""
PLAN_INPUTS = 8
"""The design inputs the plan integrates: the ones the ODE takes longest to settle."""


def effective_system(system: System, compiled: Compiled) -> System:
    """``system`` with each group's tau (model units) the slowest of its units'
    effective time constants plus input lag, in units of the circuit's T0."""
    t0 = compiled.scales.t0
    worst: dict[str, float] = {}
    for u in compiled.speeds:
        worst[u.group] = max(worst.get(u.group, 0.0), (u.tau_eff_s + u.lag_s) / t0)
    m = system.model
    groups = tuple(replace(g, tau=max(g.tau, worst.get(g.name, g.tau))) for g in m.groups)
    return replace(system, model=replace(m, groups=groups))


def predicted_settling(system: System, compiled: Compiled) -> np.ndarray:
    """Per input, the seconds the circuit ``compiled`` (holding ``system``) takes to
    settle (1 % band), from the model's ODE at the effective time constants."""
    eff = effective_system(system, compiled)
    stretch = eff.model.tau_max / system.model.tau_max
    t_end = system.model.readout_time * max(1.0, stretch) * 1.5
    ode = simulate_ode(eff, t_end=t_end, n_points=401, rtol=1e-6, atol=1e-8)
    free = eff.free
    return settling_time(ode.t, ode.u, free) * compiled.scales.t0


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
    opts = options
    for _ in range(PLAN_STEPS):
        c = build_circuit(sub, opts)
        pred = float(predicted_settling(sub, c).max())
        t0 = c.scales.t0 * target / pred
        opts = options.with_config(cfg.with_value("scales.t0", t0))
        if abs(pred - target) <= PLAN_TOL * target:
            break
    return opts
