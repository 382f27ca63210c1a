"""Compiling a bound system for its design range: the range and emitter paths from the
ODE on the task's inputs, then one circuit of independent copies or one per input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..circuit import Compiled, CompileOptions, build_circuit
from ..circuit.plan import design_excursions, design_ranges
from ..model import Model, System
from ..reference import OdeResult, settling_time, simulate_ode
from ..spice import DEFAULT_TIMEOUT_S
from .calibrate import calibrate
from .latency import plan_latency

READOUT_LATENCIES = 1.5
"""With a latency target, the circuit is read out at least this many latencies in:
the settling check needs a settled stretch after the target."""


def readout_end(model: Model, options: CompileOptions, t_end: float | None = None) -> float:
    """The model time of the read-out: ``t_end`` if given; else the model's read-out
    time, and with a latency target at least ``READOUT_LATENCIES`` latencies at the
    planned time scale (``t_read = max(readout_time, 1.5 latency / T0)``): a design
    paced by its amplifiers settles later in model time than the model does, and the
    ODE it is compared with must run as long as the circuit."""
    if t_end is not None:
        return t_end
    cfg = options.config
    if cfg.design.latency and cfg.scales.t0:
        return max(model.readout_time, READOUT_LATENCIES * cfg.design.latency / cfg.scales.t0)
    return model.readout_time


def reference_to_readout(model: Model, options: CompileOptions, system: System,
                         ode: OdeResult, t_end: float | None = None
                         ) -> tuple[float, OdeResult]:
    """The read-out time (:func:`readout_end`) and the ODE reference run that far
    (``ode`` itself when it already is)."""
    t_read = readout_end(model, options, t_end)
    return t_read, ode if t_read <= ode.t[-1] else simulate_ode(system, t_end=t_read)


def compile_system(system: System, options: CompileOptions, batched: bool = True,
                   timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Compiled]:
    """One circuit holding every input as an independent copy, or one per input; a
    chip drawn from the kit's own mismatch calibrated first (:func:`.calibrate.calibrate`:
    one ngspice operating point, at most ``timeout_s``; SimulationError when it
    fails)."""
    options = calibrate(system, options, timeout_s)
    if batched or system.batch == 1:
        return [build_circuit(system, options)]
    return [build_circuit(system.sample(b), options) for b in range(system.batch)]


def with_design_range(options: CompileOptions, model: Model, ode: OdeResult,
                      system: System | None = None) -> CompileOptions:
    """The options with the design range, the emitter paths and the settling time
    (model units, the slowest input's) taken from the ODE on the task's inputs, unless
    given; and, with a latency target and the bound ``system`` the ODE integrated, the
    time scale that meets it (:func:`~.latency.plan_latency`)."""
    if options.ranges or not ode.success:
        return options
    settle = settling_time(ode.t, ode.u, np.ones(model.n_units, bool))
    options = replace(options, ranges=design_ranges(model, ode.u),
                      excursions=design_excursions(model, ode.t, ode.u),
                      settle=float(settle.max()))
    return options if system is None else plan_latency(system, options, settle)
