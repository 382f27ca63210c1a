"""The ODE reference against the reference work's own schemes, at equal accuracy.

Reference-shaped Energy Transformer (D=16, L=8, M=16, beta=0.1, tau_v=0.1,
tau_h=0.01, bounded energy), all 256 parity inputs, integrated to t=1. Every scheme's
max state error is measured against one tight solution (Radau, rtol 1e-11):

- numpy forward Euler, 1000 steps, batched (the model's own force);
- scipy solve_ivp on the whole batch (RK23, RK45, Radau), the previous path;
- analogam's batched integrators, every sample with its own step size: ``dopri5`` and
  ``rkc`` (compiled with numba when installed), over a range of tolerances;
- with ``--jax-python PYTHON`` (an environment with jax and diffrax, never analogam's
  own), the reference work's scheme in JAX: jit forward Euler with 1000 steps, and
  diffrax Tsit5 at rtol 1e-3 and 1e-6 (``jax_reference.py``).

For each baseline it prints analogam's fastest run whose error is at most the
baseline's, and the ratio of wall times (best of 5, compilation excluded). Then the time
per EP minibatch of 32 parity strings with the scipy relaxation (before) and the default
(after).

    python benchmarks/bench_ode.py [--jax-python /tmp/jaxenv/bin/python]
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from analogam.model import bind, force
from analogam.model.architectures import build_energy_transformer
from analogam.reference import integrate, simulate_ode
from analogam.tasks import all_bit_strings, get_task

HERE = Path(__file__).resolve().parent


def reference_shaped_model(seed: int = 0):
    rng = np.random.default_rng(seed)
    D, L, M = 16, 8, 16
    H = rng.uniform(0, 1, (M, D)) ** 2
    H *= 0.8 / np.linalg.norm(H, 2)  # keep the energy bounded (sigma_max < 1)
    return build_energy_transformer(
        rng.uniform(0, 1.5, (2, D)) ** 2, H, context=L,
        visible_bias=rng.normal(0, 0.5, D), attention_bias=rng.normal(0, 0.5, L),
        memory_bias=rng.normal(0, 0.5, M), decoder_weights=rng.normal(0, 1, (2, D)),
        decoder_bias=np.zeros(2), task="parity8",
    )


def euler(system, steps: int = 1000, t_end: float = 1.0) -> np.ndarray:
    """Forward Euler, fully batched in numpy: u += dt * force(u)."""
    u = np.array(system.u0)
    dt = t_end / steps
    for _ in range(steps):
        u += dt * force(system, u)
    return u


def best_of(fn, repeat: int = 5):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def jax_rows(system, tight, python: str) -> list[dict]:
    m = system.model
    g = {x.name: x for x in m.groups}
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "problem.npz"
        np.savez(p, emb=m.couplings[0].weights, tokens=system.tokens,
                 H=m.couplings[1].weights, a=g["v"].bias, b=g["attn"].bias,
                 c=g["hopf"].bias, beta=g["attn"].param, tau_v=g["v"].tau,
                 tau_h=g["attn"].tau, gain=g["hopf"].param,
                 memory_activation=np.array(g["hopf"].activation), u0=system.u0, tight=tight)
        out = subprocess.run([python, str(HERE / "jax_reference.py"), str(p)],
                             capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        print(f"JAX baseline failed: {out.stderr.strip()[-300:]}")
        return []
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def ep_minibatch_ms(method: str) -> float:
    """Time per EP gradient of a minibatch of 32 parity strings (6 batches), with the
    relaxation's integrator set to ``method``."""
    from analogam.train import config_for, gradient
    from analogam.train.data import initial_model, task_data

    relax_mod = importlib.import_module("analogam.train.relax")
    loop = importlib.import_module("analogam.train.loop")
    grads = importlib.import_module("analogam.train.gradients")
    base = relax_mod.relax

    def relax_with(*a, **k):
        return base(*a, **{**k, "method": method})

    cfg = config_for("parity8")
    data = task_data("parity8")
    order = np.random.default_rng(0).permutation(data.train)
    batches = [data.inputs[order[i:i + 32]] for i in range(0, 192, 32)]
    model = initial_model(cfg)
    loop.relax = grads.relax = relax_with
    try:
        gradient(model, batches[0], cfg)   # compile outside the timing
        t0 = time.perf_counter()
        for b in batches:
            gradient(model, b, cfg)
        return 1e3 * (time.perf_counter() - t0) / len(batches)
    finally:
        loop.relax = grads.relax = base


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jax-python", default=None)
    args = ap.parse_args()
    model = reference_shaped_model()
    system = bind(model, get_task("parity8").stimulus(model, all_bit_strings(8)))
    tight = simulate_ode(system, method="Radau", rtol=1e-11, atol=1e-13, n_points=2).u_final
    times = np.array([0.0, 1.0])
    err = lambda u: float(np.abs(u - tight).max())  # noqa: E731

    rows = []
    t, u = best_of(lambda: euler(system), 3)
    euler_row = {"scheme": "numpy forward Euler 1000 steps", "seconds": t, "max_error": err(u)}
    base_rows = [euler_row]
    for method, rtol in (("RK23", 1e-3), ("RK45", 1e-4), ("Radau", 1e-6)):
        t, tr = best_of(lambda m=method, r=rtol: integrate(system, times, method=m, rtol=r,
                                                            atol=r * 1e-2), 3)
        base_rows.append({"scheme": f"scipy solve_ivp {method} rtol {rtol:.0e}", "seconds": t,
                          "max_error": err(tr.u[:, -1])})
    if args.jax_python:
        base_rows += jax_rows(system, tight, args.jax_python)
    for method, tols in (("dopri5", (1e-3, 1e-4, 1e-5, 3e-6, 1e-6)),
                         ("rkc", (1e-2, 3e-3, 1e-3, 3e-4, 1e-4))):
        integrate(system, times, method=method, rtol=1e-3, atol=1e-5)   # compile
        for rtol in tols:
            t, tr = best_of(lambda m=method, r=rtol: integrate(system, times, method=m,
                                                                rtol=r, atol=r * 1e-2))
            rows.append({"scheme": f"analogam {method} rtol {rtol:.0e}", "seconds": t,
                         "max_error": err(tr.u[:, -1]), "evaluations_per_sample":
                         tr.nfev / system.batch})
    print("baselines:")
    for r in base_rows:
        print(f"  {r['scheme']:<34} {1e3 * r['seconds']:8.2f} ms   max error {r['max_error']:.2e}")
    print("analogam (per-sample step control):")
    for r in rows:
        print(f"  {r['scheme']:<34} {1e3 * r['seconds']:8.2f} ms   max error {r['max_error']:.2e}"
              f"   {r['evaluations_per_sample']:.0f} evaluations per sample")
    print("at equal or better max error, analogam's fastest run against each baseline:")
    for b in base_rows:
        ok = [r for r in rows if r["max_error"] <= b["max_error"]]
        if not ok:
            print(f"  {b['scheme']:<34} none as accurate")
            continue
        best = min(ok, key=lambda r: r["seconds"])
        print(f"  {b['scheme']:<34} {best['scheme']:<28} x{b['seconds'] / best['seconds']:5.2f}")
    before, after = ep_minibatch_ms("RK45"), ep_minibatch_ms("auto")
    print(f"EP minibatch of 32 parity strings: {before:.0f} ms with scipy RK45 relaxation, "
          f"{after:.0f} ms with the default (x{before / after:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
