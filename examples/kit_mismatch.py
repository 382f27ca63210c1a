"""The process kit's mismatch, on the chip that decodes: XOR and Hamming (7,4) at the
`pdk` level with `environment.kit_mismatch` (every MOSFET, NPN and MIM capacitor draws
sky130's own per-device mismatch, seeded per sample: one sample is one chip, measured
by a calibration before use), beside the `opamp` level fitted to the same amplifier
(its measured gain, bandwidth, slew, swing, current limits, the offset spread
`analogam datasheet --mismatch` measures, drawn by analogam, and the Vs the pdk level
plans in that swing); `NAME:BITS` also trims every amplifier's offset with a DAC of
BITS bits (at pdk: the calibration's measurement cancelled to a code). Per sample: the
answers, the read-out error against the ideal ODE and the slowest settling, at the
latency the fast design reaches (XOR 300 ns, Hamming 500 ns).

    python examples/kit_mismatch.py [--quick] [--samples N] [--words N]
                                    [--amplifiers standard,standard:5]
                                    [--tolerance]

--amplifiers: the kit's amplifier sizings (design.amplifier); NAME:BITS also trims each
amplifier's offset with a DAC of BITS bits (opamp.trim_bits).

--tolerance: instead, the offset spread Hamming tolerates: the op-amp level fitted to
the standard amplifier with its offset spread swept (0.5 to 6.6 mV, 10 samples each).

--quick: XOR only, 4 samples. Writes reports/kit_mismatch.{json,png} (rows of earlier
runs with other models or amplifiers kept); finished samples are kept in
reports/kit_mismatch_*.results.json (a rerun resumes).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.circuit.pdk import SKY130
from analogam.circuit.plan import kit_config
from analogam.figures import save_figure, subplots
from analogam.model.weights import load_model
from analogam.progress import Progress
from analogam.reference import simulate_ode
from analogam.study.build import with_design_range
from analogam.study.montecarlo import monte_carlo, sweep
from analogam.tasks import bind_task, task_for

ROOT = Path(__file__).resolve().parents[1]
LATENCY = {"xor": 3e-7, "hamming74": 5e-7}


def options(level: str, latency: float, model, inputs, amplifier: str) -> CompileOptions:
    """The pdk level with the kit's per-device mismatch (or, trimmed, with analogam's
    offsets of the kit's measured spread), or the op-amp level fitted to the kit's
    amplifier: the keys the pdk level plans with (the amplifier's measured figures,
    its offset spread, and the Vs and sense full scale that fit the design range in
    its swing, so the fitted level does not rail where the pdk level does not)."""
    amplifier, _, bits = amplifier.partition(":")
    cfg = DeviceConfig().with_values({"design.latency": latency, "design.amplifier": amplifier,
                                      "opamp.trim_bits": int(bits or 0)})
    sigma = SKY130.amplifier_sizing(amplifier)[1]["offset_sigma"]
    if level == "pdk":
        return CompileOptions("pdk", cfg.with_value("environment.kit_mismatch", True))
    task = task_for(model)
    ode = simulate_ode(bind_task(model, inputs, task))
    ranges = with_design_range(CompileOptions("opamp", cfg), model, ode).ranges
    kit_cfg, _ = kit_config(cfg, SKY130, ranges)
    fitted = {k: getattr(getattr(kit_cfg, k.split(".")[0]), k.split(".")[1])
              for k in SKY130.config_values("tt", amplifier) if k.startswith("opamp.")} | {
        "opamp.offset_sigma": sigma,
        "scales.vs": kit_cfg.scales.vs, "sense.v_full_scale": kit_cfg.sense.v_full_scale}
    return CompileOptions("opamp", cfg.with_value("design.amplifier", "standard")
                          .with_values(fitted))


def study(name: str, level: str, amplifier: str, samples: int, words: int, out: Path
          ) -> dict:
    model = load_model(ROOT / "models" / f"{name}.npz")
    inputs = task_for(model).inputs()
    if name == "hamming74" and len(inputs) > words:
        inputs = inputs[np.linspace(0, len(inputs) - 1, words).round().astype(int)]
    with Progress(f"{name} at {level} ({amplifier}), Monte Carlo samples", least=2) as bar:
        res = monte_carlo(model, inputs, options(level, LATENCY[name], model, inputs, amplifier),
                          samples, progress=bar.update,
                          results=out / f"kit_mismatch_{name}_{level}_"
                                        f"{amplifier.replace(':', '_trim')}.results.json")
    recs = [r for r in res["records"].values() if not r.get("failed")]
    ro = np.array([r["readout_error"] for r in recs])
    settle = np.array([r["settling_tau_max"] * r["tau_v_s"] for r in recs])
    bits = amplifier.partition(":")[2]
    offsets = ("kit devices" if level == "pdk" else "modelled") + (
        f", {bits}-bit trim" if bits else "")
    return {"model": name, "level": level, "amplifier": amplifier, "offsets": offsets,
            "inputs": len(inputs),
            "samples": len(res["records"]), "simulated": len(recs),
            "accuracy": [r["accuracy"] for r in recs],
            "readout_error": ro.tolist(), "settling_s": settle.tolist(),
            "failed_checks": sorted({k for r in recs for k in r.get("findings", {})})}


def tolerance(samples: int, words: int, out: Path) -> int:
    """Accuracy and read-out error of Hamming against the amplifiers' offset spread, at
    the op-amp level fitted to the kit's standard amplifier."""
    model = load_model(ROOT / "models" / "hamming74.npz")
    inputs = task_for(model).inputs()
    inputs = inputs[np.linspace(0, len(inputs) - 1, words).round().astype(int)]
    sigmas = [0.5e-3, 1e-3, 2e-3, 4e-3, SKY130.amplifier["offset_sigma"]]
    with Progress("offset spreads x samples", least=2) as bar:
        res = sweep(model, inputs, options("opamp", LATENCY["hamming74"], model, inputs,
                                           "standard"),
                    "opamp.offset_sigma", sigmas, samples, progress=bar.update,
                    results=out / "kit_mismatch_tolerance.results.json")
    print(f"{'offset sigma':>12} {'accuracy':>9} {'read-out error median [max]':>28}")
    for j, s in enumerate(sigmas):
        recs = [r for k, r in res["records"].items()
                if k.startswith(f"v{j:03d}_") and not r.get("failed")]
        ro = np.array([r["readout_error"] for r in recs])
        print(f"{s * 1e3:>9.2f} mV {100 * np.mean([r['accuracy'] for r in recs]):>8.1f}% "
              f"{np.median(ro):>18.3g} [{ro.max():.3g}]")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--words", type=int, default=4, help="Hamming words (spread over 128).")
    ap.add_argument("--amplifiers", default="standard,standard:5",
                    help="The kit's amplifier sizings to compare (design.amplifier).")
    ap.add_argument("--models", default="xor,hamming74", help="Which of xor, hamming74.")
    ap.add_argument("--levels", default="pdk,opamp", help="Which of pdk, opamp.")
    ap.add_argument("--tolerance", action="store_true",
                    help="Sweep the offset spread at the fitted op-amp level instead.")
    args = ap.parse_args()
    names = ("xor",) if args.quick else tuple(args.models.split(","))
    samples = 4 if args.quick else args.samples
    out = ROOT / "reports"
    out.mkdir(exist_ok=True)
    if args.tolerance:
        return tolerance(min(samples, 10), args.words, out)
    rows = [study(n, lv, a, samples, args.words, out) for n in names
            for a in args.amplifiers.split(",") for lv in args.levels.split(",")]
    # earlier runs' rows (other models or amplifiers) stay in the table and the figure
    done = out / "kit_mismatch.json"
    new = {(r["model"], r["level"], r["amplifier"]) for r in rows}
    rows = [r for r in (json.loads(done.read_text()) if done.exists() else [])
            if (r["model"], r["level"], r.get("amplifier")) not in new] + rows
    names = tuple(n for n in ("xor", "hamming74") if any(r["model"] == n for r in rows))
    print(f"{'model':<10} {'level':<6} {'offsets':<22} {'inputs':>6} {'samples':>7} "
          f"{'accuracy':>9} {'read-out error median [min, max]':>34} "
          f"{'settled median [max]':>22}")
    for r in rows:
        ro, st = np.array(r["readout_error"]), np.array(r["settling_s"])
        print(f"{r['model']:<10} {r['level']:<6} {r.get('offsets', r['amplifier']):<22} "
              f"{r['inputs']:>6} "
              f"{r['simulated']:>3}/"
              f"{r['samples']:<3} {100 * np.mean(r['accuracy']):>8.1f}% "
              f"{np.median(ro):>12.3g} [{ro.min():.3g}, {ro.max():.3g}]"
              f"{np.median(st) * 1e9:>12.0f} ns [{st.max() * 1e9:.0f}]"
              f"  checks failing: {', '.join(r['failed_checks']) or 'none'}")
    fig, axes = subplots(1, len(names), figsize=(5.0 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=True):
        mine = [r for r in rows if r["model"] == name]
        top = max(1.0, *(max(r["readout_error"]) for r in mine)) * 1.2
        for r in mine:
            ax.hist(r["readout_error"], bins=np.geomspace(1e-3, top, 25), alpha=0.5,
                    label=f"{r['level']}, {r.get('offsets', r['amplifier'])}: "
                          f"{100 * np.mean(r['accuracy']):.0f} % right")
        ax.set_xscale("log")
        ax.set_xlabel("read-out error vs ideal ODE (model units)")
        ax.set_ylabel("samples")
        ax.set_title(f"{name}, {LATENCY[name] * 1e9:.0f} ns design, sky130 tt", fontsize=9)
        ax.legend(fontsize=8)
    save_figure(fig, out / "kit_mismatch.png")
    with atomic_open(out / "kit_mismatch.json") as f:
        json.dump(rows, f, indent=1)
    print(f"wrote {out / 'kit_mismatch.json'} and {out / 'kit_mismatch.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
