"""Parameters by name, and the energy's derivatives with respect to them (the local
learning rules of equilibrium propagation and implicit differentiation).

Parameters are named as in the weights file: ``coupling.<name>.weights`` (the (H, V)
matrix, or the (vocab, V) token table), ``group.<name>.bias``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .binding import System
from .dynamics import outputs
from .network import Decoder, Model

Array = np.ndarray


def _per_sample(weight: Array | None, B: int) -> Array:
    return np.full(B, 1.0 / B) if weight is None else np.asarray(weight, dtype=float)


def _coupling_grad(system: System, k: int, outer: Array) -> Array:
    """Fold per-sample (B, H, V) matrices onto coupling k's parameter: summed over the
    batch for a static matrix, scattered onto the token table's rows for a token one;
    a positional one also sums each position's row over the batch (row (l, t) is
    ``weights[l] + weights[L + t]``)."""
    c = system.model.couplings[k]
    if c.source == "static":
        return outer.sum(axis=0)
    table = np.zeros_like(c.weights)
    if c.source == "position-token":
        L = outer.shape[1]
        table[:L] = outer.sum(axis=0)
        np.add.at(table[L:], system.tokens, outer)
        return table
    np.add.at(table, system.tokens, outer)
    return table


def energy_gradients(system: System, u: Array, weight: Array | None = None,
                     g: dict[str, Array] | None = None) -> dict[str, Array]:
    """sum_b weight_b dE(u_b)/dtheta for every energy parameter theta (model units).

    From E above: dE/dW_c = -g_hidden g_visible^T (local and Hebbian: the product of the
    two neurons' outputs) and dE/dbias_G = -g_G. ``weight`` (B,) defaults to 1/B (the
    batch mean); a token table collects the terms of the positions holding each token.
    ``g``: the outputs per group (default: the activations of ``u``; a circuit's
    measured line voltages, for EP run by the circuit).
    """
    m = system.model
    w = _per_sample(weight, u.shape[0])
    g = outputs(system, u) if g is None else g
    out = {f"group.{grp.name}.bias": -(w @ g[grp.name]) for grp in m.groups}
    for k, c in enumerate(m.couplings):
        outer = -w[:, None, None] * g[c.hidden][:, :, None] * g[c.visible][:, None, :]
        out[f"coupling.{c.name}.weights"] = _coupling_grad(system, k, outer)
    return out


def drive_vjp(system: System, u: Array, lam: Array, weight: Array | None = None
              ) -> dict[str, Array]:
    """sum_b weight_b lam_b^T d(drive)/dtheta at fixed u, for every energy parameter.

    With drive_hidden = W g_visible + ..., drive_visible = W^T g_hidden + ...:
    the W term is lam_hidden g_visible^T + g_hidden lam_visible^T; a bias gives lam_G.
    ``lam``: (B, N) co-state (zero on clamped units). Used by implicit differentiation.
    """
    m = system.model
    w = _per_sample(weight, u.shape[0])
    g = outputs(system, u)
    lg = {grp.name: lam[:, m.slices[grp.name]] for grp in m.groups}
    out = {f"group.{grp.name}.bias": w @ lg[grp.name] for grp in m.groups}
    for k, c in enumerate(m.couplings):
        outer = w[:, None, None] * (lg[c.hidden][:, :, None] * g[c.visible][:, None, :]
                                    + g[c.hidden][:, :, None] * lg[c.visible][:, None, :])
        out[f"coupling.{c.name}.weights"] = _coupling_grad(system, k, outer)
    return out


def parameters(model: Model) -> dict[str, Array]:
    """The energy and decoder parameters of ``model`` by name (read-only arrays)."""
    p = {f"group.{g.name}.bias": g.bias for g in model.groups}
    p.update({f"coupling.{c.name}.weights": c.weights for c in model.couplings})
    if model.decoder is not None:
        p["decoder.weights"] = model.decoder.weights
        p["decoder.bias"] = model.decoder.bias
    return p


def with_parameters(model: Model, params: dict[str, Array]) -> Model:
    """A copy of ``model`` with the named parameters replaced (validated again)."""
    groups = tuple(
        replace(g, bias=params.get(f"group.{g.name}.bias", g.bias)) for g in model.groups)
    couplings = tuple(
        replace(c, weights=params.get(f"coupling.{c.name}.weights", c.weights))
        for c in model.couplings)
    decoder = model.decoder
    if decoder is not None:
        decoder = Decoder(decoder.group, params.get("decoder.weights", decoder.weights),
                          params.get("decoder.bias", decoder.bias))
    return replace(model, groups=groups, couplings=couplings, decoder=decoder)
