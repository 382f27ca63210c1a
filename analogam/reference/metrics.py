"""Time-domain metrics of trajectories, shared by the ODE reference and the comparison."""

from __future__ import annotations

import numpy as np

SETTLE_BAND = 0.01
"""Settling band: a trajectory has settled once every free unit stays within this
fraction of its largest excursion from its final value."""


def settling_time(t: np.ndarray, u: np.ndarray, free: np.ndarray,
                  frac: float = SETTLE_BAND) -> np.ndarray:
    """Per sample, the first time after which every free unit stays within ``frac`` of
    its total excursion ``max_i |u_i(T) - u_i(0)|`` from its final value (model time).
    ``u``: (B, T, N) at times ``t`` (T,); ``free``: (N,) mask."""
    d = np.abs(u[:, :, free] - u[:, -1:, free]).max(axis=2)           # (B, T)
    span = np.abs(u[:, -1, free] - u[:, 0, free]).max(axis=1)         # (B,)
    tol = frac * np.maximum(span, 1e-12)
    out = np.empty(u.shape[0])
    for b in range(u.shape[0]):
        outside = np.flatnonzero(d[b] > tol[b])
        out[b] = t[outside[-1] + 1] if outside.size and outside[-1] + 1 < t.size else (
            t[-1] if outside.size else t[0])
    return out
