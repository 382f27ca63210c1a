"""How far mismatched circuits leave equilibrium (docs/design.md section 9).

For Hamming (7,4) and the parity8 Analog ET, with the self-compensated single array
and the dual arrays, against programming noise (``conductance.prog_noise_scale``) and
current-copy mismatch (``sense.copy_gain_sigma``), at the ideal level, per Monte
Carlo sample:

- accuracy and state error against the nominal ODE (every input of the subset);
- the fraction of runs that never settle (still moving at the read-out, oscillating,
  or ngspice unable to follow a runaway);
- from the circuit's own linearisation in ngspice at its read-out state (first
  ``--diagnose`` inputs): the coupling asymmetry ``||W - V^T|| / ||W + V^T||``, the
  entropy production of the linearised circuit (k_B per tau_v), the Jacobian's largest
  real part.

    python examples/nonequilibrium.py [--quick]

--quick: Hamming only, 4 words, one sample at one value of each parameter.

Writes reports/nonequilibrium.json and reports/nonequilibrium.png; finished points are
kept in reports/nonequilibrium/*.json, so a run started again resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.errors import AnalogamError
from analogam.figures import render_png, subplots, write_bytes
from analogam.model.weights import load_model
from analogam.reference import SETTLE_TOL
from analogam.spice import Runner
from analogam.study import simulate_task
from analogam.study.checks import readout_rate
from analogam.study.equilibrium import diagnose_report
from analogam.tasks import bind_task, task_for

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "nonequilibrium"
PARAMS = {"conductance.prog_noise_scale": [0.0, 0.05, 0.1, 0.2, 0.4],
          "sense.copy_gain_sigma": [0.0, 1e-3, 1e-2, 3e-2]}


def point(model, inputs, dual: bool, param: str, value: float, sample: int, diagnose: int,
          runner: Runner) -> dict:
    """One Monte Carlo sample of one condition, as a JSON record."""
    cfg = DeviceConfig().with_values({"conductance.dual_arrays": dual, param: value})
    opt = CompileOptions("ideal", cfg, sample=sample)
    try:
        rep = simulate_task(model, inputs, opt, reference="nominal", runner=runner)
    except AnalogamError as err:   # a runaway ngspice cannot follow: it never settles
        return {"failed": str(err)[:200], "never_settles": 1.0}
    rep = diagnose_report(model, rep, diagnose, along=(), runner=runner)
    cmp = rep.comparison
    system = bind_task(model, inputs, rep.task)
    moving = readout_rate(cmp.t, cmp.u_spice, system) > SETTLE_TOL
    nd = rep.nonequilibrium
    eps = [d.entropy_production for d in nd
           if d.entropy_production is not None and not d.entropy_bounded]
    floors = [d.entropy_floor for d in nd if d.entropy_bounded]
    return {
        "accuracy": rep.accuracy_spice,
        "agreement_with_ode": rep.agreement,
        "max_state_error": float(cmp.max_err.max()),
        "readout_error": float(cmp.readout_err.max()),
        "never_settles": float(np.mean(moving)),
        "oscillating": float(np.mean([d.oscillation is not None for d in nd])),
        "asymmetry_circuit": float(np.mean([d.asymmetry for d in nd])),
        "asymmetry_programmed": float(np.mean([d.asymmetry_programmed for d in nd])),
        "entropy_production_per_tau_v": float(np.mean(eps)) if eps else None,
        # below the numerical floor on every input: an upper bound, drawn as one
        "entropy_production_below": float(max(floors)) if floors and not eps else None,
        "unstable_linearisations": int(sum(d.spectrum.unstable for d in nd)),
        "jacobian_max_real_per_tau_v": float(max(d.spectrum.max_real for d in nd)),
        "directed_coupling_proxy": float(np.mean([d.proxy for d in nd])),
    }


def mean_of(records: list[dict], key: str) -> float | None:
    vals = [r[key] for r in records if r.get(key) is not None]
    return float(np.mean(vals)) if vals else None


def plot(results: dict, path: Path) -> None:
    keys = [("asymmetry_circuit", "asymmetry ||W-V^T||/||W+V^T||"),
            ("entropy_production_per_tau_v", "entropy production (k_B / tau_v)"),
            ("accuracy", "accuracy"), ("never_settles", "never settle (fraction)")]
    fig, axes = subplots(len(PARAMS), len(keys), figsize=(15, 6.5))
    for row, param in enumerate(PARAMS):
        for col, (key, label) in enumerate(keys):
            ax = axes[row][col]
            for name, curves in results.items():
                pts = curves.get(param, [])
                xs = [p["value"] for p in pts if p[key] is not None]
                ys = [p[key] for p in pts if p[key] is not None]
                ax.plot(xs, ys, "o-" if "dual" in name else "s--", label=name, ms=3)
            ax.set_xlabel(param.split(".")[1])
            ax.set_ylabel(label)
            if param == "sense.copy_gain_sigma":
                ax.set_xscale("symlog", linthresh=1e-3)
            if key == "entropy_production_per_tau_v":
                bx = [p["value"] for p in pts if p.get("entropy_production_below") is not None]
                by = [p["entropy_production_below"] for p in pts
                      if p.get("entropy_production_below") is not None]
                if bx:
                    ax.plot(bx, by, "v", color="0.4", ms=5, label=f"{name}: below (bound)")
                ax.set_yscale("log")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    write_bytes(path, render_png(fig))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="Hamming only, 4 words, 1 sample, one value of each parameter.")
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--diagnose", type=int, default=1,
                    help="Inputs linearised per run (ngspice operating points).")
    args = ap.parse_args()
    models = {"hamming74": (load_model(ROOT / "models" / "hamming74.npz"), 16)}
    if not args.quick:
        models["parity8"] = (load_model(ROOT / "models" / "parity8.npz"), 8)
    samples = 1 if args.quick else args.samples
    params = {k: ([v[2]] if args.quick else v) for k, v in PARAMS.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    with Runner("local", "auto") as runner:
        for mname, (model, most) in models.items():
            inputs = task_for(model).inputs()
            inputs = inputs[:: max(1, len(inputs) // (4 if args.quick else most))][:most]
            for dual in (False, True):
                name = f"{mname}_{'dual' if dual else 'single'}"
                for param, values in params.items():
                    for value in values:
                        recs = []
                        for s in range(samples):
                            f = OUT / f"{name}_{param}_{value:g}_{s}.json"
                            if f.exists():
                                recs.append(json.loads(f.read_text()))
                                continue
                            rec = point(model, inputs, dual, param, value, s, args.diagnose,
                                        runner)
                            with atomic_open(f, "w") as fh:
                                json.dump(rec, fh)
                            recs.append(rec)
                        row = {"value": value, "samples": len(recs),
                               **{k: mean_of(recs, k) for k in (
                                   "accuracy", "max_state_error", "readout_error",
                                   "never_settles", "oscillating", "asymmetry_circuit",
                                   "asymmetry_programmed", "entropy_production_per_tau_v",
                                   "jacobian_max_real_per_tau_v")}}
                        bounds = [r["entropy_production_below"] for r in recs
                                  if r.get("entropy_production_below") is not None]
                        row["entropy_production_below"] = (
                            max(bounds) if bounds and row["entropy_production_per_tau_v"]
                            is None else None)
                        results.setdefault(name, {}).setdefault(param, []).append(row)
                        print(f"{name:18s} {param:30s} {value:<6g} " + " ".join(
                            f"{k[:10]}={'-' if row[k] is None else format(row[k], '.3g')}"
                            for k in ("accuracy", "readout_error", "never_settles",
                                      "asymmetry_circuit", "entropy_production_per_tau_v")),
                              flush=True)
    with atomic_open(ROOT / "reports" / "nonequilibrium.json", "w") as fh:
        json.dump(results, fh, indent=1)
    plot(results, ROOT / "reports" / "nonequilibrium.png")
    print("wrote reports/nonequilibrium.json and reports/nonequilibrium.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
