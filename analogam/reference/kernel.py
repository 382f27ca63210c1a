"""The compiled path: every sample of a batch integrated by its own adaptive
integrator, in machine code (numba), samples in parallel over the cores.

The force here is a transcription of :func:`analogam.model.force` (and of the
trainer's nudge, ``-beta dC/dg`` on one group) into loops over a flat description of
the bound system, :class:`~.spec.Spec`; tests hold it to the numpy definition on every
activation and coupling kind. Integrators, per sample:

- ``dopri5``: Dormand-Prince 5(4) (:mod:`.tableau`, with Shampine's fourth-order dense
  output), elementary step control;
- ``rkc``: Runge-Kutta-Chebyshev (Sommeijer, Shampine, Verwer 1997), second order,
  ``s`` stages chosen each step from the sample's own spectral radius (a power
  iteration on the force), stability interval ~0.653 s^2 on the negative real axis,
  where these models' spectra lie.

Both use scipy's RMS error norm with weights ``atol + rtol max(|y|, |y_new|)`` over the
free units. Without numba, :mod:`.integrators` (numpy, batched) is used instead.
"""

from __future__ import annotations

import contextlib
import signal
import threading

import numpy as np

from . import tableau
from .integrators import rkc_coefficients
from .spec import Spec

try:  # the compiled path is optional: without numba the numpy integrators run
    import numba as nb

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    nb = None
    HAVE_NUMBA = False

METHOD_CODES = {"dopri5": 0, "rkc": 1}


# ------------------------------------------------------------------ compiled code

