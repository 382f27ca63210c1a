"""The model: neuron groups, bipartite couplings, energy, force and Jacobian.

This module is the single source of the math (DESIGN.md section 3). Everything else
(the ODE reference, the compiler, the trainer) reads it and re-derives nothing.

A :class:`Model` holds parameters. :func:`bind` combines it with a batch of inputs
(initial states, clamps, context tokens) into a :class:`System`, on which
:func:`energy`, :func:`force` and :func:`jacobian` act. States are flat arrays
``u`` of shape ``(B, N)``: the groups' internal states, concatenated in model order,
in model units. Time is in model time units.

For group G with activation output ``g_G = dL_G/du_G``::

    tau_G du_G/dt = drive_G - u_G,   drive_G = sum_{couplings c at G} W_c g_other + bias_G
    E = sum_G [ g_G . (u_G - bias_G) - L_G(u_G) ] - sum_c g_hidden . W_c g_visible

(``W_c`` is applied as ``W_c`` for the hidden side and ``W_c^T`` for the visible side).
Clamped units have zero force. ``dE/dt = -sum_G tau_G (du_G/dt)^T J_G (du_G/dt) <= 0``
for convex Lagrangians, so E is a Lyapunov function.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .activations import get_activation
from .errors import ModelError

Array = np.ndarray

COUPLING_SOURCES = ("static", "token")
GROUP_INITS = ("zero", "target")


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
    Validated on construction: an inconsistent model cannot exist.
    """

    name: str
    groups: tuple[Group, ...]
    couplings: tuple[Coupling, ...]
    readout_time: float
    task: str = "none"
    decoder: Decoder | None = None
    slices: dict[str, slice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "couplings", tuple(self.couplings))
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


def _check_finite(what: str, a: Array) -> None:
    if not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ModelError(f"{what} has {bad} non-finite value(s) (NaN or inf); fix the weights")


