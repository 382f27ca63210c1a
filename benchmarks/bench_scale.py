"""Scale study: dense crossbars from 32x32 up, at the ideal and opamp levels, in ngspice
with KLU and with Sparse 1.3 (the same ngspice, the same netlist but for the solver
option) and, given ``--ngspice39 PATH``, in Debian 12's ngspice 39 (Sparse only): wall
time split into operating point and transient, time per accepted step, peak memory,
and the fitted exponent of cost against size. Writes reports/scale.{json,png}.

    python benchmarks/bench_scale.py [--sizes 32,64,128,256,512] [--levels ideal,opamp]
                                     [--ngspice39 /opt/ngspice39/usr/bin/ngspice]

Model: a DenseAM with n visible identity units and n softmax memories, uniform weights in
[0.1, 1] (G0 folded to the window top), one input. Each ngspice run is timed by itself
(``.options acct``); the ratio column is Sparse (or ngspice 39) over KLU in one run of
this script. ngspice 39 finds its scripts through SPICE_SCRIPTS next to the binary.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from analogam.atomic import atomic_open
from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.figures import save_figure, subplots
from analogam.model import Stimulus, bind
from analogam.model.architectures import build_denseam
from analogam.netlist import format_netlist, transient_for

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"total_s": r"Total analysis time \(seconds\) = ([\d.eE+-]+)",
          "tran_s": r"Transient analysis time = ([\d.eE+-]+)",
          "accepted": r"Accepted timepoints = (\d+)",
          "iterations": r"Total iterations = (\d+)",
          "tran_iterations": r"Transient iterations = (\d+)"}


def crossbar(n: int, level: str):
    rng = np.random.default_rng(n)
    m = build_denseam(rng.uniform(0.1, 1.0, (n, n)), beta=1.0, readout_time=3.0,
                      name=f"crossbar{n}")
    # hidden states reach about n/4 model units: 0.25 V per unit keeps the op-amps inside
    # their swing at the opamp level
    cfg = DeviceConfig().with_values({"conductance.rescale": True,
                                      "scales.vs": 1.0 if level == "ideal" else 0.25})
    return build_circuit(bind(m, Stimulus(1, init={"v": rng.uniform(0, 1, (1, n))})),
                         CompileOptions(level, cfg))


def run(netlist: str, exe: str, timeout: float) -> dict:
    """One ngspice -b run with accounting: wall time, peak RSS, and ngspice's own
    operating-point / transient split."""
    env = dict(os.environ)
    scripts = Path(exe).resolve().parents[1] / "share" / "ngspice" / "scripts"
    if scripts.is_dir():
        env["SPICE_SCRIPTS"] = str(scripts)
    with tempfile.TemporaryDirectory(prefix="analogam-bench-") as tmp:
        cir = Path(tmp) / "c.cir"
        cir.write_text(netlist.replace(".options ", ".options acct ", 1))
        t0 = time.perf_counter()
        proc = subprocess.Popen([exe, "-b", "-n", "-r", str(Path(tmp) / "o.raw"), str(cir)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                text=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return {"ok": False, "wall_s": timeout, "why": "timeout"}
        wall = time.perf_counter() - t0
    rec = {"ok": proc.returncode == 0 and "simulation(s) aborted" not in out, "wall_s": wall}
    if not rec["ok"]:
        why = re.search(r"(Timestep too small|singular matrix|aborted)[^\n]*", out)
        rec["why"] = why.group(0)[:120] if why else f"exit {proc.returncode}"
    for k, pat in FIELDS.items():
        m = re.search(pat, out)
        rec[k] = float(m.group(1)) if m else None
    m = re.search(r"Maximum ngspice program size =\s+([\d.]+) MB", out)
    rec["peak_mb"] = float(m.group(1)) if m else None
    if rec["total_s"] is not None and rec["tran_s"] is not None:
        rec["op_s"] = rec["total_s"] - rec["tran_s"]
        if rec["accepted"]:
            rec["ms_per_step"] = 1e3 * rec["tran_s"] / rec["accepted"]
    rec["gmin_or_source_stepping"] = "stepping" in out
    return rec


def fit(sizes, times) -> float:
    x, y = np.log(sizes), np.log(times)
    return float(np.polyfit(x, y, 1)[0]) if len(x) > 1 else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="32,64,128,256,512")
    ap.add_argument("--levels", default="ideal,opamp")
    ap.add_argument("--ngspice", default="ngspice")
    ap.add_argument("--ngspice39", default=None)
    ap.add_argument("--timeout", type=float, default=3000)
    ap.add_argument("--max-sparse", type=int, default=256,
                    help="largest size run with Sparse (its cost grows about as n^3.5)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = [("klu", args.ngspice, "klu"), ("sparse", args.ngspice, "sparse")]
    if args.ngspice39:
        runs.append(("ngspice39", args.ngspice39, "sparse"))
    rows = []
    for level in args.levels.split(","):
        for n in sizes:
            c = crossbar(n, level)
            row = {"level": level, "n": n, "elements": len(c.circuit.elements)}
            for name, exe, solver in runs:
                if solver == "sparse" and n > args.max_sparse:
                    row[name] = {"ok": False, "wall_s": float("nan"), "why": "not run"}
                    continue
                text = format_netlist(c.circuit, transient_for(c, solver=solver))
                row[name] = run(text, exe, args.timeout)
                r = row[name]
                print(f"{level:5s} {n:4d}x{n:<4d} {name:9s} wall {r['wall_s']:8.2f} s  op "
                      f"{r.get('op_s') or 0:7.2f} s  tran {r.get('tran_s') or 0:8.2f} s  "
                      f"{r.get('ms_per_step') or 0:7.2f} ms/step  peak "
                      f"{r.get('peak_mb') or 0:7.1f} MB"
                      + ("  (gmin/source stepping)" if r.get("gmin_or_source_stepping")
                         else "") + ("" if r["ok"] else f"  FAILED {r.get('why', '')}"),
                      flush=True)
            for other in [x for x, _, _ in runs[1:]]:
                if row["klu"]["ok"] and row[other]["ok"]:
                    ratio = row[other]["wall_s"] / row["klu"]["wall_s"]
                    print(f"      {other} / klu: x{ratio:.1f}")
            rows.append(row)
    summary = {}
    for level in args.levels.split(","):
        for name, _, _ in runs:
            pts = [(r["n"], r[name]["wall_s"]) for r in rows
                   if r["level"] == level and r[name]["ok"] and r["n"] >= 64]
            summary[f"{level}_{name}_exponent"] = fit(*zip(*pts, strict=True)) if len(pts) > 1 \
                else None
    print(json.dumps(summary, indent=1))
    out = ROOT / "reports"
    with atomic_open(out / "scale.json", "w") as f:
        json.dump({"rows": rows, "exponents": summary}, f, indent=1)
    fig, ax = subplots(figsize=(6, 4))
    for level, ls in (("ideal", "-"), ("opamp", "--")):
        for name, _, _ in runs:
            pts = [(r["n"], r[name]["wall_s"]) for r in rows if r["level"] == level
                   and r[name]["ok"]]
            if pts:
                ax.loglog(*zip(*pts, strict=True), ls, marker="o", label=f"{level} {name}")
    ax.set_xlabel("crossbar size n (n x n)")
    ax.set_ylabel("ngspice wall time (s)")
    ax.legend(fontsize=7)
    save_figure(fig, out / "scale.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
