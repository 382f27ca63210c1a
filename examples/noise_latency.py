"""Does noise or bandwidth set the fastest right answer? XOR and Hamming (7,4) at the
`opamp` level, compiled for read-out latency targets from 1 us down to the fastest the
compiler can plan, at 27 and 85 degC, each with transient noise (every resistor's
thermal noise, every amplifier's 20 nV/rtHz input noise; `environment.noise`) and
without. Per point: the answers, the read-out error against the ODE, and the noise's
own share of it (the noisy read-out against the noiseless one of the same circuit).

    python examples/noise_latency.py [--quick] [--seeds N] [--words N] [--level opamp|pdk]

--quick: XOR only, 27 degC, three targets. Writes reports/noise_latency_LEVEL.{json,png}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig
from analogam.errors import AnalogamError
from analogam.figures import save_figure, subplots
from analogam.model.weights import load_model
from analogam.spice import Runner
from analogam.study import simulate_task
from analogam.tasks import task_for

ROOT = Path(__file__).resolve().parents[1]
TARGETS = (1e-6, 3e-7, 1e-7, 3e-8, 1e-8)


def point(model, inputs, latency: float, temp: float, noise: bool, seed: int,
          runner: Runner, level: str = "opamp") -> dict:
    cfg = DeviceConfig(seed=seed).with_values({"design.latency": latency,
                                               "environment.temperature_c": temp,
                                               "environment.noise": noise})
    try:
        rep = simulate_task(model, inputs, CompileOptions(level, cfg), runner=runner)
    except AnalogamError as e:      # a target the compiler cannot plan, or a failed run
        return {"failed": str(e).splitlines()[0][:200]}
    c, sm = rep.comparison, rep.comparison.summary()
    return {"accuracy": rep.accuracy_spice, "agreement": rep.agreement,
            "readout_error": float(c.readout_err.max()),
            "settle_s": sm["settling_tau_max"] * sm["tau_v_s"],
            "u_read": c.u_spice[:, -1, :].tolist()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=1, help="Noise draws per point.")
    ap.add_argument("--words", type=int, default=4,
                    help="Hamming words (spread over the 128): a noisy netlist holds a "
                         "waveform per resistor, about 13x the noiseless run's time.")
    ap.add_argument("--level", default="opamp", help="opamp or pdk.")
    args = ap.parse_args()
    names = ("xor",) if args.quick else ("xor", "hamming74")
    temps = (27.0,) if args.quick else (27.0, 85.0)
    targets = TARGETS[1:4] if args.quick else TARGETS
    seeds = 1 if args.quick else args.seeds
    rows = []
    out = ROOT / "reports"
    out.mkdir(exist_ok=True)
    stem = f"noise_latency_{args.level}"
    with Runner("local", "auto", 600) as runner:
        for name in names:
            model = load_model(ROOT / "models" / f"{name}.npz")
            inputs = task_for(model).inputs()
            if name == "hamming74":
                inputs = inputs[:: max(1, len(inputs) // args.words)][:args.words]
            for temp in temps:
                for latency in targets:
                    quiet = point(model, inputs, latency, temp, False, 0, runner, args.level)
                    noisy = [point(model, inputs, latency, temp, True, s, runner, args.level)
                             for s in range(seeds)]
                    ok = [p for p in noisy if "failed" not in p]
                    row = {"model": name, "temperature_c": temp, "latency_s": latency,
                           "noiseless": {k: v for k, v in quiet.items() if k != "u_read"},
                           "noisy_accuracy_min": min((p["accuracy"] for p in ok),
                                                     default=None),
                           "noisy_readout_error_max": max((p["readout_error"] for p in ok),
                                                          default=None),
                           "noise_share": None, "failed": [p["failed"] for p in noisy
                                                           if "failed" in p]}
                    if ok and "failed" not in quiet:
                        row["noise_share"] = max(float(np.abs(np.array(p["u_read"]) - np.array(
                            quiet["u_read"])).max()) for p in ok)
                    rows.append(row)
                    q = row["noiseless"]
                    print(f"{name:9s} {temp:4.0f} C  target {1e9 * latency:6.0f} ns: "
                          + (f"noiseless {100 * q['accuracy']:5.1f}% (read-out error "
                             f"{q['readout_error']:.2e}), noisy min "
                             f"{100 * (row['noisy_accuracy_min'] or 0):5.1f}% (error "
                             f"{row['noisy_readout_error_max'] or float('nan'):.2e}; noise "
                             f"alone {row['noise_share'] or float('nan'):.2e})"
                             if "failed" not in quiet else f"not built: {quiet['failed']}"),
                          flush=True)
                    with atomic_open(out / f"{stem}.json", "w") as f:   # what finished
                        json.dump(rows, f, indent=1)
    plot(rows, out / f"{stem}.png", args.level)
    print(f"wrote {out / stem}.png")
    return 0


def plot(rows: list[dict], path: Path, level: str) -> None:
    fig, ax = subplots(figsize=(6.4, 4.0))
    for (name, temp) in dict.fromkeys((r["model"], r["temperature_c"]) for r in rows):
        sel = [r for r in rows if (r["model"], r["temperature_c"]) == (name, temp)
               and r["noise_share"] is not None]
        if not sel:
            continue
        x = [1e9 * r["latency_s"] for r in sel]
        line, = ax.loglog(x, [r["noiseless"]["readout_error"] for r in sel], "o-",
                          label=f"{name} {temp:.0f} C: read-out error, noiseless")
        ax.loglog(x, [r["noise_share"] for r in sel], "s--", color=line.get_color(),
                  label=f"{name} {temp:.0f} C: noise alone")
    ax.axhline(0.5, color="0.5", lw=0.8)
    ax.text(0.02, 0.55, "decision margin (0.5)", fontsize=7,
            transform=ax.get_yaxis_transform())
    ax.invert_xaxis()
    ax.set_xlabel("read-out latency target (ns)")
    ax.set_ylabel("max |u - u_ODE| at read-out (model units)")
    ax.set_title(f"{level} level: bandwidth against noise", fontsize=9)
    ax.legend(fontsize=6)
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
