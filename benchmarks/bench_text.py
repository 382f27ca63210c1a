"""The character model's EP step: the contraction map against the integrator.

On the initial text model (context 32, D 64, M 128, projected into its contraction
bound), one minibatch of 128 windows: the free phase relaxed by the map ``u <-
drive(u)`` and by the adaptive integrator with Newton polishing (the relaxer of the
other tasks), both to 1e-8, with the largest difference of their fixed points and the
time ratio; then a whole EP gradient (free + two nudged phases) and the implicit
gradient, with their cosine and time ratio. Ratios are measured in this process.

    python benchmarks/bench_text.py
"""

from __future__ import annotations

import time

import numpy as np

from analogam.tasks import bind_task
from analogam.train import config_for
from analogam.train.data import initial_model, task_data
from analogam.train.gradients import cosine
from analogam.train.loop import free_phase, phase_gradient, project
from analogam.train.params import to_theta
from analogam.train.relax import relax


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def main() -> None:
    cfg = config_for("text", windows=1024)
    data = task_data("text", cfg)
    batch = data.inputs[:128]
    _, model = project(initial_model(cfg), to_theta(initial_model(cfg)), batch, cfg)
    system = bind_task(model, batch)
    by_map, t_map = timed(lambda: relax(system, tol=1e-8, contracting=True))
    by_ode, t_ode = timed(lambda: relax(system, tol=1e-8))
    print(f"free phase, 128 windows: map {t_map:.3f} s, integrator + Newton {t_ode:.3f} s "
          f"({t_ode / t_map:.0f}x); fixed points differ by "
          f"{np.max(np.abs(by_map.u - by_ode.u)):.2g}; converged "
          f"{by_map.converged.sum()} / {by_ode.converged.sum()}")
    ph = free_phase(model, batch, cfg)
    ep, t_ep = timed(lambda: phase_gradient(ph, cfg, "ep"))
    imp, t_imp = timed(lambda: phase_gradient(ph, cfg, "implicit"))
    print(f"gradient: EP {t_ep:.3f} s, implicit {t_imp:.3f} s (EP / implicit "
          f"{t_ep / t_imp:.2f}x); cos(EP, implicit) {cosine(ep.grads, imp.grads):.9f}")


if __name__ == "__main__":
    main()
