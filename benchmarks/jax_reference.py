"""The reference work's integration scheme in JAX, run in a scratch environment that has
jax and diffrax (never in analogam's own): ``bench_ode.py --jax-python PYTHON`` writes
the model's arrays and a tight solution to an .npz and runs this script with PYTHON.

Energy Transformer (docs/design.md section 3), states v (B, D), h_attn (B, L), h_hopf (B, M):

    tau_v dv/dt = W_b^T softmax(beta h_attn) + H^T f(h_hopf) + a - v
    tau_h dh_attn/dt = W_b v + b - h_attn,   tau_h dh_hopf/dt = H v + c - h_hopf

with W_b the embeddings of sample b's context tokens. Schemes: jit forward Euler with
1000 steps (lax.fori_loop), and diffrax Tsit5 with a PID controller at rtol 1e-3 and
1e-6 (atol = rtol / 100), on the whole batch as one state. Prints one JSON line per
scheme: best-of-5 wall time (after compilation) and max error against the tight
solution.

    python benchmarks/jax_reference.py problem.npz
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main(path: str) -> None:
    import diffrax
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    p = dict(np.load(path))
    W = jnp.asarray(p["emb"])[jnp.asarray(p["tokens"])]          # (B, L, D)
    H, a, b, c = (jnp.asarray(p[k]) for k in ("H", "a", "b", "c"))
    beta, tau_v, tau_h, gain = (float(p[k]) for k in ("beta", "tau_v", "tau_h", "gain"))
    act = p["memory_activation"].item()
    D, L = a.shape[0], b.shape[0]
    tight = jnp.asarray(p["tight"])

    def f_mem(h):
        return jnp.tanh(gain * h) if act == "tanh" else jnp.maximum(h, 0.0)

    def rhs(u):
        v, ha, hh = u[:, :D], u[:, D:D + L], u[:, D + L:]
        fa = jax.nn.softmax(beta * ha, axis=1)
        dv = (jnp.einsum("bld,bl->bd", W, fa) + f_mem(hh) @ H + a - v) / tau_v
        dha = (jnp.einsum("bld,bd->bl", W, v) + b - ha) / tau_h
        dhh = (v @ H.T + c - hh) / tau_h
        return jnp.concatenate([dv, dha, dhh], axis=1)

    u0 = jnp.asarray(p["u0"])

    @jax.jit
    def euler(u):
        dt = 1.0 / 1000
        return jax.lax.fori_loop(0, 1000, lambda i, x: x + dt * rhs(x), u)

    def tsit5(rtol):
        term = diffrax.ODETerm(lambda t, y, args: rhs(y))
        ctrl = diffrax.PIDController(rtol=rtol, atol=rtol * 1e-2)

        @jax.jit
        def solve(y0):
            sol = diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, 1.0, None, y0,
                                      stepsize_controller=ctrl, max_steps=100000,
                                      saveat=diffrax.SaveAt(t1=True))
            return sol.ys[-1], sol.stats["num_steps"]
        return solve

    schemes = {"jax euler 1000 steps": lambda: (euler(u0), 1000)}
    for rtol in (1e-3, 1e-6):
        solve = tsit5(rtol)
        schemes[f"jax diffrax tsit5 rtol {rtol:.0e}"] = (lambda s=solve: s(u0))
    for name, fn in schemes.items():
        out, steps = fn()
        jax.block_until_ready(out)                    # compile outside the timing
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            out, steps = fn()
            jax.block_until_ready(out)
            times.append(time.perf_counter() - t0)
        print(json.dumps({"scheme": name, "seconds": min(times), "steps": int(steps),
                          "max_error": float(jnp.abs(out - tight).max())}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
