"""Relaxation to the fixed point the dynamics reach, free or nudged, checked.

Free phase: ``tau du/dt = drive(u) - u``. Nudged phase (EP, docs/design.md section 6): the
read-out group's drive gets the extra force ``-beta dC/dg``, so the fixed point is a
stationary point of ``F = E + beta C``. Relaxation integrates the dynamics with an
adaptive solver, then polishes with Newton steps on the analytic Jacobian, but only
from states already inside the basin (residual small), so Newton cannot jump to
another fixed point. Convergence is measured, never assumed: ``converged`` says which
samples reached ``max |tau du/dt| <= tol``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import System, activation_jacobians, force, jacobian, residual
from ..reference import integrate
from ..reference.kernel import HAVE_NUMBA
from ..reference.ode import Subsets
from ..reference.spec import Spec, spec_of
from .loss import Loss


@dataclass(frozen=True)
class Nudge:
    """The EP nudge ``-beta dC/dg`` on the loss's read-out group."""

    beta: float
    loss: Loss


@dataclass(frozen=True)
class Relaxed:
    """Relaxed states ``u`` (B, N), residuals ``max |tau du/dt|`` (B,) and the verdict."""

    u: np.ndarray
    residual: np.ndarray
    converged: np.ndarray
    tol: float


def _nudged(system: System, nudge: Nudge | None, base, term) -> np.ndarray:
    """``base`` (force or Jacobian) with ``-beta term(grp, slice) / tau`` added on the
    read-out group's rows; clamped rows stay zero."""
    out = base
    if nudge is None or nudge.beta == 0.0:
        return out
    grp = system.model.group(nudge.loss.group)
    s = system.model.slices[grp.name]
    out[:, s] -= nudge.beta * term(grp, s) / grp.tau
    out[:, system.clamped] = 0.0
    return out


def nudged_force(system: System, nudge: Nudge | None, u: np.ndarray) -> np.ndarray:
    """du/dt with the nudge: (drive - u - beta dC/dg) / tau on the read-out group."""
    return _nudged(system, nudge, force(system, u),
                   lambda grp, s: nudge.loss.grad_g(system.model, u))


def nudged_jacobian(system: System, nudge: Nudge | None, u: np.ndarray) -> np.ndarray:
    """d(nudged force)/du, (B, N, N): the model's plus -beta d2C/dg2 dg/du / tau."""
    def term(grp, s):
        Jg = activation_jacobians(system, u)[grp.name]
        full = np.zeros((u.shape[0], s.stop - s.start, u.shape[1]))
        full[:, :, s] = nudge.loss.hess_g(system.model, u) @ Jg
        return full

    return _nudged(system, nudge, jacobian(system, u), term)


def nudged_rhs(system: System, nudge: Nudge | None):
    """The nudged force as an ``rhs(u, idx)`` of the batched integrators."""
    subs = Subsets(system)

    def rhs(u: np.ndarray, idx: np.ndarray) -> np.ndarray:
        if idx.size == system.batch:
            return nudged_force(system, nudge, u)
        return nudged_force(subs(idx), nudge_subset(nudge, idx), u)
    return rhs


def nudged_spec(system: System, nudge: Nudge | None) -> Spec | None:
    """The compiled description of the nudged force (None without numba)."""
    if not HAVE_NUMBA:
        return None
    if nudge is None or nudge.beta == 0.0:
        return spec_of(system)
    loss = nudge.loss
    if loss.kind == "squared":
        return spec_of(system, "squared", loss.group, nudge.beta, values=loss.target,
                       mask=loss.units)
    d = system.model.decoder
    return spec_of(system, "cross_entropy", loss.group, nudge.beta,
                   decoder=(d.weights, d.bias), classes=loss.target)


def free_residual(system: System, nudge: Nudge | None, u: np.ndarray) -> np.ndarray:
    """max over free units of |tau du/dt| (nudge included), per sample, model units."""
    return residual(system, u, lambda x: nudged_force(system, nudge, x))


