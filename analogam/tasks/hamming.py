"""The Hamming (7,4) code: a corrupted word relaxes to its codeword."""

from __future__ import annotations

import numpy as np

from ..model import Model, Stimulus
from ..model.architectures import build_denseam
from .bits import all_bit_strings
from .task import Task


def hamming74_codewords() -> np.ndarray:
    """The 16 codewords (16, 7) of the Hamming (7,4) code, bit order p1 p2 d1 p3 d2 d3 d4
    (p1 = d1^d2^d4, p2 = d1^d3^d4, p3 = d2^d3^d4)."""
    d = all_bit_strings(4)
    d1, d2, d3, d4 = d.T
    return np.stack([d1 ^ d2 ^ d4, d1 ^ d3 ^ d4, d1, d2 ^ d3 ^ d4, d2, d3, d4], axis=1)


def hamming74_decode_reference(words: np.ndarray) -> np.ndarray:
    """The codeword nearest in Hamming distance to each word (unique: the code is perfect)."""
    cw = hamming74_codewords()
    dist = np.abs(np.asarray(words)[:, None, :] - cw[None]).sum(-1)
    return cw[np.argmin(dist, axis=1)]


def hamming74_test_words() -> np.ndarray:
    """The 16 codewords followed by their 112 single-bit errors (128 words, all distinct)."""
    cw = hamming74_codewords()
    errs = (cw[:, None, :] ^ np.eye(7, dtype=int)[None]).reshape(-1, 7)
    return np.concatenate([cw, errs])


def _stimulus(model: Model, bits: np.ndarray) -> Stimulus:
    """All seven visible units start at the (possibly corrupted) word, all free."""
    return Stimulus(bits.shape[0], init={"v": bits.astype(float)})


def _predict(model: Model, u: np.ndarray) -> np.ndarray:
    return (u[:, model.slices["v"]] > 0.5).astype(int)


TASK = Task("hamming74", 7, hamming74_test_words, _stimulus, _predict,
            hamming74_decode_reference, "Hamming (7,4) error correction")


def build_hamming_model(beta: float = 10.0) -> Model:
    """Hamming (7,4) associative memory: the 16 codewords as memories (7 visible, 16 hidden)."""
    return build_denseam(hamming74_codewords().astype(float), beta=beta, tau_v=1.0,
                         tau_h=0.1, readout_time=12.0, name="hamming74", task="hamming74")
