"""The idealisation census: what in a netlist is not made of the kit's devices.

At the pdk level the signal path is transistors and resistors only (the softmax
read-out a transimpedance amplifier per memory, the base drive a divider and an
amplifier, the tail a mirror fed by a bias generator, the identity activation a
wire); the same models at the bjt level are counted with their ideal parts, so the
census sees them."""

from __future__ import annotations

import numpy as np
import pytest
from test_registry import _compile
from test_weights import ROOT

from analogam.circuit import CompileOptions, build_circuit
from analogam.circuit.census import census, classify
from analogam.circuit.ir import Element
from analogam.circuit.pdk import SKY130
from analogam.model.weights import load_model
from analogam.tasks import bind_task, task_for


def test_each_element_falls_in_the_class_a_reviewer_would_put_it():
    cases = {
        ("vcvs", "attenuator", (1.0,)): ("signal", "attenuator"),
        ("ccvs", "transimpedance", ("v", 1e4)): ("signal", "transimpedance"),
        ("isource", "tail", (2e-5,)): ("signal", "tail"),
        ("vsource", "bias", (-0.4,)): ("signal", "bias"),          # a level shift
        ("vsource", "sense", (0.0,)): ("allowed", "meter"),
        ("vsource", "buffer", (0.0,)): ("allowed", "meter"),       # a wire
        ("vsource", "supply", (2.5,)): ("allowed", "supply"),
        ("vsource", "clamp", (1.0,)): ("allowed", "input drive"),
        ("vsource", "offset", (1e-3,)): ("model", "offset"),
        ("resistor", "crossbar", (1e5,)): ("device", "crossbar"),
        ("resistor", "leak", (1e5,)): ("passive", "leak"),
        ("capacitor", "integrator", (1e-12,)): ("passive", "integrator"),
        # the kit's own: its MIM capacitor, its poly resistor's linear model, and the
        # latter's substrate capacitance (physics the device has)
        ("kit_capacitor", "integrator", (1e-12, "mim", 22.0, 22.0)): ("device", "integrator"),
        ("poly_resistor", "leak", (1e5, -1.5e-3, 2.7e-6)): ("device", "leak"),
        ("capacitor", "parasitic", (1e-15,)): ("model", "parasitic"),
        ("nmos", "tail", ("n", 1.0, 1.0, 1.0)): ("device", "tail"),
    }
    for (kind, role, values), want in cases.items():
        assert classify(Element(kind, "x", (), values, role)) == want, (kind, role)


@pytest.mark.parametrize("variant", ["softmax_tanh", "relu_identity"])
def test_no_ideal_element_is_left_on_the_pdk_signal_path(variant):
    """The registry's small models reach every block kind: at pdk none leaves an
    ideal element on the signal path; at bjt the same model has its controlled
    sources, ideal tail and (for the pair) transimpedances, so the census is not
    blind to them."""
    pdk = census(_compile(variant, "pdk", "sky130", "tt").circuit)
    assert pdk.signal_path == {}, pdk.describe()
    assert "no ideal element on the signal path" in pdk.describe()
    assert pdk.total("device") > 0 and pdk.counts["allowed"]
    bjt = census(_compile(variant, "bjt", None, None).circuit)
    assert bjt.total("signal") > 0
    if variant == "softmax_tanh":
        assert {("E", "attenuator"), ("H", "transimpedance"), ("I", "tail")} <= set(
            bjt.signal_path)


def c_opts_vss(c) -> float:
    """The negative amplifier supply of a circuit (from its supply source)."""
    return next(e.value for e in c.elements if e.role == "supply" and e.name == "ss")


