"""A user's own table as a classification task for a Dense Associative Memory.

A table is rows of F real features and a label (:func:`read_table`); an associative
memory's patterns are rows without one (:func:`read_patterns`). The model holds them as the digits
task does: the features, scaled to model units, are clamped on the first F visible
units; one free label unit per class starts at LABEL_START; the class is the largest
settled label unit. The model names its classes (:attr:`Model.classes`), so the task
knows F and C from the model alone.

Files:

- CSV (any other suffix): fields separated by commas, semicolons or tabs; an optional
  header line (recognised by a field that is not a number); the last column is the
  label (any text: ``setosa``, ``2``), every other column a finite number.
- ``.npz``: ``x`` (B, F) numbers and ``y`` (B,) integer or text labels (object arrays
  are refused, never unpickled).

Model units: each feature is mapped to [0, 1] by the smallest and largest value of its
column over the whole file, ``x' = (x - lo) / (hi - lo)`` (a constant column maps to 0).
Classes are the sorted distinct labels. A seeded HELDOUT_FRACTION of the rows (at least
one) is held out; the task's inputs are those rows, written ``x'_1 .. x'_F, class``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TaskError, WeightsFileError
from ..model import Model, Stimulus
from ..model.npz import NpzReader
from .task import Task

TABLE_TASK = "table"
HELDOUT_FRACTION = 0.2
SPLIT_SEED = 2024
LABEL_START = 0.1          # the label units' initial state (model units), as digits
MAX_TABLE_BYTES = 64 << 20
MAX_ROWS = 200_000
MAX_FEATURES = 4096
MAX_PATTERNS = 4096
_SEPARATOR = re.compile(r"[,;\t]")


@dataclass(frozen=True)
class Table:
    """A table read from a file: ``features`` (B, F) in the file's units, ``labels``
    (B,) class indices into ``classes`` (sorted names), and each column's range."""

    features: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray

    @property
    def scaled(self) -> np.ndarray:
        """Features in model units, ``(x - lo) / (hi - lo)`` in [0, 1]."""
        span = np.where(self.hi > self.lo, self.hi - self.lo, 1.0)
        return (self.features - self.lo) / span

    @property
    def rows(self) -> np.ndarray:
        """Task rows: scaled features then the class index, (B, F + 1)."""
        return np.column_stack([self.scaled, self.labels.astype(float)])

    def split(self, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
        """Seeded (train, held-out) row indices, each sorted."""
        n = self.labels.size
        k = max(1, int(round(HELDOUT_FRACTION * n)))
        perm = np.random.default_rng([seed, n]).permutation(n)
        return np.sort(perm[k:]), np.sort(perm[:k])


def _fail(path: Path, msg: str) -> TaskError:
    return TaskError(f"data file {path.name[:80]}: {msg}")


def read_table(path: str | os.PathLike) -> Table:
    """The table in ``path`` (CSV or ``.npz``), validated: at least two classes, every
    class and feature finite, one clear error otherwise."""
    p = Path(path)
    x, y = _read_rows(p, labelled=True)
    if x.shape[0] < 3:
        raise _fail(p, f"{x.shape[0]} rows; a classifier needs at least 3 (some held out)")
    classes, labels = np.unique(np.asarray(y, dtype=str), return_inverse=True)
    if classes.size < 2:
        raise _fail(p, f"one class only ({classes[0][:40]!r}); a classifier needs two")
    for c in classes:
        if not c.strip() or not c.isprintable() or len(c) > 64:
            raise _fail(p, f"label {c[:40]!r} is empty, not printable or longer than 64 "
                           "characters")
    return Table(x, labels.astype(int), tuple(str(c) for c in classes),
                 x.min(axis=0), x.max(axis=0))


def _read_rows(p: Path, labelled: bool) -> tuple[np.ndarray, np.ndarray]:
    """Features (finite, checked) and labels (empty when not ``labelled``) of a file."""
    if not p.is_file():
        raise TaskError(f"data file {str(p)[:200]} does not exist or is not a regular file")
    if p.stat().st_size > MAX_TABLE_BYTES:
        raise _fail(p, f"{p.stat().st_size} bytes (limit {MAX_TABLE_BYTES})")
    x, y = _read_npz(p, labelled) if p.suffix.lower() == ".npz" else _read_csv(p, labelled)
    if not 1 <= x.shape[1] <= MAX_FEATURES:
        raise _fail(p, f"{x.shape[1]} feature columns (need 1 to {MAX_FEATURES})")
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        r, c = bad[0]
        raise _fail(p, f"row {r + 1}, column {c + 1} is {x[r, c]}; every feature must be a "
                       "finite number (drop or fill the missing values)")
    return x, np.asarray(y)


def read_patterns(path: str | os.PathLike) -> np.ndarray:
    """Patterns to store, one per row (CSV of numbers with an optional header, or an
    ``.npz`` holding ``x``), scaled into model units 0..1 by the smallest and largest
    value of the whole file: (P, N). At least two distinct patterns."""
    p = Path(path)
    x, _ = _read_rows(p, labelled=False)
    if x.shape[0] > MAX_PATTERNS:
        raise _fail(p, f"{x.shape[0]} patterns (limit {MAX_PATTERNS} memories)")
    distinct = np.unique(x, axis=0).shape[0]
    if distinct < 2 or distinct != x.shape[0]:
        raise _fail(p, f"{x.shape[0]} rows, {distinct} distinct; a memory needs at least "
                       "two patterns, none repeated")
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo)


