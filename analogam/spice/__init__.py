"""Stage 7, running ngspice: netlist text in, node waveforms (SI units) out, through
one runner (serial, local worker processes, or Dask) with one backend policy
(libngspice via PySpice, or ``ngspice -b``), a timeout on every run, and failures as
results that carry the kept netlist and ngspice's last lines.
"""

from .batch import run_batch
from .library import NgspiceInfo, ngspice_info, ngspice_library
from .rawfile import read_raw
from .result import DEFAULT_TIMEOUT_S, SpiceResult, diagnose
from .runner import (
    BACKENDS,
    SCHEDULERS,
    DistributedError,
    Runner,
    check_scheduler,
    check_timeout,
    resolve_backend,
    simulate_spice,
)

__all__ = [
    "BACKENDS", "DEFAULT_TIMEOUT_S", "DistributedError", "NgspiceInfo", "Runner", "SCHEDULERS",
    "SpiceResult", "check_scheduler", "check_timeout", "diagnose", "ngspice_info",
    "ngspice_library", "read_raw", "resolve_backend", "run_batch", "simulate_spice",
]
