"""The one device configuration: scales, device window and quantisation, BJT and op-amp
kits, temperature and every nonideality, in one documented TOML file read by the CLI,
the compiler and the Monte Carlo alike (names as in IBM aihwkit where the concepts
match: ``prog_noise_scale``, ``g_min``, ``g_max``).

Every key is optional and unknown keys are an error, so a typo cannot pass. With every
nonideality at zero the netlist is the ideal one. ``format_config`` writes the whole
file with each key's unit and meaning (``analogam config`` prints it)::

    seed = 0                   # Monte Carlo seed (sample i draws from (seed, i))
    [scales]                   # vs (V per model unit), g0 (S per weight unit), t0
    [conductance]              # g_min, g_max, levels, prog_noise_scale, rescale
    [passives]                 # resistor_tolerance, capacitor_tolerance
    [bjt]                      # i_s, bf, vaf, br, i_tail, v_cc, v_ee, is_mismatch, ptat
    [opamp]                    # a0, gbw, slew_rate, pole2_ratio, r_out, v_pos, v_neg,
                               # supply_headroom, iq_per_gbw, i_bias, offset_sigma, ...
    [sense]                    # v_full_scale, gain, r_amp, mismatch, copy_gain_sigma
    [wire]                     # r_per_cell, c_per_cell
    [environment]              # temperature_c
    [simulation]               # steps_per_tau
    [design]                   # fidelity, latency, compensate, c_floor, c_min, tolerance,
                               # amplifier, scale_amplifiers
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .kits import BjtKit, OpampKit, spec

MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Scales:
    """How model quantities map to circuit ones."""

    vs: float = spec(1.0, "V", "volts per model unit (V_u = vs * u)", 0, 1e3, positive=True)
    g0: float = spec(10e-6, "S", "siemens per weight unit (G = g0 * |w|)", 0, 1e3,
                     positive=True)
    t0: float = spec(0.0, "s", "seconds per model time unit; 0 = the slowest tau is 1 us",
                     0, 1e6)


@dataclass(frozen=True)
class Conductance:
    """The crossbar's devices: window, quantisation, programming noise."""

    g_min: float = spec(1e-7, "S", "smallest realisable conductance", 0, 1e3, positive=True)
    g_max: float = spec(1e-4, "S", "largest realisable conductance", 0, 1e3, positive=True)
    levels: int = spec(0, "1", "quantise to this many levels in [g_min, g_max]; 0 = off",
                       0, 1 << 24)
    prog_noise_scale: float = spec(0.0, "1", "relative sigma of each programmed "
                                   "conductance", 0, 1)
    rescale: bool = spec(False, "-", "choose g0 so the weights fit the window (exact: C, "
                         "the leak and the bias currents scale with it)")
    prune_below: float = spec(0.0, "1", "drop (no device) every weight below this fraction "
                              "of the largest; 0 = off", 0, 1)
    dual_arrays: bool = spec(False, "-", "one array per direction, columns at virtual ground, "
                             "no self-compensation, each array its own programming noise "
                             "(ideal and bjt levels); false: one self-compensated array")


@dataclass(frozen=True)
class Passives:
    """Passive components besides the crossbar: tolerances."""

    resistor_tolerance: float = spec(0.0, "1", "relative sigma of every non-crossbar "
                                     "resistor (leaks, loads)", 0, 1)
    capacitor_tolerance: float = spec(0.0, "1", "relative sigma of every integrating "
                                      "capacitor", 0, 1)


@dataclass(frozen=True)
class Sense:
    """Current sensing: how the crossbar current of a line reaches its unit's integrator.
    At the ideal and bjt levels a current copy (gain error ``copy_gain_sigma``); from
    the opamp level a sense resistor in each line, a difference amplifier and an
    injection resistor, and a replica conductance for the self term (resistors
    mismatched by ``mismatch``)."""

    v_full_scale: float = spec(0.5, "V", "drop across a line's sense resistor at full-scale "
                               "current (g_sum Vs: the line at Vs, every other at 0)", 0, 100,
                               positive=True)
    gain: float = spec(4.0, "V/V", "gain of the copies' difference amplifiers (the "
                       "injection resistor is gain times the sense resistor: a higher gain "
                       "loads the integrator's summing node less)", 0, 1e3, positive=True)
    r_amp: float = spec(20e3, "ohm", "resistors of the difference amplifiers and inverters",
                        0, 1e9, positive=True)
    mismatch: float = spec(0.0, "1", "relative sigma of every sensing resistor (sense, "
                           "difference amplifier, injection, inverter, replica)", 0, 1)
    copy_gain_sigma: float = spec(0.0, "1", "relative sigma of each ideal current copy's gain "
                                  "(ideal and bjt levels)", 0, 1)


