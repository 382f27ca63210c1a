"""XOR end to end: the hand-built XOR memory, compiled, simulated in ngspice at the
ideal and BJT levels, and compared with the scipy ODE reference.

    python examples/xor.py            # writes reports/xor_<level>/ (JSON + PNG)

It takes well under two minutes; --quick is accepted and runs the same.
"""

from pathlib import Path

from analogam.circuit import CompileOptions
from analogam.model.weights import load_model
from analogam.study import (
    evaluate_ode,
    format_ode_report,
    format_report,
    simulate_task,
    write_report,
)
from analogam.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    model = load_model(ROOT / "models" / "xor.npz")
    inputs = get_task("xor").inputs()
    ode = evaluate_ode(model, inputs)
    print(format_ode_report(ode))
    ok = ode.accuracy == 1.0 and not ode.ode.warnings
    for level in ("ideal", "bjt", "opamp"):
        rep = simulate_task(model, inputs, CompileOptions(level=level))
        out = ROOT / "reports" / f"xor_{level}"
        write_report(rep, out)
        print(format_report(rep))
        for bits, pred, u in zip(rep.inputs, rep.pred_spice, rep.comparison.u_spice[:, -1],
                                 strict=True):
            print(f"    {bits[0]} XOR {bits[1]} = {pred[0]}   (circuit v3 = {u[2]:.4f})")
        print(f"  report written to {out.relative_to(ROOT)}/")
        ok &= rep.agreement == 1.0 and rep.accuracy_spice == 1.0
    return 0 if ok else 2


if __name__ == "__main__":
    raise SystemExit(main())
