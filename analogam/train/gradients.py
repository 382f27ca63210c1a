"""Gradients of the loss at the free fixed point: equilibrium propagation and the exact
implicit-differentiation baseline (docs/design.md sections 5 and 6).

Both take a bound :class:`~analogam.model.System`, its relaxed free state and a
:class:`~analogam.loss.Loss`, and return ``dC/dtheta`` averaged over the samples whose
phases converged, keyed by parameter name (see :func:`analogam.model.parameters`).
Samples whose relaxation did not converge are left out and counted, never used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import System, activation_jacobians, drive_vjp, energy_gradients, jacobian
from .loss import Loss
from .relax import Nudge, Relaxed, relax

EP_MODES = ("symmetric", "positive")


@dataclass(frozen=True)
class Gradient:
    """``grads``: name -> dC/dtheta (mean over ``used`` samples); ``skipped``: samples
    left out because a phase did not converge; ``residual``: the largest residual of
    any phase over the used samples."""

    grads: dict[str, np.ndarray]
    used: int
    skipped: int
    residual: float


def _mean_weights(mask: np.ndarray) -> np.ndarray:
    n = int(mask.sum())
    return mask / n if n else mask.astype(float)


def _with_decoder(grads: dict, loss: Loss, system: System, u: np.ndarray,
                  w: np.ndarray) -> dict:
    grads.update(loss.decoder_gradients(system.model, u, w))
    return grads


def ep_gradient(system: System, free: Relaxed, loss: Loss, beta: float,
                mode: str = "symmetric", **relax_kw) -> Gradient:
    """EP estimate of dC/dtheta from settled states alone.

    symmetric: ``(dE/dtheta(s+) - dE/dtheta(s-)) / (2 beta)``, bias O(beta^2);
    positive:  ``(dE/dtheta(s+) - dE/dtheta(s0)) / beta``, bias O(beta).
    Each nudged phase starts from the free fixed point ``s0``. The decoder's gradient is
    the ordinary one at ``s0``.
    """
    if mode not in EP_MODES:
        raise ValueError(f"unknown EP mode {mode!r}; valid: {', '.join(EP_MODES)}")
    ok = free.converged.copy()
    plus = relax(system, u_start=free.u, nudge=Nudge(beta, loss), **relax_kw)
    ok &= plus.converged
    if mode == "symmetric":
        minus = relax(system, u_start=free.u, nudge=Nudge(-beta, loss), **relax_kw)
        ok &= minus.converged
        lo, span = minus.u, 2.0 * beta
    else:
        minus, lo, span = None, free.u, beta
    w = _mean_weights(ok)
    gp = energy_gradients(system, plus.u, w)
    gm = energy_gradients(system, lo, w)
    grads = {k: (gp[k] - gm[k]) / span for k in gp}
    phases = [free, plus] + ([minus] if minus is not None else [])
    worst = max((float(p.residual[ok].max()) for p in phases), default=0.0) if ok.any() else 0.0
    return Gradient(_with_decoder(grads, loss, system, free.u, w), int(ok.sum()),
                    int((~ok).sum()), worst)


def implicit_gradient(system: System, free: Relaxed, loss: Loss) -> Gradient:
    """Exact dC/dtheta at the free fixed point by implicit differentiation.

    With r(u, theta) = drive - u = 0 on the free units, du*/dtheta = -J_r^-1 dr/dtheta,
    so dC/dtheta = -lam^T d(drive)/dtheta with J_r^T lam = dC/du (one linear solve per
    sample; J_r = tau * d(force)/du).
    """
    m = system.model
    ok = free.converged.copy()
    u = free.u
    fr = system.free
    Jr = (jacobian(system, u) * m.tau[None, :, None])[:, fr][:, :, fr]
    grp = m.group(loss.group)
    s = m.slices[grp.name]
    dCdu = np.zeros_like(u)
    Jg = activation_jacobians(system, u)[grp.name]
    dCdu[:, s] = (np.swapaxes(Jg, 1, 2) @ loss.grad_g(m, u)[:, :, None])[:, :, 0]
    lam = np.zeros_like(u)
    try:
        lam[:, fr] = np.linalg.solve(np.swapaxes(Jr, 1, 2), dCdu[:, fr][:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        ok[:] = False
    w = _mean_weights(ok)
    grads = {k: -v for k, v in drive_vjp(system, u, lam, w).items()}
    worst = float(free.residual[ok].max()) if ok.any() else 0.0
    return Gradient(_with_decoder(grads, loss, system, u, w), int(ok.sum()),
                    int((~ok).sum()), worst)


def cosine(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """Cosine between two gradients over the parameters they share."""
    keys = sorted(set(a) & set(b))
    x = np.concatenate([np.ravel(a[k]) for k in keys])
    y = np.concatenate([np.ravel(b[k]) for k in keys])
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    return float(x @ y / (nx * ny)) if nx > 0 and ny > 0 else 0.0

