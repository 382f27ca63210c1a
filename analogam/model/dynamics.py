"""The model's math, in one place (docs/design.md section 3): outputs, drives, force, energy,
Jacobian, decoder logits, the residual, and the energy-bound check. The ODE reference,
the compiler and the trainer read these and re-derive nothing.

For group G with activation output ``g_G = dL_G/du_G``::

    tau_G du_G/dt = drive_G - u_G,   drive_G = sum_{couplings c at G} W_c g_other + bias_G
    E = sum_G [ g_G . (u_G - bias_G) - L_G(u_G) ] - sum_c g_hidden . W_c g_visible

(``W_c`` is applied as ``W_c`` for the hidden side and ``W_c^T`` for the visible side;
a directed coupling, ``System.backward``, gives the visible side ``V_c^T`` instead, and
then E is not a Lyapunov function: no energy exists, docs/design.md section 9).
Clamped units have zero force. ``dE/dt = -sum_G tau_G (du_G/dt)^T J_G (du_G/dt) <= 0``
for convex Lagrangians, so E is a Lyapunov function. States in model units, time in
model time units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelError
from .activations import get_activation
from .network import Model

if TYPE_CHECKING:  # binding imports this module; the annotation is all we need
    from .binding import System

Array = np.ndarray

def outputs(system: System, u: Array) -> dict[str, Array]:
    """Activation outputs g_G = dL_G/du_G of every group, each (B, size)."""
    m = system.model
    return {
        g.name: get_activation(g.activation).value(u[:, m.slices[g.name]], g.param)
        for g in m.groups
    }


def _couple(system: System, g: dict[str, Array], out: dict[str, Array]) -> None:
    """Add every coupling's currents to ``out``: ``W g_visible`` to the hidden group and
    ``W^T g_hidden`` to the visible one. A coupling shared by the batch is one matrix
    product over it; a per-sample one (token couplings) a stacked product."""
    if system.backward is not None:
        for c, W, V in zip(system.model.couplings, system.weights, system.backward,
                           strict=True):
            out[c.hidden] += (W @ g[c.visible][:, :, None])[:, :, 0]
            out[c.visible] += (g[c.hidden][:, None, :] @ V)[:, 0, :]
        return
    for k, (c, W) in enumerate(zip(system.model.couplings, system.weights, strict=True)):
        rows = system.table_rows(k)
        if W.shape[0] == 1:
            out[c.hidden] += g[c.visible] @ W[0].T
            out[c.visible] += g[c.hidden] @ W[0]
        elif rows is not None and rows[0].shape[0] <= 4 * W.shape[1]:
            # rows of a small table: W_b g = (g T^T)[b, tokens_b], and sum_l g_l T[tok_l]
            # = (the g_l gathered per token) T: two matrix products and a gather
            table, tok = rows
            out[c.hidden] += np.take_along_axis(g[c.visible] @ table.T, tok, axis=1)
            K = table.shape[0]
            flat = (np.arange(tok.shape[0])[:, None] * K + tok).ravel()
            per_token = np.bincount(flat, weights=g[c.hidden].ravel(),
                                    minlength=tok.shape[0] * K).reshape(-1, K)
            out[c.visible] += per_token @ table
        else:
            out[c.hidden] += (W @ g[c.visible][:, :, None])[:, :, 0]
            out[c.visible] += (g[c.hidden][:, None, :] @ W)[:, 0, :]


def drives(system: System, g: dict[str, Array]) -> dict[str, Array]:
    """drive_G = sum_c W_c g_other + bias_G (model units): the fixed point of u_G."""
    m = system.model
    d = {grp.name: np.broadcast_to(grp.bias, g[grp.name].shape).copy() for grp in m.groups}
    _couple(system, g, d)
    return d


def force(system: System, u: Array) -> Array:
    """du/dt = (drive - u) / tau per group, zero on clamped units. (B, N), model units
    per model time unit."""
    m = system.model
    out = np.empty_like(u)
    views = {grp.name: out[:, m.slices[grp.name]] for grp in m.groups}
    for grp in m.groups:
        views[grp.name][...] = grp.bias
    _couple(system, outputs(system, u), views)
    out -= u
    out *= 1.0 / m.tau
    out[:, system.clamped] = 0.0
    return out


def energy(system: System, u: Array) -> Array:
    """E(u) of docs/design.md section 3, one value per batch element (model units)."""
    m = system.model
    g = outputs(system, u)
    e = np.zeros(u.shape[0])
    for grp in m.groups:
        act = get_activation(grp.activation)
        ug = u[:, m.slices[grp.name]]
        e += np.sum(g[grp.name] * (ug - grp.bias), axis=-1) - act.lagrangian(ug, grp.param)
    for c, W in zip(m.couplings, system.weights, strict=True):
        e -= np.sum(g[c.hidden] * (W @ g[c.visible][:, :, None])[:, :, 0], axis=-1)
    return e


def activation_jacobians(system: System, u: Array) -> dict[str, Array]:
    """dg_G/du_G for each group, (B, size, size): the Hessians of the Lagrangians."""
    m = system.model
    return {
        grp.name: get_activation(grp.activation).jacobian(u[:, m.slices[grp.name]], grp.param)
        for grp in m.groups
    }


def jacobian(system: System, u: Array) -> Array:
    """d(force)/du, (B, N, N), per model time unit. Rows of clamped units are zero."""
    m = system.model
    B, N = u.shape
    Jg = activation_jacobians(system, u)
    J = np.zeros((B, N, N))
    idx = np.arange(N)
    tau = m.tau
    J[:, idx, idx] = -1.0
    back = system.backward if system.backward is not None else system.weights
    for c, W, V in zip(m.couplings, system.weights, back, strict=True):
        sh, sv = m.slices[c.hidden], m.slices[c.visible]
        J[:, sh, sv] += W @ Jg[c.visible]
        J[:, sv, sh] += np.swapaxes(V, 1, 2) @ Jg[c.hidden]
    J /= tau[None, :, None]
    J[:, system.clamped, :] = 0.0
    return J


def residual(system: System, u: Array, rhs=None) -> Array:
    """Distance from the fixed point, per sample: ``max_i |tau_i du_i/dt|`` over the free
    units (model units), i.e. ``max |drive - u|`` for the model's force, or for ``rhs``
    (a function of u giving du/dt, e.g. the trainer's nudged force) when given."""
    f = force(system, u) if rhs is None else rhs(u)
    r = np.abs(f * system.model.tau)[:, system.free]
    return r.max(axis=1) if r.shape[1] else np.zeros(u.shape[0])


def energy_rise(e: Array) -> Array:
    """Largest increase of the energy between consecutive samples of each trajectory
    (``e``: (B, T)), 0 where it never rises: the Lyapunov check of docs/design.md section 5."""
    return np.maximum(np.max(np.diff(e, axis=1), axis=1, initial=0.0), 0.0)


def decoder_logits(model: Model, g: Array) -> Array:
    """Decoder logits ``W g + b``, (B, K), from the read-out group's outputs ``g`` (B, n)."""
    if model.decoder is None:
        raise ModelError(f"model {model.name!r} has no decoder")
    return g @ model.decoder.weights.T + model.decoder.bias


def group_outputs(model: Model, name: str, u: Array) -> Array:
    """Activation outputs of one group from full states ``u`` (B, N)."""
    grp = model.group(name)
    return get_activation(grp.activation).value(u[:, model.slices[grp.name]], grp.param)


def decode(model: Model, u: Array) -> Array:
    """Decoder logits ``W g + b`` of the read-out group at states ``u`` (B, N), (B, K)."""
    if model.decoder is None:
        raise ModelError(f"model {model.name!r} has no decoder")
    return decoder_logits(model, group_outputs(model, model.decoder.group, u))



@dataclass(frozen=True)
class BoundCheck:
    """Whether E is bounded below. ``sigma_max`` is the largest singular value of the
    stacked couplings between unbounded groups (0 when there are none)."""

    bounded: bool
    sigma_max: float
    message: str


def check_energy_bounded(system: System) -> BoundCheck:
    """E is bounded below unless two unbounded groups (identity, relu) are coupled
    with gain >= 1: with identity visible units and ReLU memories, integrating the
    memories out leaves 1/2|v|^2 - 1/2|relu(W v + b)|^2, unbounded once sigma_max(W)
    reaches 1 (docs/design.md section 5). Couplings of one unbounded group to several
    unbounded partners are stacked, so their joint gain is what is bounded."""
    m = system.model
    unbounded = {g.name for g in m.groups if not get_activation(g.activation).bounded}
    worst, where = 0.0, ""
    for gname in sorted(unbounded):
        blocks = [
            (W if c.visible == gname else np.swapaxes(W, 1, 2))
            for c, W in zip(m.couplings, system.weights, strict=True)
            if gname in (c.hidden, c.visible) and {c.hidden, c.visible} <= unbounded
        ]
        if not blocks:
            continue
        B = max(b.shape[0] for b in blocks)
        stacked = np.concatenate([np.broadcast_to(b, (B,) + b.shape[1:]) for b in blocks], axis=1)
        s = float(np.max(np.linalg.norm(stacked, ord=2, axis=(1, 2))))
        if s > worst:
            worst, where = s, gname
    if worst >= 1.0:
        return BoundCheck(False, worst, (
            f"energy unbounded below: couplings of unbounded group {where!r} have largest "
            f"singular value {worst:.4g} >= 1; trajectories can run away and a circuit rails"
        ))
    if not where:
        return BoundCheck(True, 0.0, "energy bounded below (no coupling between two "
                          "unbounded groups)")
    return BoundCheck(True, worst, f"energy bounded below (sigma_max {worst:.4g} < 1)")


@dataclass(frozen=True)
class Contraction:
    """The Lipschitz bound of the map the visible group's fixed point solves.

    With every other group at its drive, ``v* = F(v*)``, ``F(v) = bias_v + sum_c W_c^T
    g_c(W_c v + bias_c)``, and ``|dF/dv| <= gain = sum_c s_c sigma_max(W_c)^2`` where
    ``s_c`` is the largest slope of group c's activation (beta for softmax, the gain for
    tanh, 1 for relu and identity). ``gain < 1``: F is a contraction, the fixed point is
    unique and the dynamics reach it from any start (per sample, dimensionless)."""

    gain: np.ndarray
    sigma: dict[str, np.ndarray]
    terms: dict[str, np.ndarray]
    """Per coupling, its part ``s_c sigma_c^2`` of the gain (per sample)."""


def contraction(system: System, visible: str = "v") -> Contraction:
    """The :class:`Contraction` bound of every sample of ``system`` (couplings whose
    visible side is ``visible``; the largest singular values by LAPACK's SVD)."""
    m = system.model
    sigma, terms = {}, {}
    for c, W in zip(m.couplings, system.weights, strict=True):
        if c.visible != visible:
            continue
        grp = m.group(c.hidden)
        slope = grp.param if get_activation(grp.activation).param_name else 1.0
        sigma[c.name] = np.linalg.norm(W, ord=2, axis=(1, 2))
        terms[c.name] = slope * sigma[c.name] ** 2
    gain = sum(terms.values(), np.zeros(system.batch))
    return Contraction(gain, sigma, terms)
