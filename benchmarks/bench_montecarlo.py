"""Monte Carlo throughput: perturbed Hamming circuits per second, serially in this
process and on a local Dask cluster (one worker process per core), same seed, same
samples; prints both, their ratio, and whether the numbers are identical.

    python benchmarks/bench_montecarlo.py [--samples N]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from analogam.circuit import DeviceConfig
from analogam.model.weights import load_model
from analogam.study import monte_carlo
from analogam.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=8)
    n = ap.parse_args().samples
    model = load_model(ROOT / "models" / "hamming74.npz")
    words = get_task("hamming74").inputs()[:32]
    cfg = DeviceConfig(seed=2).with_values({"conductance.prog_noise_scale": 0.05,
                                            "passives.capacitor_tolerance": 0.02})
    out = {}
    for sched in ("serial", "local", "dask"):
        t0 = time.perf_counter()
        out[sched] = monte_carlo(model, words, cfg, n, scheduler=sched)
        out[sched + "_s"] = time.perf_counter() - t0
    circuits = n * len(words)
    rs, rl = circuits / out["serial_s"], circuits / out["local_s"]
    print(f"{n} samples x {len(words)} Hamming words = {circuits} circuits, "
          f"{os.cpu_count()} cores")
    print(f"  serial      {rs:6.1f} circuits/s ({out['serial_s']:.1f} s)")
    print(f"  local Dask  {rl:6.1f} circuits/s ({out['local_s']:.1f} s, cluster start-up "
          "included)")
    print(f"  ratio {rl / rs:.2f}x; identical numbers: "
          f"{out['serial']['records'] == out['local']['records']}")


if __name__ == "__main__":
    main()
