"""The ODE reference: the model's dynamics integrated by scipy's adaptive solvers.

One call integrates a whole batch of inputs: the free units of all B samples form one
state vector, and the analytic Jacobian is block diagonal (samples share nothing), so
implicit methods factor B small blocks. Failure and every failed check are reported in
the :class:`OdeResult`, never hidden.

Units: model units for states, model time units for time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from ..errors import ModelError, one_line
from ..model import (
    BoundCheck,
    System,
    check_energy_bounded,
    energy,
    energy_rise,
    force,
    jacobian,
    repeat_system,
    residual,
)
from .integrators import dopri5, power_radius, rkc
from .kernel import HAVE_NUMBA, integrate_compiled
from .spec import Spec, spec_of

MAX_JACOBIAN_BYTES = 2 << 30
SETTLE_TOL = 1e-3
"""The residual ``max |tau du/dt|`` (model units) below which a state counts as the fixed
point at the read-out: the one settling tolerance of the read-out checks."""

# LSODA is left out on purpose: it needs the Jacobian dense, (B*N)^2 for a batch.
BATCHED = {"dopri5": dopri5, "rkc": rkc}
METHODS = ("auto", *BATCHED, "Radau", "BDF", "RK45", "DOP853", "RK23")
_IMPLICIT = ("Radau", "BDF")


@dataclass(frozen=True)
class OdeResult:
    """Trajectories of a batch and the checks of docs/design.md section 5.

    ``u``: (B, T, N) states at times ``t`` (T,), the last at the read-out time.
    ``energy``: (B, T). ``residual``: (B,) ``max_i |tau_i du_i/dt|`` over free units at
    the read-out, i.e. the distance from the fixed point in model units.
    ``energy_rise``: (B,) the largest increase of E between consecutive samples.
    ``success``/``message``: the solver's verdict; ``warnings``: every failed check.
    """

    success: bool
    message: str
    t: np.ndarray
    u: np.ndarray
    energy: np.ndarray
    residual: np.ndarray
    energy_rise: np.ndarray
    energy_tol: float
    settle_tol: float
    bound: BoundCheck
    warnings: tuple[str, ...]
    nfev: int

    @property
    def u_final(self) -> np.ndarray:
        """(B, N) states at the read-out time."""
        return self.u[:, -1, :]

    @property
    def settled(self) -> np.ndarray:
        return self.residual <= self.settle_tol

    @property
    def energy_monotone(self) -> np.ndarray:
        return self.energy_rise <= self.energy_tol


def _validate_args(method: str, rtol: float, atol: float, t_end: float, n_points: int) -> None:
    if method not in METHODS:
        raise ModelError(f"unknown ODE method {method!r}; valid: {', '.join(METHODS)}")
    for name, val in (("rtol", rtol), ("atol", atol), ("t_end", t_end)):
        if not (np.isfinite(val) and val > 0):
            raise ModelError(f"{name} must be positive and finite, got {val}")
    if n_points < 2:
        raise ModelError(f"n_points must be at least 2, got {n_points}")


Rhs = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``rhs(u, idx)``: du/dt (len(idx), N) of the batch samples ``idx`` at states ``u``."""


class Subsets:
    """``system.select(idx)`` for the active samples of a batched integration, cached:
    the active set changes only when samples finish."""

    def __init__(self, system: System) -> None:
        self.system = system
        self._key: bytes | None = None
        self._sub = system

    def __call__(self, idx: np.ndarray) -> System:
        if idx.size == self.system.batch:
            return self.system
        key = idx.tobytes()
        if key != self._key:
            self._key, self._sub = key, self.system.select(idx)
        return self._sub


def model_rhs(system: System) -> Rhs:
    """The model's own force as an ``rhs(u, idx)``."""
    sub = Subsets(system)
    return lambda u, idx: force(sub(idx), u)


@dataclass(frozen=True)
class Trajectory:
    """Raw output of :func:`integrate`: ``u`` (B, T, N) at times ``t`` (T,)."""

    success: bool
    message: str
    t: np.ndarray
    u: np.ndarray
    nfev: int
    method: str = ""


