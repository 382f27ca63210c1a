"""Compiling a bound system for its design range: the range and emitter paths from the
ODE on the task's inputs, then one circuit of independent copies or one per input."""

from __future__ import annotations

from dataclasses import replace

from ..circuit import Compiled, CompileOptions, build_circuit
from ..circuit.plan import design_excursions, design_ranges
from ..model import Model, System
from ..reference import OdeResult


def compile_system(system: System, options: CompileOptions, batched: bool = True
                   ) -> list[Compiled]:
    """One circuit holding every input as an independent copy, or one per input."""
    if batched or system.batch == 1:
        return [build_circuit(system, options)]
    return [build_circuit(system.sample(b), options) for b in range(system.batch)]


def with_design_range(options: CompileOptions, model: Model, ode: OdeResult
                      ) -> CompileOptions:
    """The options with the design range and emitter paths taken from the ODE on the
    task's inputs (the bias and the time scale are planned for it), unless given."""
    if options.ranges or not ode.success:
        return options
    return replace(options, ranges=design_ranges(model, ode.u),
                   excursions=design_excursions(model, ode.t, ode.u))
