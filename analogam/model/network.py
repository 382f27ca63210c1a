"""The network's structure: neuron groups, bipartite couplings, an optional decoder.

A :class:`Model` holds parameters and is validated on construction (an inconsistent
model cannot exist); :mod:`analogam.model.binding` binds it to inputs and
:mod:`analogam.model.dynamics` holds its math.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from .activations import get_activation

Array = np.ndarray

COUPLING_SOURCES = ("static", "token", "position-token")
TOKEN_SOURCES = ("token", "position-token")
MAX_VOCABULARY = 4096
"""Most symbols a model's vocabulary may name."""
MAX_CLASSES = 1000
"""Most classes a classifier may name (each name at most MAX_CLASS_NAME characters)."""
MAX_CLASS_NAME = 64
GROUP_INITS = ("zero", "target")
MAX_VALUE = 1e9
"""Largest magnitude of a weight, bias or activation parameter (model units): beyond it
no device realises the value and the integrators' arithmetic is meaningless."""
TIME_RANGE = (1e-9, 1e9)
"""Time constants and the read-out time must lie in this range (model time units), and
the read-out may be at most TIME_RANGE[1] times the fastest tau (the cost of integrating)."""


def _frozen(a, dtype=float) -> Array:
    arr = np.array(a, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class Group:
    """A group of ``size`` neurons sharing an activation and a time constant.

    ``param`` is the activation's gain (tanh) or beta (softmax); ``tau`` is in model
    time units; ``bias`` in model units; ``init`` is ``"zero"`` (start at 0 unless the
    stimulus says otherwise) or ``"target"`` (start at the drive ``W g + bias`` computed
    from the other groups' initial outputs).
    """

    name: str
    size: int
    activation: str
    tau: float
    bias: Array
    param: float = 1.0
    init: str = "zero"

    def __post_init__(self) -> None:
        object.__setattr__(self, "bias", _frozen(self.bias))


@dataclass(frozen=True)
class Coupling:
    """A bipartite coupling between group ``hidden`` and group ``visible``.

    ``source="static"``: ``weights`` has shape (hidden.size, visible.size).
    ``source="token"``: ``weights`` is a (vocab, visible.size) table; hidden unit l takes
    row ``tokens[l]`` of it (the attention units of an Energy Transformer).
    ``source="position-token"``: ``weights`` stacks L position rows over a (vocab, V)
    token table, shape (L + vocab, visible.size); hidden unit l holding token t has the
    row ``weights[l] + weights[L + t]`` (positional embeddings added to token ones, each
    a non-negative conductance when trained as a square).
    """

    name: str
    hidden: str
    visible: str
    weights: Array
    source: str = "static"

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen(self.weights))


@dataclass(frozen=True)
class Decoder:
    """Linear read-out ``logits = weights @ g_group + bias`` of one group."""

    group: str
    weights: Array
    bias: Array

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen(self.weights))
        object.__setattr__(self, "bias", _frozen(self.bias))


