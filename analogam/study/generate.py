"""Autoregressive generation through the circuit (the reference work's section 6.2):
the circuit settles on a context window, its decoded token is appended, the new token's
embedding is programmed into the attention crossbar in place of the oldest token (a
sliding window), and the circuit settles again. The ODE reference runs the same loop
side by side on its own tokens, and both are held to the task's own rule, e.g. for
parity8 ``x_(n+1) = x_(n-7) xor ... xor x_n``.

The window is kept as a ring when the model ignores order: token ``n`` lives in unit
``n mod C``, so each step rewrites the crossbar cells of one unit only (the tasks that
generate this way are invariant to the order of their context, which is checked: the
ring and the ordered window must have the same truth). A character model (the text
task: positional embeddings, no rule) slides an ordered window instead: every unit's
row changes each step, and the circuit is held to the ODE, token by token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..circuit import CompileOptions
from ..errors import CircuitError
from ..figures import plain, subplots
from ..model import Model
from ..reference import simulate_ode
from ..spice import Runner
from ..tasks import Task, bind_task, task_for
from ..tasks.text import TEXT_TASK, decode_text
from .build import with_design_range
from .pipeline import simulate_task


@dataclass(frozen=True)
class Generation:
    """Tokens generated from ``start`` by the circuit, by the ODE, and by the task's
    rule (None for text, which has none), with per token: the circuit's max state error
    against the ODE on the same window (model units), its settling time (s), its energy
    (J, None below the opamp level) and the crossbar cells reprogrammed before it.
    ``vocabulary``: the tokens' symbols (text), empty for bits."""

    start: np.ndarray
    circuit: np.ndarray
    ode: np.ndarray
    rule: np.ndarray | None
    max_err: np.ndarray
    settle_s: np.ndarray
    energy_j: np.ndarray | None
    cells_reprogrammed: np.ndarray
    level: str
    warnings: tuple[str, ...] = ()
    vocabulary: str = ""

    @property
    def reference(self) -> np.ndarray:
        """What the circuit is held to: the rule, or the ODE where there is none."""
        return self.ode if self.rule is None else self.rule

    @property
    def correct(self) -> bool:
        return bool(np.array_equal(self.circuit, self.reference))

    def text(self, tokens) -> str:
        """Tokens as their symbols (text) or as a bit string."""
        if self.vocabulary:
            return decode_text(self.vocabulary, tokens)
        return "".join(map(str, np.asarray(tokens, int)))

    def as_dict(self) -> dict:
        return {
            "start": self.text(self.start), "level": self.level,
            "tokens": int(self.circuit.size), "circuit": self.text(self.circuit),
            "ode": self.text(self.ode),
            "rule": None if self.rule is None else self.text(self.rule),
            "circuit_equals_rule": None if self.rule is None else self.correct,
            "circuit_equals_ode": bool(np.array_equal(self.circuit, self.ode)),
            "first_divergence": _first_difference(self.circuit, self.reference),
            "max_state_error": float(self.max_err.max()),
            "settle_s_per_token": self.settle_s.tolist(),
            "energy_J_per_token": None if self.energy_j is None else self.energy_j.tolist(),
            "cells_reprogrammed_per_token": self.cells_reprogrammed.tolist(),
            "warnings": list(self.warnings),
        }


