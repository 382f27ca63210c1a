"""An amplifier characterised by the tool itself in ngspice, as a datasheet.

On the benches of :func:`~analogam.circuit.testbench.build_amplifier_bench`:

- offset (V): follower output at 0 V in (systematic offset plus the gain error);
- quiescent current (A) from the positive supply, and power (W) from both;
- open-loop DC gain (dB), unity-gain frequency (Hz, by log interpolation of |A|) and
  phase margin (deg, 180 + the unwrapped phase there) from the AC sweep;
- slew rate (V/s): the follower's output starting 1 V below its input, the mean slope
  between 20 % and 80 % of the swing;
- output swing (V): the range of a gain -1 stage's output within 10 mV of ``-v_in``;
- input range (V): the range of a follower's input its output follows within 10 mV
  (the input common-mode range, where it is inside the output swing).

Each run is ``ngspice -b`` on a netlist written by analogam (binary raw file read
back). The macromodel of the op-amp level can be fitted to the result
(:meth:`Datasheet.macromodel`), so the two levels tell one story.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..circuit.blocks.amplifier import opamp_subckt
from ..circuit.blocks.cmos import cmos_opamp, transistor_area
from ..circuit.ir import MOS_KINDS, NPN_KINDS, Process, SubcktDef
from ..circuit.kits import OpampKit
from ..circuit.pdk import DEFAULT_CORNER, DEFAULT_KIT, MillerSizing, get_process_kit
from ..circuit.testbench import (
    build_amplifier_bench,
    build_mismatch_bench,
    build_readout_bench,
)
from ..errors import SimulationError
from ..figures import plain, subplots
from ..netlist import AcSweep, DcSweep, OperatingPoint, Transient, format_netlist
from ..spice.batch import run_batch

SWING_TOL = 0.01


@dataclass(frozen=True)
class Datasheet:
    """The measured figures of one amplifier at one corner (SI units)."""

    amplifier: str
    corner: str
    offset_v: float
    iq_a: float
    power_w: float
    a0_db: float
    gbw_hz: float
    phase_margin_deg: float
    slew_v_per_s: float
    swing_v: tuple[float, float]
    input_v: tuple[float, float]
    transistors: int
    area_um2: float
    i_source_a: float = 0.0
    """Output current the amplifier sources into its output held at ground (A)."""
    i_sink_a: float = 0.0
    """Output current it sinks from its output held at ground (A)."""
    bode: tuple[tuple[float, float, float], ...] = ()
    """The open-loop response: (frequency Hz, |A| dB, unwrapped phase deg) per point."""
    offset_sigma_v: float = 0.0
    """Standard deviation of the input offset over ``mismatch_samples`` instances with
    the kit's mismatch switched on (V; 0: not measured)."""
    mismatch_samples: int = 0

    def as_dict(self) -> dict:
        return {k: ([list(p) for p in self.bode] if k == "bode" else getattr(self, k))
                for k in self.__dataclass_fields__}

    def macromodel(self) -> dict[str, float]:
        """The op-amp level's keys fitted to this amplifier (``--set KEY=VALUE``)."""
        return {"opamp.a0": 10 ** (self.a0_db / 20), "opamp.gbw": self.gbw_hz,
                "opamp.slew_rate": self.slew_v_per_s, "opamp.v_pos": self.swing_v[1],
                "opamp.v_neg": self.swing_v[0],
                "opamp.iq_per_gbw": self.iq_a / self.gbw_hz,
                "opamp.i_source_max": self.i_source_a, "opamp.i_sink_max": self.i_sink_a,
                **({"opamp.offset_sigma": self.offset_sigma_v} if self.mismatch_samples
                   else {})}


def _run(circuit, analysis) -> dict[str, np.ndarray]:
    r = run_batch(format_netlist(circuit, analysis))
    if not r.success:
        raise SimulationError(f"amplifier bench failed: {r.message}",
                              netlist_path=r.netlist_path, log_tail=r.log_tail)
    return r.vectors


def _unity(freq: np.ndarray, h: np.ndarray) -> tuple[float, float]:
    """The unity-gain frequency (log interpolation of |h|) and the unwrapped phase
    there (deg)."""
    mag = np.abs(h)
    k = int(np.flatnonzero((mag[:-1] >= 1) & (mag[1:] < 1))[0])
    lf, lm = np.log(freq[k:k + 2]), np.log(mag[k:k + 2])
    x = (0 - lm[0]) / (lm[1] - lm[0])
    f = float(np.exp(lf[0] + x * (lf[1] - lf[0])))
    ph = np.degrees(np.unwrap(np.angle(h)))
    return f, float(ph[k] + x * (ph[k + 1] - ph[k]))


