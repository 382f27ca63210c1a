"""The example tasks: XOR, the Hamming (7,4) code, and 8-bit parity.

A :class:`Task` turns bit-string inputs into a :class:`~analogam.model.Stimulus`
(clamps, initial states, context tokens) and a settled state into a prediction, and
knows the right answer. The hand-built XOR and Hamming memories live here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .architectures import build_denseam
from .errors import TaskError
from .model import Model, Stimulus, System, bind, decode

PARITY_BITS = 8
PARITY_TRAIN = 204
PARITY_SPLIT_SEED = 2512


def all_bit_strings(n: int) -> np.ndarray:
    """Every n-bit string, (2^n, n) int, most significant bit first, in counting order."""
    k = np.arange(2**n)
    return ((k[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(int)


# --------------------------------------------------------------------------- Hamming


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


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    """A task: its inputs, how they enter a model, how predictions are read, the truth."""

    name: str
    n_bits: int
    inputs: Callable[[], np.ndarray]
    stimulus: Callable[[Model, np.ndarray], Stimulus]
    predict: Callable[[Model, np.ndarray], np.ndarray]
    target: Callable[[np.ndarray], np.ndarray]
    description: str


def _xor_stimulus(model: Model, bits: np.ndarray) -> Stimulus:
    """v1, v2 clamped at the input bits, v3 starts at 0.5; hidden units at 0."""
    B = bits.shape[0]
    v = np.column_stack([bits.astype(float), np.full(B, 0.5)])
    return Stimulus(B, init={"v": v}, clamp={"v": np.array([True, True, False])})


def _xor_predict(model: Model, u: np.ndarray) -> np.ndarray:
    return (u[:, model.slices["v"]][:, 2:3] > 0.5).astype(int)


def _hamming_stimulus(model: Model, bits: np.ndarray) -> Stimulus:
    """All seven visible units start at the (possibly corrupted) word, all free."""
    return Stimulus(bits.shape[0], init={"v": bits.astype(float)})


def _hamming_predict(model: Model, u: np.ndarray) -> np.ndarray:
    return (u[:, model.slices["v"]] > 0.5).astype(int)


def _parity_stimulus(model: Model, bits: np.ndarray) -> Stimulus:
    """The context bits are the tokens of the attention units; v starts at 0 and the
    hidden units at their targets (set by the groups' ``init``)."""
    return Stimulus(bits.shape[0], tokens=bits.astype(int))


def _parity_predict(model: Model, u: np.ndarray) -> np.ndarray:
    return np.argmax(decode(model, u), axis=1)[:, None]


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("xor", 2, lambda: all_bit_strings(2), _xor_stimulus, _xor_predict,
             lambda b: (b[:, :1] ^ b[:, 1:2]), "XOR of two clamped bits, read at v3"),
        Task("hamming74", 7, hamming74_test_words, _hamming_stimulus, _hamming_predict,
             hamming74_decode_reference, "Hamming (7,4) error correction"),
        Task("parity8", PARITY_BITS, lambda: all_bit_strings(PARITY_BITS), _parity_stimulus,
             _parity_predict, lambda b: (b.sum(axis=1) % 2)[:, None],
             "next token = parity of 8 context bits"),
    )
}


def get_task(name: str) -> Task:
    """Look a task up by name; a wrong name lists the valid ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise TaskError(
            f"unknown task {name[:40]!r}; valid: {', '.join(sorted(TASKS))}"
        ) from None


def bind_task(model: Model, inputs: np.ndarray) -> System:
    """The system of ``model`` on a batch of its task's inputs."""
    return bind(model, get_task(model.task).stimulus(model, inputs))


def parse_bits(text: str, n_bits: int) -> np.ndarray:
    """One bit string ('0101...') of exactly ``n_bits`` characters -> (n_bits,) int."""
    s = text.strip()
    if len(s) != n_bits or set(s) - {"0", "1"}:
        raise TaskError(f"input {s[:40]!r} is not a string of {n_bits} bits (0/1)")
    return np.array([int(c) for c in s], dtype=int)


def read_bits_file(path: str, n_bits: int) -> np.ndarray:
    """A file of bit strings, one per line (blank lines and '#' comments skipped)."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            s = line.split("#", 1)[0].strip()
            if not s:
                continue
            try:
                rows.append(parse_bits(s, n_bits))
            except TaskError as e:
                raise TaskError(f"{path}:{lineno}: {e}") from None
    if not rows:
        raise TaskError(f"{path}: no bit strings found")
    return np.array(rows)


def parity_split(seed: int = PARITY_SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Fixed seeded split of the 256 8-bit strings: (204 train, 52 held-out) indices into
    :func:`all_bit_strings` (8), each sorted."""
    perm = np.random.default_rng(seed).permutation(2**PARITY_BITS)
    return np.sort(perm[:PARITY_TRAIN]), np.sort(perm[PARITY_TRAIN:])


# --------------------------------------------------------------------------- models

XOR_TABLE = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)


def build_xor_model(beta: float = 10.0) -> Model:
    """XOR associative memory: the truth-table rows as memories (3 visible, 4 hidden)."""
    return build_denseam(XOR_TABLE, beta=beta, tau_v=1.0, tau_h=0.1, readout_time=12.0,
                         name="xor", task="xor")


def build_hamming_model(beta: float = 10.0) -> Model:
    """Hamming (7,4) associative memory: the 16 codewords as memories (7 visible, 16 hidden)."""
    return build_denseam(hamming74_codewords().astype(float), beta=beta, tau_v=1.0,
                         tau_h=0.1, readout_time=12.0, name="hamming74", task="hamming74")
