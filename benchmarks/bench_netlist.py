"""Netlist writing cost against crossbar size (it must be linear in the elements).

Square DenseAM crossbars from 100x100 to 1000x1000 (dense, positive weights), ideal
level: time to build the IR and to write the netlist, elements per second at each
size, and the ratio of the largest size's per-element cost to the smallest's
(1.0 = perfectly linear). Optionally (``--spice``) the ngspice run time of the ideal
circuit against size, to show where the solver's cost bends.

    python benchmarks/bench_netlist.py [--spice]
"""

from __future__ import annotations

import io
import sys
import time

import numpy as np

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.model import Stimulus, bind
from analogam.model.architectures import build_denseam
from analogam.netlist import format_netlist, transient_for, write_netlist
from analogam.spice import run_batch


def system(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = build_denseam(rng.uniform(0.1, 1.0, (n, n)), beta=1.0, readout_time=3.0)
    return bind(m, Stimulus(1, init={"v": rng.uniform(0, 1, (1, n))}))


def main(argv: list[str]) -> None:
    opts = CompileOptions(config=DeviceConfig().with_value("conductance.rescale", True))
    rows = []
    for n in (100, 200, 400, 700, 1000):
        s = system(n)
        t0 = time.perf_counter()
        comp = build_circuit(s, opts)
        c = comp.circuit
        t1 = time.perf_counter()
        buf = io.StringIO()
        write_netlist(c, buf, transient_for(comp))
        t2 = time.perf_counter()
        ne = len(c.elements)
        rows.append((n, ne, t1 - t0, t2 - t1))
        print(f"{n:5d}x{n:<5d} {ne:9d} elements  build {t1 - t0:6.2f} s "
              f"({ne / (t1 - t0) / 1e6:5.2f} M/s)  write {t2 - t1:6.2f} s "
              f"({ne / (t2 - t1) / 1e6:5.2f} M/s)  {len(buf.getvalue()) / 1e6:6.1f} MB")
    (_, e0, b0, w0), (_, e1, b1, w1) = rows[0], rows[-1]
    print(f"per-element cost, largest/smallest: build x{(b1 / e1) / (b0 / e0):.2f}, "
          f"write x{(w1 / e1) / (w0 / e0):.2f} (1.0 = linear)")
    print(f"time for 1e6 elements: build {b1 / e1 * 1e6:.2f} s, write {w1 / e1 * 1e6:.2f} s "
          f"(aim: write <= 2 s)")
    if "--spice" in argv:
        for n in (16, 32, 64, 128, 256):
            comp = build_circuit(system(n), opts)
            text = format_netlist(comp.circuit, transient_for(comp))
            r = run_batch(text, timeout_s=600)
            print(f"ngspice ideal {n:4d}x{n:<4d}: {r.wall_s:7.2f} s  {r.message}")


if __name__ == "__main__":
    main(sys.argv[1:])
