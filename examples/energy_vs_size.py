"""Energy per inference at the `opamp` level against model size: DenseAMs storing K
random 32-bit patterns (K = 16, 64, 128), each started from a stored pattern with one
bit flipped. From each transient: the energy drawn from the supplies until the state
has settled, measured at each block role's supply meter (analogam/compare/power.py),
and the component counts.

    python examples/energy_vs_size.py [K ...] [--quick]

--quick: K = 16 only (each size prints its line as it finishes).

Writes reports/energy_vs_size.{json,png}.
"""

import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.compare import compare, inference_energy
from analogam.figures import save_figure, subplots
from analogam.model import Stimulus, bind
from analogam.model.architectures import random_denseam
from analogam.netlist import format_netlist, transient_for
from analogam.reference import simulate_ode
from analogam.spice import simulate_spice

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from settling_vs_size import corrupted  # noqa: E402


def measure(K: int, n_inputs: int = 2) -> dict:
    model = random_denseam(K)
    system = bind(model, Stimulus(n_inputs, init={"v": corrupted(model, n_inputs)}))
    # hidden states reach |xi.v - |xi|^2/2| ~ 16 for 32-bit patterns: 0.25 V per unit
    # keeps them inside the amplifiers' +-5 V swing
    opt = CompileOptions("opamp", DeviceConfig().with_value("scales.vs", .25))
    rows = []
    for b in range(n_inputs):
        one = system.sample(b)
        c = build_circuit(one, opt)
        r = simulate_spice(format_netlist(c.circuit, transient_for(c)), backend="batch",
                           timeout_s=3600)
        cmp = compare(c, r, simulate_ode(one))
        e = inference_energy(c, r, cmp.settle_spice_tau[0] * model.tau_max * c.scales.t0)
        rows.append({**asdict(e), "max_state_error": float(cmp.max_err[0])})
    roles = sorted({k for r in rows for k in r["by_role_j"]})
    med = {k: float(np.median([r[k] for r in rows])) for k in
           ("total_j", "hold_w", "t_settle_s", "max_state_error")}
    med["by_role_j"] = {k: float(np.median([r["by_role_j"].get(k, 0.0) for r in rows]))
                        for k in roles}
    return {"hidden": K, "visible": 32, "counts": c.circuit.counts(), "median": med,
            "inputs": rows}


def plot(results: list[dict], path: Path) -> None:
    K = [r["hidden"] for r in results]
    fig, ax = subplots(figsize=(6, 3.8))
    ax.plot(K, [1e9 * r["median"]["total_j"] for r in results], "o-", label="total")
    for role in sorted({k for r in results for k in r["median"]["by_role_j"]}):
        ax.plot(K, [1e9 * r["median"]["by_role_j"].get(role, 0.0) for r in results], ".--",
                label=role)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden units K (32 visible)")
    ax.set_ylabel("energy per inference (nJ)")
    ax.set_title("opamp level: energy drawn until settled (median of inputs)", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def main(sizes: list[int]) -> int:
    results = []
    for K in sizes:
        results.append(measure(K))
        m, n = results[-1]["median"], results[-1]["counts"]
        split = ", ".join(f"{k} {1e9 * v:.3g}" for k, v in m["by_role_j"].items())
        print(f"K={K:4d}: {1e9 * m['total_j']:.3g} nJ per inference over "
              f"{1e6 * m['t_settle_s']:.2f} us ({split}); {n.get('amplifiers', 0)} amplifiers,"
              f" {n.get('resistors', 0)} resistors, {n.get('transistors', 0)} transistors; "
              f"state error {m['max_state_error']:.1e}", flush=True)
    out = ROOT / "reports"
    with atomic_open(out / "energy_vs_size.json", "w") as f:
        json.dump(results, f, indent=1)
    plot(results, out / "energy_vs_size.png")
    print(f"wrote {out / 'energy_vs_size.png'}")
    return 0


if __name__ == "__main__":
    argv = [a for a in sys.argv[1:] if a != "--quick"]
    quick = len(argv) < len(sys.argv) - 1
    raise SystemExit(main([int(k) for k in argv] or ([16] if quick else [16, 64, 128])))
