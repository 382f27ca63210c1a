"""XOR end to end: the hand-built XOR memory, the ODE reference, and the checks.

    python examples/xor.py
"""

from pathlib import Path

from analogam.evaluate import evaluate_ode, format_ode_report
from analogam.tasks import get_task
from analogam.weights import load_model

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    model = load_model(ROOT / "models" / "xor.npz")
    rep = evaluate_ode(model, get_task("xor").inputs())
    print(format_ode_report(rep))
    for bits, pred, u in zip(rep.inputs, rep.predictions, rep.ode.u_final, strict=True):
        print(f"  {bits[0]} XOR {bits[1]} = {pred[0]}   (settled v3 = {u[2]:.4f})")
    return 0 if rep.accuracy == 1.0 and not rep.ode.warnings else 2


if __name__ == "__main__":
    raise SystemExit(main())
