"""``analogam explore``: the design space of latency target x level x corner, each point
compiled for its target (docs/design.md section 10), simulated in ngspice on the same
runner as sweeps and judged by its answer: measured latency, energy per inference,
read-out error, accuracy, the integrating capacitance and its MIM area, the amplifiers
and their power, and every check's findings. The Pareto front is the right, clean
designs no other right, clean design beats on both latency and energy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..circuit import CompileOptions, get_level, get_process_kit
from ..errors import CircuitError, printable
from ..figures import plain, save_figure, subplots
from ..model import Model
from ..spice import Runner
from ..tasks import Task
from .pipeline import simulate_task

MIM_F_PER_UM2 = 2e-15
"""MIM capacitance density where a level has no process kit (F/um^2; sky130's
cap_mim_m3 is 2 fF/um^2)."""


@dataclass(frozen=True)
class DesignPoint:
    """One design: its level, corner (None without a kit) and latency target (s); what
    the compiler chose (T0, s); what ngspice measured over the inputs: the slowest
    settling (s), the speed model's prediction (s), the median energy per inference (J,
    None below the metered levels), the largest read-out error (model units),
    accuracy and agreement with the ODE; per input's circuit: integrating capacitance
    (F) and its MIM area (mm^2), amplifiers and the supply power holding the answer
    (W); the number of check findings; or why it could not be built (``error``)."""

    level: str
    corner: str | None
    target_s: float
    sizing: str | None = None
    t0_s: float | None = None
    settle_s: float | None = None
    predicted_s: float | None = None
    energy_j: float | None = None
    readout_error: float | None = None
    accuracy: float | None = None
    agreement: float | None = None
    capacitance_f: float | None = None
    mim_area_mm2: float | None = None
    amplifiers: int | None = None
    hold_power_w: float | None = None
    findings: int = 0
    error: str | None = None

    @property
    def clean(self) -> bool:
        """Built, every answer the ODE's, and no check finding."""
        return self.error is None and self.agreement == 1.0 and self.findings == 0

    @property
    def label(self) -> str:
        return " ".join(x for x in (self.level, self.corner, self.sizing) if x)


def _point(rep, level: str, corner: str | None, target: float, sizing: str | None,
           mim: float) -> DesignPoint:
    c0 = rep.compiled[0]
    cap = sum(u.c_programmed for u in c0.speeds)
    c = rep.comparison
    return DesignPoint(
        level, corner, target, sizing, c0.scales.t0, float((c.settle_spice_tau * c.tau_s).max()),
        float(rep.predicted_settle_s.max()),
        None if rep.energy is None else float(np.median([e.total_j for e in rep.energy])),
        float(c.readout_err.max()), rep.accuracy_spice, rep.agreement, cap, cap / mim * 1e-6,
        sum(e.kind == "instance" and e.role == "amplifier" for e in c0.circuit.elements),
        None if rep.energy is None else float(np.median([e.hold_w for e in rep.energy])),
        len(rep.warnings) + len(rep.violations))


def explore(model: Model, inputs: np.ndarray, latencies: list[float], levels: list[str],
            corners: list[str], *, sizings: tuple[str, ...] = ("standard",),
            options: CompileOptions | None = None,
            runner: Runner | None = None, task: Task | None = None,
            progress: Callable[[int, int, DesignPoint], None] | None = None
            ) -> list[DesignPoint]:
    """Every (level, corner, amplifier sizing, latency target) on ``inputs``;
    ``corners`` and ``sizings`` (the kit's amplifier sizings, ``design.amplifier``)
    apply to the levels with a process kit (the others are built once per target). A
    target the circuit cannot meet is a point with its ``error`` (the compiler names
    the block and the fastest latency it allows)."""
    base = options or CompileOptions()
    plan = [(lv, c, z, t) for lv in levels
            for c in (corners if get_level(lv).process_kit else [None])
            for z in (sizings if get_level(lv).process_kit else [None]) for t in latencies]
    out = []
    for lv, corner, sizing, target in plan:
        level = get_level(lv)
        mim = (get_process_kit(base.pdk).capacitor.density if level.process_kit
               else MIM_F_PER_UM2)
        keys = {"design.latency": target, "scales.t0": 0.0}
        if sizing:
            keys["design.amplifier"] = sizing
        opts = replace(base, level=lv, corner=corner or base.corner,
                       config=base.config.with_values(keys))
        try:
            rep = simulate_task(model, inputs, opts, runner=runner, task=task)
            point = _point(rep, lv, corner, target, sizing, mim)
        except CircuitError as err:
            point = DesignPoint(lv, corner, target, sizing, error=str(err))
        out.append(point)
        if progress is not None:
            progress(len(out), len(plan), point)
    return out


