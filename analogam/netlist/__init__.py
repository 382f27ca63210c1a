"""Stage 6, netlists: the circuit IR written as SPICE text in one pass, by a dialect
(SPICE3 base, ngspice overriding what differs), with analysis records (transient,
operating point, AC and DC sweeps) handed over beside the circuit.
"""

from .analysis import (
    AcSweep,
    DcSweep,
    OperatingPoint,
    Transient,
    operating_point_for,
    transient_for,
)
from .dialect import DIALECTS, Dialect, NgspiceDialect, get_dialect
from .writer import format_netlist, sanitize, save_netlist, write_netlist

__all__ = ["DIALECTS", "AcSweep", "DcSweep", "Dialect", "NgspiceDialect", "OperatingPoint",
           "Transient", "format_netlist", "get_dialect", "operating_point_for", "sanitize",
           "save_netlist", "transient_for", "write_netlist"]
