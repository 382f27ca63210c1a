"""What temperature does to the transistor-level softmax: XOR and Hamming at the
`bjt` level at 0, 27 and 85 degC, with and without PTAT tracking of the base
attenuators. Without PTAT the effective beta scales as 300 K / T (docs/design.md
section 4); with it, beta stays put.

    python examples/temperature.py [--quick]

--quick: XOR only.

Writes reports/temperature.json and prints the table.
"""

import json
import sys
from pathlib import Path

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.model.weights import load_model
from analogam.study import simulate_task
from analogam.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]


def main(quick: bool = False) -> int:
    rows = []
    for name in ("xor",) if quick else ("xor", "hamming74"):
        model = load_model(ROOT / "models" / f"{name}.npz")
        inputs = get_task(model.task).inputs()
        for ptat in (False, True):
            for temp in (0.0, 27.0, 85.0):
                rep = simulate_task(model, inputs, CompileOptions(
                    "bjt", DeviceConfig().with_values({"environment.temperature_c": temp,
                                                       "bjt.ptat": ptat})))
                rows.append({
                    "model": name, "temperature_C": temp, "ptat": ptat,
                    "accuracy_circuit": rep.accuracy_spice,
                    "agreement_with_ode": rep.agreement,
                    "max_state_error": float(rep.comparison.max_err.max()),
                })
                r = rows[-1]
                print(f"{name:10s} {temp:5.1f} C  PTAT {'on ' if ptat else 'off'}  "
                      f"correct {100 * r['accuracy_circuit']:5.1f}%  agrees with ODE "
                      f"{100 * r['agreement_with_ode']:5.1f}%  max state error "
                      f"{r['max_state_error']:.2e}", flush=True)
    with atomic_open(ROOT / "reports" / "temperature.json", "w") as f:
        json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main("--quick" in sys.argv[1:]))