def pareto(points: list[DesignPoint]) -> list[bool]:
    """Per point: clean, and no other clean point is at least as fast and as frugal
    and better in one (energy where measured, else latency alone)."""
    def key(p):
        return (p.settle_s, p.energy_j if p.energy_j is not None else 0.0)

    clean = [p for p in points if p.clean]
    out = []
    for p in points:
        if not p.clean:
            out.append(False)
            continue
        a = key(p)
        out.append(not any(key(q)[0] <= a[0] and key(q)[1] <= a[1] and key(q) != a
                           for q in clean))
    return out


def explore_dict(points: list[DesignPoint]) -> dict:
    """JSON-ready: every point and whether it is on the front."""
    front = pareto(points)
    return {"points": [dict(asdict(p), pareto=f) for p, f in zip(points, front, strict=True)]}


def _fmt(x, scale: float = 1.0, spec: str = ".3g") -> str:
    return "-" if x is None else format(x * scale, spec)


def format_explore(model: Model, points: list[DesignPoint], n_inputs: int) -> str:
    """The points as a table (ns, nJ, model units, pF, mm^2, mW), the front marked."""
    front = pareto(points)
    lines = [f"{printable(model.name)}: {len(points)} designs on {n_inputs} inputs "
             "(* on the Pareto front of clean designs: right answers, no finding)",
             f"  {'design':<20} {'target ns':>9} {'T0 ns':>8} {'settle ns':>9} "
             f"{'pred ns':>8} {'nJ':>7} {'readout':>8} {'acc %':>6} {'C pF':>7} "
             f"{'MIM mm2':>8} {'amps':>5} {'hold mW':>8} {'finds':>5}"]
    for p, f in zip(points, front, strict=True):
        if p.error:
            lines.append(f"  {p.label:<20} {p.target_s * 1e9:>9.4g}  refused: {p.error}")
            continue
        lines.append(
            f"{'*' if f else ' '} {p.label:<20} {p.target_s * 1e9:>9.4g} "
            f"{_fmt(p.t0_s, 1e9):>8} {_fmt(p.settle_s, 1e9):>9} {_fmt(p.predicted_s, 1e9):>8} "
            f"{_fmt(p.energy_j, 1e9):>7} {_fmt(p.readout_error, 1, '.2g'):>8} "
            f"{_fmt(p.accuracy, 100, '.1f'):>6} {_fmt(p.capacitance_f, 1e12):>7} "
            f"{_fmt(p.mim_area_mm2, 1, '.3g'):>8} {p.amplifiers:>5} "
            f"{_fmt(p.hold_power_w, 1e3):>8} {p.findings:>5}")
    return "\n".join(lines)


def plot_explore(model: Model, points: list[DesignPoint], path: Path) -> Path:
    """Energy per inference against measured latency (log-log), one marker series per
    level and corner, clean designs filled, the Pareto front joined; written
    atomically."""
    fig, ax = subplots(figsize=(6.0, 4.2))
    front = pareto(points)
    labels = sorted({p.label for p in points if p.error is None and p.energy_j is not None})
    for k, lab in enumerate(labels):
        pts = [p for p in points if p.label == lab and p.error is None and p.energy_j]
        color = f"C{k % 10}"
        for p in pts:
            ax.loglog(p.settle_s * 1e9, p.energy_j * 1e9, "o", color=color,
                      fillstyle="full" if p.clean else "none", markersize=7)
        ax.plot([], [], "o", color=color, label=lab)
    fr = sorted((p for p, f in zip(points, front, strict=True) if f and p.energy_j),
                key=lambda p: p.settle_s)
    if fr:
        ax.plot([p.settle_s * 1e9 for p in fr], [p.energy_j * 1e9 for p in fr], "k--",
                lw=1, label="Pareto front")
    from matplotlib.ticker import FuncFormatter

    plain_number = FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain_number)
        axis.set_minor_formatter(plain_number)
    ax.set_xlabel("latency: settling to 1 % in ngspice (ns)")
    ax.set_ylabel("energy per inference at the supplies (nJ)")
    ax.set_title(f"{plain(model.name)}: open markers have a wrong answer or a finding",
                 fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return save_figure(fig, path, dpi=150)