@pytest.mark.parametrize("name", ["xor", "hamming74"])
@pytest.mark.parametrize("corner", ["tt", "ss", "ff"])
def test_xor_and_hamming_at_pdk_have_no_ideal_part_on_the_signal_path(name, corner):
    m = load_model(ROOT / "models" / f"{name}.npz")
    task = task_for(m)
    system = bind_task(m, task.inputs()[:2])
    c = build_circuit(system, CompileOptions("pdk", corner=corner)).circuit
    cen = census(c)
    assert cen.signal_path == {}, cen.describe()
    # every memory with a line is read by an amplifier, every base driven by one
    amps = {e.name for e in c.elements if e.kind == "instance"}
    npns = [e for e in c.elements if e.kind == "kit_npn"]
    assert all(e.name + "_att" in amps for e in npns)
    reads = [e for e in c.elements if e.role == "transimpedance"]
    assert reads and all(e.kind == "poly_resistor" for e in reads)
    # no R or C outside the crossbar is ideal: the kit's MIM capacitors (integrators and
    # Miller capacitors, none below the smallest it draws) and poly resistors
    assert "passive" not in cen.counts, cen.describe()
    assert set(cen.kit_passives) == {"MIM C", "poly R (linear model)"}
    ints = [e for e in c.elements if e.role == "integrator" and e.kind == "kit_capacitor"]
    assert ints and all(e.value >= SKY130.capacitor.c_min * (1 - 1e-9) for e in ints)
    if name == "xor":   # its hidden integrators asked for 1.8 fF (the amplifier paces them)
        assert min(e.value for e in ints) == pytest.approx(SKY130.capacitor.c_min)
    assert all(e.kind != "capacitor" or e.role == "parasitic" for e in c.elements)
    reads = [e for e in reads if e.name.endswith("_rf")]
    assert reads and all(e.name.removesuffix("_rf") in amps for e in reads)
    # every read-out amplifier is unloaded at zero signal (test_pdk: its offset there)
    rd = {e.name.removesuffix("_rd"): e for e in c.elements if e.name.endswith("_tz_rd")}
    rf = {e.name.removesuffix("_rf"): e for e in reads}
    vc = -c_opts_vss(c) / 1.25
    assert rd.keys() == rf.keys() and all(
        rd[k].value == pytest.approx(rf[k].value * vc) for k in rd)
    # each read-out amplifier's output current is a device limit, like the drivers'
    limited = {lim.device for lim in c.limits if lim.quantity == "output current"}
    assert {e.name.removesuffix("_rf") for e in reads} <= limited
    js = cen.to_dict()
    assert js["signal"] == {} and js["allowed"]["V supply"] > 0
    assert np.isfinite(c.silicon()["mos_area_um2"])


def test_a_mismatch_the_kits_npn_cannot_take_is_refused_not_ignored():
    from analogam.circuit import DeviceConfig
    from analogam.errors import CircuitError

    m = load_model(ROOT / "models" / "xor.npz")
    system = bind_task(m, task_for(m).inputs()[:1])
    cfg = DeviceConfig().with_value("bjt.is_mismatch", 0.01)
    build_circuit(system, CompileOptions("bjt", cfg))          # the generic card takes it
    with pytest.raises(CircuitError, match="bjt.is_mismatch = 0.01 applies to the generic"):
        build_circuit(system, CompileOptions("pdk", cfg))


