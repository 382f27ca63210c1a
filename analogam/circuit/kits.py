"""Device kits, as data: the matched BJT of the translinear blocks, the op-amp
macromodel's parameters, the rectifier diode, physical constants. No topology lives
here; blocks read these records. Every field carries its unit, meaning and valid range
(the metadata the configuration loader validates against and documents)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .ir import ModelCard

K_BOLTZMANN = 1.380649e-23  # J/K
Q_ELECTRON = 1.602176634e-19  # C
T_NOMINAL_K = 300.15  # 27 degC, ngspice's default TNOM


def thermal_voltage(temp_k: float = T_NOMINAL_K) -> float:
    """V_T = k T / q in volts (25.86 mV at 27 degC)."""
    return K_BOLTZMANN * temp_k / Q_ELECTRON


def spec(default, unit: str, doc: str, lo: float | None = None, hi: float | None = None,
         positive: bool = False, choices: tuple[str, ...] = ()):
    """A dataclass field with its unit, meaning and valid range ``[lo, hi]`` (``positive``:
    strictly above ``lo``), or for a text field its valid ``choices``."""
    return field(default=default, metadata={"unit": unit, "doc": doc, "lo": lo, "hi": hi,
                                            "positive": positive, "choices": choices})


@dataclass(frozen=True)
class BjtKit:
    """The matched NPN of the softmax and tanh blocks (Gummel-Poon card: forward beta and
    Early voltage, so alpha_F < 1 and the collector current depends on V_CE; junction
    capacitances and transit time, so the pair has a speed of its own: f_T = gm / 2pi
    (CJE + CJC + gm TF), about 12 GHz at 50 uA, half the default tail), their tail current and
    rails, and its mismatch."""

    name: str = "anm_npn"
    i_s: float = spec(1e-16, "A", "saturation current IS", 0, 1e-6, positive=True)
    bf: float = spec(100.0, "1", "forward current gain BF", 1, 1e5)
    vaf: float = spec(100.0, "V", "forward Early voltage VAF", 0, 1e4, positive=True)
    br: float = spec(1.0, "1", "reverse current gain BR", 0, 1e4, positive=True)
    cje: float = spec(10e-15, "F", "zero-bias base-emitter junction capacitance CJE", 0, 1e-9)
    cjc: float = spec(5e-15, "F", "zero-bias base-collector junction capacitance CJC", 0,
                      1e-9)
    tf: float = spec(5e-12, "s", "forward transit time TF (diffusion capacitance gm TF)", 0,
                     1e-6)
    i_tail: float = spec(100e-6, "A", "tail current of each softmax / differential pair "
                         "(it charges the emitters' junction capacitance as the bases move: "
                         "the error grows as 1/i_tail; 10 uA costs 2e-2 on Hamming at a 100 "
                         "ns tau, 100 uA 2e-3)", 0, 1.0, positive=True)
    v_cc: float = spec(2.0, "V", "collector rail (collectors sit here through their sensors)",
                       -100, 100)
    v_ee: float = spec(-5.0, "V", "tail-source rail", -100, 100)
    is_mismatch: float = spec(0.0, "1", "relative sigma of each transistor's IS "
                              "(an emitter-area factor)", 0, 1)
    ptat: bool = spec(False, "-", "base attenuators track temperature (PTAT), so beta "
                      "and gain do not drift as 1/T")
    vbc_max: float = spec(0.3, "V", "largest base-collector forward bias still counted as "
                          "forward-active (saturation starts near 0.5 V)", -10, 10)
    vce_min: float = spec(0.2, "V", "smallest collector-emitter voltage (saturation)", 0, 10)
    bv_ebo: float = spec(5.0, "V", "emitter-base reverse breakdown", 0, 100, positive=True)
    compliance: float = spec(0.3, "V", "voltage a tail current source needs across it",
                             0, 10)
    headroom: float = spec(0.5, "V", "the level shift keeps the highest base this far below "
                           "the collector rail", 0, 10)

    def card(self) -> ModelCard:
        return ModelCard(self.name, "npn", (("is", self.i_s), ("bf", self.bf),
                                            ("vaf", self.vaf), ("br", self.br),
                                            ("cje", self.cje), ("cjc", self.cjc),
                                            ("tf", self.tf)))

    def alpha(self, v_ce: float) -> float:
        """Forward alpha at collector-emitter voltage v_ce, Early effect included:
        Ic/Ie = BF(1 + Vce/VAF) / (BF(1 + Vce/VAF) + 1)."""
        b = self.bf * (1 + v_ce / self.vaf)
        return b / (b + 1)


@dataclass(frozen=True)
class OpampKit:
    """The op-amp macromodel (``anm_opamp``, :mod:`.blocks.amplifier`), documented like a
    datasheet. The defaults stand for an on-chip two-stage CMOS amplifier of the fast
    kind (1 GHz gain-bandwidth, 100 dB open-loop gain, 1000 V/us slew, class-AB
    rail-to-rail output, about 1 mA of supply current per GHz of gain-bandwidth, MOS
    inputs drawing no bias current): the class of amplifier an analog in-memory
    computing macro integrates per column."""

    a0: float = spec(1e5, "V/V", "open-loop DC gain", 1, 1e12)
    gbw: float = spec(1e9, "Hz", "gain-bandwidth product", 0, 1e13, positive=True)
    slew_rate: float = spec(1e9, "V/s", "slew rate (the input stage's largest current into "
                            "the compensation capacitance)", 0, 1e15, positive=True)
    pole2_ratio: float = spec(3.0, "1", "second (non-dominant) pole over the gain-bandwidth "
                              "(3: about 70 degrees of phase margin at unity gain)", 0, 1e6,
                              positive=True)
    r_out: float = spec(50.0, "ohm", "open-loop output resistance", 0, 1e9, positive=True)
    v_pos: float = spec(5.0, "V", "upper output swing limit", -100, 100)
    v_neg: float = spec(-5.0, "V", "lower output swing limit", -100, 100)
    supply_headroom: float = spec(0.1, "V", "supplies sit this far beyond the swing (a "
                                  "rail-to-rail output stage); the internal node is clamped "
                                  "at the supplies", 0, 10, positive=True)
    iq_per_gbw: float = spec(1e-12, "A/Hz", "quiescent supply current per hertz of "
                             "gain-bandwidth (1e-12: 1 mA per GHz)", 0, 1e-6)
    i_bias: float = spec(0.0, "A", "input bias current drawn by each input", 0, 1e-3)
    r_out_stage: float = spec(1e3, "ohm", "internal node resistance (sets the stage's gm)",
                              0, 1e9, positive=True)
    offset_sigma: float = spec(0.0, "V", "sigma of the input offset voltage", 0, 1.0)
    trim_bits: int = spec(0, "1", "each amplifier's offset trimmed by a DAC of this many "
                          "bits over +-4 offset_sigma (calibrated once: the offset less the "
                          "nearest code remains, and any part beyond the range); 0 = none",
                          0, 16)
    i_source_max: float = spec(0.0, "A", "output current the amplifier can source (0: no "
                               "limit checked; the pdk level sets its kit's, measured by "
                               "`analogam datasheet`)", 0, 10.0)
    i_sink_max: float = spec(0.0, "A", "output current it can sink (0: no limit checked)",
                             0, 10.0)
    swing_margin: float = spec(0.05, "V", "an output or internal node closer than this to "
                               "a rail counts as railed", 0, 10)
    auto_rails: bool = spec(True, "-", "widen the swing (v_pos, v_neg) to the states the "
                            "design range needs, plus 0.5 V")
    max_supply_span: float = spec(12.0, "V", "the widest supply (top minus bottom) the design "
                                  "check accepts: integrated amplifiers beside a crossbar run "
                                  "on a few volts to about +-6 V", 0, 1000, positive=True)
    noise_density: float = spec(20e-9, "V/rtHz", "input-referred white voltage noise of each "
                                "amplifier (used when environment.noise is on; at the pdk "
                                "level it stands for the transistors' noise, which ngspice "
                                "does not simulate in a transient)", 0, 1e-5)

    @property
    def iq(self) -> float:
        """Quiescent supply current (A): ``iq_per_gbw * gbw``."""
        return self.iq_per_gbw * self.gbw

    @property
    def supplies(self) -> tuple[float, float]:
        """The supply voltages (V): the swing widened by ``supply_headroom``."""
        return self.v_pos + self.supply_headroom, self.v_neg - self.supply_headroom


DIODE = ModelCard("anm_diode", "d", (("is", 1e-14), ("n", 1.0)))
