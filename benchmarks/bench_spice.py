"""ngspice throughput: one run per input vs independent copies in one netlist vs the
worker pool, and worker memory over many runs.

Reference-shaped Energy Transformer (D=16, L=8, M=16, bounded energy; see
bench_ode.py) on N parity inputs (default all 256), ideal level. Prints time per input
for (a) one ``ngspice -b`` run per input, serially, (b) all inputs as independent copies
in one netlist, (c) one netlist per input through the shared-library worker pool, and
their ratios; then the resident memory of the pool's workers before and after
``--runs`` (default 1000) XOR simulations.

    python benchmarks/bench_spice.py [--inputs N] [--runs R]
"""

from __future__ import annotations

import argparse
import time

from bench_ode import reference_shaped_model

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.model.weights import load_model
from analogam.netlist import format_netlist, transient_for
from analogam.spice import run_batch
from analogam.spice.shared import SpicePool
from analogam.tasks import all_bit_strings, bind_task, get_task


def _netlist(c) -> str:
    return format_netlist(c.circuit, transient_for(c))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", type=int, default=256)
    ap.add_argument("--runs", type=int, default=1000)
    args = ap.parse_args()
    model = reference_shaped_model()
    bits = all_bit_strings(8)[: args.inputs]
    system = bind_task(model, bits)
    # squared random weights span ~1e7 in magnitude: a wide window, for timing only
    opts = CompileOptions(config=DeviceConfig().with_values({"conductance.g_min": 1e-14,
                                                             "conductance.rescale": True}))
    singles = [_netlist(build_circuit(system.sample(b), opts)) for b in range(system.batch)]
    batched = _netlist(build_circuit(system, opts))
    n = len(singles)

    t0 = time.perf_counter()
    assert all(run_batch(s).success for s in singles)
    t_single = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    r = run_batch(batched, timeout_s=3600)
    t_batched = (time.perf_counter() - t0) / n
    assert r.success, r.message
    with SpicePool() as pool:
        next(pool.map(singles[:2]))  # start the workers outside the timing
        t0 = time.perf_counter()
        assert all(x.success for x in pool.map(singles))
        t_pool = (time.perf_counter() - t0) / n
    print(f"parity ET, {n} inputs, ideal level, time per input:")
    print(f"  (a) one ngspice -b run per input : {t_single * 1e3:8.1f} ms")
    print(f"  (b) {n} copies in one netlist    : {t_batched * 1e3:8.1f} ms   "
          f"(a)/(b) = {t_single / t_batched:5.2f}  (aim >= 10)")
    print(f"  (c) worker pool, {pool.workers} workers        : {t_pool * 1e3:8.1f} ms   "
          f"(a)/(c) = {t_single / t_pool:5.2f}")

    xor = load_model(__import__("pathlib").Path(__file__).resolve().parents[1]
                     / "models" / "xor.npz")
    net = _netlist(build_circuit(bind_task(xor, get_task("xor").inputs()[1:2])))
    with SpicePool() as pool:
        list(pool.map([net] * 20))
        before = pool.worker_rss_kib()
        t0 = time.perf_counter()
        ok = sum(x.success for x in pool.map([net] * args.runs))
        dt = time.perf_counter() - t0
        after = pool.worker_rss_kib()
    growth = [(a - b) / 1024 for a, b in zip(after, before, strict=True)]
    print(f"{args.runs} XOR runs through the pool ({ok} ok, {dt:.1f} s): worker RSS "
          f"{[f'{b / 1024:.1f}' for b in before]} -> {[f'{a / 1024:.1f}' for a in after]} MB, "
          f"growth {[f'{g:+.1f}' for g in growth]} MB")


if __name__ == "__main__":
    main()
