"""Stage 9, studies: the end-to-end pipeline (bind, check, compile, simulate, compare),
its reports (text, JSON, PNG), Monte Carlo and sweeps over device nonidealities.
The only library package that may import every other stage.
"""

from .build import compile_system
from .checks import preflight
from .files import (
    CompiledFiles,
    compile_to_files,
    format_compiled,
    netlist_header,
    transient_netlist,
)
from .generate import Generation, format_generation, generate
from .mc_figures import plot_sweep
from .montecarlo import format_monte_carlo, format_sweep, monte_carlo, sweep
from .ode_report import TaskOdeReport, evaluate_ode, format_ode_report
from .pipeline import (
    OpCheck,
    check_operating_points,
    simulate_task,
    simulate_weights,
    trainer_predictions,
)
from .record import SimulationReport
from .report import (
    check_report_dir,
    format_op_check,
    format_report,
    report_dict,
    write_report,
)

__all__ = [
    "CompiledFiles", "Generation", "OpCheck", "SimulationReport", "TaskOdeReport",
    "check_operating_points", "compile_system", "compile_to_files", "evaluate_ode",
    "format_compiled", "format_generation", "format_monte_carlo", "format_ode_report",
    "format_op_check", "format_report", "format_sweep", "generate", "monte_carlo",
    "netlist_header", "plot_sweep", "preflight", "report_dict", "simulate_task",
    "check_report_dir", "simulate_weights", "sweep", "trainer_predictions",
    "transient_netlist", "write_report",
]
