# %% [markdown]
# # analogam from Python
#
# A notebook-style script (cells marked `# %%`; VS Code, Jupytext and Spyder run them
# one by one): build a Dense Associative Memory, compile it to a netlist, simulate it in
# ngspice at two abstraction levels, compare with the ODE, and plot. Every object used
# here comes from `import analogam`; docs/api.md lists them.
#
# The local ngspice pool starts worker processes that import this file again, so the
# work runs under `if __name__ == "__main__":` (a notebook kernel needs no guard).

# %%
import sys
from pathlib import Path

import numpy as np

import analogam as am

OUT = Path(__file__).resolve().parents[1] / "reports" / "notebook"


def main(out: Path = OUT) -> int:
    # %% A model: three +-1 patterns of 8 bits stored in a DenseAM (softmax memories)
    patterns = np.array([[1, 1, 1, 1, -1, -1, -1, -1],
                         [1, -1, 1, -1, 1, -1, 1, -1],
                         [1, 1, -1, -1, 1, 1, -1, -1]], dtype=float)
    model = am.build_denseam(patterns, beta=2.0, name="three_patterns")
    task = am.task_for(model)           # the generic recall task of a DenseAM
    inputs = task.inputs()[:6]          # corrupted patterns to recall from
    print(f"{model.name}: {model.n_units} units; inputs {inputs.shape}")

    # %% Compile: the circuit and its netlist (text ngspice reads)
    system = am.bind_task(model, inputs[:1], task)
    compiled = am.build_circuit(system, am.CompileOptions(level="ideal"))
    netlist = am.format_netlist(compiled.circuit, am.transient_for(compiled))
    print(f"netlist: {len(netlist.splitlines())} lines, "
          f"elements {compiled.circuit.counts()}")

    # %% Simulate at two levels; each report holds numpy arrays
    reports = {}
    for level in ("ideal", "opamp"):
        rep = am.simulate_task(model, inputs, am.CompileOptions(level=level), task=task)
        reports[level] = rep
        c = rep.comparison
        print(f"{level}: agreement with the ODE {rep.agreement:.0%}, read-out error "
              f"{c.readout_err.max():.2e} (model units), trajectories {c.u_spice.shape}")

    # %% The ODE alone (the reference every circuit is compared with)
    ode = am.simulate_ode(am.bind_task(model, inputs, task))
    print(f"ODE settled on {int(ode.settled.sum())} of {len(inputs)} inputs")

    # %% Figures: matplotlib Figure objects, written as PNG, PDF or SVG
    out.mkdir(parents=True, exist_ok=True)
    for level, rep in reports.items():
        for name, fig in am.report_figures(rep).items():
            am.save_figure(fig, out / f"{level}_{Path(name).stem}.svg")
    print(f"wrote figures to {out}")
    return 0 if all(r.agreement == 1.0 for r in reports.values()) else 2


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]   # it is quick already
    sys.exit(main(Path(args[0]) if args else OUT))
