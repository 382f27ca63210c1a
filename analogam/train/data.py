"""What each training task learns from: its inputs, the train/held-out split, the
initial model and the loss on the read-out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Model
from ..model.architectures import build_denseam
from ..tasks import (
    DIGITS_CLASSES,
    all_bit_strings,
    digits_rows,
    digits_split,
    parity_split,
    task_for,
)
from ..tasks.recall import RECALL, denseam_groups
from ..tasks.table import TABLE_TASK, read_patterns, read_table
from ..tasks.text import DEFAULT_CORPUS, EVAL_WINDOWS, Corpus, load_corpus, ngram_baselines
from .config import TrainConfig
from .inits import (
    DIGITS_FLOOR,
    classifier_memories,
    digits_memories,
    parity_constructed,
    parity_positional,
    parity_random,
    text_random,
    xor_random,
)
from .loss import Loss


@dataclass(frozen=True)
class TaskData:
    """Inputs and the train/held-out split of a training task."""

    inputs: np.ndarray
    train: np.ndarray
    heldout: np.ndarray
    scored: int = 0
    """Training inputs scored each epoch (the first ``scored`` of ``train``; 0: all)."""
    final: np.ndarray | None = None
    """Inputs of the final evaluation and deployability check (None: all)."""
    baselines: dict | None = None
    """Text: the unigram and bigram cross-entropies on the same split (nats/char)."""

    @property
    def score_train(self) -> np.ndarray:
        return self.train[:self.scored] if self.scored else self.train


TEXT_SCORED = 1024
"""Held-out (and scored training) windows of the text task per epoch; the final
deployability check integrates the first EVAL_WINDOWS of them."""


def corpus_of(cfg: TrainConfig) -> Corpus:
    return load_corpus(cfg.text or DEFAULT_CORPUS, cfg.context)


def task_data(task: str, cfg: TrainConfig | None = None) -> TaskData:
    """XOR: the four rows of the truth table, all used for training (nothing held out).
    Parity: the 256 strings with the fixed 204/52 split. Digits: the 1797 images with
    the fixed 1437/360 split. Text: ``cfg.windows`` seeded training windows of the
    corpus and TEXT_SCORED held-out ones. Table: the rows of the user's file with its
    seeded split (:mod:`analogam.tasks.table`)."""
    if task == TABLE_TASK:
        table = read_table(cfg.data)
        return TaskData(table.rows, *table.split())
    if task == "memory":
        return memory_data(read_patterns(cfg.data), cfg.seed)
    if task == "text":
        cfg = cfg or TrainConfig(task="text")
        corpus = corpus_of(cfg)
        tr = corpus.sample("train", cfg.windows, cfg.seed)
        ho = corpus.sample("heldout", TEXT_SCORED, 0)
        n = tr.shape[0]
        return TaskData(np.vstack([tr, ho]), np.arange(n), n + np.arange(ho.shape[0]),
                        scored=TEXT_SCORED, final=n + np.arange(min(EVAL_WINDOWS,
                                                                    ho.shape[0])),
                        baselines=ngram_baselines(corpus))
    if task == "xor":
        idx = np.arange(4)
        return TaskData(all_bit_strings(2), idx, np.arange(0))
    if task == "digits":
        return TaskData(digits_rows(), *digits_split())
    tr, ho = parity_split()
    return TaskData(all_bit_strings(8), tr, ho)


MEMORY_ROWS = 4096
"""Most corrupted patterns a memory trains on (a seeded subset beyond)."""


def memory_data(patterns: np.ndarray, seed: int) -> TaskData:
    """Recall inputs of stored ``patterns`` (P, N) in model units, thresholded at 1/2:
    for training every pattern with one bit flipped (at most MEMORY_ROWS, seeded), held
    out each pattern with two distinct bits flipped (N of them per pattern, seeded)."""
    stored = (patterns > 0.5).astype(int)
    P, N = stored.shape
    one = np.repeat(stored, N, axis=0)
    one[np.arange(P * N), np.tile(np.arange(N), P)] ^= 1
    rng = np.random.default_rng([seed, P, N])
    if one.shape[0] > MEMORY_ROWS:
        one = one[np.sort(rng.choice(one.shape[0], MEMORY_ROWS, replace=False))]
    two = np.repeat(stored, N, axis=0)
    for r in range(two.shape[0]):
        two[r, rng.choice(N, 2, replace=False)] ^= 1
    n = one.shape[0]
    return TaskData(np.vstack([one, two]), np.arange(n), n + np.arange(two.shape[0]))


def memory_beta(patterns: np.ndarray) -> float:
    """Inverse temperature that recalls a stored pattern from one flipped bit: the
    start is 1 unit^2 from its pattern and at least ``d2 - 1`` from another (``d2``
    the smallest squared distance between patterns); the weight of the nearest beats
    the other P - 1 by 100 P when ``beta (d2 - 2) / 2 >= ln(100 P)``. Kept in [1, 50]."""
    P = patterns.shape[0]
    d2 = ((patterns[:, None, :] - patterns[None]) ** 2).sum(-1)
    d2min = d2[~np.eye(P, dtype=bool)].min()
    return float(np.clip(2 * np.log(100 * P) / max(d2min - 2.0, 0.5), 1.0, 50.0))


def initial_model(cfg: TrainConfig) -> Model:
    if cfg.task == "memory":
        xi = np.maximum(read_patterns(cfg.data), DIGITS_FLOOR)   # a conductance at 0 learns nothing
        return build_denseam(xi, beta=memory_beta(xi), readout_time=12.0,
                             name=f"memory_{xi.shape[0]}x{xi.shape[1]}", task=RECALL)
    if cfg.task == TABLE_TASK:
        table = read_table(cfg.data)
        train = table.split()[0]
        C = len(table.classes)
        return classifier_memories(cfg.seed, table.scaled[train], table.labels[train], C,
                                   max(1, cfg.memories // C), init=cfg.init,
                                   name=f"table_{len(table.classes)}class", task=TABLE_TASK,
                                   classes=table.classes)
    if cfg.task == "text":
        return text_random(cfg.seed, corpus_of(cfg).vocabulary, cfg.context, cfg.width,
                           cfg.memories)
    if cfg.task == "xor":
        return xor_random(cfg.seed)
    if cfg.task == "digits":
        return digits_memories(cfg.seed, init=cfg.init)
    if cfg.init == "constructed":
        return parity_constructed(cfg.seed)
    if cfg.init == "positional":
        return parity_positional(cfg.seed)
    return parity_random(cfg.seed)


def task_loss(model: Model, inputs: np.ndarray) -> Loss:
    """The loss each task trains: parity, the decoder's cross-entropy on the parity
    class; XOR, 1/2 (v3 - xor)^2 on the free visible unit (it has no decoder); digits,
    1/2 |labels - onehot|^2 on the ten label units (a table: on its classes' units); a
    memory, 1/2 |v - nearest stored pattern|^2 on every visible unit."""
    target = task_for(model).target(inputs)
    if model.task in ("digits", TABLE_TASK):
        n = model.group("v").size
        first = n - (len(model.classes) or DIGITS_CLASSES)
        y = np.zeros((inputs.shape[0], n))
        y[np.arange(inputs.shape[0]), first + target[:, 0]] = 1.0
        return Loss("squared", "v", y, np.arange(n) >= first)
    if model.task == RECALL:
        _, _, xi = denseam_groups(model)
        lo, hi = float(xi.min()), float(xi.max())
        return Loss("squared", "v", lo + target * (hi - lo), np.ones(target.shape[1], bool))
    if model.task == "xor":
        y = np.zeros((inputs.shape[0], 3))
        y[:, 2] = target[:, 0]
        return Loss("squared", "v", y, np.array([False, False, True]))
    return Loss("cross_entropy", model.decoder.group, target[:, 0])
