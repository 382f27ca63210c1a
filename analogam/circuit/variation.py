"""Seeded draws keyed by element identity: one Monte Carlo sample of a configuration.

Every random value is a pure function of ``(seed, sample, stream, key)``, where the key
names the part it perturbs within one copy of the circuit (an element name without
its copy prefix, a coupling and a cell). So reordering code never changes a sample,
adding one kind of nonideality does not reshuffle another, and the copies of a batched
netlist hold the same chip as the per-input netlists do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .config import DeviceConfig
from .pdk import SEED_MAX

FLOOR = 0.01
"""A perturbed value never drops below this fraction of nominal (a device cannot go
negative)."""


def _digest(*parts) -> bytes:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).digest()


TRIM_SIGMAS = 4.0
"""An offset trim's DAC spans +-4 sigma of the offset spread (1 part in 16,000 left
outside)."""


def trim_code(x: float, sigma: float, bits: int) -> float:
    """The part of an offset ``x`` (V) a trim DAC of ``bits`` bits cancels: the
    nearest of its 2^bits codes spanning +-``TRIM_SIGMAS`` ``sigma`` (LSB = 2
    TRIM_SIGMAS sigma / 2^bits), so ``|x - code| <= LSB/2`` inside the range (std
    ``LSB/sqrt(12)``); 0 without a trim."""
    if not bits or not sigma:
        return 0.0
    lsb = 2 * TRIM_SIGMAS * sigma / 2 ** bits
    half = 2 ** (bits - 1)
    return lsb * float(np.clip(np.round(x / lsb), -half, half - 1))


@dataclass(frozen=True)
class Variation:
    """Sample ``sample`` of ``config``'s nonidealities."""

    config: DeviceConfig
    sample: int = 0
    calibration: tuple[tuple[str, float], ...] = ()
    """What a calibration of this sample's chip measured: per amplifier, the input
    difference its own devices hold in closed loop (V)."""

    def normal(self, stream: str, key: str) -> float:
        """One standard normal draw for part ``key`` of kind ``stream`` (Box-Muller on
        a keyed 128-bit hash)."""
        d = _digest(self.config.seed, self.sample, stream, key)
        a = (int.from_bytes(d[:8], "little") + 0.5) / 2.0**64
        b = int.from_bytes(d[8:], "little") / 2.0**64
        return float(np.sqrt(-2.0 * np.log(a)) * np.cos(2.0 * np.pi * b))

    def kit_seed(self) -> int:
        """The seed of a process kit's own statistics for this sample (1 .. 2^31 - 2:
        the simulator draws every device's mismatch from it)."""
        return 1 + int.from_bytes(_digest(self.config.seed, self.sample, "kit"),
                                  "little") % SEED_MAX

    def normals(self, stream: str, key: str, shape: tuple[int, ...]) -> np.ndarray:
        """An array of standard normal draws for a whole part (e.g. a crossbar)."""
        seed = int.from_bytes(_digest(self.config.seed, self.sample, stream, key), "little")
        return np.random.default_rng(seed).standard_normal(shape)

    def relative(self, stream: str, sigma: float, key: str, value: float) -> float:
        """``value * (1 + sigma N(0,1))`` floored at FLOOR of nominal; unchanged (and no
        draw) when sigma is 0."""
        if not sigma:
            return value
        return float(value * max(1.0 + sigma * self.normal(stream, key), FLOOR))

    def resistor(self, key: str, r: float) -> float:
        return self.relative("res", self.config.passives.resistor_tolerance, key, r)

    def capacitor(self, key: str, c: float) -> float:
        return self.relative("cap", self.config.passives.capacitor_tolerance, key, c)

    def bjt_area(self, key: str) -> float:
        """Emitter area factor (IS scales with it) of one transistor."""
        return self.relative("bjt", self.config.bjt.is_mismatch, key, 1.0)

    def sense_resistor(self, key: str, r: float) -> float:
        """A resistor of a current-sensing path (ohm), mismatched by ``sense.mismatch``."""
        return self.relative("sense", self.config.sense.mismatch, key, r)

    def copy_gain(self, key: str, gain: float) -> float:
        """The gain of one ideal current copy (A/A), off by ``sense.copy_gain_sigma``."""
        return self.relative("copy", self.config.sense.copy_gain_sigma, key, gain)

    def offset(self, key: str) -> float:
        """Input offset voltage of one amplifier (V): a draw of ``opamp.offset_sigma``,
        less its trim when ``opamp.trim_bits`` is set (:func:`trim_code`)."""
        amp = self.config.opamp
        if not amp.offset_sigma:
            return 0.0
        x = amp.offset_sigma * self.normal("offset", key)
        return float(x - trim_code(x, amp.offset_sigma, amp.trim_bits))

    @cached_property
    def _measured(self) -> dict[str, float]:
        return dict(self.calibration)

    def measured(self, key: str) -> float:
        """The input difference (V, + pin minus - pin) a calibration measured on
        amplifier ``key`` of this chip (0 where none did)."""
        return self._measured.get(key, 0.0)

    def program(self, key: str, G: np.ndarray) -> np.ndarray:
        """Programming noise on the nonzero conductances of one crossbar part (S)."""
        s = self.config.conductance.prog_noise_scale
        if not s:
            return G
        noisy = G * np.maximum(1.0 + s * self.normals("prog", key, G.shape), FLOOR)
        return np.where(G > 0, noisy, 0.0)