def stiffness(system: System, u: np.ndarray, rhs: Rhs, t_end: float) -> float:
    """``max_b rho_b * t_end``: how many of the fastest decay times fit in the
    integration (rho: the Jacobian's spectral radius, by power iteration)."""
    idx = np.arange(u.shape[0])
    return float(np.max(power_radius(rhs, u, idx))) * t_end


def choose_method(method: str, stiff: float, rtol: float, compiled: bool = HAVE_NUMBA
                  ) -> str:
    """``auto``: Dormand-Prince while an explicit method's steps (at least
    stiffness/3.3 of them) stay cheap - up to a stiffness of 1e4 compiled, 200 in numpy
    - then Runge-Kutta-Chebyshev (cost ~ sqrt(stiffness)) at tolerances a second-order
    method reaches, else Radau (implicit, fifth order)."""
    if method != "auto":
        return method
    if stiff < (1e4 if compiled else 200):
        return "dopri5"
    return "rkc" if rtol >= 1e-6 or compiled else "Radau"


def integrate(
    system: System,
    times: np.ndarray,
    *,
    method: str = "auto",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    u0: np.ndarray | None = None,
    rhs: Rhs | None = None,
    jac: Callable[[np.ndarray], np.ndarray] | None = None,
    spec: Spec | None = None,
) -> Trajectory:
    """Integrate ``du/dt = rhs(u)`` over the free units of the whole batch from ``u0``
    (default ``system.u0``), sampled at ``times`` (the last is the end time).

    ``rhs(u, idx)`` (see :data:`Rhs`) and ``jac(u)`` ((B, N) -> (B, N, N), for the
    implicit scipy methods) default to the model's :func:`~analogam.model.force` and
    :func:`~analogam.model.jacobian`; the trainer passes nudged ones. ``dopri5`` and
    ``rkc`` (:mod:`.integrators`) step every sample with its own step size; the scipy
    methods integrate the batch as one system (block-diagonal Jacobian). ``spec``: the
    compiled description of ``rhs`` (:func:`.kernel.spec_of`; built from the model
    when ``rhs`` is not given): with numba, ``dopri5`` and ``rkc`` run compiled, each
    sample on its own, in parallel.
    """
    if spec is None and rhs is None and HAVE_NUMBA:
        spec = spec_of(system)
    rhs = rhs or model_rhs(system)
    jac_u = jac or (lambda u: jacobian(system, u))
    base = np.array(system.u0 if u0 is None else u0, dtype=float)
    B, N = base.shape
    free = system.free
    nf = int(free.sum())
    if nf == 0:
        u = np.repeat(base[:, None, :], times.size, axis=1)
        return Trajectory(True, "no free units", times, u, 0, method)

    def full(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        u = base[idx].copy()
        u[:, free] = y
        return u

    def fb(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return rhs(full(y, idx), idx)[:, free]

    all_idx = np.arange(B)
    if method == "auto":
        method = choose_method(method, stiffness(system, base, rhs, float(times[-1])), rtol)
    if method in _IMPLICIT and B * N * N * 8 > MAX_JACOBIAN_BYTES:
        raise ModelError(f"the {method} ODE needs a ({B}, {N}, {N}) Jacobian of "
                         f"{B * N * N * 8 / 2**30:.3g} GiB (limit {MAX_JACOBIAN_BYTES / 2**30:g}); "
                         "use an explicit method (--method dopri5 or rkc) or fewer inputs")
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if method in BATCHED and spec is not None and HAVE_NUMBA:
                traj, okb, nfev, *_ = integrate_compiled(spec, base, times, method, rtol, atol)
                sol_t, ok = times, bool(okb.all())
                sol_y = traj[:, :, free].transpose(0, 2, 1).reshape(B * nf, -1)
                msg = ("reached the end" if ok else
                       f"{int((~okb).sum())} sample(s) failed (step size underflow or too "
                       "many steps)")
            elif method in BATCHED:
                kw = ({"spectral_radius": lambda y, idx: power_radius(fb, y, idx)}
                      if method == "rkc" else {})
                sol = BATCHED[method](fb, base[:, free], times, rtol=rtol, atol=atol, **kw)
                sol_t, sol_y, ok, msg, nfev = (sol.t, sol.u.transpose(0, 2, 1).reshape(B * nf, -1),
                                               sol.success, sol.message, sol.nfev)
            else:
                def fun(_t: float, y: np.ndarray) -> np.ndarray:
                    return fb(y.reshape(B, nf), all_idx).ravel()

                def jac_fn(_t: float, y: np.ndarray) -> sp.bsr_matrix:
                    J = jac_u(full(y.reshape(B, nf), all_idx))[:, free][:, :, free]
                    return sp.bsr_matrix((J, np.arange(B), np.arange(B + 1)),
                                         shape=(B * nf, B * nf))

                kwargs = {"jac": jac_fn} if method in _IMPLICIT else {}
                r = solve_ivp(fun, (0.0, float(times[-1])), base[:, free].ravel(),
                              method=method, t_eval=times, rtol=rtol, atol=atol, **kwargs)
                sol_t, sol_y, ok, msg, nfev = r.t, r.y, bool(r.success), r.message, r.nfev
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as e:
        # a solver that breaks down (singular factor, overflow) is a failed run
        sol_t, sol_y, ok, nfev = times[:1], base[:, free].reshape(-1, 1), False, 0
        msg = f"the solver broke down ({one_line(str(e))[:120]})"
    T = sol_t.size
    u = np.repeat(base[:, None, :], T, axis=1)
    u[:, :, free] = sol_y.reshape(B, nf, T).transpose(0, 2, 1)
    ok = ok and T == times.size and bool(np.all(np.isfinite(u)))
    return Trajectory(ok, str(msg), sol_t, u, int(nfev), method)


def simulate_ode(
    system: System,
    t_end: float | None = None,
    *,
    method: str = "auto",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    n_points: int = 201,
    t_eval: np.ndarray | None = None,
    settle_tol: float = SETTLE_TOL,
    energy_tol: float | None = None,
) -> OdeResult:
    """Integrate ``tau du/dt = drive(u) - u`` from ``system.u0`` to ``t_end`` (default:
    the model's read-out time), batched over the system's inputs.

    ``t_eval`` (or ``n_points`` evenly spaced times) are where trajectories are sampled;
    ``t_end`` is always the last. ``energy_tol`` defaults to
    ``10 * (atol + rtol) * max(1, max|E|)``: the accuracy at which E is known.
    """
    t_end = float(system.model.readout_time if t_end is None else t_end)
    _validate_args(method, rtol, atol, t_end, n_points)
    B, N = system.u0.shape
    times = np.linspace(0.0, t_end, n_points) if t_eval is None else np.asarray(t_eval, float)
    if times[-1] != t_end:
        times = np.append(times[times < t_end], t_end)
    bound = check_energy_bounded(system)
    traj = integrate(system, times, method=method, rtol=rtol, atol=atol)
    ok, msg, u, T = traj.success, traj.message, traj.u, traj.t.size
    flat = u.reshape(B * T, N)
    e = energy(repeat_system(system, T), flat).reshape(B, T)
    rise = energy_rise(e)
    etol = energy_tol if energy_tol is not None else (
        10 * (atol + rtol) * max(1.0, float(np.nanmax(np.abs(e))) if e.size else 1.0))
    res = residual(system, u[:, -1, :])
    warnings = []
    if not ok:
        warnings.append(f"ODE solver failed: {msg}")
    if not bound.bounded:
        warnings.append(bound.message)
    n_rise = int(np.sum(rise > etol))
    if n_rise:
        warnings.append(f"energy increased on {n_rise}/{B} trajectories (max rise "
                        f"{rise.max():.3g} > tolerance {etol:.3g})")
    n_uns = int(np.sum(~(res <= settle_tol)))
    if n_uns:
        warnings.append(f"read-out at t={t_end:g} before the fixed point on {n_uns}/{B} "
                        f"inputs (max residual |tau du/dt| {np.nanmax(res):.3g} > {settle_tol:g}); "
                        "read out later: a larger t_end (--t-end) or the model's "
                        "readout_time")
    return OdeResult(ok, msg, traj.t if ok else times[:T], u, e, res, rise, float(etol),
                     settle_tol, bound, tuple(warnings), traj.nfev)