@dataclass(frozen=True)
class Wire:
    """The crossbar's wires."""

    r_per_cell: float = spec(0.0, "ohm", "wire resistance of one crossbar cell (lines "
                             "become resistive ladders; the pdk level sets its kit's metal)",
                             0, 1e9)
    c_per_cell: float = spec(0.0, "F", "line capacitance to ground of one crossbar cell "
                             "(on each ladder node, or summed on an ideal line; the pdk "
                             "level sets its kit's metal)", 0, 1e-9)


@dataclass(frozen=True)
class Environment:
    """The circuit's environment."""

    temperature_c: float = spec(27.0, "degC", "circuit temperature", -273.15, 1000,
                                positive=True)
    noise: bool = spec(False, "-", "transient noise: every resistor's thermal noise (4kT/R) "
                       "and every amplifier's input noise (opamp.noise_density) as seeded "
                       "piecewise-linear sources in the netlist (the seed and sample name "
                       "the draw; a waveform per resistor: Hamming at the opamp level runs "
                       "about 13x slower)")
    kit_mismatch: bool = spec(False, "-", "at a level with a process kit: the kit's own "
                              "per-device mismatch switched on (every MOSFET, NPN and MIM "
                              "capacitor draws its statistics from the kit's model cards), "
                              "seeded by the seed and the Monte Carlo sample: the same "
                              "sample is the same chip for every input")
    noise_steps_per_tau: float = spec(8.0, "1", "noise samples per fastest tau: the noise "
                                      "is white up to about steps_per_tau / (4 tau_min) "
                                      "(linear joins roll it off above), past the fastest "
                                      "unit's corner 1 / (2 pi tau_min)", 1.0, 100.0)


@dataclass(frozen=True)
class Simulation:
    """How finely ngspice resolves the transient (not a device: the same circuit)."""

    steps_per_tau: float = spec(20.0, "1", "the largest ngspice step is the fastest tau "
                                "over this; fewer is faster over long read-outs (the "
                                "settled state is the same, the trajectory between steps "
                                "less resolved)", 0.1, 1e4, positive=True)


@dataclass(frozen=True)
class Design:
    """What the compiler designs for (docs/design.md section 10): a circuit is judged by
    its answer, its latency and its energy; the trajectory's distance from the ODE is
    reported."""

    fidelity: str = spec("answer", "-", "answer: the time scale is planned for latency "
                         "and predictable errors are compensated; trajectory: the time "
                         "scale is also slowed until the amplifiers' bandwidth and the "
                         "emitters' charge follow the ODE's path within the tolerance",
                         choices=("answer", "trajectory"))
    latency: float = spec(0.0, "s", "settle within this many seconds: the compiler plans "
                          "T0 and the tail currents for it, or says which block forbids "
                          "it and the fastest latency it allows (0: no target)", 0, 1.0)
    compensate: bool = spec(True, "-", "program each op-amp integrator's capacitor and "
                            "leak for its amplifier's finite gain-bandwidth and gain: C' = "
                            "(C - G_node / w_u) / (1 + 1/A0), G_L' = (G_L - G_in / A0) / "
                            "(1 + 1/A0), while C' stays above c_floor C")
    c_floor: float = spec(0.05, "1", "smallest compensated capacitor as a fraction of the "
                          "nominal: below it the amplifier sets the unit's pace", 0, 1,
                          positive=True)
    c_min: float = spec(0.0, "F", "smallest capacitor the process draws: an op-amp "
                        "integrator's compensated capacitor stays above it too (the pdk "
                        "level sets its kit's)", 0, 1e-6)
    tolerance: float = spec(0.0, "1", "largest read-out error against the ODE (model "
                            "units) before a warning; 0: the level's own", 0, 10)
    amplifier: str = spec("standard", "-", "at a level with a process kit, which of the "
                          "kit's amplifier sizings every amplifier uses (sky130: standard, "
                          "lowpower, fast)")
    scale_amplifiers: bool = spec(True, "-", "with a latency target, at a level whose "
                                  "amplifiers are tunable, bias each integrator's amplifier "
                                  "for the gain-bandwidth its summing node needs (G_node / "
                                  "(pi C), in half-octave steps, never below opamp.gbw): "
                                  "power grows with fan-in, time does not")


SECTIONS: dict[str, type] = {
    "scales": Scales, "conductance": Conductance, "passives": Passives, "bjt": BjtKit,
    "opamp": OpampKit, "sense": Sense, "wire": Wire, "environment": Environment,
    "simulation": Simulation, "design": Design,
}


