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

MAX_JACOBIAN_BYTES = 2 << 30
SETTLE_TOL = 1e-3
"""The residual ``max |tau du/dt|`` (model units) below which a state counts as the fixed
point at the read-out: the one settling tolerance of the read-out checks."""

# LSODA is left out on purpose: it needs the Jacobian dense, (B*N)^2 for a batch.
METHODS = ("Radau", "BDF", "RK45", "DOP853", "RK23")
_IMPLICIT = ("Radau", "BDF")


@dataclass(frozen=True)
class OdeResult:
    """Trajectories of a batch and the checks of DESIGN.md section 5.

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


Rhs = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Trajectory:
    """Raw output of :func:`integrate`: ``u`` (B, T, N) at times ``t`` (T,)."""

    success: bool
    message: str
    t: np.ndarray
    u: np.ndarray
    nfev: int


def integrate(
    system: System,
    times: np.ndarray,
    *,
    method: str = "Radau",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    u0: np.ndarray | None = None,
    rhs: Rhs | None = None,
    jac: Rhs | None = None,
) -> Trajectory:
    """Integrate ``du/dt = rhs(u)`` over the free units of the whole batch from ``u0``
    (default ``system.u0``), sampled at ``times`` (the last is the end time).

    ``rhs``/``jac`` map (B, N) states to (B, N) forces and (B, N, N) Jacobians and
    default to the model's :func:`~analogam.model.force` and
    :func:`~analogam.model.jacobian`; the trainer passes nudged ones.
    """
    rhs = rhs or (lambda u: force(system, u))
    jac_u = jac or (lambda u: jacobian(system, u))
    base = np.array(system.u0 if u0 is None else u0, dtype=float)
    B, N = base.shape
    free = system.free
    nf = int(free.sum())

    def full(y: np.ndarray) -> np.ndarray:
        u = base.copy()
        u[:, free] = y.reshape(B, nf)
        return u

    def fun(_t: float, y: np.ndarray) -> np.ndarray:
        return rhs(full(y))[:, free].ravel()

    def jac_fn(_t: float, y: np.ndarray) -> sp.bsr_matrix:
        J = jac_u(full(y))[:, free][:, :, free]
        return sp.bsr_matrix((J, np.arange(B), np.arange(B + 1)), shape=(B * nf, B * nf))

    if method in _IMPLICIT and B * N * N * 8 > MAX_JACOBIAN_BYTES:
        raise ModelError(f"the {method} ODE needs a ({B}, {N}, {N}) Jacobian of "
                         f"{B * N * N * 8 / 2**30:.3g} GiB (limit {MAX_JACOBIAN_BYTES / 2**30:g}); "
                         "use an explicit method (--method RK45) or fewer inputs at once")
    if nf == 0:
        sol_t, sol_y, ok, msg, nfev = times, np.zeros((0, times.size)), True, "no free units", 0
    else:
        kwargs = {"jac": jac_fn} if method in _IMPLICIT else {}
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                sol = solve_ivp(fun, (0.0, float(times[-1])), base[:, free].ravel(),
                                method=method, t_eval=times, rtol=rtol, atol=atol, **kwargs)
            sol_t, sol_y, ok, msg, nfev = sol.t, sol.y, bool(sol.success), sol.message, sol.nfev
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as e:
            # a solver that breaks down (singular factor, overflow) is a failed run
            sol_t, sol_y, ok, nfev = times[:1], base[:, free].reshape(-1, 1), False, 0
            msg = f"the solver broke down ({one_line(str(e))[:120]})"
    T = sol_t.size
    u = np.repeat(base[:, None, :], T, axis=1)
    u[:, :, free] = sol_y.reshape(B, nf, T).transpose(0, 2, 1)
    ok = ok and T == times.size and bool(np.all(np.isfinite(u)))
    return Trajectory(ok, str(msg), sol_t, u, int(nfev))


def simulate_ode(
    system: System,
    t_end: float | None = None,
    *,
    method: str = "Radau",
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
                        f"inputs (max residual |tau du/dt| {np.nanmax(res):.3g} > {settle_tol:g})")
    return OdeResult(ok, msg, traj.t if ok else times[:T], u, e, res, rise, float(etol),
                     settle_tol, bound, tuple(warnings), traj.nfev)
