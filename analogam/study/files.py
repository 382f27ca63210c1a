"""Netlists as files: the header that says what a netlist realises, a compiled
circuit's transient netlist, and ``analogam compile``'s writing (checked first, each
file written atomically, nothing written under ``--strict`` when a check fails)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import check_output
from ..circuit import Compiled, CompileOptions
from ..circuit.census import census
from ..circuit.ir import Circuit
from ..circuit.noise import noise_step, with_noise
from ..errors import CircuitError, printable
from ..model import Model
from ..netlist import format_netlist, save_netlist, transient_for
from ..reference import simulate_ode
from ..tasks import Task, bind_task, task_for
from .build import compile_system, readout_end, with_design_range
from .checks import labels, predicted_violations, preflight
from .record import PruningEffect, pruning_effect


def netlist_header(compiled: Compiled, inputs: np.ndarray | None = None) -> tuple[str, ...]:
    """Comment lines that say what a netlist realises (numbers and names only)."""
    s = compiled.scales
    lines = [f"level {compiled.level} Vs {s.vs:g} V G0 {s.g0:.6g} S T0 {s.t0:.6g} s "
             f"conductances {compiled.conductance_range[0]:.4g} to "
             f"{compiled.conductance_range[1]:.4g} S",
             f"copies {compiled.system.batch} units per copy {compiled.system.model.n_units}"]
    if inputs is not None and len(inputs) <= 16:
        lines.append("inputs " + " ".join("".join(map(str, r)) for r in inputs))
    return tuple(lines)


def transient_netlist(compiled: Compiled, t_end: float | None = None,
                      inputs: np.ndarray | None = None) -> str:
    """The netlist of a compiled circuit with its transient to ``t_end`` (model time),
    with its transient noise when the configuration asks for it."""
    analysis = transient_for(compiled, t_end)
    return format_netlist(noisy(compiled, analysis), analysis,
                          header=netlist_header(compiled, inputs))


def noisy(compiled: Compiled, analysis, circuit: Circuit | None = None) -> Circuit:
    """``circuit`` (default the compiled one; circuit EP passes its nudged copy) with
    the noise of :func:`~analogam.circuit.noise.with_noise` over the transient
    ``analysis`` (itself when noise is off). Every transient netlist is written through
    here; operating points are not (a noise source has no DC value)."""
    tau_min = compiled.system.model.tau_min * compiled.scales.t0
    return with_noise(compiled.circuit if circuit is None else circuit, compiled.options,
                      analysis.tstop, noise_step(tau_min, compiled.options))


@dataclass(frozen=True)
class CompiledFiles:
    """What ``analogam compile`` wrote: the netlist paths, the circuits, and the
    pre-flight warnings."""

    paths: tuple
    compiled: tuple[Compiled, ...]
    warnings: tuple[str, ...]
    pruning: PruningEffect | None = None


def compile_to_files(model: Model, inputs: np.ndarray, options: CompileOptions, *,
                     output=None, stem: str = "circuit", per_input: bool = False,
                     strict: bool = False, t_end: float | None = None,
                     task: Task | None = None, protect=()) -> CompiledFiles:
    """Pre-flight checks, then one netlist of independent copies (``output`` or
    ``STEM_LEVEL.cir``), or one per input in the directory ``output``; each written
    atomically. Under ``strict`` a failed check is an error and nothing is written."""


    system = bind_task(model, inputs, task_for(model) if task is None else task)
    ode = simulate_ode(system, t_end=t_end)
    checks = preflight(system, ode)
    if strict and checks:
        raise CircuitError(f"pre-flight check failed (--strict): {checks[0]}")
    options = with_design_range(options, model, ode, system)
    t_end = readout_end(model, options, t_end)
    compiled = compile_system(system, options, batched=not per_input)
    predicted = predicted_violations(compiled, ode)
    if strict and predicted:
        raise CircuitError("operating-point check failed (--strict): "
                           + predicted[0].describe(labels(inputs)))
    checks += [f"operating point: {v.describe(labels(inputs))}" for v in predicted[:8]]
    if len(predicted) > 8:
        checks.append(f"operating point: ... and {len(predicted) - 8} more predicted "
                      "violations")
    name = f"{stem}_{options.level}"
    if per_input and len(compiled) > 1:
        outdir = Path(output or name)
        paths = [outdir / f"{name}_{''.join(map(str, b))}.cir" for b in inputs]
        groups = [b[None] for b in inputs]
    else:
        paths, groups = [Path(output or f"{name}.cir")], [inputs]
    for path in paths:
        check_output(path, protect)
    effect = pruning_effect(system, compiled, task or task_for(model), t_end)
    for c, path, b in zip(compiled, paths, groups, strict=True):
        analysis = transient_for(c, t_end)
        save_netlist(noisy(c, analysis), path, analysis, header=netlist_header(c, b))
    return CompiledFiles(tuple(paths), tuple(compiled), tuple(checks), effect)


def format_compiled(files: CompiledFiles) -> str:
    """What was written, the element counts and the scales."""
    c0 = files.compiled[0]
    where = (files.paths[0] if len(files.paths) == 1
             else f"{len(files.paths)} netlists in {files.paths[0].parent}")
    counts = ", ".join(f"{n} {k}" for k, n in c0.circuit.counts().items())
    lo, hi = c0.conductance_range
    lines = [
        f"wrote {printable(where)}: level {c0.level}, {c0.system.batch} cop"
        f"{'y' if c0.system.batch == 1 else 'ies'} per netlist",
        f"  elements: {counts}",
        f"  {census(c0.circuit).describe()}",
        f"  conductances {lo:.4g} .. {hi:.4g} S (G0 {c0.scales.g0:.4g} S), "
        f"Vs {c0.scales.vs:g} V, T0 {c0.scales.t0:.4g} s"]
    if files.pruning is not None:
        lines.append(f"  {files.pruning.describe()}")
    if c0.kit_settings:
        lines.append("  set by the kit: " + "; ".join(k.describe() for k in c0.kit_settings))
    return "\n".join(lines)