@dataclass(frozen=True)
class DeviceConfig:
    """Everything the compiler needs to know about the devices (see module docstring)."""

    seed: int = 0
    scales: Scales = field(default_factory=Scales)
    conductance: Conductance = field(default_factory=Conductance)
    passives: Passives = field(default_factory=Passives)
    bjt: BjtKit = field(default_factory=BjtKit)
    opamp: OpampKit = field(default_factory=OpampKit)
    sense: Sense = field(default_factory=Sense)
    wire: Wire = field(default_factory=Wire)
    environment: Environment = field(default_factory=Environment)
    simulation: Simulation = field(default_factory=Simulation)
    design: Design = field(default_factory=Design)

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) \
                or not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be an integer in [0, 2^63), got {self.seed!r}")
        for name in SECTIONS:
            _validate_section(name, getattr(self, name))
        c, o = self.conductance, self.opamp
        if c.g_min >= c.g_max:
            raise ConfigError(f"device window [g_min={c.g_min:g}, g_max={c.g_max:g}] S is "
                              "empty")
        if c.levels == 1:
            raise ConfigError("conductance.levels must be 0 (off) or at least 2, got 1")
        if not o.v_neg < o.v_pos:
            raise ConfigError(f"op-amp swing [{o.v_neg:g}, {o.v_pos:g}] V is empty")

    def with_value(self, path: str, value) -> DeviceConfig:
        """A copy with one key (``section.key``, or ``seed``) set: for sweeps and the
        CLI's ``--set``."""
        if path == "seed":
            try:
                return replace(self, seed=_coerce("seed", int, value))
            except ConfigError:
                raise ConfigError(f"seed must be an integer in [0, 2^63), got "
                                  f"{str(value)[:40]}") from None
        section, _, key = path.partition(".")
        cls = SECTIONS.get(section)
        if cls is None or key not in _keys(cls):
            raise ConfigError(unknown_key(path))
        typ = _field_types(cls)[key]
        sec = replace(getattr(self, section), **{key: _coerce(path, typ, value)})
        return replace(self, **{section: sec})

    def with_values(self, values: dict) -> DeviceConfig:
        """A copy with several keys set (``{"opamp.gbw": 1e8, ...}``)."""
        cfg = self
        for k, v in values.items():
            cfg = cfg.with_value(k, v)
        return cfg

    def is_ideal(self) -> bool:
        """True when no random or structural perturbation is configured."""
        c, p = self.conductance, self.passives
        return not (c.prog_noise_scale or c.levels or c.prune_below or p.resistor_tolerance
                    or p.capacitor_tolerance or self.bjt.is_mismatch
                    or self.opamp.offset_sigma or self.wire.r_per_cell
                    or self.sense.mismatch or self.sense.copy_gain_sigma
                    or self.environment.kit_mismatch)


def _keys(cls) -> list[str]:
    return [f.name for f in fields(cls) if f.metadata]


def _field_types(cls) -> dict[str, type]:
    return {f.name: type(f.default) for f in fields(cls) if f.metadata}


def _coerce(where: str, typ: type, value):
    """``value`` as ``typ``; an integer-valued float is accepted for ints (a sweep's
    values are numbers), anything else that does not fit is a ConfigError."""
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if typ is str:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,40}", value):
            raise ConfigError(f"{where} must be a name (letters, digits, _), got "
                              f"{str(value)[:40]!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer |
                                                       np.floating):
        raise ConfigError(f"{where} must be a number, got {str(value)[:40]!r}")
    if typ is int:
        if isinstance(value, float | np.floating) and not (
                math.isfinite(value) and value == int(value)):
            raise ConfigError(f"{where} must be a whole number, got {value!r}")
        if abs(int(value)) > MAX_SEED:
            raise ConfigError(f"{where} is out of range (|x| < 2^63), got {value!r}")
        return int(value)
    try:
        return float(value)
    except OverflowError:
        raise ConfigError(f"{where} is out of range, got {str(value)[:40]}") from None


def _validate_section(name: str, sec) -> None:
    for f in fields(sec):
        if not f.metadata:
            continue
        where = f"{name}.{f.name}"
        val = _coerce(where, type(f.default), getattr(sec, f.name))
        if isinstance(val, str):
            if f.metadata["choices"] and val not in f.metadata["choices"]:
                raise ConfigError(f"{where} must be one of {', '.join(f.metadata['choices'])}"
                                  f", got {val[:40]!r}")
            continue
        if isinstance(val, bool):
            continue
        lo, hi, pos = f.metadata["lo"], f.metadata["hi"], f.metadata["positive"]
        if not np.isfinite(val):
            raise ConfigError(f"{where} must be finite, got {val}")
        if lo is not None and (val < lo or (pos and val == lo)):
            raise ConfigError(f"{where} must be {'>' if pos else '>='} {lo:g} "
                              f"{f.metadata['unit']}, got {val:g}")
        if hi is not None and val > hi:
            raise ConfigError(f"{where} must be <= {hi:g} {f.metadata['unit']}, got {val:g}"
                              + (" (a relative sigma above 1 is not a device spread; check "
                                 "the units)" if f.metadata["unit"] == "1" and hi == 1 else ""))


