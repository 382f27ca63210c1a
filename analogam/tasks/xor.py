"""XOR: two clamped input bits, the answer read at the third visible unit."""

from __future__ import annotations

import numpy as np

from ..model import Model, Stimulus
from ..model.architectures import build_denseam
from .bits import all_bit_strings
from .task import Task

XOR_TABLE = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)


def _stimulus(model: Model, bits: np.ndarray) -> Stimulus:
    """v1, v2 clamped at the input bits, v3 starts at 0.5; hidden units at 0."""
    B = bits.shape[0]
    v = np.column_stack([bits.astype(float), np.full(B, 0.5)])
    return Stimulus(B, init={"v": v}, clamp={"v": np.array([True, True, False])})


def _predict(model: Model, u: np.ndarray) -> np.ndarray:
    return (u[:, model.slices["v"]][:, 2:3] > 0.5).astype(int)


TASK = Task("xor", 2, lambda: all_bit_strings(2), _stimulus, _predict,
            lambda b: (b[:, :1] ^ b[:, 1:2]), "XOR of two clamped bits, read at v3")


def build_xor_model(beta: float = 10.0) -> Model:
    """XOR associative memory: the truth-table rows as memories (3 visible, 4 hidden)."""
    return build_denseam(XOR_TABLE, beta=beta, tau_v=1.0, tau_h=0.1, readout_time=12.0,
                         name="xor", task="xor")
