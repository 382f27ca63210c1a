"""Characters of a UTF-8 text as next-token prediction by a positional Energy
Transformer: the context's characters are tokens, the decoder reads the settled v.

A corpus is any UTF-8 text file (the format of Tiny Shakespeare's ``input.txt``): its
vocabulary is the sorted set of its characters, and a fixed seeded split assigns
blocks of :data:`BLOCK` characters to training or to held-out, so no held-out window
overlaps a training one. An input row is a window of ``context + 1`` tokens: the
context and the character that follows it (the truth travels with the context).

The shipped demo and the tests read a public-domain English text that a package
installs (Debian's ``fortunes``), never a download.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TaskError
from ..model import Model, Stimulus, decode
from .task import Task

TEXT_TASK = "text"
DEFAULT_CORPUS = Path("/usr/share/games/fortunes/songs-poems")
"""Debian's ``fortunes`` collection of songs and poems (234 KB of English)."""
MAX_TEXT_BYTES = 16 << 20
BLOCK = 1024
HELDOUT_FRACTION = 0.1
SPLIT_SEED = 2026
EVAL_WINDOWS = 256
"""Held-out windows a text model's task evaluates (``simulate``, the trainer's score)."""


@dataclass(frozen=True)
class Corpus:
    """A text, its vocabulary and its token ids, split into train / held-out blocks.

    ``train``/``heldout``: start offsets of the windows (context + next) lying wholly
    inside one block of that side, for ``context`` characters of context."""

    name: str
    vocabulary: str
    ids: np.ndarray
    context: int
    train: np.ndarray
    heldout: np.ndarray

    def windows(self, starts: np.ndarray) -> np.ndarray:
        """(len(starts), context + 1) token windows starting at ``starts``."""
        return self.ids[np.asarray(starts)[:, None] + np.arange(self.context + 1)]

    def sample(self, side: str, n: int, seed: int) -> np.ndarray:
        """``n`` windows of one side (``train`` or ``heldout``) chosen by ``seed``, in
        corpus order (all of them when there are fewer)."""
        starts = getattr(self, side)
        if starts.size > n:
            starts = np.sort(np.random.default_rng([seed, starts.size]).choice(
                starts, n, replace=False))
        return self.windows(starts)


def read_text(path: str | os.PathLike) -> str:
    """The UTF-8 text of ``path`` (at most MAX_TEXT_BYTES), one clear error otherwise."""
    p = Path(path)
    if not p.is_file():
        hint = (" (install Debian's fortunes package: apt install fortunes)"
                if p == DEFAULT_CORPUS else "")
        raise TaskError(f"text file {p} does not exist{hint}")
    if p.stat().st_size > MAX_TEXT_BYTES:
        raise TaskError(f"text file {p.name} has {p.stat().st_size} bytes (limit "
                        f"{MAX_TEXT_BYTES}); give a shorter text")
    try:
        return p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise TaskError(f"text file {p.name} is not UTF-8 (byte {e.start}); convert it "
                        "with iconv") from None


def symbols(text: str) -> str:
    """A text's vocabulary: its distinct characters, sorted."""
    return "".join(sorted(set(text)))


