"""Equilibrium propagation through the circuit on chips whose programming noise breaks
the digitally trained model (docs/design.md sections 6 and 9).

For XOR and Hamming (7,4), on chips programmed with relative noise sigma (each chip a
Monte Carlo sample: a device keeps its error when reprogrammed), with dual arrays
(each array its own noise: the coupling is no longer symmetric) and with the single
array (symmetric whatever the noise): the
digital model deployed to the chip, then in-circuit EP (free and nudged phases are
ngspice transients of that chip, the update the product of its settled line voltages,
the new weights programmed into the same devices after every step). XOR trains and
tests on its four rows; Hamming trains on every fourth of its 128 words and is tested
on all 128.

    python examples/circuit_ep.py [--quick]

Writes reports/circuit_ep.json and reports/circuit_ep.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.figures import render_png, subplots, write_bytes
from analogam.model.weights import load_model
from analogam.spice import Runner
from analogam.study import simulate_task
from analogam.study.circuit_ep import train_in_circuit
from analogam.tasks import get_task, task_for
from analogam.train.data import task_loss
from analogam.train.loss import Loss

ROOT = Path(__file__).resolve().parents[1]


def hamming_loss(model, words: np.ndarray) -> Loss:
    """1/2 |v - codeword|^2 on the seven visible units."""
    target = get_task("hamming74").target(words).astype(float)
    return Loss("squared", "v", target, np.ones(7, bool))


def accuracy(model, inputs, options, runner) -> float:
    return simulate_task(model, inputs, options, reference="nominal",
                         runner=runner).accuracy_spice


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="XOR only, two chips.")
    args = ap.parse_args()
    # (model, weights, dual arrays, sigma, chips, steps, Adam rate)
    cases = [("xor", "xor_ep.npz", True, 0.3, 4, 12, 0.01),
             ("xor", "xor_ep.npz", False, 0.3, 4, 12, 0.01),
             ("hamming74", "hamming74.npz", False, 0.2, 2, 8, 0.01),
             ("hamming74", "hamming74.npz", True, 0.2, 2, 8, 0.01)]
    if args.quick:
        cases = [c[:4] + (2,) + c[5:] for c in cases[:1]]
    out: dict = {"level": "ideal", "cases": []}
    fig, axes = subplots(1, len(cases), figsize=(4.5 * len(cases), 3.5), squeeze=False)
    with Runner("local", "auto") as runner:
        for ax, (name, file, dual, sigma, chips, steps, lr) in zip(axes[0], cases,
                                                                   strict=True):
            model = load_model(ROOT / "models" / file)
            test = task_for(model).inputs()
            train = test if name == "xor" else test[::4]
            loss_of = ((lambda m, x=train: task_loss(m, x)) if name == "xor"
                       else (lambda m, x=train: hamming_loss(m, x)))
            rows = []
            topology = "dual" if dual else "single"
            for chip in range(chips):
                cfg = DeviceConfig().with_values({
                    "conductance.dual_arrays": dual, "conductance.rescale": True,
                    "conductance.prog_noise_scale": sigma})
                opt = CompileOptions("ideal", cfg, sample=chip)
                res = train_in_circuit(
                    model, train, loss_of, opt, steps=steps, lr=lr, beta=0.1,
                    runner=runner, progress=lambda s, lo, a, n=f"{name} {topology}", c=chip:
                    print(f"{n} chip {c} step {s}: loss {lo:.4g}, train accuracy {a:.3f}",
                          flush=True))
                # the trained weights, as programmed onto the same chip (same sample)
                trained_opt = CompileOptions("ideal", cfg.with_value(
                    "conductance.prune_below", cfg.conductance.g_min / cfg.conductance.g_max),
                    sample=chip)
                failed = sorted({k for step in res.findings for k in step})
                for step, found in enumerate(res.findings):
                    for kind, lines in found.items():
                        print(f"  CHECK {kind} (step {step}): {lines[0]}"
                              + (f" ... and {len(lines) - 1} more" if len(lines) > 1 else ""))
                row = {"chip": chip, "deployed_digital": accuracy(model, test, opt, runner),
                       "after_in_circuit_ep": accuracy(res.model, test, trained_opt, runner),
                       "train_loss": res.loss, "train_accuracy": res.accuracy,
                       "ngspice_runs_per_update": res.runs_per_update,
                       "wall_s": res.wall_s, "failed_checks": failed,
                       "findings": res.findings}
                rows.append(row)
                print(f"{name} {topology} chip {chip}: deployed digital "
                      f"{row['deployed_digital']:.3f} -> in-circuit EP "
                      f"{row['after_in_circuit_ep']:.3f} (test, {len(test)} inputs); "
                      f"{res.runs_per_update} ngspice runs per update, {res.wall_s:.0f} s",
                      flush=True)
                ax.plot(res.accuracy, "o-", ms=3, label=f"chip {chip}")
            ax.set_title(f"{name}, {topology} array(s), sigma {sigma:g}")
            ax.set_xlabel("in-circuit EP step")
            ax.set_ylabel("train accuracy (circuit)")
            ax.legend(fontsize=7)
            out["cases"].append({"model": name, "topology": topology, "sigma": sigma,
                                 "train_inputs": len(train), "test_inputs": len(test),
                                 "steps": steps, "adam_lr": lr, "beta": 0.1,
                                 "chips": rows})
    fig.tight_layout()
    write_bytes(ROOT / "reports" / "circuit_ep.png", render_png(fig))
    with atomic_open(ROOT / "reports" / "circuit_ep.json", "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote reports/circuit_ep.json and reports/circuit_ep.png")
    # exit 2 when a phase failed a check, as simulate does
    return 2 if any(row["failed_checks"] for case in out["cases"] for row in case["chips"]) \
        else 0


if __name__ == "__main__":
    sys.exit(main())
