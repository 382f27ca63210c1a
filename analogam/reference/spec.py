"""The flat description of a bound system that the compiled kernel integrates
(:mod:`.kernel`): per group its offset, size, activation code and parameter; per unit
``1/tau``, bias and whether it is free; per coupling its groups, whether it varies per
sample, and where its (and its backward array's) weights sit in one flat array; and
the trainer's nudge. Built here from the model, once; the kernel never reads the
model itself."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from ..model.activations import get_activation

KERNEL_ACTIVATIONS = (0, 1, 2, 3)
"""The activation codes :func:`_rhs` implements (identity, relu, tanh, softmax: each
activation's ``code`` in :mod:`analogam.model.activations`)."""
LOSS_CODES = {None: 0, "squared": 1, "cross_entropy": 2}


@dataclass(frozen=True)
class Spec:
    """A bound system as flat arrays (see :func:`spec_of`). Groups: offset, size,
    activation code, parameter; per unit: 1/tau, bias, free. Couplings: hidden and
    visible offsets and sizes, whether weights are per sample, and their place in
    ``wflat`` (``c_w``; ``c_wb`` the matrix the visible side receives through: the
    same, or a directed coupling's backward one). The nudge: loss code, its group,
    beta, decoder (K, n) and bias, and per sample targets (class indices, or values with
    a unit mask)."""

    g_off: np.ndarray
    g_size: np.ndarray
    g_act: np.ndarray
    g_par: np.ndarray
    inv_tau: np.ndarray
    bias: np.ndarray
    free: np.ndarray
    c_h: np.ndarray
    c_hs: np.ndarray
    c_v: np.ndarray
    c_vs: np.ndarray
    c_per: np.ndarray
    c_w: np.ndarray
    c_wb: np.ndarray
    wflat: np.ndarray
    loss: int = 0
    loss_off: int = 0
    loss_size: int = 0
    beta: float = 0.0
    dec_w: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    dec_b: np.ndarray = field(default_factory=lambda: np.zeros(1))
    cls: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    y: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    ymask: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def args(self) -> tuple:
        return (self.g_off, self.g_size, self.g_act, self.g_par, self.inv_tau, self.bias,
                self.free, self.c_h, self.c_hs, self.c_v, self.c_vs, self.c_per, self.c_w,
                self.c_wb, self.wflat, self.loss, self.loss_off, self.loss_size, self.beta,
                self.dec_w, self.dec_b, self.cls, self.y, self.ymask)


def _act_code(name: str) -> int:
    """The kernel's code of activation ``name``; an activation the kernel does not
    implement is a ModelError, never another activation's arithmetic."""
    code = get_activation(name).code
    if code not in KERNEL_ACTIVATIONS:
        raise ModelError(f"activation {name!r} (kernel code {code}) has no compiled "
                         "kernel; add its branch to analogam/reference/kernel.py")
    return code


def spec_of(system, loss: str | None = None, group: str | None = None, beta: float = 0.0,
            decoder: tuple[np.ndarray, np.ndarray] | None = None,
            classes: np.ndarray | None = None, values: np.ndarray | None = None,
            mask: np.ndarray | None = None) -> Spec:
    """The flat description of a bound ``system`` (a :class:`~analogam.model.System`),
    with an optional nudge ``-beta dC/dg`` on ``group`` (``loss``: "squared" with
    per-sample ``values`` on the ``mask`` units, or "cross_entropy" through
    ``decoder`` (W, b) with per-sample ``classes``)."""
    m = system.model
    g_off = np.array([m.slices[g.name].start for g in m.groups], dtype=np.int64)
    g_size = np.array([g.size for g in m.groups], dtype=np.int64)
    g_act = np.array([_act_code(g.activation) for g in m.groups], dtype=np.int64)
    g_par = np.array([float(g.param) for g in m.groups])
    bias = np.concatenate([np.asarray(g.bias, float) for g in m.groups])
    c_h, c_hs, c_v, c_vs, c_per, c_w, c_wb, parts, off = [], [], [], [], [], [], [], [], 0
    back = system.backward if system.backward is not None else (None,) * len(m.couplings)
    for c, W, V in zip(m.couplings, system.weights, back, strict=True):
        W = np.ascontiguousarray(W, dtype=float)
        c_h.append(m.slices[c.hidden].start)
        c_hs.append(W.shape[1])
        c_v.append(m.slices[c.visible].start)
        c_vs.append(W.shape[2])
        c_per.append(W.shape[0] > 1)
        c_w.append(off)
        parts.append(W.ravel())
        off += W.size
        if V is None:
            c_wb.append(c_w[-1])
            continue
        # the backward matrix stored like the forward one (broadcast to its batch)
        V = np.ascontiguousarray(np.broadcast_to(V, W.shape), dtype=float)
        c_wb.append(off)
        parts.append(V.ravel())
        off += V.size
    ints = lambda x: np.array(x, dtype=np.int64)  # noqa: E731
    spec = dict(g_off=g_off, g_size=g_size, g_act=g_act, g_par=g_par,
                inv_tau=1.0 / m.tau, bias=bias, free=(~system.clamped).astype(np.bool_),
                c_h=ints(c_h), c_hs=ints(c_hs), c_v=ints(c_v), c_vs=ints(c_vs),
                c_per=np.array(c_per, dtype=np.bool_), c_w=ints(c_w), c_wb=ints(c_wb),
                wflat=np.concatenate(parts) if parts else np.zeros(1))
    if loss is not None:
        s = m.slices[group]
        spec.update(loss=LOSS_CODES[loss], loss_off=s.start, loss_size=s.stop - s.start,
                    beta=float(beta))
        if loss == "cross_entropy":
            spec.update(dec_w=np.ascontiguousarray(decoder[0], float),
                        dec_b=np.ascontiguousarray(decoder[1], float),
                        cls=np.ascontiguousarray(classes, dtype=np.int64))
        else:
            spec.update(y=np.ascontiguousarray(values, float),
                        ymask=np.ascontiguousarray(mask, float))
    return Spec(**spec)