def _newton(system: System, nudge: Nudge | None, u: np.ndarray, tol: float,
            steps: int) -> np.ndarray:
    """Newton steps u <- u - J^-1 f on the free units of the samples above ``tol``."""
    u = u.copy()
    free = system.free
    for _ in range(steps):
        todo = free_residual(system, nudge, u) > tol
        if not todo.any():
            break
        sub, sub_nudge, uu = system.select(todo), nudge_subset(nudge, todo), u[todo]
        f = nudged_force(sub, sub_nudge, uu)[:, free]
        J = nudged_jacobian(sub, sub_nudge, uu)[:, free][:, :, free]
        try:
            uu[:, free] -= np.linalg.solve(J, f[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            break  # a singular Jacobian: the samples stay unconverged and are counted
        u[todo] = uu
    return u


def nudge_subset(nudge: Nudge | None, mask: np.ndarray) -> Nudge | None:
    """The nudge restricted to the samples selected by ``mask``."""
    if nudge is None:
        return None
    loss = nudge.loss
    return Nudge(nudge.beta, Loss(loss.kind, loss.group, loss.target[mask], loss.units))


def iterate_map(system: System, nudge: Nudge | None, u: np.ndarray, tol: float,
                steps: int) -> np.ndarray:
    """Up to ``steps`` iterations of ``u <- u + tau du/dt`` (every free unit jumps to its
    nudged drive ``drive - beta dC/dg``), stopping each sample at ``tol``.

    Used only on a model certified contracting (a unique fixed point, which the
    iteration and the ODE both reach): there it finds the same fixed point as the
    integrator in a fraction of the time."""
    u = u.copy()
    tau = system.model.tau
    todo = np.arange(u.shape[0])
    for _ in range(steps):
        if todo.size == system.batch:
            step = nudged_force(system, nudge, u) * tau
        else:
            step = nudged_force(system.select(todo), nudge_subset(nudge, todo),
                                u[todo]) * tau
        # the step is the residual max |tau du/dt|: a sample stops where it is below tol
        going = np.max(np.abs(step[:, system.free]), axis=1, initial=0.0) > tol
        u[todo[going]] += step[going]
        todo = todo[going]
        if not todo.size:
            break
    return u


CONTRACTION_STEPS = 300


def relax(
    system: System,
    *,
    u_start: np.ndarray | None = None,
    nudge: Nudge | None = None,
    t_relax: float | None = None,
    tol: float = 1e-8,
    polish_from: float = 1e-3,
    attempts: int = 6,
    method: str = "auto",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    newton_steps: int = 12,
    contracting: bool = False,
) -> Relaxed:
    """Relax from ``u_start`` (default ``system.u0``) to the fixed point the (nudged)
    dynamics reach: integrate for ``t_relax`` (default the model's read-out time),
    Newton-polish samples whose residual is below ``polish_from``, and integrate again,
    for twice as long each time (up to ``attempts`` times), those not there yet.
    ``contracting``: the model's map is a contraction (the trainer's stability
    projection holds), so :func:`iterate_map` runs first; samples it leaves above
    ``tol`` go on as above."""
    t_relax = float(system.model.readout_time if t_relax is None else t_relax)
    u = np.array(system.u0 if u_start is None else u_start, dtype=float)
    if contracting:
        with np.errstate(over="ignore", invalid="ignore"):
            u = iterate_map(system, nudge, u, tol, CONTRACTION_STEPS)
            # A strong nudge (beta times the decoder's curvature above 1) makes the
            # nudged map overshoot while its fixed point stays next to the free one:
            # Newton from where the map stopped finds it; kept only where it converged.
            left = free_residual(system, nudge, u) > tol
            if left.any():
                u_new = _newton(system.select(left), nudge_subset(nudge, left), u[left],
                                tol, newton_steps)
                ok = free_residual(system.select(left), nudge_subset(nudge, left),
                                   u_new) <= tol
                u[np.flatnonzero(left)[ok]] = u_new[ok]

    for attempt in range(attempts):
        todo = free_residual(system, nudge, u) > tol
        if not todo.any():
            break
        sub, sub_nudge = system.select(todo), nudge_subset(nudge, todo)
        with np.errstate(over="ignore", invalid="ignore"):
            traj = integrate(sub, np.array([0.0, t_relax * 2**attempt]), method=method,
                             rtol=rtol, atol=atol, u0=u[todo],
                             rhs=nudged_rhs(sub, sub_nudge),
                             jac=lambda x, s=sub, n=sub_nudge: nudged_jacobian(s, n, x),
                             spec=nudged_spec(sub, sub_nudge))
        if traj.success:
            u[todo] = traj.u[:, -1, :]
        res = free_residual(system, nudge, u)
        near = res <= polish_from
        if near.any():
            u_near = _newton(system.select(near), nudge_subset(nudge, near), u[near],
                             tol, newton_steps)
            # Newton may only refine: a polished state that moved further than the
            # basin's scale has jumped and is discarded.
            moved = np.max(np.abs(u_near - u[near]), axis=1)
            ok = moved <= max(10 * polish_from, 1e-6)
            idx = np.flatnonzero(near)[ok]
            u[idx] = u_near[ok]
    res = free_residual(system, nudge, u)
    res = np.where(np.isfinite(res), res, np.inf)
    return Relaxed(u, res, res <= tol, tol)


def slowest_rate(system: System, u: np.ndarray) -> np.ndarray:
    """Smallest decay rate ``min Re(-eig(J))`` of the free dynamics at u, per sample
    (per model time unit): the curvature of the fixed point. Small rates mean slow
    settling in the circuit and a biased EP estimate."""
    free = system.free
    J = jacobian(system, u)[:, free][:, :, free]
    if J.shape[1] == 0:
        return np.full(u.shape[0], np.inf)
    return np.min(-np.linalg.eigvals(J).real, axis=1)
