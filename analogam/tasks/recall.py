"""Associative recall on any Dense Associative Memory: the generic task.

A DenseAM here is a model with two groups coupled by one static weight matrix, whose
rows are the stored patterns. Bits enter as the initial visible state (bit 0 -> the
smallest pattern value, bit 1 -> the largest); clamping is optional; the answer is the
settled visible pattern thresholded at the middle of the pattern range; the truth is
the stored pattern nearest (Hamming distance, first on ties) to the input.
"""

from __future__ import annotations

import numpy as np

from ..errors import TaskError
from ..model import Model, Stimulus
from .task import Task

RECALL = "recall"


def denseam_groups(model: Model) -> tuple[str, str, np.ndarray]:
    """(visible group, hidden group, patterns (K, N)) of a two-group DenseAM, or a
    TaskError saying why the model is not one."""
    if len(model.groups) != 2 or len(model.couplings) != 1 or \
            model.couplings[0].source != "static":
        raise TaskError(f"model {model.name[:40]!r} (task {model.task[:40]!r}) has no known "
                        "task and is not a two-group DenseAM with one static coupling, so "
                        "the generic recall task cannot read it")
    c = model.couplings[0]
    return c.visible, c.hidden, np.asarray(c.weights)


def recall_task(model: Model, clamp: np.ndarray | None = None) -> Task:
    """The recall task of ``model`` (optionally with the visible units in ``clamp``
    held at their input values)."""
    visible, _, xi = denseam_groups(model)
    n = model.group(visible).size
    lo, hi = float(xi.min()), float(xi.max())
    if hi <= lo:
        lo, hi = 0.0, 1.0
    mid = 0.5 * (lo + hi)
    stored = (xi > mid).astype(int)
    mask = np.zeros(n, bool) if clamp is None else np.asarray(clamp, bool)
    if mask.shape != (n,):
        raise TaskError(f"clamp mask has {mask.size} bits; the visible group has {n} units")

    def inputs() -> np.ndarray:
        """Every stored pattern with one bit flipped (a seeded position per pattern)."""
        rng = np.random.default_rng([len(stored), n])
        flip = rng.integers(0, n, len(stored))
        out = stored.copy()
        out[np.arange(len(stored)), flip] ^= 1
        return out

    def stimulus(m: Model, bits: np.ndarray) -> Stimulus:
        v = lo + bits.astype(float) * (hi - lo)
        return Stimulus(bits.shape[0], init={visible: v}, clamp={visible: mask} if mask.any()
                        else {})

    def predict(m: Model, u: np.ndarray) -> np.ndarray:
        return (u[:, m.slices[visible]] > mid).astype(int)

    def target(bits: np.ndarray) -> np.ndarray:
        dist = np.abs(np.asarray(bits)[:, None, :] - stored[None]).sum(-1)
        return stored[np.argmin(dist, axis=1)]

    what = f"recall of {len(stored)} stored {n}-bit patterns (threshold {mid:g})"
    if mask.any():
        what += f", {int(mask.sum())} visible unit(s) clamped"
    return Task(RECALL, n, inputs, stimulus, predict, target, what)