def characterise(amp: SubcktDef, supplies: tuple[float, float], corner: str = "",
                 process: Process | None = None) -> Datasheet:
    """Run the benches on ``amp`` and compute its datasheet (see the module)."""
    def bench(kind):
        return build_amplifier_bench(amp, kind, supplies, process)

    op = _run(bench("follower"), OperatingPoint(currents=("vdd", "vss")))
    offset = float(op["v(out)"][-1] if "v(out)" in op else op["out"][-1])
    i_pos = -float(_current(op, "vdd")[-1])
    i_neg = float(_current(op, "vss")[-1])
    power = i_pos * supplies[0] - i_neg * supplies[1]
    ac = _run(bench("open_loop"), AcSweep(1.0, 1e11, 20))
    freq = np.real(ac["frequency"])
    h = _vec(ac, "out")
    f_u, phase = _unity(freq, h)
    a0 = float(20 * np.log10(np.abs(h[0])))
    bode = tuple(zip(freq.tolist(), (20 * np.log10(np.abs(h))).tolist(),
                     np.degrees(np.unwrap(np.angle(h))).tolist(), strict=True))
    # a transistor amplifier released from a forced output needs the gear method and
    # ordinary tolerances (trap rings on the body nodes at the release)
    tr = _run(bench("step"), Transient(tstep=1e-10, tstop=2e-6, tmax=1e-10,
                                       options=(("method", "gear"), ("reltol", 1e-4))))
    t, y = np.real(tr["time"]), np.real(_vec(tr, "out"))
    lo, hi = y[0] + 0.2 * (0.5 - y[0]), y[0] + 0.8 * (0.5 - y[0])
    t20 = float(np.interp(lo, y, t)) if np.all(np.diff(y) >= -1e-9) else \
        float(t[np.argmax(y >= lo)])
    t80 = float(t[np.argmax(y >= hi)])
    slew = (hi - lo) / max(t80 - t20, 1e-18)
    swing = _range(bench("inverting"), supplies, -1.0)
    follow = _range(bench("follower"), supplies, 1.0)
    n_tr = sum(e.kind in MOS_KINDS + NPN_KINDS for e in amp.elements)
    i_source, i_sink = _output_current(bench("short"))
    return Datasheet(amp.name, corner, offset, i_pos, power, a0, f_u, 180.0 + phase, slew,
                     swing[1], follow[0], n_tr, transistor_area(amp), i_source, i_sink,
                     bode)


def _output_current(circuit) -> tuple[float, float]:
    """(source, sink) A: the current into the grounding meter with the input 0.2 V above
    and below ground (the amplifier open loop, driven hard either way)."""
    dc = _run(circuit, DcSweep("vin", -0.2, 0.2, 0.4, currents=("vload",)))
    i = np.real(_current(dc, "vload"))   # into the meter's + node: out of the amplifier
    return float(max(i[-1], 0.0)), float(max(-i[0], 0.0))


