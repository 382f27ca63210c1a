"""How far a circuit is from equilibrium (docs/design.md section 9), in model units and
model time, from the circuit's own linearisation and trajectory.

With ``tau_i du_i/dt = sum_j A_ij y_j + b_i - u_i`` (``A`` the effective coupling
between lines, ``y = g(u)``) the Jacobian at a state is ``J = T^-1 (A Dg - I)``,
``Dg`` the activations' Jacobian (the Hessian of the Lagrangians, symmetric and
positive semi-definite). In the coordinates ``w = Dg^(1/2) u`` the linear dynamics are

    T dw/dt = (S - I) w,        S = Dg^(1/2) A Dg^(1/2),

a gradient flow exactly when ``S`` is symmetric, i.e. when the coupling the units see
is. Everything here is restricted to the free units (clamped ones do not move).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la

from ..model import System, activation_jacobians


def activation_matrix(system: System, u: np.ndarray) -> np.ndarray:
    """The block-diagonal ``Dg = dg/du`` (N, N) at the state ``u`` (N,)."""
    m = system.model
    blocks = activation_jacobians(system, u[None])
    out = np.zeros((m.n_units, m.n_units))
    for grp in m.groups:
        sl = m.slices[grp.name]
        out[sl, sl] = blocks[grp.name][0]
    return out


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(0.5 * (a + a.T))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def metric_coupling(A: np.ndarray, Dg: np.ndarray) -> np.ndarray:
    """``S = Dg^(1/2) A Dg^(1/2)``: the coupling in the coordinates where a symmetric
    circuit is a gradient flow with the identity metric."""
    r = _sqrt_psd(Dg)
    return r @ A @ r


def coupling_asymmetry(A: np.ndarray, system: System) -> float:
    """``||W - V^T|| / ||W + V^T||`` (Frobenius, over every coupling, free units only):
    ``W = A[hidden, visible]`` the coupling the hidden units receive, ``V^T =
    A[visible, hidden]`` the one the visible units receive. 0: one symmetric
    coupling."""
    m, free = system.model, system.free
    d = s = 0.0
    for c in m.couplings:
        h = np.flatnonzero(free[m.slices[c.hidden]]) + m.slices[c.hidden].start
        v = np.flatnonzero(free[m.slices[c.visible]]) + m.slices[c.visible].start
        W, Vt = A[np.ix_(h, v)], A[np.ix_(v, h)].T
        d += float(np.sum((W - Vt) ** 2))
        s += float(np.sum((W + Vt) ** 2))
    return float(np.sqrt(d / s)) if s > 0 else 0.0


def programmed_coupling(system: System, copy: int = 0) -> np.ndarray:
    """The coupling a (realised) system holds (N, N), model units: ``A[h, v] = W`` from
    the forward weights, ``A[v, h] = V^T`` from the backward ones (the same ``W`` for a
    single array). Current-copy gain errors are not in it."""
    m = system.model
    A = np.zeros((m.n_units, m.n_units))
    back = system.backward if system.backward is not None else system.weights
    for c, W, V in zip(m.couplings, system.weights, back, strict=True):
        sh, sv = m.slices[c.hidden], m.slices[c.visible]
        A[sh, sv] += W[copy if W.shape[0] > 1 else 0]
        A[sv, sh] += V[copy if V.shape[0] > 1 else 0].T
    return A


def _ou_stationary(S: np.ndarray, tau: np.ndarray):
    """``B``, ``Sigma`` and the antisymmetric ``Q = B Sigma - D`` of the process of
    :func:`entropy_production` (None: no stationary state)."""
    n = S.shape[0]
    Ti = np.diag(1.0 / tau)
    B = Ti @ (np.eye(n) - S)
    if np.max(np.linalg.eigvals(-B).real) >= 0:
        return None
    sigma = la.solve_continuous_lyapunov(-B, -2 * Ti)
    sigma = 0.5 * (sigma + sigma.T)
    # B Sigma + Sigma B^T = 2 D makes B Sigma - D antisymmetric: keep that part exactly
    q = B @ sigma - Ti
    return B, sigma, 0.5 * (q - q.T)


def entropy_rate(S: np.ndarray, tau: np.ndarray) -> tuple[float | None, float]:
    """Stationary entropy production (k_B per model time unit) of the Ornstein-Uhlenbeck
    process ``dw = -B w dt + sqrt(2 D) dW`` with ``B = T^-1 (I - S)`` and noise in the
    dynamics' own metric, ``D = theta T^-1`` (the leak's thermal noise at a temperature
    theta per unit; the rate does not depend on theta), and the rate rounding alone
    gives (its floor), from one Lyapunov solve:

        B Sigma + Sigma B^T = 2 D,   Q = B Sigma - D (antisymmetric),
        Pi = tr(Q^T D^-1 Q Sigma^-1)  (= tr(B^T D^-1 B Sigma) - tr(B)).

    The first form is a sum of squares of the stationary current ``Q``: accurate where
    the two traces of the second cancel (a nearly symmetric coupling; 2x2 check:
    ``S = [[0, a], [b, 0]]``, unit tau, gives ``(a - b)^2 / 2``). Zero exactly when ``D^-1
    B = I - S`` is symmetric (detailed balance). The floor: ``Q`` is known to ``dQ = 10 n
    eps ||B|| ||Sigma||``, so a rate at or below ``n dQ^2 ||D^-1|| ||Sigma^-1||`` cannot be
    told from detailed balance (reported as a bound, never as 0). ``(None, 0)`` when the
    linearisation is unstable (no stationary state)."""
    n = S.shape[0]
    if n == 0:
        return 0.0, 0.0
    st = _ou_stationary(S, tau)
    if st is None:
        return None, 0.0
    B, sigma, q = st
    pi = float(np.trace(np.linalg.solve(sigma, q.T @ (tau[:, None] * q))))
    dq = 10 * n * np.finfo(float).eps * np.linalg.norm(B, 2) * np.linalg.norm(sigma, 2)
    return pi, float(n * dq ** 2 * np.max(tau) / np.min(np.linalg.eigvalsh(sigma)))


def entropy_production(S: np.ndarray, tau: np.ndarray) -> float | None:
    """The rate of :func:`entropy_rate` (None: no stationary state)."""
    return entropy_rate(S, tau)[0]


def entropy_production_floor(S: np.ndarray, tau: np.ndarray) -> float:
    """The rounding floor of :func:`entropy_rate` (0: no stationary state)."""
    return entropy_rate(S, tau)[1]


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of the Jacobian (per model time unit): the largest real part, and for
    the least stable complex pair its angular frequency; ``period`` (model time) is
    ``2 pi / omega`` when that pair grows (an oscillation is born), else None."""

    max_real: float
    omega: float
    period: float | None

    @property
    def unstable(self) -> bool:
        return self.max_real > 0


