"""Node voltages predicted from the blocks' own descriptions.

Every block records what each of its nets should read when it works as designed (an
expression over other nets: a base drive is ``gain * V(u)``, an emitter a diode drop
below the highest base, a line its activation). Evaluated with the state nets at the
model's states, they give the initial guess of every node (``.nodeset``: the operating
point converges directly) and, along an ODE trajectory, the voltages the
operating-point checks hold against each device's limits before anything is
simulated.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from ..errors import CircuitError
from .checks import dc_edges
from .ir import CAPACITOR_KINDS, GROUND, RESISTOR_KINDS, Circuit, Expr, flatten
from .kits import T_NOMINAL_K

Env = dict[str, np.ndarray | float]


def evaluate(e: Expr, env: Env, guesses: dict[str, Expr], memo: Env,
             temp_k: float = T_NOMINAL_K):
    """The value of ``e`` with net voltages from ``env``, else from their guesses
    (recursively, memoised in ``memo``)."""
    op, a = e.op, e.args
    if op == "num":
        return a[0]
    if op == "v":
        net = a[0]
        if net in env:
            return env[net]
        if net not in memo:
            if net not in guesses:
                raise CircuitError(f"no prediction for net {net!r}")
            memo[net] = np.nan  # a cycle evaluates to NaN, not to infinite recursion
            memo[net] = evaluate(guesses[net], env, guesses, memo, temp_k)
        return memo[net]
    if op == "temp":
        return temp_k
    vals = [evaluate(x, env, guesses, memo, temp_k) for x in a]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if op == "add":
            return sum(vals[1:], vals[0])
        if op == "mul":
            return vals[0] * vals[1]
        if op == "div":
            return vals[0] / vals[1]
        if op == "exp":
            return np.exp(vals[0])
        if op == "tanh":
            return np.tanh(vals[0])
        if op in ("log", "ln"):
            return np.log(vals[0])
        if op == "max":
            return np.maximum(vals[0], vals[1])
        if op == "min":
            return np.minimum(vals[0], vals[1])
        if op == "step":
            return np.where(np.asarray(vals[0]) > 0, 1.0, 0.0)
    raise CircuitError(f"cannot evaluate expression op {op!r}")


def predicted_voltages(c: Circuit, env: Env | None = None, temp_k: float = T_NOMINAL_K
                       ) -> Env:
    """Every guessed net's voltage with the given net voltages (default: the initial
    conditions), as floats or arrays broadcast like ``env``'s values."""
    env = dict(c.ic) if env is None else env
    guesses = dict(c.guesses)
    memo: Env = {}
    out = {}
    for net in guesses:
        if net not in env:
            try:
                out[net] = evaluate(guesses[net], env, guesses, memo, temp_k)
            except CircuitError:
                out[net] = np.nan  # depends on a net no block predicts
    return out


_DIAGONAL = (*RESISTOR_KINDS, *CAPACITOR_KINDS, "diode", "npn")


def voltage_defined(c: Circuit) -> set[str]:
    """Nets whose voltage ideal voltage-defined branches (sources, controlled and
    behavioural voltage sources) tie to ground: the matrix fixes them, so holding them
    too would over-determine the circuit."""
    joined = nx.utils.UnionFind()
    nets = set()
    for a, b, _, vbranch in dc_edges(c):
        nets |= {a, b}
        if vbranch:
            joined.union(a, b)
    root = joined[GROUND]
    return {n for n in nets if joined[n] == root}


def initial_guess(c: Circuit, hold: bool = False) -> tuple[tuple[str, float], ...]:
    """(net, volts) of every guessed net not set by an initial condition, at the
    initial state: a ``.nodeset`` with which the operating point converges directly,
    or (``hold``) values the transient's initial operating point may hold (``.ic``).

    Listed: nets a conductance touches (a ``.nodeset`` stamps the net's diagonal element,
    which KLU cannot create when no device has one). Held: only the circuit's own
    states, nets on a designed capacitor (an op-amp's internal node), where the
    prediction is exact, never a net voltage sources fix already (over-determined),
    and not every net a device's parasitic capacitance touches."""
    flat = flatten(c)
    kinds = CAPACITOR_KINDS if hold else _DIAGONAL
    stamped = {n for e in flat.elements if e.kind in kinds
               and not (hold and e.role == "parasitic") for n in e.nets}
    fixed = voltage_defined(flat) if hold else set()
    out = []
    for net, v in predicted_voltages(c).items():
        v = float(v)
        if net in stamped and net not in fixed and np.isfinite(v):
            out.append((net, v))
    return tuple(out)
