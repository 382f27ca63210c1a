"""Shared body of the task examples: simulate every input of a model file at one level,
compare circuit, ODE and (for trained models) trainer, and write the report."""

from pathlib import Path

from analogam.circuit import CompileOptions
from analogam.study import format_report, simulate_weights, write_report

ROOT = Path(__file__).resolve().parents[1]


def run_task(name: str, level: str = "ideal") -> int:
    """Exit status: 0 when the circuit agrees with the ODE and is right on every input."""
    rep = simulate_weights(ROOT / "models" / f"{name}.npz", options=CompileOptions(level=level))
    out = ROOT / "reports" / f"{name}_{level}"
    write_report(rep, out)
    print(format_report(rep))
    print(f"  report written to {out.relative_to(ROOT)}/")
    return 0 if rep.agreement == 1.0 and rep.accuracy_spice == 1.0 else 2
