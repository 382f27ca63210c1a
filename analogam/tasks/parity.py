"""8-bit parity as next-token prediction by an Energy Transformer (the reference work's
'language model'): the context bits are tokens, the decoder reads the settled v."""

from __future__ import annotations

import numpy as np

from ..model import Model, Stimulus, decode
from .bits import all_bit_strings
from .task import Task

PARITY_BITS = 8
PARITY_TRAIN = 204
PARITY_SPLIT_SEED = 2512


def _stimulus(model: Model, bits: np.ndarray) -> Stimulus:
    """The context bits are the tokens of the attention units; v starts at 0 and the
    hidden units at their targets (set by the groups' ``init``)."""
    return Stimulus(bits.shape[0], tokens=bits.astype(int))


def _predict(model: Model, u: np.ndarray) -> np.ndarray:
    return np.argmax(decode(model, u), axis=1)[:, None]


TASK = Task("parity8", PARITY_BITS, lambda: all_bit_strings(PARITY_BITS), _stimulus,
            _predict, lambda b: (b.sum(axis=1) % 2)[:, None],
            "next token = parity of 8 context bits")


def parity_split(seed: int = PARITY_SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Fixed seeded split of the 256 8-bit strings: (204 train, 52 held-out) indices into
    :func:`all_bit_strings` (8), each sorted."""
    perm = np.random.default_rng(seed).permutation(2**PARITY_BITS)
    return np.sort(perm[:PARITY_TRAIN]), np.sort(perm[PARITY_TRAIN:])
