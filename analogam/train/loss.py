"""Training losses C on the settled read-out group, with the derivatives EP needs.

A loss acts on the outputs ``g`` of one group (the read-out). Two kinds:

- ``cross_entropy``: C = -log softmax(W_d g + b_d)[y], through the model's decoder.
- ``squared``: C = 1/2 sum_{i in units} (g_i - y_i)^2 on chosen units (no decoder).

Both give per-sample values, ``dC/dg`` (the nudging force is ``-beta dC/dg`` on the
group's drive), ``d2C/dg2`` (for the nudged Jacobian) and the decoder's own gradient.
All in model units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax, softmax

from ..errors import ModelError
from ..model import Model, decoder_logits, group_outputs

LOSSES = ("cross_entropy", "squared")


@dataclass(frozen=True)
class Loss:
    """C on group ``group``. ``target``: (B,) class indices (cross-entropy) or (B, n)
    values (squared); ``units``: (n,) bool mask of the supervised units (squared)."""

    kind: str
    group: str
    target: np.ndarray
    units: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.kind not in LOSSES:
            raise ModelError(f"unknown loss {self.kind!r}; valid: {', '.join(LOSSES)}")

    def outputs(self, model: Model, u: np.ndarray) -> np.ndarray:
        return group_outputs(model, self.group, u)

    def _probs(self, model: Model, g: np.ndarray) -> np.ndarray:
        _decoder(model, self.group)
        return softmax(decoder_logits(model, g), axis=1)

    def value(self, model: Model, u: np.ndarray) -> np.ndarray:
        """C per sample, (B,)."""
        g = self.outputs(model, u)
        if self.kind == "squared":
            return 0.5 * np.sum(((g - self.target) * self.units) ** 2, axis=1)
        _decoder(model, self.group)
        logp = log_softmax(decoder_logits(model, g), axis=1)
        return -logp[np.arange(g.shape[0]), self.target]

    def _delta(self, model: Model, g: np.ndarray) -> np.ndarray:
        """dC/dlogits = softmax - onehot, (B, K)."""
        p = self._probs(model, g)
        p[np.arange(g.shape[0]), self.target] -= 1.0
        return p

    def grad_g(self, model: Model, u: np.ndarray) -> np.ndarray:
        """dC/dg, (B, n)."""
        g = self.outputs(model, u)
        if self.kind == "squared":
            return (g - self.target) * self.units
        return self._delta(model, g) @ _decoder(model, self.group).weights

    def hess_g(self, model: Model, u: np.ndarray) -> np.ndarray:
        """d2C/dg2, (B, n, n): W_d^T (diag p - p p^T) W_d, or the unit mask."""
        g = self.outputs(model, u)
        if self.kind == "squared":
            return np.broadcast_to(np.diag(self.units.astype(float)),
                                   (g.shape[0],) + (g.shape[1],) * 2).copy()
        W = _decoder(model, self.group).weights
        p = self._probs(model, g)
        cov = p[:, :, None] * (np.eye(p.shape[1])[None] - p[:, None, :])
        return W.T[None] @ cov @ W[None]

    def decoder_gradients(self, model: Model, u: np.ndarray, weight: np.ndarray
                          ) -> dict[str, np.ndarray]:
        """sum_b weight_b dC_b/d(decoder): delta g^T and delta (empty for ``squared``)."""
        if self.kind == "squared":
            return {}
        g = self.outputs(model, u)
        delta = self._delta(model, g) * weight[:, None]
        return {"decoder.weights": delta.T @ g, "decoder.bias": delta.sum(axis=0)}


def _decoder(model: Model, group: str):
    d = model.decoder
    if d is None or d.group != group:
        raise ModelError(f"cross-entropy needs a decoder on group {group!r}")
    return d