def spectrum(J: np.ndarray) -> Spectrum:
    ev = np.linalg.eigvals(J) if J.size else np.zeros(0, complex)
    if ev.size == 0:
        return Spectrum(-np.inf, 0.0, None)
    k = int(np.argmax(ev.real))
    lead = ev[k]
    omega = abs(float(lead.imag))
    period = 2 * np.pi / omega if lead.real > 0 and omega > 0 else None
    return Spectrum(float(lead.real), omega, period)


@dataclass(frozen=True)
class Oscillation:
    """A sustained oscillation in a trajectory's second half: the unit with the largest
    swing, its ``period`` (model time, from its mean-crossing times) and its
    peak-to-peak ``amplitude`` (model units)."""

    unit: int
    period: float
    amplitude: float
    cycles: float


def detect_oscillation(t: np.ndarray, u: np.ndarray, free: np.ndarray,
                       tol: float = 1e-3, min_cycles: float = 2.0) -> Oscillation | None:
    """The oscillation in ``u`` (T, N) over the second half of ``t``, or None: the free
    unit with the largest peak-to-peak swing (above ``tol``) must cross its mean at
    least ``2 min_cycles`` times, and the swing must not be dying out (its last cycle at
    least half its first)."""
    half = t >= t[0] + 0.5 * (t[-1] - t[0])
    tt, x = t[half], u[half][:, free]
    if tt.size < 8 or x.shape[1] == 0:
        return None
    swing = x.max(axis=0) - x.min(axis=0)
    j = int(np.argmax(swing))
    if swing[j] <= tol:
        return None
    y = x[:, j] - x[:, j].mean()
    k = np.flatnonzero(np.signbit(y[:-1]) != np.signbit(y[1:]))
    if k.size < 2 * min_cycles + 1:
        return None
    cross = tt[k] - y[k] * (tt[k + 1] - tt[k]) / (y[k + 1] - y[k])
    period = 2 * float(cross[-1] - cross[0]) / (k.size - 1)
    first = np.ptp(y[tt <= cross[0] + period]) if cross[0] + period <= tt[-1] else swing[j]
    last = np.ptp(y[tt >= tt[-1] - period])
    if last < 0.5 * first:
        return None
    return Oscillation(int(np.flatnonzero(free)[j]), period, float(swing[j]),
                       (k.size - 1) / 2)


def directed_coupling_proxy(A: np.ndarray, t: np.ndarray, y: np.ndarray,
                            free: np.ndarray, lag: float) -> float:
    """The spin-model proxy ``sigma_tot = sum_ij (A_ij - A_ji) D_ij`` adapted to scalar
    units: ``D_ij = A_ij <dy_i(t + lag) dy_j(t)>_t``, the coupling weighted by the
    delayed alignment of the two units' activities, with ``dy`` an activity's departure
    from its final (settled) value and the average over the trajectory ``y`` (T, N) at
    times ``t``. Exactly 0 for a symmetric coupling; its sign says whether units follow
    the partners that drive them more than the reverse."""
    f = np.flatnonzero(free)
    if f.size == 0 or t[-1] - t[0] <= lag:
        return 0.0
    grid = np.linspace(t[0], t[-1] - lag, 256)
    dy = y[:, f] - y[-1, f]
    now = np.stack([np.interp(grid, t, dy[:, i]) for i in range(f.size)], axis=1)
    later = np.stack([np.interp(grid + lag, t, dy[:, i]) for i in range(f.size)], axis=1)
    align = later.T @ now / grid.size
    Af = A[np.ix_(f, f)]
    return float(np.sum((Af - Af.T) * Af * align))
