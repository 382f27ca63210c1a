"""How sensitive the self-compensated single-array neuron is to its current sensing.

Each unit integrates ``I_copy + I_self = G0 Vs sum_j xi_j y_j``, where the copy is the
current its line delivers into the crossbar (``sum_j G_j (V_line - V_j)``) and the
self term cancels the line's own ``g_sum V_line``: the useful current is a small
difference of two large ones, so a gain error on either reaches the state amplified
by ``g_sum V_line / useful``, which grows with the fan-in.

- ideal level: ``sense.copy_gain_sigma`` (each copy's gain, a current mirror's
  mismatch) for XOR, Hamming, parity and a random 32x64 DenseAM; and for random
  DenseAMs of 32 visible units and K = 16 ... 128 memories (fan-in of a visible unit:
  K);
- opamp level: ``sense.mismatch`` (every resistor of the sense resistors, difference
  amplifiers and injection resistors) for XOR and Hamming;
- dual arrays (``conductance.dual_arrays``: no self-compensation) under the same copy
  mismatch, and both topologies under programming noise (the dual arrays draw theirs
  independently, so their coupling is no longer symmetric).

    python examples/sensing_sensitivity.py [--quick]

--quick: the copy gain on XOR and 8 Hamming words and XOR's sensing mismatch at the
op-amp level, two samples at the ends of each range.

Prints the tables and writes reports/sensing_sensitivity.{json,png} (finished points are
kept in reports/sensing/*.json: a run started again resumes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.figures import save_figure, subplots
from analogam.model.architectures import random_denseam
from analogam.model.weights import load_model
from analogam.progress import Progress
from analogam.study.montecarlo import sweep
from analogam.tasks import task_for

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "sensing"


def inputs_of(model, every: int = 1, most: int = 32):
    x = task_for(model).inputs()
    return x[::every][:most]


def run(name, model, level, param, values, samples, every=1, most=32, dual=False,
        out=OUT) -> dict:
    config = DeviceConfig().with_value("conductance.dual_arrays", dual)
    name = f"{name}_dual" if dual else name
    with Progress(f"{name} {level} {param}: samples", least=4) as bar:
        res = sweep(model, inputs_of(model, every, most), CompileOptions(level, config),
                    param, values, samples, scheduler="local",
                    results=out / f"{name}_{level}_{param}.json", progress=bar.update)
    rows = []
    for p in res["points"]:
        s = p["summary"]
        if s["accuracy"] is None:       # every sample failed: ngspice could not finish
            rows.append({"value": p["value"], "accuracy": None, "failed": s["failed"]})
            continue
        rows.append({"value": p["value"], "accuracy": s["accuracy"]["mean"],
                     "accuracy_min": s["accuracy"]["min"],
                     "readout_error": s["readout_error"]["mean"],
                     "readout_error_max": s["readout_error"]["max"],
                     "failed": s["failed"]})
    print(f"{name} ({level}, {param}, {samples} samples):")
    for r in rows:
        if r["accuracy"] is None:
            print(f"  {r['value']:<8g} every sample failed ({r['failed']})", flush=True)
            continue
        print(f"  {r['value']:<8g} accuracy {100 * r['accuracy']:5.1f}% (min "
              f"{100 * r['accuracy_min']:5.1f}%)  read-out error {r['readout_error']:.3g} "
              f"(max {r['readout_error_max']:.3g})" + (f"  {r['failed']} failed"
                                                       if r["failed"] else ""), flush=True)
    return {"model": name, "level": level, "param": param, "samples": samples, "rows": rows}


def quick_study() -> list[dict]:
    """The copy-gain study on XOR and 8 Hamming words, and XOR's sensing mismatch at
    the op-amp level: two samples, the ends of each range."""
    out = []
    for name in ("xor", "hamming74"):
        model = load_model(ROOT / "models" / f"{name}.npz")
        out.append(run(name, model, "ideal", "sense.copy_gain_sigma", [0.0, 1e-2], 2,
                       every=16, out=OUT / "quick"))
    out.append(run("xor", load_model(ROOT / "models" / "xor.npz"), "opamp",
                   "sense.mismatch", [0.0, 1e-2], 2, out=OUT / "quick"))
    return out


def plot(studies: list[dict], path: Path) -> None:
    """Mean read-out error against each study's parameter (log axes; sigma 0 drawn at
    a tenth of the smallest nonzero value), one panel per parameter."""
    params = list(dict.fromkeys(s["param"] for s in studies))
    fig, axes = subplots(1, len(params), figsize=(5.2 * len(params), 4.0), squeeze=False)
    for ax, param in zip(axes[0], params, strict=True):
        for st in (s for s in studies if s["param"] == param):
            pts = [r for r in st["rows"] if r["accuracy"] is not None]
            nz = [r["value"] for r in pts if r["value"] > 0]
            if not nz:
                continue
            x = [r["value"] or min(nz) / 10 for r in pts]
            ax.loglog(x, [max(r["readout_error"], 1e-12) for r in pts], "o-", ms=3,
                      label=f"{st['model']} ({st['level']})")
        ax.set_xlabel(f"{param} (relative sigma; 0 drawn at a tenth of the smallest)")
        ax.set_ylabel("read-out error vs ideal ODE, mean (model units)")
        ax.legend(fontsize=6)
    fig.suptitle("self-compensated sensing: what each mismatch costs", fontsize=9)
    save_figure(fig, path)


def main(quick: bool) -> int:
    if quick:
        plot(quick_study(), ROOT / "reports" / "sensing_sensitivity_quick.png")
        return 0
    samples = 5
    sigmas = [0.0, 1e-3, 3e-3, 1e-2]
    models = {n: load_model(ROOT / "models" / f"{n}.npz") for n in ("xor", "hamming74",
                                                                    "parity8")}
    models["denseam32x64"] = random_denseam(64, 32, seed=0)
    out = []
    for name, m in models.items():
        out.append(run(name, m, "ideal", "sense.copy_gain_sigma", sigmas, samples,
                       every=8 if name == "parity8" else 1))
    for K in (16, 32, 64, 128):
        out.append(run(f"fanin32x{K}", random_denseam(K, 32, seed=0), "ideal",
                       "sense.copy_gain_sigma", [1e-3, 1e-2], samples, most=8))
    for name in ("xor", "hamming74"):
        out.append(run(name, models[name], "opamp", "sense.mismatch", [0.0, 1e-3, 1e-2],
                       samples, every=1 if name == "xor" else 8))
    # the same copies on dual arrays (no self-compensation), and what the second array's
    # own programming noise costs against the single array's
    for name in ("hamming74", "parity8", "denseam32x64"):
        out.append(run(name, models[name], "ideal", "sense.copy_gain_sigma", [1e-3, 1e-2],
                       samples, every=8 if name == "parity8" else 1, dual=True))
    for name in ("hamming74", "parity8"):
        for dual in (False, True):
            out.append(run(name, models[name], "ideal", "conductance.prog_noise_scale",
                           [0.02, 0.05, 0.1], samples, every=8 if name == "parity8" else 1,
                           dual=dual))
    with atomic_open(ROOT / "reports" / "sensing_sensitivity.json", "w") as f:
        json.dump(out, f, indent=1)
    plot(out, ROOT / "reports" / "sensing_sensitivity.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main("--quick" in sys.argv[1:]))