if HAVE_NUMBA:
    # no fast-math: sums keep their order, so a sample's numbers do not depend on how
    # its arrays happen to be aligned (determinism), and overflow stays detectable
    _jit = nb.njit(cache=True, nogil=True, error_model="numpy")

    @_jit
    def _rhs(b, u, out, g, g_off, g_size, g_act, g_par, inv_tau, bias, free, c_h, c_hs,
             c_v, c_vs, c_per, c_w, c_wb, wflat, loss, loss_off, loss_size, beta, dec_w,
             dec_b, cls, y, ymask):
        """du/dt of sample b at u (N,) into out (N,); g (N,) is scratch."""
        n = u.shape[0]
        for k in range(g_off.shape[0]):
            o, sz, a, p = g_off[k], g_size[k], g_act[k], g_par[k]
            if a == 0:
                for i in range(o, o + sz):
                    g[i] = u[i]
            elif a == 1:
                for i in range(o, o + sz):
                    g[i] = u[i] if u[i] > 0.0 else 0.0
            elif a == 2:
                for i in range(o, o + sz):
                    g[i] = np.tanh(p * u[i])
            elif a == 3:
                mx = -np.inf
                for i in range(o, o + sz):
                    if p * u[i] > mx:
                        mx = p * u[i]
                tot = 0.0
                for i in range(o, o + sz):
                    g[i] = np.exp(p * u[i] - mx)
                    tot += g[i]
                for i in range(o, o + sz):
                    g[i] /= tot
        for i in range(n):
            out[i] = bias[i]
        for k in range(c_h.shape[0]):
            h0, hs, v0, vs = c_h[k], c_hs[k], c_v[k], c_vs[k]
            base = c_w[k] + (b * hs * vs if c_per[k] else 0)
            back = c_wb[k] + (b * hs * vs if c_per[k] else 0)
            gv = g[v0:v0 + vs]
            ov = out[v0:v0 + vs]
            for h in range(hs):
                w = wflat[base + h * vs:base + (h + 1) * vs]
                acc = 0.0
                for v in range(vs):     # W g_visible into the hidden unit
                    acc += w[v] * gv[v]
                out[h0 + h] += acc
                gh = g[h0 + h]
                wb = wflat[back + h * vs:back + (h + 1) * vs]
                for v in range(vs):     # W^T (or V^T) g_hidden into the visible units
                    ov[v] += wb[v] * gh
        if loss != 0 and beta != 0.0:
            o = loss_off
            if loss == 1:
                for i in range(loss_size):
                    out[o + i] -= beta * (g[o + i] - y[b, i]) * ymask[i]
            else:
                K = dec_w.shape[0]
                logit = np.empty(K)
                mx = -np.inf
                for c in range(K):
                    z = dec_b[c]
                    for i in range(loss_size):
                        z += dec_w[c, i] * g[o + i]
                    logit[c] = z
                    if z > mx:
                        mx = z
                tot = 0.0
                for c in range(K):
                    logit[c] = np.exp(logit[c] - mx)
                    tot += logit[c]
                for c in range(K):
                    d = logit[c] / tot - (1.0 if c == cls[b] else 0.0)
                    for i in range(loss_size):
                        out[o + i] -= beta * d * dec_w[c, i]
        for i in range(n):
            out[i] = (out[i] - u[i]) * inv_tau[i] if free[i] else 0.0

    @_jit
    def _norm(e, y0, y1, rtol, atol, free):
        s, cnt = 0.0, 0
        for i in range(e.shape[0]):
            if free[i]:
                sc = atol + rtol * max(abs(y0[i]), abs(y1[i]))
                s += (e[i] / sc) ** 2
                cnt += 1
        return np.sqrt(s / max(cnt, 1))

    @_jit
    def _first_step(b, y, f, g, tmp, tmp2, t_end, order, rtol, atol, args):
        d0 = _norm(y, y, y * 0.0, rtol, atol, args[6])
        d1 = _norm(f, y, y * 0.0, rtol, atol, args[6])
        h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
        h0 = min(h0, t_end)
        for i in range(y.shape[0]):
            tmp[i] = y[i] + h0 * f[i]
        _rhs(b, tmp, tmp2, g, *args)
        for i in range(y.shape[0]):
            tmp[i] = (tmp2[i] - f[i])
        d2 = _norm(tmp, y, y * 0.0, rtol, atol, args[6]) / h0
        big = max(d1, d2)
        if not np.isfinite(big):
            return np.nan
        h1 = max(1e-6, h0 * 1e-3) if big <= 1e-15 else (0.01 / big) ** (1.0 / (order + 1))
        return min(100 * h0, h1, t_end)

    @_jit
    def _dopri5(b, y0, t_out, rtol, atol, max_steps, A, Bw, E, P, traj, args):
        """One sample's Dormand-Prince 5(4) run; returns (ok, nfev, steps, rejected)."""
        n = y0.shape[0]
        K = np.empty((7, n))
        y = y0.copy()
        yn = np.empty(n)
        err = np.empty(n)
        g = np.empty(n)
        tmp = np.empty(n)
        _rhs(b, y, K[0], g, *args)
        nfev, steps, rej = 1, 0, 0
        t, t_end = 0.0, t_out[-1]
        k_out = 0
        while k_out < t_out.shape[0] and t_out[k_out] <= 0.0:
            traj[k_out] = y
            k_out += 1
        h = _first_step(b, y, K[0], g, tmp, yn, t_end, 4, rtol, atol, args)
        nfev += 1
        if not np.isfinite(h):
            return False, nfev, steps, rej
        while t < t_end:
            if steps + rej >= max_steps:
                return False, nfev, steps, rej
            h = min(h, t_end - t)
            for s in range(1, 6):
                for i in range(n):
                    acc = 0.0
                    for j in range(s):
                        acc += A[s, j] * K[j, i]
                    tmp[i] = y[i] + h * acc
                _rhs(b, tmp, K[s], g, *args)
            for i in range(n):
                acc = 0.0
                for j in range(6):
                    acc += Bw[j] * K[j, i]
                yn[i] = y[i] + h * acc
            _rhs(b, yn, K[6], g, *args)
            nfev += 6
            for i in range(n):
                acc = 0.0
                for j in range(7):
                    acc += E[j] * K[j, i]
                err[i] = h * acc
            e = _norm(err, y, yn, rtol, atol, args[6])
            if not np.isfinite(e):
                e = np.inf
            if e <= 1.0:
                t_new = t + h if t_end - (t + h) > 1e-12 * t_end else t_end
                while k_out < t_out.shape[0] and t_out[k_out] <= t_new * (1 + 1e-14):
                    th = (t_out[k_out] - t) / h
                    for i in range(n):
                        acc = 0.0
                        thp = th
                        for j in range(P.shape[1]):
                            q = 0.0
                            for s in range(7):
                                q += K[s, i] * P[s, j]
                            acc += q * thp
                            thp *= th
                        traj[k_out, i] = y[i] + h * acc
                    k_out += 1
                t = t_new
                y[:] = yn
                K[0] = K[6]
                steps += 1
                fac = 10.0 if e == 0.0 else min(10.0, max(0.2, 0.9 * e ** -0.2))
            else:
                rej += 1
                fac = min(0.9, max(0.1, 0.9 * e ** -0.2)) if np.isfinite(e) else 0.1
            h *= fac
            if h < 1e-14 * t_end:
                return False, nfev, steps, rej
        return True, nfev, steps, rej

    @_jit
    def _radius(b, y, fy, g, tmp, tmp2, args):
        """Spectral radius of the Jacobian at y by a nonlinear power iteration on the
        force (difference quotients), with a 1.2 safety factor."""
        n = y.shape[0]
        z = np.empty(n)
        ymax = 1.0
        for i in range(n):
            z[i] = fy[i] + 1e-3 * ((i * 7919) % 13 - 6)
            ymax = max(ymax, abs(y[i]))
        est = 0.0
        for _ in range(10):
            nz = np.sqrt(np.sum(z * z))
            if nz == 0.0:
                return 1.0
            d = 1e-7 * ymax / nz
            for i in range(n):
                tmp[i] = y[i] + d * z[i]
            _rhs(b, tmp, tmp2, g, *args)
            for i in range(n):
                z[i] = (tmp2[i] - fy[i]) / d
            est = np.sqrt(np.sum(z * z)) / nz
        return 1.2 * est

    _rkc_coeffs = _jit(rkc_coefficients)

    @_jit
    def _rkc(b, y0, t_out, rtol, atol, max_steps, max_stages, traj, args):
        """One sample's RKC run; returns (ok, nfev, steps, rejected, largest s)."""
        n = y0.shape[0]
        y = y0.copy()
        f0 = np.empty(n)
        fn = np.empty(n)
        yj = np.empty(n)
        yp = np.empty(n)
        yp2 = np.empty(n)
        fj = np.empty(n)
        est = np.empty(n)
        g = np.empty(n)
        tmp = np.empty(n)
        tmp2 = np.empty(n)
        _rhs(b, y, f0, g, *args)
        nfev, steps, rej, smax = 1, 0, 0, 0
        t, t_end = 0.0, t_out[-1]
        k_out = 0
        while k_out < t_out.shape[0] and t_out[k_out] <= 0.0:
            traj[k_out] = y
            k_out += 1
        h = _first_step(b, y, f0, g, tmp, tmp2, t_end, 2, rtol, atol, args)
        rho = _radius(b, y, f0, g, tmp, tmp2, args)
        nfev += 11
        since = 0
        while t < t_end:
            if steps + rej >= max_steps:
                return False, nfev, steps, rej, smax
            if since >= 25:
                rho = _radius(b, y, f0, g, tmp, tmp2, args)
                nfev += 10
                since = 0
            h = min(h, t_end - t)
            if not (np.isfinite(rho) and np.isfinite(h)):
                return False, nfev, steps, rej, smax   # the state has run away
            s = int(min(max_stages, max(2.0, 1.0 + np.ceil(np.sqrt(1.0 + 1.54 * h * rho)))))
            h = min(h, 0.653 * s * s / max(rho, 1e-300))
            smax = max(smax, s)
            c = _rkc_coeffs(s)
            for i in range(n):
                yp2[i] = y[i]
                yp[i] = y[i] + c[2, 1] * h * f0[i]
            for j in range(2, s + 1):
                _rhs(b, yp, fj, g, *args)
                mu, nu, mut, gat = c[0, j], c[1, j], c[2, j], c[3, j]
                for i in range(n):
                    yj[i] = ((1.0 - mu - nu) * y[i] + mu * yp[i] + nu * yp2[i]
                             + mut * h * fj[i] + gat * h * f0[i])
                for i in range(n):
                    yp2[i] = yp[i]
                    yp[i] = yj[i]
            _rhs(b, yp, fn, g, *args)
            nfev += s
            for i in range(n):
                est[i] = (12.0 * (y[i] - yp[i]) + 6.0 * h * (f0[i] + fn[i])) / 15.0
            e = _norm(est, y, yp, rtol, atol, args[6])
            if not np.isfinite(e):
                e = np.inf
            since += 1
            if e <= 1.0:
                t_new = t + h if t_end - (t + h) > 1e-12 * t_end else t_end
                while k_out < t_out.shape[0] and t_out[k_out] <= t_new * (1 + 1e-14):
                    th = (t_out[k_out] - t) / h
                    h00 = (1 + 2 * th) * (1 - th) ** 2
                    h10 = th * (1 - th) ** 2
                    h01 = th * th * (3 - 2 * th)
                    h11 = th * th * (th - 1)
                    for i in range(n):
                        traj[k_out, i] = (h00 * y[i] + h10 * h * f0[i] + h01 * yp[i]
                                          + h11 * h * fn[i])
                    k_out += 1
                t = t_new
                y[:] = yp
                f0[:] = fn
                steps += 1
                fac = 10.0 if e == 0.0 else min(10.0, max(0.1, 0.8 * e ** (-1.0 / 3.0)))
            else:
                rej += 1
                since = 25
                fac = min(0.9, max(0.1, 0.8 * e ** (-1.0 / 3.0))) if np.isfinite(e) else 0.1
            h *= fac
            if h < 1e-14 * t_end:
                return False, nfev, steps, rej, smax
        return True, nfev, steps, rej, smax

    @nb.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
    def _drive(method, U0, t_out, rtol, atol, max_steps, max_stages, A, Bw, E, P, args):
        Bn, n = U0.shape
        traj = np.full((Bn, t_out.shape[0], n), np.nan)
        stats = np.zeros((Bn, 5), dtype=np.int64)
        for b in nb.prange(Bn):
            if method == 0:
                ok, nfev, steps, rej = _dopri5(b, U0[b], t_out, rtol, atol, max_steps,
                                               A, Bw, E, P, traj[b], args)
                smax = 0
            else:
                ok, nfev, steps, rej, smax = _rkc(b, U0[b], t_out, rtol, atol, max_steps,
                                                  max_stages, traj[b], args)
            stats[b, 0] = 1 if ok else 0
            stats[b, 1] = nfev
            stats[b, 2] = steps
            stats[b, 3] = rej
            stats[b, 4] = smax
        return traj, stats


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _signals_after_return():
    """Hold interrupt and termination signals while compiled code runs; their handlers
    run when it returns. Compiled code calls back into Python (numba unpickles its
    constants through a Python function), and a handler that raises there leaves the
    compiled caller with an exception it cannot handle: measured, a segmentation fault
    on most Ctrl-C presses during ``train digits``. Masking the signal is not enough:
    another thread (OpenBLAS's, a timer's) takes it and the main thread still runs the
    handler at the next callback. So the handlers are swapped for a recorder."""
    if threading.current_thread() is not threading.main_thread():
        yield   # Python handlers run in the main thread only
        return
    caught: list[int] = []
    swapped = {s: signal.signal(s, lambda signum, _frame: caught.append(signum))
               for s in _STOP_SIGNALS if signal.getsignal(s) is not None}
    try:
        yield
    finally:
        for s, handler in swapped.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(caught):
            signal.raise_signal(s)


