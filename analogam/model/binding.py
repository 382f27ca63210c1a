"""Binding a model to a batch of inputs: the :class:`System` the dynamics act on.

A :class:`Stimulus` says what a batch of task inputs does to a model (initial states,
clamps, context tokens); :func:`bind` resolves it into a :class:`System`. States are
flat arrays ``u`` of shape ``(B, N)``: the groups' internal states, concatenated in
model order, in model units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from .dynamics import drives, outputs
from .network import Model, vocab_size

Array = np.ndarray


@dataclass(frozen=True)
class Stimulus:
    """What one batch of task inputs does to a model (all model units).

    ``init``: group name -> (B, size) initial internal states (others start per
    ``Group.init``); ``clamp``: group name -> (size,) bool mask of units held at their
    initial value; ``tokens``: (B, L) integer context for token couplings.
    """

    batch: int
    init: dict[str, Array] = field(default_factory=dict)
    clamp: dict[str, Array] = field(default_factory=dict)
    tokens: Array | None = None


@dataclass(frozen=True)
class System:
    """A model bound to a batch of inputs: the object the dynamics act on.

    ``weights[k]`` is coupling k's matrix with shape (1 or B, H, V); ``clamped`` is an
    (N,) bool mask; ``u0`` the (B, N) initial state; ``tokens`` the (B, L) context of
    token couplings (None when the model has none).
    """

    model: Model
    weights: tuple[Array, ...]
    clamped: Array
    u0: Array
    tokens: Array | None = None
    bound: tuple[Array | None, ...] = ()
    """For each coupling, the weight array :func:`bind` made from the model's token table
    (None otherwise). While ``weights[k] is bound[k]`` the weights are rows of the table,
    and the dynamics may use the table directly; replaced weights (programming noise)
    break the identity and the per-sample arrays are used."""
    backward: tuple[Array, ...] | None = None
    """A directed coupling (a circuit's two arrays programmed apart): per coupling the
    matrix (1 or B, H, V) through which the visible units receive, ``tau_v dv/dt = V^T
    f + ...``; None: the same ``W`` both ways (the energy exists)."""

    @property
    def batch(self) -> int:
        return self.u0.shape[0]

    @property
    def free(self) -> Array:
        return ~self.clamped

    def select(self, index: Array | slice) -> System:
        """The system of the batch elements picked by ``index`` (mask, indices or slice)."""
        weights = tuple(w[index] if w.shape[0] > 1 else w for w in self.weights)
        bound = tuple(nw if k < len(self.bound) and self.bound[k] is w else None
                      for k, (w, nw) in enumerate(zip(self.weights, weights, strict=True)))
        back = None if self.backward is None else tuple(
            w[index] if w.shape[0] > 1 else w for w in self.backward)
        return System(
            self.model, weights, self.clamped, self.u0[index],
            None if self.tokens is None else self.tokens[index], bound, back)

    def table_rows(self, k: int) -> tuple[Array, Array] | None:
        """(table, flat row index (B*L,)) of token coupling k while its weights are the
        table's rows (see ``bound``), else None."""
        if k >= len(self.bound) or self.bound[k] is None or self.bound[k] is not \
                self.weights[k] or self.tokens is None:
            return None
        table = self.model.couplings[k].weights
        return table, self.tokens

    def sample(self, b: int) -> System:
        """The single-input system of batch element ``b``."""
        return self.select(slice(b, b + 1))


def repeat_system(system: System, T: int) -> System:
    """The system with each sample repeated T times in a row, to evaluate per-sample
    functions (energy, residual) on (B*T, N) stacks of trajectory states."""
    def rep(ws):
        return tuple(np.repeat(w, T, axis=0) if w.shape[0] > 1 else w for w in ws)

    return System(
        system.model, rep(system.weights), system.clamped, np.repeat(system.u0, T, axis=0),
        None if system.tokens is None else np.repeat(system.tokens, T, axis=0),
        backward=None if system.backward is None else rep(system.backward),
    )


def concat_systems(systems: list[System]) -> System:
    """Systems of one model on consecutive batches, as one batch (per-sample weights
    stacked, so each sample keeps its own)."""
    if len(systems) == 1:
        return systems[0]
    B = [s.batch for s in systems]

    def stacked(arrays: list[tuple[Array, ...]]) -> tuple[Array, ...]:
        return tuple(np.concatenate([np.broadcast_to(a[k], (b,) + a[k].shape[1:])
                                     for a, b in zip(arrays, B, strict=True)])
                     for k in range(len(arrays[0])))

    tokens = (None if systems[0].tokens is None
              else np.concatenate([s.tokens for s in systems]))
    directed = any(s.backward is not None for s in systems)
    back = stacked([s.backward if s.backward is not None else s.weights
                    for s in systems]) if directed else None
    return System(systems[0].model, stacked([s.weights for s in systems]),
                  systems[0].clamped, np.concatenate([s.u0 for s in systems]), tokens,
                  backward=back)  # bound: none


def bind(model: Model, stimulus: Stimulus) -> System:
    """Resolve token couplings, clamps and initial states for a batch of inputs."""
    B = stimulus.batch
    weights = []
    for c in model.couplings:
        if c.source == "static":
            weights.append(c.weights[None])
            continue
        if stimulus.tokens is None:
            raise ModelError(f"coupling {c.name!r} is token-driven but no tokens were given")
        tok = np.asarray(stimulus.tokens)
        L = model.group(c.hidden).size
        if tok.shape != (B, L):
            raise ModelError(f"tokens have shape {tok.shape}, expected ({B}, {L})")
        vocab = vocab_size(model)
        if tok.min(initial=0) < 0 or tok.max(initial=0) >= vocab:
            raise ModelError(f"token out of range for vocabulary of size {vocab}")
        if c.source == "position-token":
            weights.append(c.weights[:L][None] + c.weights[L:][tok])
        else:
            weights.append(c.weights[tok])
    tokens = None if stimulus.tokens is None else np.array(stimulus.tokens, dtype=int)
    clamped = np.zeros(model.n_units, dtype=bool)
    u0 = np.zeros((B, model.n_units))
    for name, mask in stimulus.clamp.items():
        clamped[model.slices[model.group(name).name]] = np.asarray(mask, dtype=bool)
    for name, val in stimulus.init.items():
        val = np.asarray(val, dtype=float)
        g = model.group(name)
        if val.shape != (B, g.size):
            raise ModelError(f"initial state of {name!r} has shape {val.shape}, "
                             f"expected ({B}, {g.size})")
        u0[:, model.slices[name]] = val
    bound = tuple(w if c.source == "token" else None
                  for c, w in zip(model.couplings, weights, strict=True))
    system = System(model, tuple(weights), clamped, u0, tokens, bound)
    targets = [g for g in model.groups if g.init == "target" and g.name not in stimulus.init]
    if targets:
        d = drives(system, outputs(system, u0))
        for g in targets:
            u0[:, model.slices[g.name]] = d[g.name]
    u0.setflags(write=False)
    clamped.setflags(write=False)
    return system
