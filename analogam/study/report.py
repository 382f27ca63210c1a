"""Reports of a simulation: a JSON record (per input and summary) and plots (PNG, PDF
or SVG) in the style of the reference work. Written atomically into a report directory."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import check_output
from ..circuit.census import census
from ..compare.power import (
    DIGITAL_PJ_PER_OP,
    EULER_STEPS_PER_TAU,
    IN_MEMORY_PJ_PER_OP,
    equivalent_ops,
)
from ..errors import printable
from ..figures import plain, render, subplots, write_bytes
from .equilibrium import format_nonequilibrium
from .pipeline import OpCheck
from .record import SimulationReport


def _bits(row) -> str:
    return "".join(str(int(x)) for x in row)


def inference_ops(rep: SimulationReport) -> float:
    """Equivalent digital operations of the median input's inference
    (:func:`~analogam.compare.power.equivalent_ops`, at the ODE's settling time)."""
    m = rep.compiled[0].system.model
    settle = float(np.median(rep.comparison.settle_ode_tau)) * m.tau_max
    return equivalent_ops([w[0] for w in rep.compiled[0].system.weights], settle, m.tau_min)


def report_dict(rep: SimulationReport, op: OpCheck | None = None) -> dict:
    """JSON-ready figures: summary and one record per input (model units, tau_v, s)."""
    c = rep.comparison
    c0 = rep.compiled[0]
    per_input = []
    for i, x in enumerate(rep.inputs):
        rec = {
            "input": _bits(x), "target": rep.targets[i].tolist(),
            "ode": rep.pred_ode[i].tolist(), "circuit": rep.pred_spice[i].tolist(),
            "agree": bool(np.all(rep.pred_ode[i] == rep.pred_spice[i])),
            "max_state_error": float(c.max_err[i]), "readout_error": float(c.readout_err[i]),
            "settling_tau_circuit": float(c.settle_spice_tau[i]),
            "settling_tau_ode": float(c.settle_ode_tau[i]),
            "ode_residual": float(rep.ode.residual[i]),
            "circuit_energy_rise": float(c.energy_rise[i]),
        }
        if rep.pred_trainer is not None:
            rec["trainer"] = rep.pred_trainer[i].tolist()
        if rep.energy is not None:
            en = rep.energy[i]
            rec["energy_per_inference_J"] = en.total_j
            rec["energy_by_role_J"] = en.by_role_j
            rec["energy_inputs_J"] = en.inputs_j
            rec["hold_power_W"] = en.hold_w
            rec["reset_energy_J"] = en.reset_j
        if op is not None:
            rec["op_vs_transient"] = float(op.diff[i])
            rec["op_residual"] = float(op.residual[i])
            rec["op_differs"] = bool(op.differs[i])
        per_input.append(rec)
    return {
        "analogam": __version__,
        "model": rep.model, "task": rep.task.name, "level": rep.level,
        "scales": {"Vs_V": c0.scales.vs, "G0_S": c0.scales.g0, "T0_s": c0.scales.t0},
        "conductance_range_S": list(c0.conductance_range),
        "crossbar": {"dual_arrays": c0.options.config.conductance.dual_arrays,
                     "array_asymmetry": max(c.asymmetry for c in rep.compiled)},
        "temperature_C": c0.options.config.environment.temperature_c,
        "element_counts": c0.circuit.counts(),
        "silicon_per_circuit": c0.circuit.silicon(),
        "idealisation": census(c0.circuit).to_dict(),
        "process": None if c0.circuit.process is None else {
            "kit": c0.circuit.process.kit, "corner": c0.circuit.process.corner,
            "crossbar": "ideal resistors (the memory device is not the kit's)",
            "kit_settings": [{"key": k.key, "value": k.value, "configured": k.was,
                              "why": k.why} for k in c0.kit_settings]},
        "summary": {
            "inputs": len(rep.inputs), "netlists": len(rep.compiled), "backend": rep.backend,
            "simulator": rep.simulator,
            "agreement_circuit_vs_ode": rep.agreement,
            "accuracy_circuit": rep.accuracy_spice, "accuracy_ode": rep.accuracy_ode,
            "accuracy_trainer": None if rep.pred_trainer is None else float(
                np.mean(np.all(rep.pred_trainer == rep.targets, axis=1))),
            "agreement_circuit_vs_trainer": None if rep.pred_trainer is None else float(
                np.mean(np.all(rep.pred_trainer == rep.pred_spice, axis=1))),
            **c.summary(),
            "spice_wall_s": rep.spice_wall_s,
            "spice_run_s": rep.spice_run_s,
            "preflight_warnings": list(rep.preflight),
            "fidelity_warnings": list(rep.fidelity),
            "dynamics_warnings": list(rep.dynamics),
            "pruning": None if rep.pruning is None else asdict(rep.pruning),
            "supply_balance": rep.supply_balance,
            "settling_s_predicted_max": None if rep.predicted_settle_s is None else float(
                rep.predicted_settle_s.max()),
            "energy_per_op": None if rep.energy is None else {
                "equivalent_ops": inference_ops(rep),
                "pJ_per_op": 1e12 * float(np.median([e.total_j for e in rep.energy]))
                / inference_ops(rep),
                "definition": f"forward Euler at tau_min/{EULER_STEPS_PER_TAU} to the ODE's "
                              "settling time, 4 operations per weight per step",
                "digital_pJ_per_op": DIGITAL_PJ_PER_OP,
                "in_memory_pJ_per_op": list(IN_MEMORY_PJ_PER_OP),
                "not_counted": ["amplifier bias wake-up", "read-out sample-and-hold or "
                                "comparators", "crossbar programming"]},
            "design": None if rep.design is None else rep.design.as_dict(),
            "operating_point_violations": {
                stage: sum(v.stage == stage for v in rep.violations)
                for stage in ("predicted", "simulated")},
        },
        "per_input": per_input,
        "violations": [asdict(v) for v in rep.violations],
        "nonequilibrium": [dict(input=_bits(x), **d.as_dict())
                           for x, d in zip(rep.inputs, rep.nonequilibrium, strict=False)],
    }


def _line_plot(series, ylabel: str, title: str, xlabel: str, ylim=None, logx=False):
    """One small figure of (t, y, label, linestyle) series against model time."""
    fig, ax = subplots(figsize=(5, 3.2))
    for t, y, label, ls in series:
        ax.plot(t, y, ls=ls, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        # the drop happens in the first tenth: a linear axis from 0 to the first sample,
        # logarithmic after it
        ax.set_xscale("symlog", linthresh=float(series[0][0][1]))
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def report_figures(rep: SimulationReport, max_inputs: int = 4) -> dict:
    """The report's figures (:class:`~matplotlib.figure.Figure`, by file name):
    trajectories of the first ``max_inputs`` inputs (circuit solid, ODE dashed on top,
    one colour per unit, the state error below), the energy along the circuit
    trajectory, and the decoded prediction over time. Units: states in model units
    (``V / Vs``), time in model time units (``tau_v`` in seconds in the title)."""
    c = rep.comparison
    m = rep.compiled[0].system.model
    task = rep.task
    out = {}
    k = min(max_inputs, len(rep.inputs))
    xlabel = f"time t (model time; tau_v = {c.tau_s:.3g} s)"
    rows = len(m.groups) + 1
    fig, axes = subplots(rows, k, figsize=(3.4 * k, 2.4 * rows), squeeze=False,
                         sharex=True)
    for j in range(k):
        for r, g in enumerate(m.groups):
            ax = axes[r, j]
            sl = m.slices[g.name]
            lines = ax.plot(c.t, c.u_spice[j, :, sl], lw=1.4)
            for ln, col in zip(lines, range(sl.stop - sl.start), strict=True):
                ax.plot(c.t, c.u_ode[j, :, sl.start + col], ls="--", lw=0.9, color="k",
                        alpha=0.6, zorder=3)
                if sl.stop - sl.start <= 8:
                    ln.set_label(f"{g.name}{col}")
            ax.set_title(f"input {_bits(rep.inputs[j])}: group {g.name}", fontsize=8)
            ax.tick_params(labelsize=7)
            if j == 0:
                ax.set_ylabel(f"u_{g.name} (model units, V/Vs)", fontsize=7)
            if sl.stop - sl.start <= 8:
                ax.legend(fontsize=6, ncol=2, loc="best")
        err = np.abs(c.u_spice[j] - c.u_ode[j]).max(axis=1)
        axes[-1, j].semilogy(c.t, np.maximum(err, 1e-12), color="tab:red", lw=1.0)
        axes[-1, j].set_xlabel(xlabel, fontsize=7)
        axes[-1, j].tick_params(labelsize=7)
        if j == 0:
            axes[-1, j].set_ylabel("max |u_circuit - u_ODE|", fontsize=7)
    shown = "" if k == len(rep.inputs) else f"; the first {k} of {len(rep.inputs)} inputs"
    fig.suptitle(f"{plain(rep.model)} ({rep.level}): circuit (colour) vs ODE (black "
                 f"dashes){shown}", fontsize=9)
    out["trajectories.png"] = fig
    out["energy.png"] = _line_plot(
        [(c.t, c.energy_spice[j], _bits(rep.inputs[j]), "-") for j in range(k)],
        "model energy E (model units)", "energy along the circuit trajectory (must fall)",
        xlabel, logx=c.t.size > 2)
    T = c.t.size
    series = []
    for name, u, ls in (("circuit", c.u_spice, "-"), ("ODE", c.u_ode, "--")):
        flat = u.transpose(1, 0, 2).reshape(T * u.shape[0], -1)
        pred = task.predict(m, flat).reshape(T, u.shape[0], -1)
        series.append((c.t, 100 * np.all(pred == rep.targets[None], axis=2).mean(axis=1),
                       name, ls))
    if rep.pred_trainer is not None:
        ok = 100 * np.all(rep.pred_trainer == rep.targets, axis=1).mean()
        series.append((c.t[[0, -1]], [ok, ok], "trainer (settled)", ":"))
    out["prediction.png"] = _line_plot(series, "inputs decoded correctly (%)",
                                       "decoded prediction over time", xlabel, (-2, 102))
    return out


def render_report(rep: SimulationReport, max_inputs: int = 4, formats=("png",),
                  dpi: int = 100) -> dict[str, bytes]:
    """The bytes of :func:`report_figures` in each of ``formats`` (png, pdf, svg), by
    file name (``trajectories.png``, ``trajectories.pdf``, ...)."""
    out = {}
    for name, fig in report_figures(rep, max_inputs).items():
        stem = name.rsplit(".", 1)[0]
        out.update({f"{stem}.{fmt}": render(fig, fmt, dpi) for fmt in formats})
    return out


FIGURES = ("trajectories", "energy", "prediction")


def report_files(formats=("png",)) -> tuple[str, ...]:
    """The files a report writes: report.json and each figure in each format."""
    return ("report.json", *(f"{n}.{f}" for n in FIGURES for f in formats))


def check_report_dir(outdir: str | os.PathLike, protect=(), formats=("png",)) -> Path:
    """``outdir`` if every report file may be written there (none of them a link, a
    device or one of the command's inputs): called before any simulation runs, so a
    refused report costs nothing."""
    out = Path(outdir)
    for name in report_files(formats):
        check_output(out / name, protect)
    return out


def write_report(rep: SimulationReport, outdir: str | os.PathLike,
                 op: OpCheck | None = None, protect=(), formats=("png",),
                 dpi: int = 100) -> list[Path]:
    """report.json and the plots in ``formats`` (PNG at ``dpi``; PDF and SVG vector):
    everything is rendered first and then each file is written atomically, so a failure
    leaves no half-written report."""
    out = check_report_dir(outdir, protect, formats)
    files = {"report.json": (json.dumps(report_dict(rep, op), indent=1, allow_nan=False)
                             + "\n").encode(), **render_report(rep, formats=formats, dpi=dpi)}
    out.mkdir(parents=True, exist_ok=True)
    return [write_bytes(out / name, data, protect) for name, data in files.items()]


def format_report(rep: SimulationReport) -> str:
    """A short text summary: agreement, errors, settling, energy, checks."""
    c = rep.comparison
    s = c.summary()
    n = len(rep.inputs)
    ok_sp = int(np.sum(np.all(rep.pred_spice == rep.targets, axis=1)))
    ok_ode = int(np.sum(np.all(rep.pred_ode == rep.targets, axis=1)))
    lines = [
        f"{printable(rep.model)} ({printable(rep.task.name)}), level {rep.level}, {n} inputs, "
        f"{len(rep.compiled)} netlist(s), {rep.backend} backend, {rep.spice_wall_s:.2f} s wall "
        f"({rep.spice_run_s:.2f} s of runs) "
        f"({rep.simulator})",
        f"  correct: circuit {ok_sp}/{n}, ODE {ok_ode}/{n}; circuit agrees with ODE on "
        f"{100 * rep.agreement:.1f}%",
        f"  state error vs ODE (model units): max over trajectory {s['max_state_error']:.3e}, "
        f"at read-out {s['max_readout_error']:.3e}",
        f"  settling (1%): circuit {s['settling_tau_median']:.2f} tau_v median, "
        f"{s['settling_tau_max']:.2f} max = {s['settling_s_max']:.3e} s "
        f"(ODE {s['settling_tau_ode_max']:.2f} tau_v)",
        *([f"  dual arrays: asymmetry ||G_fwd - G_bwd|| / ||G_fwd + G_bwd|| = "
           f"{max(x.asymmetry for x in rep.compiled):.3g} (the realised ODE holds both "
           "arrays: a directed coupling, with no energy once they differ)"]
          if rep.compiled[0].options.config.conductance.dual_arrays else []),
        f"  circuit energy non-increasing on {int(np.sum(c.energy_rise <= 1e-3))}/{n} "
        f"trajectories (max rise {s['circuit_energy_rise_max']:.2e}"
        + ("; the forward array's E: no Lyapunov function here)"
           if max(x.asymmetry for x in rep.compiled) > 0 else ")"),
    ]
    lines.append(f"  {census(rep.compiled[0].circuit).describe()}")
    proc = rep.compiled[0].circuit.process
    if proc is not None:
        si = rep.compiled[0].circuit.silicon()
        lines.append(
            f"  process {proc.kit} ({proc.corner}), per input's circuit: {si['mos']} MOSFETs "
            f"({si['mos_area_um2']:.0f} um^2 sum W x L), {si['npn']} NPNs, crossbar "
            f"{si['crossbar_ohm'] / 1e6:.3g} Mohm and other resistors "
            f"{si['other_resistance_ohm'] / 1e6:.3g} Mohm in all, {si['capacitance_f'] * 1e12:.3g}"
            " pF; the crossbar conductances are ideal resistors (the memory device is not "
            "the kit's)")
        lines.append("  set by the kit: " + "; ".join(
            k.describe() for k in rep.compiled[0].kit_settings))
    if rep.energy is not None:
        lines += format_energy(rep.energy, rep.supply_balance, inference_ops(rep))
    if rep.design is not None:
        lines += format_design(rep.design)
    if rep.pred_trainer is not None:
        agree = np.all(rep.pred_trainer == rep.pred_spice, axis=1)
        lines.append(f"  trainer (digital, settled fixed point): correct "
                     f"{int(np.sum(np.all(rep.pred_trainer == rep.targets, axis=1)))}/{n}; "
                     f"circuit agrees with the trainer on {100 * agree.mean():.1f}%")
    if rep.pruning is not None:
        lines.append(f"  {rep.pruning.describe()}")
    for x, d in zip(rep.inputs, rep.nonequilibrium, strict=False):
        lines += format_nonequilibrium(d, _bits(x))
    lines += [f"  WARNING: {w}" for w in rep.preflight + rep.fidelity + rep.dynamics]
    lines += format_violations(rep.violations, rep.inputs)
    return "\n".join(lines)


def format_design(d) -> list[str]:
    """Text lines: the design checks' numbers (their failures are warnings)."""
    out = [f"  design for the {d.fidelity}: predicted settling {d.predicted_settling_s:.3g} s"
           + (f"; {d.amplifier_limited} of {d.units} integrators paced by their amplifier"
              if d.amplifier_limited else "")]
    if d.bandwidth is not None:
        out.append(f"  integrator bandwidth: time constant stretched by up to "
                   f"{d.bandwidth.error:.2g} after compensation ({d.bandwidth.integrator}"
                   + (f"; limit {d.bandwidth_limit:.2g})" if d.fidelity == "trajectory"
                      else ")"))
    if d.emitter is not None:
        out.append(f"  translinear emitter ({d.emitter.group}, C_E {d.emitter.c_e:.3g} F, "
                   f"travels {d.emitter.path_v:.3g} V): {d.emitter.error:.2g} of a time "
                   f"unit's tail charge (limit {d.bandwidth_limit:.2g})")
    if d.wire is not None:
        thr = ("none below 1e6" if np.isinf(d.wire.threshold)
               else f"{d.wire.threshold:.3g} ohm/cell")
        out.append(f"  wire resistance {d.wire.r:g} ohm/cell: growth rate {d.wire.rate:.3g} "
                   f"per model time unit; instability threshold {thr}")
    return out


def format_energy(energy, balance: float | None, ops: float | None = None) -> list[str]:
    """Text lines: energy per inference measured at the supplies, by role (median over
    the inputs), what is listed apart and what is not counted, and (``ops``: the
    equivalent operations of the median input, :func:`~analogam.compare.power.
    equivalent_ops`) the energy per operation beside the digital and in-memory
    anchors."""
    total = np.array([e.total_j for e in energy])
    roles = sorted({r for e in energy for r in e.by_role_j})
    split = ", ".join(f"{r} {1e9 * np.median([e.by_role_j.get(r, 0.0) for e in energy]):.3g}"
                      for r in roles)
    lines = [f"  energy per inference until settled, measured at the supplies: median "
             f"{1e9 * np.median(total):.3g} nJ, max {1e9 * total.max():.3g} nJ",
             f"    by role (nJ, median): {split}",
             f"    listed apart: inputs {1e9 * np.median([e.inputs_j for e in energy]):.3g} nJ, "
             f"reset {1e9 * np.median([e.reset_j for e in energy]):.3g} nJ, holding the "
             f"settled state for read-out {1e3 * np.median([e.hold_w for e in energy]):.3g} "
             "mW"]
    if balance is not None:
        lines.append(f"    supplies vs sum of roles: {balance:+.1e} (relative)")
    lines.append("    not counted: waking the amplifiers' bias, the read-out (a sample-and-hold "
                 "or comparator per read-out unit), programming the crossbar")
    if ops is not None:
        anchors = ", ".join(f"{k} {v:g}" for k, v in DIGITAL_PJ_PER_OP.items())
        lo, hi = IN_MEMORY_PJ_PER_OP
        lines.append(f"    per equivalent operation: {1e12 * np.median(total) / ops:.3g} pJ/op "
                     f"({ops:.3g} ops: forward Euler at tau_min/{EULER_STEPS_PER_TAU} to the "
                     f"settling time, 4 per weight per step); digital {anchors} pJ/op "
                     f"(Horowitz 2014); analog in-memory chips {lo:g}-{hi:g} pJ/op")
    return lines


def format_violations(violations, inputs, most: int = 8) -> list[str]:
    """Text lines for operating-point violations: counts per stage, the worst few."""
    if not violations:
        return []
    labels = [_bits(x) for x in inputs]
    counts = {s: sum(v.stage == s for v in violations) for s in ("predicted", "simulated")}
    devices = len({(v.device, v.copy) for v in violations})
    lines = [f"  WARNING: operating-point limits violated: {counts['predicted']} predicted "
             f"from the ODE, {counts['simulated']} in the simulation, on {devices} "
             "device(s); these results are outside the devices' safe region"]
    ranked = sorted(violations, key=lambda v: -abs(v.value - v.bound))
    lines += [f"    {printable(v.describe(labels))}" for v in ranked[:most]]
    if len(violations) > most:
        lines.append(f"    ... and {len(violations) - most} more (see report.json)")
    return lines


def format_op_check(rep: SimulationReport, op: OpCheck) -> str:
    """The DC operating points against the settled transient, as text."""
    lines = [f"  DC operating point (.op) vs settled transient: max difference "
             f"{op.diff.max():.3e}; differs (> {op.tol:g}) on "
             f"{int(op.differs.sum())}/{len(op.diff)} inputs"]
    for i in np.flatnonzero(op.differs)[:8]:
        lines.append(f"    input {_bits(rep.inputs[i])}: .op lands {op.diff[i]:.3g} away from "
                     f"the transient (another fixed point, residual {op.residual[i]:.2g})")
    return "\n".join(lines)
