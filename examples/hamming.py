"""Hamming (7,4) end to end: all 16 codewords and 112 single-bit errors, compiled,
simulated in ngspice at a chosen level, compared with the ODE reference.

    python examples/hamming.py [ideal|bjt|opamp]
"""

import sys
from pathlib import Path

from analogam.compile import CompileOptions
from analogam.pipeline import format_report, simulate_task
from analogam.report import write_report
from analogam.tasks import get_task
from analogam.weights import load_model

ROOT = Path(__file__).resolve().parents[1]


def main(level: str = "ideal") -> int:
    model = load_model(ROOT / "models" / "hamming74.npz")
    rep = simulate_task(model, get_task("hamming74").inputs(), CompileOptions(level=level))
    out = ROOT / "reports" / f"hamming74_{level}"
    write_report(rep, out)
    print(format_report(rep))
    print(f"  report written to {out.relative_to(ROOT)}/")
    return 0 if rep.agreement == 1.0 and rep.accuracy_spice == 1.0 else 2


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
