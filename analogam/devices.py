"""Device data, swappable like a process kit: BJT and diode model cards, the op-amp
macromodel's parameters, physical constants. No circuit topology lives here."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .circuit import ModelCard
from .errors import CircuitError

K_BOLTZMANN = 1.380649e-23  # J/K
Q_ELECTRON = 1.602176634e-19  # C
T_NOMINAL_K = 300.15  # 27 degC, ngspice's default TNOM


def thermal_voltage(temp_k: float = T_NOMINAL_K) -> float:
    """V_T = k T / q in volts (25.86 mV at 27 degC)."""
    return K_BOLTZMANN * temp_k / Q_ELECTRON


@dataclass(frozen=True)
class BjtKit:
    """A matched NPN for translinear circuits: Gummel-Poon card with forward beta and
    Early voltage (so alpha_F < 1 and collector current depends on V_CE)."""

    name: str = "anm_npn"
    IS: float = 1e-16  # A
    BF: float = 100.0
    VAF: float = 100.0  # V
    BR: float = 1.0
    i_tail: float = 10e-6  # A, tail current of each softmax / differential pair
    v_cc: float = 2.0  # V, collector rail (collectors sit here through current sensors)
    v_ee: float = -5.0  # V, tail-source rail

    def card(self) -> ModelCard:
        return ModelCard(self.name, "npn", (("is", self.IS), ("bf", self.BF),
                                            ("vaf", self.VAF), ("br", self.BR)))

    def alpha(self, v_ce: float) -> float:
        """Forward alpha at collector-emitter voltage v_ce, Early effect included:
        Ic/Ie = BF(1 + Vce/VAF) / (BF(1 + Vce/VAF) + 1)."""
        b = self.BF * (1 + v_ce / self.VAF)
        return b / (b + 1)


@dataclass(frozen=True)
class OpampKit:
    """Single-pole op-amp macromodel: open-loop DC gain ``a0`` (V/V), gain-bandwidth
    ``gbw`` (Hz), output swing [v_neg, v_pos] (V), quiescent supply current ``iq``
    (A, for power estimates)."""

    a0: float = 1e5
    gbw: float = 1e9
    v_pos: float = 5.0
    v_neg: float = -5.0
    iq: float = 100e-6
    r_out_stage: float = 1e3  # ohm, internal node resistance; sets the gm of the stage

    def __post_init__(self) -> None:
        for name in ("a0", "gbw", "r_out_stage"):
            if not getattr(self, name) > 0:
                raise CircuitError(f"op-amp {name} must be positive, got {getattr(self, name)}")
        if not self.v_neg < self.v_pos:
            raise CircuitError(f"op-amp swing [{self.v_neg}, {self.v_pos}] is empty")


DIODE = ModelCard("anm_diode", "d", (("is", 1e-14), ("n", 1.0)))


def with_params(kit, **kw):
    """A copy of a kit with some parameters changed (unknown names are an error)."""
    try:
        return replace(kit, **kw)
    except TypeError as e:
        raise CircuitError(f"unknown device parameter: {e}") from None