def generation_figure(g: Generation, title: str = ""):
    """The token strip of a generation: each token as the circuit and the ODE (and the
    rule) decoded it (a differing one in red), then per token the settling time (s),
    the state error against the ODE (model units, log axis) and, where the level
    counts it, the energy (J, log axis)."""
    n = g.circuit.size
    rows = 3 + (g.energy_j is not None)
    fig, axes = subplots(rows, 1, figsize=(max(6.0, min(0.16 * n + 2, 18.0)), 1.4 * rows + 1),
                         sharex=True, gridspec_kw={"height_ratios": [1.2] + [1] * (rows - 1)})
    strip, settle, err = axes[:3]
    lines = [("circuit", g.circuit), ("ODE", g.ode)] + \
        ([] if g.rule is None else [("rule", g.rule)])
    for y, (_, toks) in enumerate(lines):
        for k, t in enumerate(toks):
            sym = g.text([t])
            strip.text(k, -y, {" ": "\u2423", "\n": "\u21b5"}.get(sym, sym), ha="center",
                       va="center", fontsize=8, family="monospace",
                       color="tab:red" if t != g.reference[k] else "black")
    strip.set_yticks(-np.arange(len(lines)), [name for name, _ in lines], fontsize=8)
    strip.set_ylim(-len(lines) + 0.4, 0.6)
    strip.set_title(f"{plain(title)}{': ' if title else ''}{n} tokens at the {g.level} level "
                    f"from {plain(g.text(g.start))[:40]!r} (red: differs from the "
                    f"{'ODE' if g.rule is None else 'rule'})", fontsize=8)
    scale, unit = next((f, u) for f, u in ((1e9, "ns"), (1e6, "us"), (1e3, "ms"), (1, "s"))
                       if np.nanmax(g.settle_s, initial=0) * f < 1e4)
    settle.plot(np.arange(n), g.settle_s * scale, ".-", lw=0.8)
    settle.set_ylabel(f"settling ({unit})", fontsize=8)
    err.semilogy(np.arange(n), np.maximum(g.max_err, 1e-12), ".-", lw=0.8, color="tab:red")
    err.set_ylabel("max |u - u_ODE|\n(model units)", fontsize=8)
    if g.energy_j is not None:
        axes[3].semilogy(np.arange(n), g.energy_j, ".-", lw=0.8, color="tab:green")
        axes[3].set_ylabel("energy (J)", fontsize=8)
    axes[-1].set_xlabel("token", fontsize=8)
    for ax in axes:
        ax.tick_params(labelsize=7)
    return fig


def _first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    d = np.flatnonzero(np.asarray(a) != np.asarray(b))
    return int(d[0]) if d.size else None


