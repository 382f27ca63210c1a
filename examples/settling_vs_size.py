"""Does analog settling stay flat while digital cost grows? DenseAMs storing K random
32-bit patterns, K = 16 ... 1024, each started from a stored pattern with one bit
flipped (4 patterns per size): the circuit's settling time (1%, in tau_v, from the
ideal-level ngspice transient) against the wall time of the ODE reference (scipy
Radau, tight tolerances) on the same input, on one plot.

    python examples/settling_vs_size.py [K ...]

Writes reports/settling_vs_size.{json,png}.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.compare import compare
from analogam.figures import save_figure, subplots
from analogam.model import Stimulus, bind
from analogam.model.architectures import random_denseam
from analogam.netlist import format_netlist, transient_for
from analogam.reference import simulate_ode
from analogam.spice import simulate_spice

ROOT = Path(__file__).resolve().parents[1]
RESCALE = DeviceConfig().with_value("conductance.rescale", True)


def corrupted_starts(model, n: int = 4) -> np.ndarray:
    xi = model.couplings[0].weights
    v = xi[:n].copy()
    v[np.arange(n), np.arange(n) % xi.shape[1]] = 1 - v[np.arange(n), np.arange(n) % xi.shape[1]]
    return v


def measure(K: int) -> dict:
    model = random_denseam(K)
    system = bind(model, Stimulus(4, init={"v": corrupted_starts(model)}))
    rows = []
    for b in range(system.batch):
        one = system.sample(b)
        t0 = time.perf_counter()
        ode = simulate_ode(one)
        ode_s = time.perf_counter() - t0
        # G0 folded to the window top (100 uS per unit weight): ngspice 39 runs these
        # dense circuits 5-25x faster than at the default 10 uS (measured)
        c = build_circuit(one, CompileOptions(config=RESCALE))
        t0 = time.perf_counter()
        r = simulate_spice(format_netlist(c.circuit, transient_for(c)), backend="batch",
                           timeout_s=1800)
        spice_s = time.perf_counter() - t0
        cmp = compare(c, r, ode)
        rows.append({"settle_circuit_tau": float(cmp.settle_spice_tau[0]),
                     "settle_ode_tau": float(cmp.settle_ode_tau[0]),
                     "max_state_error": float(cmp.max_err[0]),
                     "ode_wall_s": ode_s, "ngspice_wall_s": spice_s})
    agg = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
    return {"hidden": K, "visible": 32, "median": agg, "inputs": rows}


def plot(results: list[dict], path: Path) -> None:
    K = [r["hidden"] for r in results]
    fig, ax = subplots(figsize=(6, 3.8))
    ax.plot(K, [r["median"]["settle_circuit_tau"] for r in results], "o-", color="C0",
            label="circuit settling (tau_v)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden units K (32 visible)")
    ax.set_ylabel("circuit settling time / tau_v", color="C0")
    ax.set_ylim(0, 1.6 * max(r["median"]["settle_circuit_tau"] for r in results))
    ax2 = ax.twinx()
    ax2.plot(K, [1e3 * r["median"]["ode_wall_s"] for r in results], "s--", color="C1",
             label="ODE reference wall time")
    ax2.plot(K, [1e3 * r["median"]["ngspice_wall_s"] for r in results], "^:", color="C2",
             label="ngspice wall time")
    ax2.set_yscale("log")
    ax2.set_ylabel("digital wall time (ms)")
    fig.legend(loc="upper left", fontsize=7, bbox_to_anchor=(0.12, 0.88))
    ax.set_title("settling time vs model size (median of 4 inputs)", fontsize=9)
    save_figure(fig, path)


def main(sizes: list[int]) -> int:
    results = []
    for K in sizes:
        results.append(measure(K))
        m = results[-1]["median"]
        print(f"K={K:5d}: circuit settles in {m['settle_circuit_tau']:.2f} tau_v (ODE "
              f"{m['settle_ode_tau']:.2f}); ODE wall {1e3 * m['ode_wall_s']:.0f} ms, ngspice "
              f"{1e3 * m['ngspice_wall_s']:.0f} ms; max state error "
              f"{m['max_state_error']:.1e}", flush=True)
    out = ROOT / "reports"
    with atomic_open(out / "settling_vs_size.json", "w") as f:
        json.dump(results, f, indent=1)
    plot(results, out / "settling_vs_size.png")
    print(f"wrote {out / 'settling_vs_size.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main([int(k) for k in sys.argv[1:]] or [16, 64, 256, 1024]))