def _read_csv(p: Path, labelled: bool = True) -> tuple[np.ndarray, list[str]]:
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise _fail(p, f"not UTF-8 text (byte {e.start}); save it as UTF-8 CSV") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) > MAX_ROWS + 1:
        raise _fail(p, f"more than {MAX_ROWS} rows")
    sep = _SEPARATOR.search(lines[0]) if lines else None
    if sep is None:
        raise _fail(p, "no separated columns (need features and a label per row, "
                       "separated by commas, semicolons or tabs)")
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=sep.group(0))
    rows = [[f.strip() for f in r] for r in reader]
    cut = -1 if labelled else None     # the label column, if any
    if rows and not _numeric(rows[0][:cut]):
        rows = rows[1:]        # a header line
    width = len(rows[0]) if rows else 0
    for i, r in enumerate(rows):
        if len(r) != width:
            raise _fail(p, f"row {i + 1} has {len(r)} fields, the first has {width}")
        if not _numeric(r[:cut]):
            raise _fail(p, f"row {i + 1} has a feature that is not a number "
                           f"({next(f for f in r[:cut] if not _number(f))[:20]!r})")
    if width < 1 + labelled:
        raise _fail(p, "each row needs at least one feature and a label" if labelled
                    else "no values")
    return (np.array([[float(f) for f in r[:cut]] for r in rows]),
            [r[-1] for r in rows] if labelled else [])


def _number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _numeric(fields: list[str]) -> bool:
    return all(_number(f) for f in fields)


def _read_npz(p: Path, labelled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    try:
        with NpzReader(p, "data file", MAX_TABLE_BYTES) as z:
            z.refuse_unknown(("x", "y") if labelled else ("x",))
            x = z.read("x", (None, None), "fiu").astype(float)
            y = z.read("y", (x.shape[0],), "iuU") if labelled else np.zeros(0)
    except WeightsFileError as e:
        raise TaskError(str(e)) from None
    if x.shape[0] > MAX_ROWS:
        raise _fail(p, f"{x.shape[0]} rows (limit {MAX_ROWS})")
    return x, y


def classifier_stimulus(features: np.ndarray, n_classes: int) -> Stimulus:
    """Features (B, F) in model units clamped on the first F visible units, the
    ``n_classes`` label units free from LABEL_START."""
    B, F = features.shape
    v = np.column_stack([features, np.full((B, n_classes), LABEL_START)])
    return Stimulus(B, init={"v": v}, clamp={"v": np.arange(F + n_classes) < F})


def label_units(model: Model, u: np.ndarray, n_classes: int) -> np.ndarray:
    """The settled label units (the last ``n_classes`` visible units), (B, C)."""
    return u[:, model.slices["v"]][:, -n_classes:]


def table_task(model: Model, path: str | os.PathLike | None = None) -> Task:
    """The table task of a classifier ``model``; its inputs are the held-out rows of the
    data file ``path`` (the one it was trained on; None: only given inputs)."""
    C = len(model.classes)
    if not C or model.groups[0].name != "v":
        raise TaskError(f"model {model.name[:40]!r} names no classes; the table task runs "
                        "classifiers trained by 'analogam train table'")
    F = model.group("v").size - C
    layout = (f"{F} feature values in model units 0..1 and a class "
              f"({', '.join(model.classes[:5])}{', ...' if C > 5 else ''})")

    def inputs() -> np.ndarray:
        if path is None:
            raise TaskError("the table task's inputs are the held-out rows of the model's "
                            "data file and none is named; give --inputs FILE or --input "
                            f"ROW ({layout})")
        table = read_table(path)
        if table.classes != model.classes or table.features.shape[1] != F:
            raise TaskError(f"data file {Path(path).name[:60]} has {table.features.shape[1]} "
                            f"features and classes {', '.join(table.classes[:5])}; the model "
                            f"has {F} and {', '.join(model.classes[:5])}")
        return table.rows[table.split()[1]]

    def parse(text: str) -> np.ndarray:
        parts = [s.strip() for s in _SEPARATOR.split(text.strip().replace(" ", ","))
                 if s.strip()]
        if len(parts) != F + 1 or not _numeric(parts[:-1]) or \
                parts[-1] not in model.classes and not parts[-1].isdigit():
            raise TaskError(f"input {text.strip()[:40]!r} is not {layout}")
        x = np.array([float(s) for s in parts[:-1]])
        label = (model.classes.index(parts[-1]) if parts[-1] in model.classes
                 else int(parts[-1]))
        if not (np.all(np.isfinite(x)) and np.all((x >= 0) & (x <= 1)) and label < C):
            raise TaskError(f"input {text.strip()[:40]!r} is not {layout}")
        return np.append(x, label)

    return Task(
        TABLE_TASK, F + 1, inputs,
        lambda m, rows: classifier_stimulus(np.asarray(rows, float)[:, :F], C),
        lambda m, u: np.argmax(label_units(m, u, C), axis=1)[:, None],
        lambda rows: np.asarray(rows)[:, F:].astype(int),
        f"a table classifier: class = largest settled label unit (row = {layout})", parse)
