"""Constant time in size, measured in seconds: DenseAMs storing K random V-bit patterns
(K = 16 ... 1024 at V = 32, and V = 8 ... 64 at K = 16), compiled at one latency
target, each started from a stored pattern with one bit flipped. Per size: the circuit's
settling in ngspice (s) beside the speed model's prediction, its energy per inference
at the supplies, the amplifiers' gain-bandwidth it needed (the integrators are biased
for their fan-in: power grows, time does not), and, for the digital side, the wall time
of the ODE reference on this machine's CPU and an operation-count estimate of a digital
implementation (forward Euler at tau_min/10, int8 and fp32 arithmetic at 45 nm).

    python examples/settling_vs_size.py [--level opamp|pdk] [--latency S] [--quick]

Writes reports/settling_vs_size.{json,png}.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.compare.power import DIGITAL_PJ_PER_OP, equivalent_ops
from analogam.figures import save_figure, subplots
from analogam.model.architectures import random_denseam
from analogam.reference import simulate_ode
from analogam.spice import Runner
from analogam.study import simulate_task
from analogam.tasks import bind_task, task_for

ROOT = Path(__file__).resolve().parents[1]


def corrupted(model, n: int) -> np.ndarray:
    """The first n stored patterns with one bit flipped each (the recall task's bits)."""
    xi = model.couplings[0].weights[:n].astype(int)
    idx = np.arange(n) % xi.shape[1]
    xi[np.arange(n), idx] = 1 - xi[np.arange(n), idx]
    return xi


def measure(K: int, V: int, args, runner: Runner) -> dict:
    model = random_denseam(K, V)
    task = task_for(model, "recall")
    x = corrupted(model, args.inputs)
    system = bind_task(model, x, task)
    simulate_ode(system.select(slice(0, 1)))      # compiles the kernel: not timed
    t = time.perf_counter()
    simulate_ode(system)
    ode_wall = (time.perf_counter() - t) / len(x)
    cfg = DeviceConfig().with_values({"design.latency": args.latency,
                                      "conductance.rescale": True,
                                      "simulation.steps_per_tau": 5})
    rep = simulate_task(model, x, CompileOptions(args.level, cfg), runner=runner, task=task)
    c = rep.comparison
    settle_s = c.settle_spice_tau * c.tau_s
    amps = [e for e in rep.compiled[0].circuit.elements if e.role == "amplifier"]
    ops = equivalent_ops([w[0] for w in rep.compiled[0].system.weights],
                         float(np.median(c.settle_ode_tau)) * model.tau_max, model.tau_min)
    return {
        "hidden": K, "visible": V, "inputs": len(x), "T0_s": rep.compiled[0].scales.t0,
        "settle_s_max": float(settle_s.max()), "settle_s_median": float(np.median(settle_s)),
        "predicted_s_max": float(rep.predicted_settle_s.max()),
        "energy_J_median": None if rep.energy is None else float(
            np.median([e.total_j for e in rep.energy])),
        "amplifiers": len(amps),
        "amplifier_models": sorted({e.values[0] for e in amps}),
        "readout_error_max": float(c.readout_err.max()),
        "accuracy": rep.accuracy_spice, "agreement": rep.agreement,
        "findings": len(rep.warnings) + len(rep.violations),
        "ode_wall_s_per_input": ode_wall, "digital_ops": ops,
        "digital_J": {k: ops * v * 1e-12 for k, v in DIGITAL_PJ_PER_OP.items()},
    }


def plot(rows: list[dict], path: Path, args) -> None:
    fig, axes = subplots(1, 2, figsize=(10, 3.8))
    for ax, key, fixed, label in ((axes[0], "hidden", ("visible", 32), "memories K (V = 32)"),
                                  (axes[1], "visible", ("hidden", 16), "visible units V "
                                   "(K = 16)")):
        pts = sorted((r for r in rows if r[fixed[0]] == fixed[1]), key=lambda r: r[key])
        if not pts:
            continue
        n = [r[key] for r in pts]
        ax.plot(n, [1e9 * r["settle_s_max"] for r in pts], "o-", label="circuit settling (ns)")
        ax.plot(n, [1e9 * r["predicted_s_max"] for r in pts], "x--", label="predicted (ns)")
        ax.plot(n, [1e9 * r["ode_wall_s_per_input"] for r in pts], "s:",
                label="ODE on this CPU, wall (ns)")
        if pts[0]["energy_J_median"] is not None:
            ax.plot(n, [1e9 * r["energy_J_median"] for r in pts], "^-",
                    label="circuit energy (nJ)")
            ax.plot(n, [1e9 * r["digital_J"]["int8 arithmetic, 45 nm"] for r in pts], "v:",
                    label="digital int8 estimate (nJ)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ns  |  nJ")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"{args.level} level, latency target {args.latency:g} s: time stays, "
                 "power grows", fontsize=9)
    save_figure(fig, path, dpi=150)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--level", default="opamp")
    ap.add_argument("--latency", type=float, default=1e-6)
    ap.add_argument("--inputs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="K = 16, 64 and V = 8, 16 only")
    args = ap.parse_args()
    ks = [16, 64] if args.quick else [16, 64, 256, 1024]
    vs = [8, 16] if args.quick else [8, 16, 32, 64]
    sizes = [(k, 32) for k in ks] + [(16, v) for v in vs if v != 32]
    rows = []
    with Runner("local", "batch", 3600) as runner:
        for K, V in sizes:
            r = measure(K, V, args, runner)
            rows.append(r)
            e = "" if r["energy_J_median"] is None else f", {1e9 * r['energy_J_median']:.3g} nJ"
            print(f"K={K:5d} V={V:3d}: settles in {1e9 * r['settle_s_max']:.4g} ns (predicted "
                  f"{1e9 * r['predicted_s_max']:.4g}){e}, {r['amplifiers']} amplifiers on "
                  f"{len(r['amplifier_models'])} bias classes; accuracy {r['accuracy']:.2f}, "
                  f"findings {r['findings']}; ODE {1e6 * r['ode_wall_s_per_input']:.0f} us "
                  f"wall; digital int8 {1e9 * r['digital_J']['int8 arithmetic, 45 nm']:.3g} nJ",
                  flush=True)
    out = ROOT / "reports"
    with atomic_open(out / "settling_vs_size.json", "w") as f:
        json.dump(rows, f, indent=1)
    plot(rows, out / "settling_vs_size.png", args)
    print(f"wrote {out / 'settling_vs_size.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
