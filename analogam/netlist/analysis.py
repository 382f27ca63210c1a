"""Analysis records handed to the writer with a circuit: a transient from the initial
conditions, a DC operating point, an AC sweep or a DC sweep (the amplifier benches).
Times in seconds, frequencies in Hz, temperature in degC.

The simulator options set the transient's accuracy: trapezoidal integration with a
maximum step of ``tau_min / steps_per_tau`` (docs/design.md section 8: a 10 ns step on a
1 us tau gives about 1e-5 state error against a tight ODE).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..circuit import Compiled, get_level
from ..errors import NetlistError

SIM_OPTIONS: tuple[tuple[str, float | str], ...] = (
    ("method", "trap"), ("reltol", 1e-5), ("abstol", 1e-13), ("vntol", 1e-8),
    ("chgtol", 1e-17), ("itl4", 50))
SOLVERS = ("klu", "sparse")
"""ngspice's sparse LU: KLU (ngspice >= 42 built with it: several times faster on dense
crossbars) or Sparse 1.3. ngspice 39 knows only Sparse and ignores the option."""
POINTS = 200


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What every analysis carries: the simulator options that set its accuracy, the
    circuit temperature (degC), the sparse solver, and ``nets`` and ``currents``
    (voltage sources) saved beside the probes and meters."""

    options: tuple[tuple[str, float | str], ...] = SIM_OPTIONS
    temperature_c: float = 27.0
    solver: str = "sparse"
    nets: tuple[str, ...] = ()
    currents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise NetlistError(f"unknown solver {self.solver!r}; valid: {', '.join(SOLVERS)}")


@dataclass(frozen=True)
class Transient(Settings):
    """Transient analysis from the initial conditions: print step, stop time and maximum
    internal step (s)."""

    tstep: float
    tstop: float
    tmax: float

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("tstep", "tstop", "tmax", "temperature_c"):
            v = getattr(self, name)
            if not np.isfinite(v):
                raise NetlistError(f"transient {name} is {v:g}; choose finite scales")
        if not (0 < self.tmax <= self.tstop and 0 < self.tstep <= self.tstop):
            raise NetlistError(f"transient steps out of range (tstep {self.tstep:g}, tmax "
                               f"{self.tmax:g}, tstop {self.tstop:g} s)")


@dataclass(frozen=True)
class OperatingPoint(Settings):
    """DC operating point, Newton started from the initial state (``.nodeset``)."""


@dataclass(frozen=True)
class AcSweep(Settings):
    """Small-signal AC analysis from ``f_start`` to ``f_stop`` (Hz), ``per_decade``
    points per decade, about the DC operating point."""

    f_start: float
    f_stop: float
    per_decade: int = 20


@dataclass(frozen=True)
class DcSweep(Settings):
    """DC transfer: voltage source ``source`` swept from ``start`` to ``stop`` by
    ``step`` (V)."""

    source: str
    start: float
    stop: float
    step: float


Analysis = Transient | OperatingPoint | AcSweep | DcSweep


def solver_for(compiled: Compiled) -> str:
    """KLU where the level's solver policy asks for it (circuits of at least its
    ``klu_min_elements``), Sparse otherwise."""
    least = get_level(compiled.level).klu_min_elements
    return "klu" if least is not None and len(compiled.circuit.elements) >= least \
        else "sparse"


def transient_for(compiled: Compiled, t_end: float | None = None, points: int = POINTS,
                  steps_per_tau: float | None = None, solver: str | None = None
                  ) -> Transient:
    """The transient of a compiled model: to ``t_end`` (model time; default the
    read-out time), ``points`` output samples, a maximum step of ``tau_min /
    steps_per_tau`` (default the configuration's ``simulation.steps_per_tau``), with
    ``solver`` (default :func:`solver_for`)."""
    m, t0 = compiled.system.model, compiled.scales.t0
    steps_per_tau = steps_per_tau or compiled.options.config.simulation.steps_per_tau
    t_end = m.readout_time if t_end is None else t_end
    tstop = t_end * t0
    method = get_level(compiled.level).integration
    return Transient(tstep=tstop / points, tstop=tstop,
                     tmax=min(m.tau_min * t0 / steps_per_tau, tstop / points),
                     temperature_c=compiled.options.config.environment.temperature_c,
                     solver=solver or solver_for(compiled),
                     options=tuple((k, method if k == "method" else v)
                                   for k, v in SIM_OPTIONS))


def operating_point_for(compiled: Compiled, nets: tuple[str, ...] = (),
                        currents: tuple[str, ...] = ()) -> OperatingPoint:
    return OperatingPoint(temperature_c=compiled.options.config.environment.temperature_c,
                          solver=solver_for(compiled), nets=nets, currents=currents)
