"""Shared body of the task examples: simulate the inputs of a model file at one level,
compare circuit, ODE and (for trained models) trainer, and write the report.

    python examples/<task>.py [ideal|bjt|opamp|pdk] [--quick]

--quick simulates every eighth input only."""

import argparse
from pathlib import Path

from analogam.circuit import CompileOptions
from analogam.model.weights import load_model
from analogam.progress import Progress
from analogam.study import format_report, simulate_weights, write_report
from analogam.tasks import task_for

ROOT = Path(__file__).resolve().parents[1]


def quick_args(doc: str, argv=None, **extra) -> argparse.Namespace:
    """The examples' command line: ``--quick`` and ``extra`` options (name -> kwargs)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="A smaller run (under two minutes on a 2-core machine).")
    for name, kw in extra.items():
        ap.add_argument(name, **kw)
    return ap.parse_args(argv)


def run_task(name: str, argv=None) -> int:
    """Exit status: 0 when the circuit agrees with the ODE and is right on every input."""
    args = quick_args(__doc__, argv, level={"nargs": "?", "default": "ideal"})
    path = ROOT / "models" / f"{name}.npz"
    inputs = task_for(load_model(path)).inputs()
    if args.quick:
        inputs = inputs[::8]
    with Progress(f"{name} at the {args.level} level: ngspice runs") as bar:
        rep = simulate_weights(path, inputs, options=CompileOptions(level=args.level),
                               progress=bar.update)
    out = ROOT / "reports" / f"{name}_{args.level}"
    write_report(rep, out)
    print(format_report(rep))
    print(f"  report written to {out.relative_to(ROOT)}/")
    return 0 if rep.agreement == 1.0 and rep.accuracy_spice == 1.0 else 2