def test_the_kits_own_mismatch_is_switched_on_and_seeded_per_sample():
    """environment.kit_mismatch: the kit's per-device mismatch switched on in the netlist
    and seeded per Monte Carlo sample (ngspice draws every device instance from the
    seed in netlist order), so one sample is one chip: every input's netlist of a sample
    carries the same seed and the same elements in the same order, another sample
    another seed; no offset source of analogam's own (the devices carry their offsets).
    Refused where it cannot mean one chip (batched copies), at a level without a kit,
    and for a trim of offsets nobody measured."""
    from analogam.circuit import DeviceConfig
    from analogam.errors import CircuitError
    from analogam.netlist import Transient, format_netlist

    m = load_model(ROOT / "models" / "xor.npz")
    inputs = task_for(m).inputs()
    on = DeviceConfig().with_value("environment.kit_mismatch", True)

    def compiled(cfg, word, sample=0):
        return build_circuit(bind_task(m, inputs[word:word + 1]),
                             CompileOptions("pdk", cfg, sample=sample))

    def cards(c):
        text = format_netlist(c.circuit, Transient(1e-9, 1e-7, 1e-9))
        seed = [ln for ln in text.splitlines() if ln.startswith(".options seed=")]
        return seed, [ln.split()[0] for ln in text.splitlines()
                      if ln[:1].isalpha() and not ln.startswith(".")]

    a, b = compiled(on, 0), compiled(on, 3)
    assert dict(a.circuit.process.params)["mc_mm_switch"] == 1.0
    assert not [e for e in a.circuit.elements if e.role == "offset"]
    assert cards(a) == cards(b) and len(cards(a)[0]) == 1      # one chip for every input
    assert cards(compiled(on, 0, sample=1))[0] != cards(a)[0]   # another sample
    assert cards(compiled(on, 0))[0] == cards(a)[0]             # reproducible
    off = compiled(DeviceConfig(), 0)
    assert dict(off.circuit.process.params)["mc_mm_switch"] == 0.0
    assert cards(off)[0] == []
    with pytest.raises(CircuitError, match="different chips"):
        build_circuit(bind_task(m, inputs), CompileOptions("pdk", on))
    with pytest.raises(CircuitError, match="calibrate it first"):
        compiled(on.with_value("opamp.trim_bits", 5), 0)
    with pytest.raises(CircuitError, match="switches a process kit's mismatch on"):
        build_circuit(bind_task(m, inputs[:1]), CompileOptions("opamp", on))


def test_a_calibrated_chip_gets_its_trims_and_its_reset_from_the_measurement():
    """With the kit's own mismatch and opamp.trim_bits, each amplifier's trim is the DAC
    code nearest the input difference the calibration measured on it (within half an
    LSB of it), and the reset holds each integrator's summing node where the trimmed
    loop puts it (the code's residual); without a calibration the trim is refused,
    not silently zero."""
    from analogam.circuit import DeviceConfig
    from analogam.circuit.pdk import SKY130
    from analogam.circuit.variation import TRIM_SIGMAS, trim_code
    from analogam.errors import CircuitError

    m = load_model(ROOT / "models" / "xor.npz")
    system = bind_task(m, task_for(m).inputs()[:1])
    on = DeviceConfig().with_values({"environment.kit_mismatch": True,
                                     "opamp.trim_bits": 5})
    base = build_circuit(system, CompileOptions("pdk", on.with_value("opamp.trim_bits", 0)))
    amps = [e.name for e in base.circuit.elements
            if e.kind == "instance" and e.role == "amplifier"]
    measured = {a: 1e-3 * ((3 * i) % 17 - 8) for i, a in enumerate(amps)}    # +-8 mV
    c = build_circuit(system, CompileOptions("pdk", on, calibration=tuple(measured.items())))
    source = {e.name.removesuffix("_os"): e.value for e in c.circuit.elements
              if e.role == "offset"}
    sigma = SKY130.amplifier["offset_sigma"]
    lsb = 2 * TRIM_SIGMAS * sigma / 2**5
    assert len(source) > len(amps) // 2
    for a, d in measured.items():
        assert source.get(a, 0.0) == pytest.approx(trim_code(d, sigma, 5), abs=1e-15)
        assert abs(source.get(a, 0.0) - d) <= lsb / 2 + 1e-15
    ic = dict(c.circuit.ic)
    caps = [e for e in c.circuit.elements if e.role == "integrator"]
    for e in caps:
        a = e.name.removeprefix("c_")
        assert ic[e.nets[0]] == pytest.approx(source.get(a, 0.0) - measured[a], abs=1e-15)
    with pytest.raises(CircuitError, match="calibrate it first"):
        build_circuit(system, CompileOptions("pdk", on))
    # the netlist says what it holds
    assert any(f"calibrated in reset: {len(amps)} amplifiers" in n
               and "trimmed to 5-bit codes" in n for n in c.circuit.notes)
    assert any("not calibrated" in n for n in base.circuit.notes)


