"""What each training task learns from: its inputs, the train/held-out split, the
initial model and the loss on the read-out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Model
from ..tasks import (
    DIGITS_CLASSES,
    all_bit_strings,
    digits_rows,
    digits_split,
    parity_split,
    task_for,
)
from ..tasks.table import TABLE_TASK, read_table
from ..tasks.text import DEFAULT_CORPUS, EVAL_WINDOWS, Corpus, load_corpus
from .config import TrainConfig
from .inits import (
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
    if task == "text":
        cfg = cfg or TrainConfig(task="text")
        corpus = corpus_of(cfg)
        tr = corpus.sample("train", cfg.windows, cfg.seed)
        ho = corpus.sample("heldout", TEXT_SCORED, 0)
        n = tr.shape[0]
        return TaskData(np.vstack([tr, ho]), np.arange(n), n + np.arange(ho.shape[0]),
                        scored=TEXT_SCORED, final=n + np.arange(min(EVAL_WINDOWS,
                                                                    ho.shape[0])))
    if task == "xor":
        idx = np.arange(4)
        return TaskData(all_bit_strings(2), idx, np.arange(0))
    if task == "digits":
        return TaskData(digits_rows(), *digits_split())
    tr, ho = parity_split()
    return TaskData(all_bit_strings(8), tr, ho)


def initial_model(cfg: TrainConfig) -> Model:
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
    1/2 |labels - onehot|^2 on the ten label units (a table: on its classes' units)."""
    target = task_for(model).target(inputs)
    if model.task in ("digits", TABLE_TASK):
        n = model.group("v").size
        first = n - (len(model.classes) or DIGITS_CLASSES)
        y = np.zeros((inputs.shape[0], n))
        y[np.arange(inputs.shape[0]), first + target[:, 0]] = 1.0
        return Loss("squared", "v", y, np.arange(n) >= first)
    if model.task == "xor":
        y = np.zeros((inputs.shape[0], 3))
        y[:, 2] = target[:, 0]
        return Loss("squared", "v", y, np.array([False, False, True]))
    return Loss("cross_entropy", model.decoder.group, target[:, 0])
