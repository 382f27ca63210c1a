"""EP against the exact implicit-gradient baseline on the parity Energy Transformer.

Per-step time: the gradient of one minibatch of 32 strings (EP: the free phase plus
two nudged phases; implicit: the free phase plus one linear solve per sample), timed on
the same batches of the initial model, with the ratio. Accuracy: for each
initialisation (constructed, random), training from the same seed with each method and
the held-out accuracy each reaches at the settled fixed point.

    python benchmarks/bench_train.py [--epochs N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analogam.train import config_for, gradient, train
from analogam.train.data import initial_model, task_data


def step_time(cfg, batches) -> float:
    model = initial_model(cfg)
    t0 = time.perf_counter()
    for b in batches:
        gradient(model, b, cfg)
    return (time.perf_counter() - t0) / len(batches)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    epochs = ap.parse_args().epochs
    data = task_data("parity8")
    order = np.random.default_rng(0).permutation(data.train)
    batches = [data.inputs[order[i:i + 32]] for i in range(0, 192, 32)]
    for init in ("constructed", "random"):
        extra = {} if init == "constructed" else {"optimizer": "adam", "lr": 0.01}
        cfgs = {m: config_for("parity8", init=init, method=m, epochs=epochs, **extra)
                for m in ("ep", "implicit")}
        t = {m: step_time(c, batches) for m, c in cfgs.items()}
        held = {m: train(c).log[-1]["heldout_acc"] for m, c in cfgs.items()}
        print(f"parity8, init {init}, seed 0, {epochs} epochs:")
        for m in cfgs:
            print(f"  {m:8s} {1e3 * t[m]:7.1f} ms/step   held-out {held[m]:.3f}")
        print(f"  EP / implicit time per step {t['ep'] / t['implicit']:.2f}x; held-out "
              f"EP - implicit {held['ep'] - held['implicit']:+.3f}", flush=True)


if __name__ == "__main__":
    main()
