"""8-bit parity end to end: the EP-trained Energy Transformer (models/parity8.npz) on
all 256 strings, compiled, simulated in ngspice, and compared three ways: circuit,
ODE reference, and the trainer's own settled predictions.

    python examples/parity.py [ideal|bjt|opamp]
"""

import sys
from pathlib import Path

from analogam.compile import CompileOptions
from analogam.pipeline import format_report, simulate_task, trainer_predictions
from analogam.report import write_report
from analogam.tasks import get_task
from analogam.weights import load_model, load_provenance

ROOT = Path(__file__).resolve().parents[1]


def main(level: str = "ideal") -> int:
    path = ROOT / "models" / "parity8.npz"
    model = load_model(path)
    inputs = get_task("parity8").inputs()
    trainer = trainer_predictions(load_provenance(path), model, inputs)
    rep = simulate_task(model, inputs, CompileOptions(level=level), trainer=trainer)
    out = ROOT / "reports" / f"parity8_{level}"
    write_report(rep, out)
    print(format_report(rep))
    print(f"  report written to {out.relative_to(ROOT)}/")
    return 0 if rep.agreement == 1.0 and rep.accuracy_spice == 1.0 else 2


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
