"""The 8x8 handwritten digits end to end: a DenseAM classifier (64 clamped pixels, 10
free label units, 100 softmax memories) trained by equilibrium propagation, compiled,
simulated in ngspice on the whole 360-image test split and compared with its ODE, then
Monte Carlo of test accuracy under conductance programming noise.

    python examples/digits.py [--epochs N] [--level ideal|bjt|opamp] [--samples N]
                              [--mc-every K] [--steps-per-tau S] [--quick]

--quick: every 24th test image, Monte Carlo of one sample at noise 0.1.

Trains into models/digits.npz unless it exists (delete it to train again; an
interrupted training resumes). ngspice results are cached in reports/digits/, so an
interrupted run started again resumes. Writes reports/digits.json and
reports/digits_noise.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.model.weights import load_model
from analogam.progress import Progress
from analogam.spice import Runner
from analogam.study import plot_sweep, simulate_task, sweep
from analogam.tasks import get_task
from analogam.train import config_for
from analogam.train.outputs import train_to_files

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports"
SIGMAS = [0.0, 0.05, 0.1, 0.2]
PARAM = "conductance.prog_noise_scale"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--level", default="ideal")
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--mc-every", type=int, default=8,
                    help="Monte Carlo on every K-th test image")
    ap.add_argument("--steps-per-tau", type=float, default=2.0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    weights = ROOT / "models" / "digits.npz"
    if not weights.exists():
        cfg = config_for("digits", epochs=args.epochs)
        res, _ = train_to_files(cfg, weights, on_epoch=lambda r, n: print(
            f"epoch {r['epoch']}/{n}: loss {r['loss']:.4f}, train {100 * r['train_acc']:.1f}%, "
            f"test {100 * r['heldout_acc']:.1f}%, {r['seconds']:.0f} s", flush=True))
        print(f"trained: {res.deploy}")
    model = load_model(weights)
    task = get_task("digits")
    x = task.inputs()[::24] if args.quick else task.inputs()
    # the trained conductances span the 500:1 the trainer keeps: G0 is folded to fit them.
    # The read-out (64 tau_v) is 640 of the fastest tau: a step of tau/2 rather than
    # tau/20 costs 17x less and leaves the settled state the same (tested on 4 images:
    # read-out error 2.5e-8 either way; trajectory error 3.6e-3 against 9e-5)
    config = DeviceConfig(seed=1).with_values({"conductance.rescale": True,
                                               "simulation.steps_per_tau": args.steps_per_tau})
    with Runner("local", "auto", 600) as runner, Progress("ngspice runs") as bar:
        rep = simulate_task(model, x, CompileOptions(args.level, config), runner=runner,
                            cache=OUT / "digits" / args.level, progress=bar.update)
    c = rep.comparison
    out = {
        "level": args.level, "test_images": int(x.shape[0]),
        "accuracy_ode": float(np.mean(rep.pred_ode == rep.targets)),
        "accuracy_circuit": float(np.mean(rep.pred_spice == rep.targets)),
        "circuit_equals_ode": float(np.mean(rep.pred_spice == rep.pred_ode)),
        "max_state_error": float(c.max_err.max()),
        "readout_error_max": float(c.readout_err.max()),
        "settle_tau_median": float(np.median(c.settle_spice_tau)),
        "checks": list(rep.preflight + rep.fidelity), "violations": len(rep.violations),
        "spice_wall_s": rep.spice_wall_s,
    }
    print(f"test split ({x.shape[0]} images, {args.level}): ODE "
          f"{100 * out['accuracy_ode']:.2f}%, circuit {100 * out['accuracy_circuit']:.2f}%, "
          f"circuit = ODE on {100 * out['circuit_equals_ode']:.2f}%, max state error "
          f"{out['max_state_error']:.3g}", flush=True)
    sigmas, samples = ([0.1], 1) if args.quick else (SIGMAS, args.samples)
    with Progress("Monte Carlo samples", least=2) as bar:
        mc = sweep(model, x[::args.mc_every], config, PARAM, sigmas, samples,
                   results=OUT / f"digits_noise_results{'_quick' * args.quick}.json",
                   progress=bar.update)
    out["noise"] = [{"sigma": p["value"], "accuracy_mean": p["summary"]["accuracy"]["mean"],
                     "accuracy_min": p["summary"]["accuracy"]["min"],
                     "failed": p["summary"]["failed"]} for p in mc["points"]]
    for p in out["noise"]:
        print(f"  programming noise {p['sigma']:<5g} test accuracy "
              f"{100 * p['accuracy_mean']:.2f}% (min {100 * p['accuracy_min']:.2f}%)")
    OUT.mkdir(exist_ok=True)
    with atomic_open(OUT / "digits.json", "w") as f:
        json.dump(out, f, indent=1)
    plot_sweep({"digits": mc}, PARAM, OUT / "digits_noise.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
