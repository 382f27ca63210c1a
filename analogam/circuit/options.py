"""The one options record a compile takes, end to end: simulate, Monte Carlo, sweeps,
generation, the linearisation and circuit EP all carry it whole (and a results file's
key hashes it whole: :meth:`CompileOptions.digest`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

from .config import DeviceConfig
from .pdk import DEFAULT_CORNER, DEFAULT_KIT


@dataclass(frozen=True)
class CompileOptions:
    """The fidelity ``level``, the device configuration, which Monte Carlo sample of its
    nonidealities to realise, and the design range: per group, the lowest and highest
    state (model units) the circuit must handle (from the ODE on the task's inputs;
    empty: the devices' bias is left as configured) and, per translinear group, how far
    its shared emitter travels (:func:`~.plan.design_excursions`; empty: not checked),
    and how long the model takes to settle on them (``settle``, model units: the
    latency plan scales it; 0: unknown, the read-out time stands in); at a level with a
    process kit, the kit (``pdk``) and its ``corner``."""

    level: str = "ideal"
    config: DeviceConfig = field(default_factory=DeviceConfig)
    sample: int = 0
    ranges: tuple[tuple[str, float, float], ...] = ()
    excursions: tuple[tuple[str, float], ...] = ()
    pdk: str = DEFAULT_KIT
    corner: str = DEFAULT_CORNER
    settle: float = 0.0
    calibration: tuple[tuple[str, float], ...] = ()
    """With the kit's own mismatch: per amplifier, the input difference (V, + pin minus
    - pin) its devices hold in closed loop, as this sample's chip measured it with the
    inputs at zero and the integrators in reset
    (:func:`~analogam.study.calibrate.calibrate`); the trims and the reset's virtual
    grounds are set from it (empty: not measured)."""

    def with_config(self, config: DeviceConfig, sample: int | None = None
                    ) -> CompileOptions:
        """The same options with another configuration (and sample): another chip, so
        no calibration."""
        return replace(self, config=config, calibration=(),
                       sample=self.sample if sample is None else sample)

    def digest(self) -> str:
        """A digest of every field (the design range included): equal options, equal
        digest, on any machine."""
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