def _validate(m: Model) -> None:
    """Check every invariant the math relies on; raise ModelError on the first breach."""
    if not m.groups:
        raise ModelError(f"model {m.name!r} has no groups")
    names = [g.name for g in m.groups]
    if len(set(names)) != len(names):
        raise ModelError(f"model {m.name!r}: duplicate group names in {names}")
    if not (np.isfinite(m.readout_time) and m.readout_time > 0):
        raise ModelError(f"readout_time must be a positive finite number, got {m.readout_time}")
    by_name = {g.name: g for g in m.groups}
    for g in m.groups:
        act = get_activation(g.activation)
        if not (isinstance(g.size, int | np.integer) and g.size >= 1):
            raise ModelError(f"group {g.name!r}: size must be a positive integer, got {g.size}")
        if not (np.isfinite(g.tau) and g.tau > 0):
            raise ModelError(f"group {g.name!r}: tau must be positive and finite, got {g.tau}")
        if act.param_name and not (np.isfinite(g.param) and g.param > 0):
            raise ModelError(
                f"group {g.name!r}: {act.param_name} must be positive and finite, got {g.param}"
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
        _check_finite(f"coupling {c.name!r} weights", c.weights)
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


# --------------------------------------------------------------------------- binding


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

    @property
    def batch(self) -> int:
        return self.u0.shape[0]

    @property
    def free(self) -> Array:
        return ~self.clamped

    def select(self, index: Array | slice) -> System:
        """The system of the batch elements picked by ``index`` (mask, indices or slice)."""
        return System(
            self.model,
            tuple(w[index] if w.shape[0] > 1 else w for w in self.weights),
            self.clamped,
            self.u0[index],
            None if self.tokens is None else self.tokens[index],
        )

    def sample(self, b: int) -> System:
        """The single-input system of batch element ``b``."""
        return self.select(slice(b, b + 1))


def repeat_system(system: System, T: int) -> System:
    """The system with each sample repeated T times in a row, to evaluate per-sample
    functions (energy, residual) on (B*T, N) stacks of trajectory states."""
    return System(
        system.model,
        tuple(np.repeat(w, T, axis=0) if w.shape[0] > 1 else w for w in system.weights),
        system.clamped,
        np.repeat(system.u0, T, axis=0),
        None if system.tokens is None else np.repeat(system.tokens, T, axis=0),
    )


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
        vocab = c.weights.shape[0]
        if tok.min(initial=0) < 0 or tok.max(initial=0) >= vocab:
            raise ModelError(f"token out of range for vocabulary of size {vocab}")
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
    system = System(model, tuple(w for w in weights), clamped, u0, tokens)
    targets = [g for g in model.groups if g.init == "target" and g.name not in stimulus.init]
    if targets:
        d = drives(system, outputs(system, u0))
        for g in targets:
            u0[:, model.slices[g.name]] = d[g.name]
    u0.setflags(write=False)
    clamped.setflags(write=False)
    return system


# --------------------------------------------------------------------------- dynamics


def outputs(system: System, u: Array) -> dict[str, Array]:
    """Activation outputs g_G = dL_G/du_G of every group, each (B, size)."""
    m = system.model
    return {
        g.name: get_activation(g.activation).value(u[:, m.slices[g.name]], g.param)
        for g in m.groups
    }


def drives(system: System, g: dict[str, Array]) -> dict[str, Array]:
    """drive_G = sum_c W_c g_other + bias_G (model units): the fixed point of u_G."""
    m = system.model
    d = {grp.name: np.broadcast_to(grp.bias, g[grp.name].shape).copy() for grp in m.groups}
    for c, W in zip(m.couplings, system.weights, strict=True):
        d[c.hidden] += (W @ g[c.visible][:, :, None])[:, :, 0]
        d[c.visible] += (g[c.hidden][:, None, :] @ W)[:, 0, :]
    return d


def force(system: System, u: Array) -> Array:
    """du/dt = (drive - u) / tau per group, zero on clamped units. (B, N), model units
    per model time unit."""
    m = system.model
    d = drives(system, outputs(system, u))
    out = np.empty_like(u)
    for grp in m.groups:
        s = m.slices[grp.name]
        out[:, s] = (d[grp.name] - u[:, s]) / grp.tau
    out[:, system.clamped] = 0.0
    return out


def energy(system: System, u: Array) -> Array:
    """E(u) of DESIGN.md section 3, one value per batch element (model units)."""
    m = system.model
    g = outputs(system, u)
    e = np.zeros(u.shape[0])
    for grp in m.groups:
        act = get_activation(grp.activation)
        ug = u[:, m.slices[grp.name]]
        e += np.sum(g[grp.name] * (ug - grp.bias), axis=-1) - act.lagrangian(ug, grp.param)
    for c, W in zip(m.couplings, system.weights, strict=True):
        e -= np.sum(g[c.hidden] * (W @ g[c.visible][:, :, None])[:, :, 0], axis=-1)
    return e


def activation_jacobians(system: System, u: Array) -> dict[str, Array]:
    """dg_G/du_G for each group, (B, size, size): the Hessians of the Lagrangians."""
    m = system.model
    return {
        grp.name: get_activation(grp.activation).jacobian(u[:, m.slices[grp.name]], grp.param)
        for grp in m.groups
    }


def jacobian(system: System, u: Array) -> Array:
    """d(force)/du, (B, N, N), per model time unit. Rows of clamped units are zero."""
    m = system.model
    B, N = u.shape
    Jg = activation_jacobians(system, u)
    J = np.zeros((B, N, N))
    idx = np.arange(N)
    tau = m.tau
    J[:, idx, idx] = -1.0
    for c, W in zip(m.couplings, system.weights, strict=True):
        sh, sv = m.slices[c.hidden], m.slices[c.visible]
        J[:, sh, sv] += W @ Jg[c.visible]
        J[:, sv, sh] += np.swapaxes(W, 1, 2) @ Jg[c.hidden]
    J /= tau[None, :, None]
    J[:, system.clamped, :] = 0.0
    return J


def decode(model: Model, u: Array) -> Array:
    """Decoder logits ``W g + b`` of the read-out group, (B, K); requires a decoder."""
    if model.decoder is None:
        raise ModelError(f"model {model.name!r} has no decoder")
    d = model.decoder
    grp = model.group(d.group)
    g = get_activation(grp.activation).value(u[:, model.slices[grp.name]], grp.param)
    return g @ d.weights.T + d.bias


# --------------------------------------------------------------------------- parameters
#
# Parameters are named as in the weights file: ``coupling.<name>.weights`` (the (H, V)
# matrix, or the (vocab, V) token table), ``group.<name>.bias``.


def _per_sample(weight: Array | None, B: int) -> Array:
    return np.full(B, 1.0 / B) if weight is None else np.asarray(weight, dtype=float)


def _coupling_grad(system: System, k: int, outer: Array) -> Array:
    """Fold per-sample (B, H, V) matrices onto coupling k's parameter: summed over the
    batch for a static matrix, scattered onto the token table's rows for a token one."""
    c = system.model.couplings[k]
    if c.source == "static":
        return outer.sum(axis=0)
    table = np.zeros_like(c.weights)
    np.add.at(table, system.tokens, outer)
    return table


def energy_gradients(system: System, u: Array, weight: Array | None = None) -> dict[str, Array]:
    """sum_b weight_b dE(u_b)/dtheta for every energy parameter theta (model units).

    From E above: dE/dW_c = -g_hidden g_visible^T (local and Hebbian: the product of the
    two neurons' outputs) and dE/dbias_G = -g_G. ``weight`` (B,) defaults to 1/B (the
    batch mean); a token table collects the terms of the positions holding each token.
    """
    m = system.model
    w = _per_sample(weight, u.shape[0])
    g = outputs(system, u)
    out = {f"group.{grp.name}.bias": -(w @ g[grp.name]) for grp in m.groups}
    for k, c in enumerate(m.couplings):
        outer = -w[:, None, None] * g[c.hidden][:, :, None] * g[c.visible][:, None, :]
        out[f"coupling.{c.name}.weights"] = _coupling_grad(system, k, outer)
    return out


def drive_vjp(system: System, u: Array, lam: Array, weight: Array | None = None
              ) -> dict[str, Array]:
    """sum_b weight_b lam_b^T d(drive)/dtheta at fixed u, for every energy parameter.

    With drive_hidden = W g_visible + ..., drive_visible = W^T g_hidden + ...:
    the W term is lam_hidden g_visible^T + g_hidden lam_visible^T; a bias gives lam_G.
    ``lam``: (B, N) co-state (zero on clamped units). Used by implicit differentiation.
    """
    m = system.model
    w = _per_sample(weight, u.shape[0])
    g = outputs(system, u)
    lg = {grp.name: lam[:, m.slices[grp.name]] for grp in m.groups}
    out = {f"group.{grp.name}.bias": w @ lg[grp.name] for grp in m.groups}
    for k, c in enumerate(m.couplings):
        outer = w[:, None, None] * (lg[c.hidden][:, :, None] * g[c.visible][:, None, :]
                                    + g[c.hidden][:, :, None] * lg[c.visible][:, None, :])
        out[f"coupling.{c.name}.weights"] = _coupling_grad(system, k, outer)
    return out


def parameters(model: Model) -> dict[str, Array]:
    """The energy and decoder parameters of ``model`` by name (read-only arrays)."""
    p = {f"group.{g.name}.bias": g.bias for g in model.groups}
    p.update({f"coupling.{c.name}.weights": c.weights for c in model.couplings})
    if model.decoder is not None:
        p["decoder.weights"] = model.decoder.weights
        p["decoder.bias"] = model.decoder.bias
    return p


def with_parameters(model: Model, params: dict[str, Array]) -> Model:
    """A copy of ``model`` with the named parameters replaced (validated again)."""
    groups = tuple(
        replace(g, bias=params.get(f"group.{g.name}.bias", g.bias)) for g in model.groups)
    couplings = tuple(
        replace(c, weights=params.get(f"coupling.{c.name}.weights", c.weights))
        for c in model.couplings)
    decoder = model.decoder
    if decoder is not None:
        decoder = Decoder(decoder.group, params.get("decoder.weights", decoder.weights),
                          params.get("decoder.bias", decoder.bias))
    return replace(model, groups=groups, couplings=couplings, decoder=decoder)


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class BoundCheck:
    """Whether E is bounded below. ``sigma_max`` is the largest singular value of the
    stacked couplings between unbounded groups (0 when there are none)."""

    bounded: bool
    sigma_max: float
    message: str


def check_energy_bounded(system: System) -> BoundCheck:
    """E is bounded below unless two unbounded groups (identity, relu) are coupled
    with gain >= 1: with identity visible units and ReLU memories, integrating the
    memories out leaves 1/2|v|^2 - 1/2|relu(W v + b)|^2, unbounded once sigma_max(W)
    reaches 1 (DESIGN.md section 5). Couplings of one unbounded group to several
    unbounded partners are stacked, so their joint gain is what is bounded."""
    m = system.model
    unbounded = {g.name for g in m.groups if not get_activation(g.activation).bounded}
    worst, where = 0.0, ""
    for gname in sorted(unbounded):
        blocks = [
            (W if c.visible == gname else np.swapaxes(W, 1, 2))
            for c, W in zip(m.couplings, system.weights, strict=True)
            if gname in (c.hidden, c.visible) and {c.hidden, c.visible} <= unbounded
        ]
        if not blocks:
            continue
        B = max(b.shape[0] for b in blocks)
        stacked = np.concatenate([np.broadcast_to(b, (B,) + b.shape[1:]) for b in blocks], axis=1)
        s = float(np.max(np.linalg.norm(stacked, ord=2, axis=(1, 2))))
        if s > worst:
            worst, where = s, gname
    if worst >= 1.0:
        return BoundCheck(False, worst, (
            f"energy unbounded below: couplings of unbounded group {where!r} have largest "
            f"singular value {worst:.4g} >= 1; trajectories can run away and a circuit rails"
        ))
    if not where:
        return BoundCheck(True, 0.0, "energy bounded below (no coupling between two "
                          "unbounded groups)")
    return BoundCheck(True, worst, f"energy bounded below (sigma_max {worst:.4g} < 1)")