def integrate_compiled(spec: Spec, u0: np.ndarray, times: np.ndarray, method: str,
                       rtol: float, atol: float, max_steps: int = 200_000,
                       max_stages: int = 1000):
    """Integrate every sample of the bound system described by ``spec`` from ``u0``
    (B, N) and sample the trajectories at ``times``; returns ``(u (B, T, N), ok (B,),
    nfev, steps (B,), rejected (B,), largest stage count)``."""
    with _signals_after_return():
        traj, st = _drive(METHOD_CODES[method], np.ascontiguousarray(u0, dtype=float),
                          np.ascontiguousarray(times, dtype=float), float(rtol),
                          float(atol), int(max_steps), int(max_stages), tableau.A,
                          tableau.B, tableau.E, tableau.P, spec.args())
    return traj, st[:, 0].astype(bool), int(st[:, 1].sum()), st[:, 2], st[:, 3], int(
        st[:, 4].max(initial=0))


def force_compiled(spec: Spec, u: np.ndarray) -> np.ndarray:
    """The compiled force at states ``u`` (B, N): for testing it against the model."""
    out = np.empty_like(u)
    g = np.empty(u.shape[1])
    for b in range(u.shape[0]):
        _rhs(b, np.ascontiguousarray(u[b]), out[b], g, *spec.args())
    return out
