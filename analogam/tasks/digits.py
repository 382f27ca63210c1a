"""The 8x8 handwritten digits that ship with scikit-learn (the UCI optical digits test
set: 1,797 images, 10 classes, intensities 0..16) as classification by a Dense
Associative Memory: the 64 pixels are clamped visible units at ``intensity / 16``,
ten free label units start at 0.1, and the class is the largest settled label unit.

An input row is the 64 intensities followed by the label (column 64): the truth
travels with the image, the stimulus reads the pixels only. The task's inputs are the
held-out test split (360 images); :func:`digits_split` gives the fixed, seeded
train/test split.
"""

from __future__ import annotations

import numpy as np

from ..errors import TaskError
from ..model import Model, Stimulus
from .bits import parse_numbers
from .table import classifier_stimulus, label_units
from .task import Task

DIGITS_PIXELS = 64
DIGITS_CLASSES = 10
DIGITS_LEVELS = 16          # the data set's largest intensity
DIGITS_TEST = 360
DIGITS_SPLIT_SEED = 1797


def digits_rows() -> np.ndarray:
    """Every image as a row of 64 intensities (0..16) and its label: (1797, 65) int."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - a dependency of the package
        raise TaskError("the digits task needs scikit-learn (pip install scikit-learn)"
                        ) from None
    d = load_digits()
    return np.column_stack([d.data.astype(int), d.target.astype(int)])


def digits_split(seed: int = DIGITS_SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Fixed seeded split: (1437 train, 360 test) indices into :func:`digits_rows`, each
    sorted."""
    perm = np.random.default_rng(seed).permutation(1797)
    return np.sort(perm[DIGITS_TEST:]), np.sort(perm[:DIGITS_TEST])


def _stimulus(model: Model, rows: np.ndarray) -> Stimulus:
    return classifier_stimulus(np.asarray(rows)[:, :DIGITS_PIXELS] / DIGITS_LEVELS,
                               DIGITS_CLASSES)


def _predict(model: Model, u: np.ndarray) -> np.ndarray:
    return np.argmax(label_units(model, u, DIGITS_CLASSES), axis=1)[:, None]


def _test_rows() -> np.ndarray:
    return digits_rows()[digits_split()[1]]


def _parse(text: str) -> np.ndarray:
    """One image as text: 64 intensities 0..16 then its label 0..9 (65 whole numbers
    separated by spaces or commas, the layout of a row of the task's inputs)."""
    highs = np.array([DIGITS_LEVELS] * DIGITS_PIXELS + [DIGITS_CLASSES - 1])
    return parse_numbers(text, np.zeros(DIGITS_PIXELS + 1, int), highs,
                         "64 intensities 0..16 and a label 0..9 (65 whole numbers)")


TASK = Task("digits", DIGITS_PIXELS + 1, _test_rows, _stimulus, _predict,
            lambda rows: np.asarray(rows)[:, DIGITS_PIXELS:], "8x8 digits: class = largest "
            "settled label unit (inputs: the 360 test images; row = 64 pixels + label)",
            _parse)
