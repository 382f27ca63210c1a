"""Regenerate the figures the README shows (XOR at the op-amp level: the report's
circuit-against-ODE figure).

    python docs/figures/regenerate.py
"""

from pathlib import Path

import analogam as am

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> int:
    model = am.load_model(ROOT / "models" / "xor.npz")
    rep = am.simulate_task(model, am.task_for(model).inputs(), am.CompileOptions("opamp"))
    figs = am.report_figures(rep)
    am.save_figure(figs["trajectories.png"], HERE / "xor_opamp_trajectories.png", dpi=110)
    print(f"wrote {HERE / 'xor_opamp_trajectories.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
