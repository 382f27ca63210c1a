"""Batched explicit integrators with per-sample step control.

A batch of B independent systems ``du/dt = f(u)`` is integrated together, but every
sample keeps its own time, step size and error control, so one sample's fast transient
does not hold the others back, and a sample leaves the batch when it reaches the end.
``f(u, idx)`` evaluates the samples ``idx`` (their states ``u``, (len(idx), N)).

Methods (both with error control per sample in the RMS norm of scipy, weights
``atol + rtol |u|``, and cubic Hermite dense output at the requested times):

- ``dopri5``: the Dormand-Prince 5(4) pair (scipy's RK45 tableau), for non-stiff
  problems and tight tolerances.
- ``rkc``: the Runge-Kutta-Chebyshev method of Sommeijer, Shampine and Verwer (1997),
  second order, s stages with a stability interval of about 0.65 s^2 on the negative
  real axis. The energy models' Jacobians have real spectra (``T^-1 (A G' - I)`` is
  similar to a symmetric matrix when each group's time constant is shared), so a
  stiff model costs stages, not steps: its cost grows like sqrt(stiffness).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import tableau

F = Callable[[np.ndarray, np.ndarray], np.ndarray]
INTEGRATORS = ("dopri5", "rkc")
SAFETY = 0.9


@dataclass(frozen=True)
class Solution:
    """``u`` (B, T, N) at ``t`` (T,); ``steps``/``rejected`` per sample; ``nfev`` counts
    single-sample evaluations; ``stages``: the largest RKC stage count used."""

    success: bool
    message: str
    t: np.ndarray
    u: np.ndarray
    nfev: int
    steps: np.ndarray
    rejected: np.ndarray
    stages: int = 0


def rms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(x * x, axis=1)) if x.shape[1] else np.zeros(x.shape[0])


def _hermite(t0, t1, y0, y1, f0, f1, t):
    """Cubic Hermite interpolation on [t0, t1] (per sample, column vectors) at t."""
    h = (t1 - t0)[:, None]
    s = ((t - t0) / (t1 - t0))[:, None]
    h00 = (1 + 2 * s) * (1 - s) ** 2
    h10 = s * (1 - s) ** 2
    h01 = s * s * (3 - 2 * s)
    h11 = s * s * (s - 1)
    return h00 * y0 + h10 * h * f0 + h01 * y1 + h11 * h * f1


class _Batch:
    """Bookkeeping shared by the methods: per-sample time, state, derivative, step
    size, and the dense output written as samples pass the requested times."""

    def __init__(self, f: F, u0: np.ndarray, times: np.ndarray, rtol: float, atol: float):
        self.f, self.rtol, self.atol = f, rtol, atol
        self.times = np.asarray(times, float)
        B, N = u0.shape
        self.u = np.array(u0, dtype=float)
        self.t = np.zeros(B)
        self.out = np.full((B, self.times.size, N), np.nan)
        self.next_out = np.zeros(B, dtype=int)
        self.steps = np.zeros(B, dtype=int)
        self.rejected = np.zeros(B, dtype=int)
        self.nfev = 0
        idx = np.arange(B)
        self.fu = self.eval(self.u, idx)
        self._emit(idx, self.t, self.t, self.u, self.u, self.fu, self.fu)

    def eval(self, u: np.ndarray, idx: np.ndarray) -> np.ndarray:
        self.nfev += idx.size
        return self.f(u, idx)

    @property
    def t_end(self) -> float:
        return float(self.times[-1])

    def active(self) -> np.ndarray:
        return np.flatnonzero(self.t < self.t_end * (1 - 1e-14) - 1e-300)

    def scale(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.atol + self.rtol * np.maximum(np.abs(a), np.abs(b))

    def initial_step(self, idx: np.ndarray, order: int) -> np.ndarray:
        """The starting step of Hairer, Norsett & Wanner (II.4), per sample."""
        u0, f0 = self.u[idx], self.fu[idx]
        sc = self.atol + self.rtol * np.abs(u0)
        d0, d1 = rms(u0 / sc), rms(f0 / sc)
        h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.maximum(d1, 1e-300))
        h0 = np.minimum(h0, self.t_end)
        f1 = self.eval(u0 + h0[:, None] * f0, idx)
        d2 = rms((f1 - f0) / sc) / h0
        big = np.maximum(d1, d2)
        h1 = np.where(big <= 1e-15, np.maximum(1e-6, h0 * 1e-3),
                      (0.01 / np.maximum(big, 1e-300)) ** (1.0 / (order + 1)))
        return np.minimum(np.minimum(100 * h0, h1), self.t_end)

    def accept(self, idx: np.ndarray, h: np.ndarray, u_new: np.ndarray, f_new: np.ndarray
               ) -> None:
        """Move the accepted samples ``idx`` forward by ``h``."""
        t0, t1 = self.t[idx], np.minimum(self.t[idx] + h, self.t_end)
        t1 = np.where(self.t_end - t1 <= 1e-12 * self.t_end, self.t_end, t1)
        self._emit(idx, t0, t1, self.u[idx], u_new, self.fu[idx], f_new)
        self.t[idx], self.u[idx], self.fu[idx] = t1, u_new, f_new
        self.steps[idx] += 1

    def _emit(self, idx, t0, t1, y0, y1, f0, f1) -> None:
        """Write every requested time in (t0, t1] (or t0 itself at the start)."""
        for _ in range(self.times.size):
            k = self.next_out[idx]
            ok = k < self.times.size
            if not ok.any():
                return
            tk = self.times[np.minimum(k, self.times.size - 1)]
            due = ok & (tk <= t1 + 1e-12 * max(self.t_end, 1.0))
            if not due.any():
                return
            sel = np.flatnonzero(due)
            span = (t1 - t0)[sel]
            val = np.where((span > 0)[:, None],
                           _hermite(t0[sel], np.where(span > 0, t1[sel], t0[sel] + 1),
                                    y0[sel], y1[sel], f0[sel], f1[sel], tk[sel]),
                           y1[sel])
            self.out[idx[sel], k[sel]] = val
            self.next_out[idx[sel]] += 1

    def solution(self, ok: bool, message: str, stages: int = 0) -> Solution:
        return Solution(ok and bool(np.all(np.isfinite(self.out))), message, self.times,
                        self.out, self.nfev, self.steps, self.rejected, stages)


def _controller(err: np.ndarray, order: int, accepted: np.ndarray) -> np.ndarray:
    """Step factor from the error estimate (elementary controller, bounded)."""
    with np.errstate(divide="ignore", over="ignore"):
        fac = SAFETY * np.where(err > 0, err ** (-1.0 / (order + 1)), 10.0)
    return np.where(accepted, np.clip(fac, 0.2, 10.0), np.clip(fac, 0.1, 0.9))


def dopri5(f: F, u0: np.ndarray, times: np.ndarray, *, rtol: float = 1e-6,
           atol: float = 1e-9, max_steps: int = 100_000) -> Solution:
    """Dormand-Prince 5(4) with per-sample step size control (see module docstring)."""
    A, Bw, E = tableau.A, tableau.B, tableau.E
    b = _Batch(f, u0, times, rtol, atol)
    idx = b.active()
    h = np.zeros(u0.shape[0])
    if idx.size:
        h[idx] = b.initial_step(idx, 4)
    for _ in range(max_steps):
        idx = b.active()
        if not idx.size:
            return b.solution(True, "reached the end")
        hi = np.minimum(h[idx], b.t_end - b.t[idx])
        y = b.u[idx]
        K = np.empty((7,) + y.shape)
        K[0] = b.fu[idx]
        for s in range(1, 6):
            dy = np.tensordot(A[s, :s], K[:s], axes=1)
            K[s] = b.eval(y + hi[:, None] * dy, idx)
        y_new = y + hi[:, None] * np.tensordot(Bw, K[:6], axes=1)
        K[6] = b.eval(y_new, idx)
        err = rms(hi[:, None] * np.tensordot(E, K, axes=1) / b.scale(y, y_new))
        ok = err <= 1.0
        ok &= np.all(np.isfinite(y_new), axis=1)
        err = np.where(np.isfinite(err), err, np.inf)
        if ok.any():
            b.accept(idx[ok], hi[ok], y_new[ok], K[6][ok])
        b.rejected[idx[~ok]] += 1
        h[idx] = hi * _controller(err, 4, ok)
        if np.any(h[idx] < 1e-14 * max(b.t_end, 1e-300)):
            return b.solution(False, "step size underflow (the problem may be too stiff "
                              "for an explicit method)")
    return b.solution(False, f"more than {max_steps} steps")


def rkc_coefficients(s: int) -> np.ndarray:
    """Stage coefficients of RKC with s stages and damping eps = 2/13 (Sommeijer,
    Shampine, Verwer 1997): rows mu, nu, mu~, gamma~ (4, s + 1) of
    ``Y_j = (1 - mu - nu) Y_0 + mu Y_{j-1} + nu Y_{j-2} + mu~ h F(Y_{j-1}) + gamma~ h F(Y_0)``
    with ``b_j = T_j''(w0) / T_j'(w0)^2``, ``a_j = 1 - b_j T_j(w0)``, ``w0 = 1 + eps/s^2``,
    ``w1 = T_s'(w0) / T_s''(w0)`` (T_j: Chebyshev polynomials). Plain loops, so the
    compiled kernel (:mod:`.kernel`) uses the same function."""
    eps = 2.0 / 13.0
    w0 = 1.0 + eps / (s * s)
    T = np.zeros(s + 1)
    dT = np.zeros(s + 1)
    ddT = np.zeros(s + 1)
    T[0], T[1], dT[1] = 1.0, w0, 1.0
    for j in range(2, s + 1):
        T[j] = 2 * w0 * T[j - 1] - T[j - 2]
        dT[j] = 2 * T[j - 1] + 2 * w0 * dT[j - 1] - dT[j - 2]
        ddT[j] = 4 * dT[j - 1] + 2 * w0 * ddT[j - 1] - ddT[j - 2]
    w1 = dT[s] / ddT[s]
    bj = np.empty(s + 1)
    for j in range(2, s + 1):
        bj[j] = ddT[j] / dT[j] ** 2
    bj[0] = bj[1] = bj[2]
    out = np.zeros((4, s + 1))
    out[2, 1] = bj[1] * w1
    for j in range(2, s + 1):
        out[0, j] = 2 * bj[j] * w0 / bj[j - 1]
        out[1, j] = -bj[j] / bj[j - 2]
        out[2, j] = 2 * bj[j] * w1 / bj[j - 1]
        out[3, j] = -(1.0 - bj[j - 1] * T[j - 1]) * out[2, j]
    return out


def rkc(f: F, u0: np.ndarray, times: np.ndarray, *, rtol: float = 1e-4, atol: float = 1e-7,
        spectral_radius: Callable[[np.ndarray, np.ndarray], np.ndarray],
        max_steps: int = 100_000, max_stages: int = 400) -> Solution:
    """Runge-Kutta-Chebyshev (see module docstring). ``spectral_radius(u, idx)`` bounds
    the Jacobian's spectral radius per sample (re-estimated every 25 steps and after a
    rejected step). All samples of a step share its stage count, each its own step."""
    b = _Batch(f, u0, times, rtol, atol)
    B = u0.shape[0]
    h = np.zeros(B)
    rho = np.zeros(B)
    stale = np.ones(B, dtype=bool)
    since = np.zeros(B, dtype=int)
    coeff: dict[int, tuple] = {}
    used = 0
    idx = b.active()
    if idx.size:
        h[idx] = b.initial_step(idx, 2)
    for _ in range(max_steps):
        idx = b.active()
        if not idx.size:
            return b.solution(True, "reached the end", used)
        need = idx[stale[idx] | (since[idx] >= 25)]
        if need.size:
            rho[need] = spectral_radius(b.u[need], need)
            stale[need], since[need] = False, 0
        hi = np.minimum(h[idx], b.t_end - b.t[idx])
        # the stage count that makes every sample's step stable: h rho <= 0.653 s^2
        s = int(min(max_stages, max(2, 1 + np.ceil(np.sqrt(1 + 1.54 * np.max(hi * rho[idx]))))))
        beta_s = 0.653 * s * s
        hi = np.minimum(hi, beta_s / np.maximum(rho[idx], 1e-300))
        used = max(used, s)
        if s not in coeff:
            coeff[s] = rkc_coefficients(s)
        mu, nu, mut, gat = coeff[s]
        y0, f0 = b.u[idx], b.fu[idx]
        H = hi[:, None]
        y_prev2 = y0
        y_prev = y0 + mut[1] * H * f0
        for j in range(2, s + 1):
            fj = b.eval(y_prev, idx)
            y_j = ((1 - mu[j] - nu[j]) * y0 + mu[j] * y_prev + nu[j] * y_prev2
                   + mut[j] * H * fj + gat[j] * H * f0)
            y_prev2, y_prev = y_prev, y_j
        y_new = y_prev
        f_new = b.eval(y_new, idx)
        est = (12.0 * (y0 - y_new) + 6.0 * H * (f0 + f_new)) / 15.0
        err = rms(est / b.scale(y0, y_new))
        ok = (err <= 1.0) & np.all(np.isfinite(y_new), axis=1)
        err = np.where(np.isfinite(err), err, np.inf)
        if ok.any():
            b.accept(idx[ok], hi[ok], y_new[ok], f_new[ok])
        b.rejected[idx[~ok]] += 1
        stale[idx[~ok]] = True
        since[idx] += 1
        h[idx] = hi * _controller(err, 2, ok)
        if np.any(h[idx] < 1e-14 * max(b.t_end, 1e-300)):
            return b.solution(False, "step size underflow", used)
    return b.solution(False, f"more than {max_steps} steps", used)


def power_radius(f: F, u: np.ndarray, idx: np.ndarray, fu: np.ndarray | None = None,
                 iterations: int = 8) -> np.ndarray:
    """Per-sample estimate of the Jacobian's spectral radius by a nonlinear power
    iteration on ``f`` (difference quotients), with a 1.2 safety factor."""
    fu = f(u, idx) if fu is None else fu
    rng = np.random.default_rng(0)
    z = fu + 1e-3 * rng.standard_normal(u.shape)
    scale_u = np.maximum(np.abs(u).max(axis=1, keepdims=True), 1.0)
    est = np.zeros(u.shape[0])
    for _ in range(iterations):
        nz = np.linalg.norm(z, axis=1, keepdims=True)
        nz = np.where(nz > 0, nz, 1.0)
        d = 1e-7 * scale_u / nz
        fz = (f(u + d * z, idx) - fu) / d
        est = np.linalg.norm(fz, axis=1) / np.maximum(np.linalg.norm(z, axis=1), 1e-300)
        z = fz
    return 1.2 * est
