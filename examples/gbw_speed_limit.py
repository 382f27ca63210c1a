"""How fast can the circuit run? For op-amps of gain-bandwidth 100 MHz, 1 GHz and
10 GHz, shrink the time unit T0 (tau_v = T0 for Hamming) until the `opamp`-level
circuit stops decoding all 128 Hamming words (16 codewords + 112 single-bit errors)
correctly. Two limits, in nanoseconds: the smallest T0 at which every word is still
decoded right, and the smallest at which the circuit is still faithful to the ODE
(max state error over the trajectory <= 2e-2, the `bjt`-level tolerance).

    python examples/gbw_speed_limit.py [--quick]

--quick: the 100 MHz amplifier on every sixteenth word, every other T0.

Writes reports/gbw_speed_limit.{json,png}.
"""

import json
import sys
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.figures import save_figure, subplots
from analogam.model.weights import load_model
from analogam.study import simulate_task
from analogam.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]
GBWS = (1e8, 1e9, 1e10)
T0S = (1e-6, 3e-7, 1e-7, 3e-8, 1e-8, 3e-9, 1e-9, 3e-10, 1e-10, 3e-11, 1e-11, 3e-12)
FAITHFUL = 2e-2


def scan(model, words, gbw: float, t0s=T0S) -> list[dict]:
    """Descend through T0 until the circuit gets a word wrong (or fails to simulate)."""
    rows = []
    for t0 in t0s:
        opt = CompileOptions("opamp", DeviceConfig().with_values({"scales.t0": t0,
                                                             "opamp.gbw": gbw}))
        try:
            rep = simulate_task(model, words, opt, timeout_s=300)
            row = {"gbw_hz": gbw, "t0_s": t0, "accuracy": rep.accuracy_spice,
                   "max_state_error": float(rep.comparison.max_err.max()),
                   "readout_error": float(rep.comparison.readout_err.max()),
                   "settling_s": float(rep.comparison.settle_spice_tau.max() * t0)}
        except Exception as e:  # a circuit that does not simulate is a failure point
            row = {"gbw_hz": gbw, "t0_s": t0, "accuracy": 0.0, "failed": str(e)[:200]}
        rows.append(row)
        print(f"GBW {gbw:.0e} Hz, T0 {1e9 * t0:8.3g} ns: correct "
              f"{100 * row['accuracy']:5.1f}%" + (f", max state error "
              f"{row['max_state_error']:.2e}" if "max_state_error" in row else ""), flush=True)
        if row["accuracy"] < 1.0:
            break
    return rows


def plot(rows: list[dict], limits: dict, path: Path) -> None:
    fig, ax = subplots(figsize=(6, 3.8))
    for gbw in limits:
        r = [x for x in rows if x["gbw_hz"] == gbw]
        ax.plot([1e9 * x["t0_s"] for x in r], [100 * x["accuracy"] for x in r], "o-",
                label=f"GBW {gbw / 1e6:g} MHz: correct to {limits[gbw]['correct_ns']} ns, "
                      f"faithful to {limits[gbw]['faithful_ns']} ns")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("time unit T0 = tau_v (ns)")
    ax.set_ylabel("Hamming words decoded correctly (%)")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize=7)
    ax.set_title("opamp level: speed limit set by the amplifiers", fontsize=9)
    save_figure(fig, path)


def main(quick: bool = False) -> int:
    model = load_model(ROOT / "models" / "hamming74.npz")
    words = get_task("hamming74").inputs()[::16 if quick else 1]
    rows, limits = [], {}
    for gbw in GBWS[:1] if quick else GBWS:
        r = scan(model, words, gbw, T0S[::2] if quick else T0S)
        rows += r
        ok = [x["t0_s"] for x in r if x["accuracy"] == 1.0]
        good = [x["t0_s"] for x in r if x.get("max_state_error", np.inf) <= FAITHFUL]
        limits[gbw] = {"correct_ns": round(1e9 * min(ok), 6) if ok else None,
                       "faithful_ns": round(1e9 * min(good), 6) if good else None}
        print(f"GBW {gbw:.0e} Hz: smallest T0 decoding every word {limits[gbw]['correct_ns']}"
              f" ns; faithful to the ODE (<= {FAITHFUL:g}) {limits[gbw]['faithful_ns']} ns",
              flush=True)
    out = ROOT / "reports"
    with atomic_open(out / "gbw_speed_limit.json", "w") as f:
        json.dump({"rows": rows, "limits": {f"{g:g}": v for g, v in limits.items()}}, f,
                  indent=1)
    plot(rows, limits, out / "gbw_speed_limit.png")
    print(f"wrote {out / 'gbw_speed_limit.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main("--quick" in sys.argv[1:]))
