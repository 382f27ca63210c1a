"""Activation functions, each defined by its Lagrangian.

For a group of units with internal states ``u`` the Lagrangian ``L(u)`` (a scalar per
sample) defines the outputs ``g = dL/du`` and their Jacobian ``dg/du`` (the Hessian of L,
positive semidefinite because every L here is convex). All functions take ``u`` of shape
``(B, n)`` (a batch of group states, model units) and a scalar parameter:

=========  ===========================================  ==========================
name       Lagrangian L(u)                              output g(u)
=========  ===========================================  ==========================
identity   1/2 sum u^2                                  u
relu       1/2 sum relu(u)^2                            relu(u)
tanh       (1/gain) sum log cosh(gain u)                tanh(gain u)
softmax    (1/beta) logsumexp(beta u)                   softmax(beta u)
=========  ===========================================  ==========================

``bounded`` says whether g is bounded, which decides whether the energy can run away
(docs/design.md section 5). Everything else the pipeline needs to know about an
activation lives in its record too: the range of its output over a range of states
(the compiler plans line swings with it), whether a circuit realises it on a shared
translinear emitter (the design checks' class), and its code in the compiled ODE
kernel. A new activation is one record here plus its circuit blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..errors import ModelError, lookup

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """One registered activation. ``param`` is the gain (tanh) or inverse temperature
    beta (softmax); identity and relu take none (``param_name`` is None).
    ``output_range(lo, hi)``: the outputs' range (model units) over states in [lo, hi].
    ``translinear``: realised by transistors sharing one emitter on a tail current
    (softmax: all units; tanh: each unit's pair), whose charge the design checks count.
    ``code``: its number in the compiled ODE kernel (:mod:`analogam.reference.kernel`)."""

    name: str
    param_name: str | None
    bounded: bool
    lagrangian: Callable[[Array, float], Array]
    value: Callable[[Array, float], Array]
    jacobian: Callable[[Array, float], Array]
    output_range: Callable[[float, float], tuple[float, float]]
    translinear: bool
    code: int


def _diag(d: Array) -> Array:
    """(B, n) -> (B, n, n) diagonal matrices."""
    out = np.zeros(d.shape + (d.shape[-1],))
    idx = np.arange(d.shape[-1])
    out[..., idx, idx] = d
    return out


def _logcosh(x: Array) -> Array:
    """log cosh(x) without overflow: |x| + log1p(exp(-2|x|)) - log 2."""
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a)) - np.log(2.0)


def _softmax(u: Array, beta: float) -> Array:
    """softmax(beta u) along the last axis, shifted by the maximum (no overflow)."""
    z = beta * u
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def _softmax_jac(u: Array, beta: float) -> Array:
    g = _softmax(u, beta)
    return beta * (_diag(g) - g[..., :, None] * g[..., None, :])


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "identity", None, False,
            lagrangian=lambda u, p: 0.5 * np.sum(u * u, axis=-1),
            value=lambda u, p: u.copy(),
            jacobian=lambda u, p: _diag(np.ones_like(u)),
            output_range=lambda lo, hi: (lo, hi), translinear=False, code=0,
        ),
        Activation(
            "relu", None, False,
            lagrangian=lambda u, p: 0.5 * np.sum(np.maximum(u, 0.0) ** 2, axis=-1),
            value=lambda u, p: np.maximum(u, 0.0),
            jacobian=lambda u, p: _diag((u > 0).astype(float)),
            output_range=lambda lo, hi: (max(lo, 0.0), max(hi, 0.0)), translinear=False,
            code=1,
        ),
        Activation(
            "tanh", "gain", True,
            lagrangian=lambda u, p: np.sum(_logcosh(p * u), axis=-1) / p,
            value=lambda u, p: np.tanh(p * u),
            jacobian=lambda u, p: _diag(p * (1.0 - np.tanh(p * u) ** 2)),
            output_range=lambda lo, hi: (-1.0, 1.0), translinear=True, code=2,
        ),
        Activation(
            "softmax", "beta", True,
            lagrangian=lambda u, p: logsumexp(p * u, axis=-1) / p,
            value=_softmax,
            jacobian=_softmax_jac,
            output_range=lambda lo, hi: (0.0, 1.0), translinear=True, code=3,
        ),
    )
}


def get_activation(name: str) -> Activation:
    """Look an activation up by name; a wrong name lists the valid ones."""
    return lookup(ACTIVATIONS, name, "activation", ModelError)


def translinear_activations() -> tuple[str, ...]:
    """The activations realised on a shared translinear emitter."""
    return tuple(a.name for a in ACTIVATIONS.values() if a.translinear)
