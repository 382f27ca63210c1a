"""Device nonidealities: one TOML file, applied at compile time, reproducible by seed.

A :class:`Nonideality` says how far each part is from its nominal value; a
:class:`Variation` is one seeded sample of it (Monte Carlo sample ``index``). The
compiler asks the variation for every perturbed value in a fixed order, so the same
config, seed and index give the same netlist, byte for byte, on any machine and in any
process. With every nonideality at zero the netlist is the ideal one.

TOML layout (every key optional; unknown keys are an error, so a typo cannot pass)::

    seed = 0
    [conductance]            # crossbar devices (aihwkit names where they match)
    prog_noise_scale = 0.0   # relative sigma of each programmed conductance
    levels = 0               # quantise to n levels in [g_min, g_max]; 0 = off
    g_min = 1e-7             # device window (S)
    g_max = 1e-4
    [passives]
    resistor_tolerance = 0.0 # relative sigma of every other resistor (leaks, loads)
    capacitor_tolerance = 0.0
    [bjt]
    is_mismatch = 0.0        # relative sigma of each transistor's saturation current
    [opamp]
    offset_sigma = 0.0       # input offset voltage sigma (V)
    a0 = 1e5                 # open-loop DC gain
    gbw = 1e9                # gain-bandwidth product (Hz)
    iq = 1e-4                # quiescent supply current per amplifier (A), for energy
    [wire]
    r_per_cell = 0.0         # wire resistance of one crossbar cell (ohm): lines become
                             # resistive ladders
    [environment]
    temperature_c = 27.0
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from .errors import AnalogamError

SECTIONS = {
    "conductance": ("prog_noise_scale", "levels", "g_min", "g_max"),
    "passives": ("resistor_tolerance", "capacitor_tolerance"),
    "bjt": ("is_mismatch",),
    "opamp": ("offset_sigma", "a0", "gbw", "iq"),
    "wire": ("r_per_cell",),
    "environment": ("temperature_c",),
}
_FIELD_SECTION = {k: s for s, keys in SECTIONS.items() for k in keys}


class ConfigError(AnalogamError):
    """A nonideality file that cannot be used."""


@dataclass(frozen=True)
class Nonideality:
    """Nonideality magnitudes (see the module docstring for meanings and units).
    ``None`` means "the compiler's default"."""

    seed: int = 0
    prog_noise_scale: float = 0.0
    levels: int = 0
    g_min: float | None = None
    g_max: float | None = None
    resistor_tolerance: float = 0.0
    capacitor_tolerance: float = 0.0
    is_mismatch: float = 0.0
    offset_sigma: float = 0.0
    a0: float | None = None
    gbw: float | None = None
    iq: float | None = None
    r_per_cell: float = 0.0
    temperature_c: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ConfigError(f"{f.name} must be a number, got {v!r}")
            if not np.isfinite(v):
                raise ConfigError(f"{f.name} must be finite, got {v}")
            if f.name != "temperature_c" and v < 0:
                raise ConfigError(f"{f.name} must be >= 0, got {v}")
        if self.levels == 1 or self.levels != int(self.levels):
            raise ConfigError(f"levels must be 0 (off) or an integer >= 2, got {self.levels}")
        if self.prog_noise_scale > 1 or self.resistor_tolerance > 1 or \
                self.capacitor_tolerance > 1 or self.is_mismatch > 1:
            raise ConfigError("relative sigmas above 1 (100%) are not a device spread; "
                              "check the units")
        if self.temperature_c is not None and not -273.15 < self.temperature_c < 1000:
            raise ConfigError(f"temperature {self.temperature_c} degC is not physical")

    def with_value(self, name: str, value: float) -> Nonideality:
        """A copy with one field (``section.key`` or ``key``) set: for sweeps."""
        key = name.split(".")[-1]
        if key not in _FIELD_SECTION and key != "seed":
            raise ConfigError(f"unknown nonideality {name!r}; valid: "
                              + ", ".join(f"{s}.{k}" for k, s in _FIELD_SECTION.items()))
        return replace(self, **{key: int(value) if key in ("levels", "seed") else value})

    def is_zero(self) -> bool:
        """True when no random or structural perturbation is configured."""
        return not (self.prog_noise_scale or self.levels or self.resistor_tolerance
                    or self.capacitor_tolerance or self.is_mismatch or self.offset_sigma
                    or self.r_per_cell)


def load_nonideality(path: str | Path) -> Nonideality:
    """Read a nonideality TOML file; one ConfigError line on any problem."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    return nonideality_from_dict(data, str(path))


def nonideality_from_dict(data: dict, where: str = "config") -> Nonideality:
    kw = {}
    for key, val in data.items():
        if key == "seed":
            kw["seed"] = val
            continue
        if key not in SECTIONS:
            raise ConfigError(f"{where}: unknown section [{key}]; valid: seed, "
                              + ", ".join(f"[{s}]" for s in SECTIONS))
        if not isinstance(val, dict):
            raise ConfigError(f"{where}: [{key}] must be a table")
        for k, v in val.items():
            if k not in SECTIONS[key]:
                raise ConfigError(f"{where}: unknown key {key}.{k}; valid in [{key}]: "
                                  + ", ".join(SECTIONS[key]))
            kw[k] = v
    return Nonideality(**kw)


@dataclass
class Variation:
    """One Monte Carlo sample of a :class:`Nonideality`: a seeded stream of draws.

    Each kind of part draws from its own stream (seeded by ``(seed, index, kind)``), so
    adding wire resistance does not reshuffle the conductance noise, and values are
    drawn in the compiler's fixed element order."""

    config: Nonideality
    index: int = 0
    _streams: dict = field(default_factory=dict, repr=False)

    def _rng(self, kind: str) -> np.random.Generator:
        if kind not in self._streams:
            tag = sum(ord(c) << (8 * i) for i, c in enumerate(kind[:7]))
            self._streams[kind] = np.random.default_rng([self.config.seed, self.index, tag])
        return self._streams[kind]

    def relative(self, kind: str, sigma: float, value: float | np.ndarray):
        """value * (1 + sigma N(0,1)), floored at 1% of nominal (a device cannot go
        negative); unchanged, and no draw, when sigma is 0."""
        if not sigma:
            return value
        v = np.asarray(value, dtype=float)
        out = v * np.maximum(1.0 + sigma * self._rng(kind).standard_normal(v.shape), 0.01)
        return out if out.ndim else float(out)

    def conductances(self, G: np.ndarray) -> np.ndarray:
        """Programming noise on the nonzero conductances of one crossbar (S)."""
        if not self.config.prog_noise_scale:
            return G
        noisy = self.relative("prog", self.config.prog_noise_scale, G)
        return np.where(G > 0, noisy, 0.0)

    def resistor(self, r: float) -> float:
        return self.relative("res", self.config.resistor_tolerance, r)

    def capacitor(self, c: float) -> float:
        return self.relative("cap", self.config.capacitor_tolerance, c)

    def bjt_area(self) -> float:
        """Emitter area factor (IS scales with it) of one transistor."""
        return self.relative("bjt", self.config.is_mismatch, 1.0)

    def offset(self) -> float:
        """Input offset voltage of one amplifier (V)."""
        s = self.config.offset_sigma
        return float(s * self._rng("offset").standard_normal()) if s else 0.0