def load_corpus(path: str | os.PathLike = DEFAULT_CORPUS, context: int = 32, *,
                vocabulary: str | None = None, seed: int = SPLIT_SEED) -> Corpus:
    """Read a text and split it: blocks of BLOCK characters, a seeded HELDOUT_FRACTION
    of them held out. ``vocabulary``: a model's own (every character must be in it);
    default the text's sorted characters."""
    text = read_text(path)
    vocab = symbols(text) if vocabulary is None else vocabulary
    index = {ch: i for i, ch in enumerate(vocab)}
    missing = sorted(set(text) - set(index))
    if missing:
        raise TaskError(f"text {Path(path).name} has {len(missing)} character(s) outside "
                        f"the model's vocabulary (first {missing[0]!r}); give the text it "
                        "was trained on")
    ids = np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))
    n_blocks = -(-ids.size // BLOCK)
    if context < 1 or n_blocks < 2 or BLOCK <= context + 1:
        raise TaskError(f"text {Path(path).name} ({ids.size} characters) is too short "
                        f"for a split with context {context}; give at least "
                        f"{2 * BLOCK} characters and a context below {BLOCK - 1}")
    held_blocks = np.random.default_rng(seed).permutation(n_blocks)[
        :max(1, int(round(HELDOUT_FRACTION * n_blocks)))]
    starts = np.arange(max(ids.size - context, 0))
    block = starts // BLOCK
    inside = (starts + context) // BLOCK == block
    held = np.isin(block, held_blocks)
    return Corpus(Path(path).name, vocab, ids, int(context), starts[inside & ~held],
                  starts[inside & held])


def ngram_baselines(corpus: Corpus, alpha: float = 1.0) -> dict[str, float]:
    """Held-out cross-entropy (nats per character) of the unigram and bigram models
    counted on the training windows' targets with add-``alpha`` smoothing:
    ``-mean log p(x_t)`` and ``-mean log p(x_t | x_(t-1))``."""
    V = len(corpus.vocabulary)
    tr, ho = corpus.windows(corpus.train), corpus.windows(corpus.heldout)
    uni = np.bincount(tr[:, -1], minlength=V) + alpha
    uni = uni / uni.sum()
    big = np.full((V, V), alpha)
    np.add.at(big, (tr[:, -2], tr[:, -1]), 1.0)
    big /= big.sum(axis=1, keepdims=True)
    return {"unigram": float(-np.mean(np.log(uni[ho[:, -1]]))),
            "bigram": float(-np.mean(np.log(big[ho[:, -2], ho[:, -1]])))}


def encode(vocabulary: str, text: str) -> np.ndarray:
    """Token ids of ``text`` in ``vocabulary``; a character outside it is refused."""
    index = {ch: i for i, ch in enumerate(vocabulary)}
    bad = [ch for ch in text if ch not in index]
    if bad:
        raise TaskError(f"character {bad[0]!r} is not in the model's vocabulary")
    return np.array([index[ch] for ch in text], dtype=int)


def decode_text(vocabulary: str, ids) -> str:
    return "".join(vocabulary[int(i)] for i in np.ravel(ids))


def context_of(model: Model) -> int:
    """Number of context tokens (attention units) of a text model."""
    return model.group("attn").size


def _stimulus(model: Model, rows: np.ndarray) -> Stimulus:
    rows = np.asarray(rows)
    return Stimulus(rows.shape[0], tokens=rows[:, :context_of(model)].astype(int))


def _predict(model: Model, u: np.ndarray) -> np.ndarray:
    return np.argmax(decode(model, u), axis=1)[:, None]


def text_task(model: Model, path: str | os.PathLike = DEFAULT_CORPUS) -> Task:
    """The text task of a character model on the text at ``path``: its inputs are
    EVAL_WINDOWS seeded held-out windows; ``--input`` takes context + 1 characters."""
    if not model.vocabulary or "attn" not in model.slices:
        raise TaskError(f"model {model.name[:60]!r} is not a character model (it names no "
                        "vocabulary); the text task needs one")
    C = context_of(model)

    def inputs() -> np.ndarray:  # read only when asked: predicting needs no text
        return load_corpus(path, C, vocabulary=model.vocabulary).sample(
            "heldout", EVAL_WINDOWS, 0)

    def parse(text: str) -> np.ndarray:
        if len(text) != C + 1:
            raise TaskError(f"input must be {C + 1} characters ({C} of context and the "
                            f"one that follows), got {len(text)}")
        return encode(model.vocabulary, text)

    return Task(TEXT_TASK, C + 1, inputs, _stimulus, _predict,
                lambda rows: np.asarray(rows)[:, -1:],
                f"next character of {Path(path).name} ({len(model.vocabulary)} symbols, "
                f"context {C})", parse)
