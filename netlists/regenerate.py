"""Regenerate the example netlists: ``python netlists/regenerate.py``.

One netlist per example model and level, with all of the task's inputs as independent
copies (XOR: 4, Hamming: the 16 codewords), designed for the ODE range of those inputs
as ``analogam compile`` does (level shifts, rails, time scale, sense resistors).
``--check`` exits 1 if any file on disk differs from what the compiler now produces
(tests run this).
"""

from __future__ import annotations

import sys
from pathlib import Path

from analogam.circuit import LEVELS, CompileOptions
from analogam.model.weights import load_model
from analogam.reference import simulate_ode
from analogam.study import compile_system, transient_netlist
from analogam.study.pipeline import with_design_range
from analogam.tasks import bind_task, get_task, hamming74_codewords

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {"xor": lambda: get_task("xor").inputs(), "hamming74": hamming74_codewords}


def expected() -> dict[Path, str]:
    out = {}
    for name, inputs in EXAMPLES.items():
        model = load_model(ROOT / "models" / f"{name}.npz")
        bits = inputs()
        system = bind_task(model, bits)
        ode = simulate_ode(system)
        # the pdk level includes the kit's model files by their absolute installed path:
        # such a netlist belongs to one machine, not to the repository
        for level in (lv for lv in LEVELS if lv != "pdk"):
            (c,) = compile_system(system, with_design_range(CompileOptions(level=level),
                                                            model, ode))
            out[ROOT / "netlists" / f"{name}_{level}.cir"] = transient_netlist(c, inputs=bits)
    return out


def main(argv: list[str]) -> int:
    stale = []
    for path, text in expected().items():
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("stale netlists (run python netlists/regenerate.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
