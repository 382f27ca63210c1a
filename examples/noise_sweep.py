"""Task accuracy against conductance programming noise, for XOR, Hamming (7,4) and
parity, by Monte Carlo on a local Dask cluster (ideal level, so only the crossbar is
perturbed). Parity uses its 52 held-out strings.

    python examples/noise_sweep.py [--samples N] [--scheduler local|serial|ADDRESS] [--quick]

--quick: two samples per noise level, every eighth input of Hamming and parity.

Writes reports/noise_sweep.{json,png}; per-model results files in reports/ let an
interrupted sweep resume.
"""

import argparse
import json
from pathlib import Path

from analogam.atomic import atomic_open
from analogam.circuit import DeviceConfig
from analogam.model.weights import load_model
from analogam.progress import Progress
from analogam.study import plot_sweep, sweep
from analogam.tasks import get_task, parity_split

ROOT = Path(__file__).resolve().parents[1]
SIGMAS = [0.0, 0.02, 0.05, 0.1, 0.2, 0.4]
PARAM = "conductance.prog_noise_scale"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=6)
    ap.add_argument("--scheduler", default="local")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    out = ROOT / "reports"
    results = {}
    for name in ("xor", "hamming74", "parity8"):
        model = load_model(ROOT / "models" / f"{name}.npz")
        inputs = get_task(model.task).inputs()
        if name == "parity8":
            inputs = inputs[parity_split()[1]]
        if args.quick and len(inputs) > 8:
            inputs = inputs[::8]
        with Progress(f"{name}: Monte Carlo samples", least=2) as bar:
            res = sweep(model, inputs, DeviceConfig(seed=1), PARAM, SIGMAS,
                        2 if args.quick else args.samples, scheduler=args.scheduler,
                        results=out / f"noise_sweep_{name}{'_quick' * args.quick}.json",
                        timeout_s=120, progress=bar.update)
        results[name] = res
        for p in res["points"]:
            a = p["summary"]["accuracy"]
            print(f"{name:10s} sigma {p['value']:<5g} accuracy {100 * a['mean']:6.2f}% "
                  f"(min {100 * a['min']:.1f}, max {100 * a['max']:.1f}; "
                  f"{p['summary']['failed']} failed)", flush=True)
    with atomic_open(out / "noise_sweep.json", "w") as f:
        json.dump({k: v["points"] for k, v in results.items()}, f, indent=1)
    plot_sweep(results, PARAM, out / "noise_sweep.png")
    print(f"wrote {out / 'noise_sweep.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