def config_from_dict(data: dict, where: str = "config") -> DeviceConfig:
    """A DeviceConfig from parsed TOML; one ConfigError line on the first problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the configuration must be a table")
    cfg = DeviceConfig()
    for key, val in data.items():
        if key == "seed":
            cfg = cfg.with_value("seed", val)
            continue
        if key not in SECTIONS:
            raise ConfigError(f"{where}: unknown section [{str(key)[:40]}]; valid: seed, "
                              + ", ".join(f"[{s}]" for s in SECTIONS))
        if not isinstance(val, dict):
            raise ConfigError(f"{where}: [{key}] must be a table")
        for k, v in val.items():
            if k not in _keys(SECTIONS[key]):
                raise ConfigError(f"{where}: {unknown_key(f'{key}.{str(k)[:40]}')}")
            cfg = cfg.with_value(f"{key}.{k}", v)
    return cfg


def unknown_key(path: str) -> str:
    """The message for an unknown ``section.key``: the nearest valid keys first (a
    misspelling), then where the list of every key is."""
    import difflib

    every = ["seed", *(f"{s}.{k}" for s, c in SECTIONS.items() for k in _keys(c))]
    near = difflib.get_close_matches(path, every, n=3, cutoff=0.75)
    bare = path.rpartition(".")[2]   # the key alone, in whichever section it is
    near += [full for full in every if full not in near and difflib.get_close_matches(
        bare, [full.rpartition(".")[2]], cutoff=0.8)][:3 - len(near)]
    section = path.partition(".")[0]
    if not near and section in SECTIONS:
        near = [f"{section}.{k}" for k in _keys(SECTIONS[section])]
        hint = f"keys of [{section}]: {', '.join(near)}"
    elif near:
        hint = f"did you mean {' or '.join(near)}?"
    else:
        hint = f"sections: {', '.join(SECTIONS)}"
    return (f"unknown configuration key {path[:60]!r}; {hint} (`analogam config` lists "
            "every key with its unit)")


MAX_CONFIG_BYTES = 256 * 1024
MAX_KEY_DEPTH = 4   # a device configuration is [section] key; dotted keys deeper are refused


def _key_depth(text: str) -> int:
    """The deepest dotted key or table header in a TOML text, counted lexically (dots
    outside quotes before a line's first '='), so that a 60 KB chain of dotted keys is
    refused before tomllib builds it (its cost grows with the square of the depth)."""
    deepest = 0
    for line in text.splitlines():
        dots, quote = 0, ""
        for ch in line.lstrip():
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch in "=#":
                break
            elif ch == ".":
                dots += 1
        deepest = max(deepest, dots + 1)
    return deepest


def load_config(path: str | Path) -> DeviceConfig:
    """Read a device configuration TOML file; one ConfigError line on any problem. At
    most :data:`MAX_CONFIG_BYTES` are read (a device or a huge file is refused before
    parsing); nesting too deep and integers too long to convert are refused too."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB; a device "
                          "configuration is a few hundred bytes")
    try:
        text = raw.decode("utf-8")
        if _key_depth(text) > MAX_KEY_DEPTH:
            raise ConfigError(f"{path}: a dotted key deeper than {MAX_KEY_DEPTH} levels; a "
                              "device configuration is [section] key = value")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    except (RecursionError, ValueError) as e:   # 500-deep arrays, 5000-digit integers
        kind = "nested too deep" if isinstance(e, RecursionError) else "a number too long"
        raise ConfigError(f"{path}: {kind} for a device configuration") from None
    return config_from_dict(data, str(path))


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def format_config(cfg: DeviceConfig | None = None) -> str:
    """The configuration as a TOML file, every key with its unit and meaning."""
    cfg = cfg or DeviceConfig()
    lines = ["# analogam device configuration (analogam config > devices.toml).",
             "# Every key is optional; units in the comments.",
             f"seed = {cfg.seed}"]
    for name, cls in SECTIONS.items():
        sec = getattr(cfg, name)
        doc = " ".join((cls.__doc__ or "").split()).split(". ")[0].rstrip(".")
        lines += ["", f"[{name}]  # {doc}"]
        for f in fields(cls):
            if f.metadata:
                lines.append(f"{f.name} = {_toml_value(getattr(sec, f.name))}".ljust(32)
                             + f"# {f.metadata['unit']}: {f.metadata['doc']}")
    return "\n".join(lines) + "\n"
