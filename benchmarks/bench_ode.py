"""ODE reference vs the fixed-step forward-Euler loop the reference work trained with.

Reference-shaped Energy Transformer (D=16, L=8, M=16, beta=0.1, tau_v=0.1,
tau_h=0.01), all 256 parity inputs, integrated to t=1. Prints the wall time of each,
their ratio, and each one's max state error against a tight Radau solution.

    python benchmarks/bench_ode.py
"""

from __future__ import annotations

import time

import numpy as np

from analogam.model import bind, force
from analogam.model.architectures import build_energy_transformer
from analogam.reference import simulate_ode
from analogam.tasks import all_bit_strings, get_task


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


def best_of(fn, repeat: int = 3):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    model = reference_shaped_model()
    system = bind(model, get_task("parity8").stimulus(model, all_bit_strings(8)))
    tight = simulate_ode(system, method="Radau", rtol=1e-11, atol=1e-13, n_points=2).u_final
    t_e, u_e = best_of(lambda: euler(system))
    err_e = np.abs(u_e - tight).max()
    print(f"forward Euler, 1000 steps, batched numpy: {t_e * 1e3:8.1f} ms  "
          f"max error {err_e:.2e}")
    rows = []
    for method, rtol in (("RK23", 1e-3), ("RK45", 1e-4), ("DOP853", 1e-5), ("Radau", 1e-6)):
        t_o, r = best_of(lambda m=method, rt=rtol: simulate_ode(
            system, method=m, rtol=rt, atol=rt * 1e-2, n_points=2))
        err = np.abs(r.u_final - tight).max()
        rows.append((t_e / t_o, method, rtol, t_o, err))
        print(f"solve_ivp {method:<6} rtol {rtol:.0e}:           {t_o * 1e3:8.1f} ms  "
              f"max error {err:.2e}  speed-up x{t_e / t_o:5.1f}  "
              f"{'(at least as accurate)' if err <= err_e else '(LESS accurate)'}")
    best = max((r for r in rows if r[4] <= err_e), default=None)
    if best:
        print(f"best at equal or better accuracy: {best[1]} rtol {best[2]:.0e}, "
              f"x{best[0]:.1f} faster than Euler (aim: x20)")


if __name__ == "__main__":
    main()