def test_analogams_offsets_at_the_pdk_level_are_seeded_and_trimmed():
    """opamp.offset_sigma at the pdk level (the kit's spread modelled, not drawn by the
    devices): each amplifier gets an offset source drawn per part and sample, and an
    integrator's summing node starts where its offset puts the virtual ground (held at
    0, a transistor amplifier fought the .ic and ngspice's step collapsed at 20 ps)."""
    from analogam.circuit import DeviceConfig
    from analogam.circuit.pdk import SKY130

    m = load_model(ROOT / "models" / "xor.npz")
    system = bind_task(m, task_for(m).inputs())
    sigma = SKY130.amplifier["offset_sigma"]
    on = DeviceConfig().with_value("opamp.offset_sigma", sigma)

    def offsets(cfg, sample=0):
        c = build_circuit(system, CompileOptions("pdk", cfg, sample=sample))
        return c, np.array([e.value for e in c.circuit.elements if e.role == "offset"])

    c, a = offsets(on)
    amps = sum(e.kind == "instance" for e in c.circuit.elements)
    assert len(a) == amps and amps > 80
    assert 0.7 * sigma < np.std(a) < 1.3 * sigma
    np.testing.assert_array_equal(offsets(on)[1], a)                    # same seed, same draw
    assert not np.allclose(offsets(on, sample=1)[1], a)                 # another sample
    assert offsets(DeviceConfig())[1].size == 0
    assert np.std(offsets(on.with_value("opamp.trim_bits", 5))[1]) < 0.15 * sigma
    ic = dict(c.circuit.ic)
    os = {e.name.removesuffix("_os"): e.value for e in c.circuit.elements
          if e.role == "offset"}
    caps = [e for e in c.circuit.elements if e.role == "integrator"]
    assert caps and all(ic[e.nets[0]] == os[e.name.removeprefix("c_")] for e in caps)


def test_a_divider_that_cannot_give_its_gain_and_shift_is_refused():
    """A resistive divider's gain plus shift over its rail stays below 1; asked for
    more it is a one-line refusal naming the part, not a negative resistor."""
    from analogam.circuit.blocks.translinear import divider
    from analogam.errors import CircuitError

    m = load_model(ROOT / "models" / "xor.npz")
    c = build_circuit(bind_task(m, task_for(m).inputs()[:1]), CompileOptions("pdk"))
    assert c.circuit.elements          # the divider builds at the kit's numbers
    from analogam.circuit.blocks import Emit, block
    from analogam.circuit.builder import CircuitBuilder
    from analogam.circuit.levels import get_level
    from analogam.circuit.naming import Names
    from analogam.circuit.pdk import SKY130
    from analogam.circuit.variation import Variation

    cfg = c.options.config
    e = Emit(CircuitBuilder(title="t"), Names(), cfg, Variation(cfg), c.scales,
             get_level("pdk"), block, kit=SKY130)
    divider(e, "ok", "t1", 1.0, "attenuator", "attenuator", "u", 0.3)
    with pytest.raises(CircuitError, match="bad: a divider cannot give gain 0.8 with a "
                                           r"\+1.5 V shift"):
        divider(e, "bad", "t2", 1.5, "attenuator", "attenuator", "u", 0.8)


def test_an_offset_trim_leaves_what_its_dac_cannot_cancel():
    """opamp.trim_bits: each amplifier's drawn offset less the nearest code of a DAC
    over +-4 sigma: the same draw, a whole number of LSBs away, within half an LSB of
    zero, spread LSB/sqrt(12); without it the draw is untouched."""
    from analogam.circuit import DeviceConfig
    from analogam.circuit.variation import Variation

    keys = [f"amp{k}" for k in range(2000)]
    raw = DeviceConfig().with_value("opamp.offset_sigma", 6.6e-3)
    x = np.array([Variation(raw).offset(k) for k in keys])
    t = np.array([Variation(raw.with_value("opamp.trim_bits", 5)).offset(k) for k in keys])
    lsb = 8 * 6.6e-3 / 32
    steps = (x - t) / lsb
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    assert np.all(np.abs(t) <= lsb / 2 + 1e-15)
    assert np.std(t) == pytest.approx(lsb / np.sqrt(12), rel=0.1)
    assert np.std(x) == pytest.approx(6.6e-3, rel=0.1)