def rule_sequence(task: Task, start: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` tokens the task's rule gives after ``start``: token ``k`` is the
    task's truth on the ``C`` tokens before it (``C = len(start)``)."""
    seq = list(np.asarray(start, int))
    c = len(seq)
    for _ in range(n):
        seq.append(int(task.target(np.asarray(seq[-c:])[None])[0, 0]))
    return np.asarray(seq[c:], int)


def _check_generative(task: Task, start: np.ndarray) -> None:
    if task.name == TEXT_TASK:
        if start.ndim != 1 or start.size != task.n_bits - 1:
            raise CircuitError(f"the start must be {task.n_bits - 1} characters (the "
                               f"model's context), got {start.size}")
        return
    if start.ndim != 1 or start.size != task.n_bits:
        raise CircuitError(f"the start must be {task.n_bits} bits for {task.name}, got "
                           f"{start.size}")
    probe = task.target(task.inputs())
    if probe.shape[1] != 1 or not np.isin(probe, (0, 1)).all():
        raise CircuitError(f"task {task.name} does not produce one bit per input: it cannot "
                           "generate a sequence")
    x = task.inputs()
    if not np.array_equal(task.target(x), task.target(np.roll(x, 1, axis=1))):
        raise CircuitError(f"task {task.name} depends on the order of its context: a ring "
                           "window would change its answer")


def generate(model: Model, start, n_tokens: int, options: CompileOptions | None = None, *,
             runner: Runner | None = None, task: Task | None = None,
             cache: Path | None = None, strict: bool = False, t_end: float | None = None,
             progress: Callable[[int, int], None] | None = None,
             on_token: Callable[[int, int, int], None] | None = None) -> Generation:
    """Generate ``n_tokens`` after ``start`` through the circuit and through the ODE.
    ``on_token(n, circuit token, ODE token)`` is called as each token comes.

    The chip is designed once (design range and emitter paths from the ODE on every
    task input: its bias does not follow the context); every token is then one
    ngspice transient from the model's initial state to the read-out, compared with
    the ODE on the same window. ``cache``: a directory keeping every finished ngspice
    run (an interrupted generation started again resumes). ``strict``, ``t_end``: as
    for :func:`~.pipeline.simulate_task`. Raises SimulationError when a run fails."""
    task = task or task_for(model)
    start = np.asarray(start, int)
    _check_generative(task, start)
    ordered = task.name == TEXT_TASK
    every = bind_task(model, task.inputs(), task)
    options = with_design_range(options or CompileOptions(), model, simulate_ode(every),
                                every)

    def row(window: np.ndarray) -> np.ndarray:
        # a text input carries its truth after the context; generation has none
        return np.append(window, 0)[None] if ordered else window[None]

    def advance(window: np.ndarray, n: int, tok: int) -> None:
        if ordered:
            window[:-1], window[-1] = window[1:].copy(), tok
        else:
            window[n % window.size] = tok

    ring_c, ring_o = start.copy(), start.copy()
    toks_c, toks_o, err, settle, energy, cells = [], [], [], [], [], []
    warnings: dict[str, None] = {}
    prev = None
    for n in range(n_tokens):
        rep = simulate_task(model, row(ring_c), options, runner=runner, task=task,
                            cache=cache, strict=strict, t_end=t_end)
        tok = int(rep.pred_spice[0, 0])
        warnings.update((f"token {n}: {w}", None) for w in rep.warnings)
        label = (repr(decode_text(model.vocabulary, ring_c)) if ordered
                 else "".join(map(str, ring_c)))
        warnings.update((f"token {n}: {v.describe([label])}", None)
                        for v in rep.violations)
        c = rep.comparison
        err.append(float(c.max_err[0]))
        settle.append(float(c.settle_spice_tau[0] * c.tau_s))
        energy.append(rep.energy[0].total_j if rep.energy else np.nan)
        held = rep.compiled[0].system.weights
        cells.append(0 if prev is None else int(sum(np.sum(a != b) for a, b in
                                                    zip(held, prev, strict=True))))
        prev = held
        tok_o = int(task.predict(model, simulate_ode(bind_task(model, row(ring_o), task),
                                                     t_end=t_end).u_final)[0, 0])
        toks_c.append(tok)
        toks_o.append(tok_o)
        advance(ring_c, n, tok)
        advance(ring_o, n, tok_o)
        if on_token:
            on_token(n, tok, tok_o)
        if progress:
            progress(n + 1, n_tokens)
    energy_arr = np.asarray(energy)
    return Generation(start, np.asarray(toks_c), np.asarray(toks_o),
                      None if ordered else rule_sequence(task, start, n_tokens),
                      np.asarray(err), np.asarray(settle),
                      None if np.isnan(energy_arr).all() else energy_arr,
                      np.asarray(cells), options.level, tuple(warnings),
                      model.vocabulary if ordered else "")


def format_generation(g: Generation) -> str:
    """A short text summary of a generation."""
    d = g.as_dict()
    show = {k: repr(d[k]) if g.vocabulary else d[k] for k in ("start", "circuit", "ode",
                                                                "rule")}
    held = "ODE" if g.rule is None else "rule"
    lines = [f"generation from {show['start']} ({d['tokens']} tokens, level {g.level}):",
             f"  circuit {show['circuit']}", f"  ODE     {show['ode']}"]
    if g.rule is not None:
        lines.append(f"  rule    {show['rule']}")
    lines += [f"  circuit = {held}: {'yes' if g.correct else 'NO, first at token '}"
             + ("" if g.correct else str(d["first_divergence"]))
             + ("" if g.rule is None else
                f"; circuit = ODE: {'yes' if d['circuit_equals_ode'] else 'NO'}"),
             f"  max state error {g.max_err.max():.3g}; settling per token median "
             f"{1e6 * np.median(g.settle_s):.3g} us; cells reprogrammed per token median "
             f"{np.median(g.cells_reprogrammed[1:]) if g.circuit.size > 1 else 0:g}"]
    if g.energy_j is not None:
        lines.append(f"  energy per token median {1e9 * np.median(g.energy_j):.3g} nJ")
    lines += [f"  warning: {w}" for w in g.warnings]
    return "\n".join(lines)