@dataclass(frozen=True)
class Model:
    """An energy-based network: groups, couplings, read-out time, optional decoder.

    ``task`` names the task helper that turns inputs into stimuli and settled states
    into predictions (see :mod:`analogam.tasks`); ``"none"`` for a bare model.
    ``vocabulary``: the symbols of the tokens, symbol ``t`` is ``vocabulary[t]``
    (a character model's alphabet; empty when the tokens are plain numbers).
    ``classes``: a classifier's class names; its last ``len(classes)`` visible units are
    the label units, one per class, and the units before them its clamped features.
    Validated on construction: an inconsistent model cannot exist.
    """

    name: str
    groups: tuple[Group, ...]
    couplings: tuple[Coupling, ...]
    readout_time: float
    task: str = "none"
    decoder: Decoder | None = None
    vocabulary: str = ""
    classes: tuple[str, ...] = ()
    slices: dict[str, slice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "couplings", tuple(self.couplings))
        object.__setattr__(self, "classes", tuple(self.classes))
        _validate(self)
        offsets, start = {}, 0
        for g in self.groups:
            offsets[g.name] = slice(start, start + g.size)
            start += g.size
        object.__setattr__(self, "slices", offsets)

    @property
    def n_units(self) -> int:
        return sum(g.size for g in self.groups)

    def group(self, name: str) -> Group:
        for g in self.groups:
            if g.name == name:
                return g
        raise ModelError(
            f"model {self.name!r} has no group {name!r}; groups: "
            + ", ".join(g.name for g in self.groups)
        )

    @property
    def tau(self) -> Array:
        """(N,) time constant of every unit, in model order (model time units)."""
        return np.concatenate([np.full(g.size, g.tau) for g in self.groups])

    @property
    def tau_min(self) -> float:
        return min(g.tau for g in self.groups)

    @property
    def tau_max(self) -> float:
        return max(g.tau for g in self.groups)


def vocab_size(model: Model) -> int:
    """Number of tokens the model's token-driven coupling knows (0 without one)."""
    for c in model.couplings:
        if c.source == "token":
            return int(c.weights.shape[0])
        if c.source == "position-token":
            return int(c.weights.shape[0] - model.group(c.hidden).size)
    return 0


def _check_finite(what: str, a: Array) -> None:
    if not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ModelError(f"{what} has {bad} non-finite value(s) (NaN or inf); fix the weights")
    big = float(np.max(np.abs(a), initial=0.0))
    if big > MAX_VALUE:
        raise ModelError(f"{what} reaches {big:.3g} (limit {MAX_VALUE:g} model units); no "
                         "device realises it: rescale the model")