def _range(circuit, supplies: tuple[float, float], gain: float
           ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Sweep the bench's input over the supplies: the (output, input) ranges where the
    output is within :data:`SWING_TOL` of ``gain v_in``."""
    dc = _run(circuit, DcSweep("vin", supplies[1], supplies[0], 0.01))
    vin = np.real(_vec(dc, "in"))
    out = np.real(_vec(dc, "out"))
    ok = np.abs(out - gain * vin) < SWING_TOL
    if not ok.any():
        return (0.0, 0.0), (0.0, 0.0)
    return ((float(out[ok].min()), float(out[ok].max())),
            (float(vin[ok].min()), float(vin[ok].max())))


def _vec(v: dict, net: str) -> np.ndarray:
    for key in (f"v({net})", net):
        if key in v:
            return v[key]
    raise SimulationError(f"bench result has no vector for {net!r}")


def _current(v: dict, source: str) -> np.ndarray:
    for key in (f"i(v{source})", f"v{source}#branch"):
        if key in v:
            return v[key]
    raise SimulationError(f"bench result has no current for V{source}")


def pdk_datasheet(kit_name: str = DEFAULT_KIT, corner: str = DEFAULT_CORNER,
                  sizing: MillerSizing | None = None, mismatch: int = 0, seed: int = 1
                  ) -> Datasheet:
    """The process kit's two-stage Miller op-amp at ``corner`` (sized by ``sizing``,
    default the kit's own), on its split supply; with ``mismatch`` > 0 also the spread
    of its input offset over that many instances, the kit's mismatch drawn with
    ``seed`` (:func:`mismatch_offsets`)."""
    kit = get_process_kit(kit_name)
    half = kit.vdd / 2
    amp = cmos_opamp(kit, sizing)
    d = characterise(amp, (half, -half), corner, kit.process(corner))
    if not mismatch:
        return d
    offsets = mismatch_offsets(amp, (half, -half), kit.process(corner, seed), mismatch)
    return replace(d, offset_sigma_v=float(np.std(offsets, ddof=1)),
                   mismatch_samples=mismatch)


def readout_offset(kit_name: str = DEFAULT_KIT, corner: str = DEFAULT_CORNER,
                   sizing: str = "standard") -> float:
    """The input offset (V) of the kit's amplifier (sizing ``sizing``) where the pdk
    level's transimpedance read-out works it: inputs at the collectors' voltage
    (``bjt.v_cc`` as the kit sets it), output near ground
    (:func:`~analogam.circuit.testbench.build_readout_bench`). Systematic (the first
    stage sees another common mode and the second another output level than the
    follower's), so the read-out compensates it; the kit records it per sizing and
    corner."""
    kit = get_process_kit(kit_name)
    half = kit.vdd / 2
    v_c = kit.config_values(corner, sizing)["bjt.v_cc"]
    amp = cmos_opamp(kit, kit.amplifier_sizing(sizing)[0])
    op = _run(build_readout_bench(amp, v_c, (half, -half), kit.process(corner)),
              OperatingPoint())
    return float(np.real(_vec(op, "out"))[-1]) * (half - v_c) / half


def mismatch_offsets(amp: SubcktDef, supplies: tuple[float, float], process: Process,
                     n: int) -> np.ndarray:
    """``n`` input offsets (V) of ``amp`` as followers on ``process`` (the kit's mismatch
    switched on and seeded), less the systematic offset (their mean). The draws are
    the kit's own (``agauss`` in its model cards, seeded by ``process.seed``): the
    spread's relative standard error is about ``1/sqrt(2 n)``."""
    op = _run(build_mismatch_bench(amp, n, supplies, process), OperatingPoint())
    v = np.array([float(np.real(_vec(op, f"out{k}"))[-1]) for k in range(n)])
    return v - v.mean()


def macromodel_datasheet(kit: OpampKit | None = None) -> Datasheet:
    """The op-amp level's macromodel on the same benches (a check of the benches)."""
    kit = kit or OpampKit()
    return characterise(opamp_subckt(kit), kit.supplies, "model")


def bode_figure(sheets: list[Datasheet]):
    """The open-loop Bode plot of each column: |A| (dB) and phase (deg) against frequency
    (Hz, log axis), the unity-gain frequency and phase margin marked."""
    fig, (mag, ph) = subplots(2, 1, figsize=(6.0, 5.0), sharex=True)
    for d in sheets:
        f, db, deg = (np.array(c) for c in zip(*d.bode, strict=True))
        line, = mag.semilogx(f, db, label=f"{d.corner}: {d.a0_db:.1f} dB, "
                             f"{d.gbw_hz / 1e6:.1f} MHz, PM {d.phase_margin_deg:.0f} deg")
        ph.semilogx(f, deg, color=line.get_color())
        mag.axvline(d.gbw_hz, color=line.get_color(), ls=":", lw=0.8)
        ph.plot([d.gbw_hz], [d.phase_margin_deg - 180.0], "o", color=line.get_color())
    mag.axhline(0.0, color="0.5", lw=0.6)
    ph.axhline(-180.0, color="0.5", lw=0.6)
    mag.set_ylabel("open-loop gain |A| (dB)")
    ph.set_ylabel("phase of A (deg)")
    ph.set_xlabel("frequency (Hz)")
    mag.legend(fontsize=7)
    mag.set_title(f"{plain(sheets[0].amplifier)}: open loop, 1 pF load (dotted: unity gain;"
                  " dot: phase margin above -180 deg)", fontsize=8)
    return fig


def format_datasheet(sheets: list[Datasheet]) -> str:
    """The datasheet table, one column per corner."""
    rows = [
        ("open-loop gain", "dB", lambda d: f"{d.a0_db:.1f}"),
        ("unity-gain frequency", "MHz", lambda d: f"{d.gbw_hz / 1e6:.1f}"),
        ("phase margin (1 pF)", "deg", lambda d: f"{d.phase_margin_deg:.1f}"),
        ("slew rate", "V/us", lambda d: f"{d.slew_v_per_s / 1e6:.1f}"),
        ("offset (follower)", "mV", lambda d: f"{d.offset_v * 1e3:.2f}"),
        *([("offset sigma (kit mismatch)", "mV",
            lambda d: f"{d.offset_sigma_v * 1e3:.2f} ({d.mismatch_samples} amps)")]
          if any(d.mismatch_samples for d in sheets) else []),
        ("quiescent current", "uA", lambda d: f"{d.iq_a * 1e6:.1f}"),
        ("power", "uW", lambda d: f"{d.power_w * 1e6:.1f}"),
        ("output swing (100 kohm)", "V", lambda d: f"{d.swing_v[0]:.2f} .. {d.swing_v[1]:.2f}"),
        ("input range (follower)", "V", lambda d: f"{d.input_v[0]:.2f} .. {d.input_v[1]:.2f}"),
        ("output current, source / sink", "uA",
         lambda d: f"{d.i_source_a * 1e6:.1f} / {d.i_sink_a * 1e6:.1f}"),
        ("transistors", "", lambda d: f"{d.transistors}"),
        ("area (sum W x L)", "um^2", lambda d: f"{d.area_um2:.1f}"),
    ]
    head = f"{sheets[0].amplifier}: " + " | ".join(d.corner for d in sheets)
    width = max(len(r[0]) + len(r[1]) + 3 for r in rows)
    lines = [head]
    for name, unit, fmt in rows:
        label = f"{name} ({unit})" if unit else name
        lines.append(f"  {label:<{width}} " + " | ".join(fmt(d) for d in sheets))
    return "\n".join(lines)