def _check_text(what: str, text: str, limit: int) -> None:
    if not isinstance(text, str) or len(text) > limit:
        raise ModelError(f"{what} must be text of at most {limit} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ModelError(f"{what} is not valid Unicode text (lone surrogate)") from None


def _check_classes(m: Model) -> None:
    """Class names: unique texts, fewer than the first group's units (a classifier
    needs at least one feature unit beside its label units)."""
    cl = m.classes
    if len(cl) > MAX_CLASSES:
        raise ModelError(f"model names {len(cl)} classes (limit {MAX_CLASSES})")
    for c in cl:
        _check_text("a class name", c, MAX_CLASS_NAME)
        if not c.strip() or not c.isprintable():
            raise ModelError(f"class name {c[:40]!r} is empty or not printable")
    if len(set(cl)) != len(cl):
        raise ModelError("classes repeat a name; each class needs its own")
    if len(cl) < 2 or len(cl) >= m.groups[0].size:
        raise ModelError(f"model names {len(cl)} classes for {m.groups[0].size} visible "
                         "units; a classifier needs at least 2 classes and one feature unit")


def _check_time(what: str, t: float) -> None:
    lo, hi = TIME_RANGE
    if not (np.isfinite(t) and lo <= t <= hi):
        raise ModelError(f"{what} must lie in [{lo:g}, {hi:g}] model time units, got {t:g}")


def _validate(m: Model) -> None:
    """Check every invariant the math relies on; raise ModelError on the first breach."""
    _check_text("model name", m.name, 200)
    _check_text("model task", m.task, 64)
    if not m.groups:
        raise ModelError(f"model {m.name!r} has no groups")
    names = [g.name for g in m.groups]
    if len(set(names)) != len(names):
        raise ModelError(f"model {m.name!r}: duplicate group names in {names}")
    _check_time("readout_time", m.readout_time)
    by_name = {g.name: g for g in m.groups}
    for g in m.groups:
        act = get_activation(g.activation)
        if not (isinstance(g.size, int | np.integer) and g.size >= 1):
            raise ModelError(f"group {g.name!r}: size must be a positive integer, got {g.size}")
        if not (np.isfinite(g.tau) and g.tau > 0):
            raise ModelError(f"group {g.name!r}: tau must be positive and finite, got {g.tau}")
        _check_time(f"group {g.name!r}: tau", g.tau)
        if act.param_name and not (np.isfinite(g.param) and 0 < g.param <= MAX_VALUE):
            raise ModelError(
                f"group {g.name!r}: {act.param_name} must be positive and at most "
                f"{MAX_VALUE:g}, got {g.param}"
            )
        if g.init not in GROUP_INITS:
            raise ModelError(
                f"group {g.name!r}: unknown init {g.init!r}; valid: {', '.join(GROUP_INITS)}"
            )
        if g.bias.shape != (g.size,):
            raise ModelError(
                f"group {g.name!r}: bias has shape {g.bias.shape}, expected ({g.size},)"
            )
        _check_finite(f"group {g.name!r} bias", g.bias)
    for c in m.couplings:
        for end in (c.hidden, c.visible):
            if end not in by_name:
                raise ModelError(f"coupling {c.name!r} names unknown group {end!r}")
        if c.hidden == c.visible:
            raise ModelError(f"coupling {c.name!r} couples group {c.hidden!r} to itself")
        if c.source not in COUPLING_SOURCES:
            raise ModelError(
                f"coupling {c.name!r}: unknown source {c.source!r}; "
                f"valid: {', '.join(COUPLING_SOURCES)}"
            )
        h, v = by_name[c.hidden], by_name[c.visible]
        if c.source == "static" and c.weights.shape != (h.size, v.size):
            raise ModelError(
                f"coupling {c.name!r}: weights have shape {c.weights.shape}, "
                f"expected ({h.size}, {v.size})"
            )
        if c.source == "token" and (c.weights.ndim != 2 or c.weights.shape[1] != v.size):
            raise ModelError(
                f"coupling {c.name!r}: token table has shape {c.weights.shape}, "
                f"expected (vocab, {v.size})"
            )
        if c.source == "position-token" and (c.weights.ndim != 2 or c.weights.shape[1]
                                             != v.size or c.weights.shape[0] <= h.size):
            raise ModelError(
                f"coupling {c.name!r}: position and token rows have shape "
                f"{c.weights.shape}, expected ({h.size} + vocab, {v.size})"
            )
        _check_finite(f"coupling {c.name!r} weights", c.weights)
    tables = [c for c in m.couplings if c.source in TOKEN_SOURCES]
    if len(tables) > 1:
        raise ModelError(f"model {m.name!r} has {len(tables)} token-driven couplings; "
                         "one context drives at most one")
    _check_text("vocabulary", m.vocabulary, MAX_VOCABULARY)
    if m.vocabulary:
        if len(set(m.vocabulary)) != len(m.vocabulary):
            raise ModelError("vocabulary repeats a symbol; each token needs its own")
        if vocab_size(m) != len(m.vocabulary):
            raise ModelError(f"vocabulary names {len(m.vocabulary)} symbols but the model "
                             f"has {vocab_size(m)} tokens")
    if m.classes:
        _check_classes(m)
    if m.decoder is not None:
        d = m.decoder
        if d.group not in by_name:
            raise ModelError(f"decoder reads unknown group {d.group!r}")
        n = by_name[d.group].size
        if d.weights.ndim != 2 or d.weights.shape[1] != n or d.bias.shape != d.weights.shape[:1]:
            raise ModelError(
                f"decoder: weights {d.weights.shape} and bias {d.bias.shape} do not fit "
                f"group {d.group!r} of size {n} (expected (K, {n}) and (K,))"
            )
        _check_finite("decoder weights", d.weights)
        _check_finite("decoder bias", d.bias)
    if m.readout_time > TIME_RANGE[1] * min(g.tau for g in m.groups):
        raise ModelError(f"readout_time {m.readout_time:g} is more than {TIME_RANGE[1]:g} times "
                         "the fastest tau; integrating it would not finish")
