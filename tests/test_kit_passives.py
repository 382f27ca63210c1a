"""The process kit's resistors and capacitors at the pdk level.

Every R and C outside the crossbar is the kit's: its MIM capacitor drawn square to the
value (the kit's own subcircuit in the netlist), its poly resistor as a linear model
of the drawn device (the kit's subcircuit is voltage-dependent: 5.7x the transient's
time on Hamming, and its operating point lands on a spurious solution, docs). The
drawing is held here to the kit's own devices in ngspice: the value, the temperature
coefficient and the substrate capacitance the linear model carries."""

from __future__ import annotations

import numpy as np
import pytest

from analogam.circuit.pdk import SKY130, MimCapacitor
from analogam.circuit.speed import compensate
from analogam.errors import CircuitError
from analogam.netlist.dialect import NgspiceDialect
from analogam.spice.batch import run_batch

OHMS = (2e3, 2e4, 4e5)
FARADS = (SKY130.capacitor.c_min, 1e-13, 8.5e-13)
F = 1e6   # Hz, where the AC benches read admittances


def _bench(lines: list[str], analysis: str, temp: float = 27.0) -> dict:
    kit = SKY130.process("tt", reference=True)    # with the resistor's own subcircuits
    text = "\n".join(["* kit passives bench", *NgspiceDialect().process(kit),
                      *lines, f".temp {temp}", analysis, ".end"]) + "\n"
    r = run_batch(text)
    assert r.success, r.message
    return r.vectors


def _kit_resistors() -> list[str]:
    """Each resistor as the kit's own subcircuit at the drawn size, its body grounded,
    driven with 10 mV DC and 1 V AC at one end, the other end grounded."""
    out = []
    for k, r in enumerate(OHMS):
        device, w, length = SKY130.resistor.draw(r)
        out += [f"V{k} a{k} 0 DC 0.01 AC 1", f"X{k} a{k} 0 0 {device} w={w} l={length}"]
    return out


def _current(v: dict, k: int) -> np.ndarray:
    return -v[f"i(v{k})"]


@pytest.mark.ngspice
def test_the_kits_resistor_is_drawn_to_its_value_and_its_linear_model_follows_it():
    """The drawn poly resistor measures its designed value (the contact ends included)
    at 27 degC; at 85 degC the kit's device and the linear model's R (1 + tc1 dT + tc2
    dT^2) agree; the device's substrate capacitance at the driven end is the half the
    model puts there."""
    at27 = _bench(_kit_resistors(), ".op")
    at85 = _bench(_kit_resistors(), ".op", 85.0)
    ac = _bench(_kit_resistors(), f".ac lin 1 {F:g} {F:g}")
    for k, r in enumerate(OHMS):
        assert 0.01 / float(np.real(_current(at27, k))[-1]) == pytest.approx(r, rel=2e-3)
        tc1, tc2, c_sub = SKY130.resistor.linear(r)
        hot = r * (1 + tc1 * 58 + tc2 * 58 ** 2)
        assert 0.01 / float(np.real(_current(at85, k))[-1]) == pytest.approx(hot, rel=3e-3)
        assert hot < 0.95 * r        # the coefficient is real: -6 to -8 % at 85 degC
        c_end = float(np.imag(_current(ac, k))[0]) / (2 * np.pi * F)
        assert c_end == pytest.approx(c_sub / 2, rel=0.03)


@pytest.mark.ngspice
def test_the_kits_capacitor_is_drawn_to_its_value():
    """The MIM capacitor drawn square measures its value, the smallest the kit draws
    (1 um, DRC capm.1) included; below it the kit refuses with the key that keeps
    integrators above it."""
    lines = []
    for k, c in enumerate(FARADS):
        (e,) = SKY130.passive("capacitor", f"c{k}", (f"a{k}", "0"), (c,), "integrator")
        lines += [f"V{k} a{k} 0 DC 0 AC 1", NgspiceDialect().element(e)]
    ac = _bench(lines, f".ac lin 1 {F:g} {F:g}")
    for k, c in enumerate(FARADS):
        assert float(np.imag(_current(ac, k))[0]) / (2 * np.pi * F) == pytest.approx(c, rel=2e-3)
    with pytest.raises(CircuitError, match="below the smallest.*design.c_min"):
        SKY130.capacitor.draw(0.5 * SKY130.capacitor.c_min)
    with pytest.raises(CircuitError, match="needs a .* um square"):
        SKY130.capacitor.draw(1e-8)


def test_a_resistor_the_kit_cannot_draw_is_refused_and_the_narrowest_width_draws_it():
    device, w, length = SKY130.resistor.draw(1e5)
    assert w == 0.35 and length == pytest.approx((1e5 - 587.7) * 0.35 / 2000, abs=1e-4)
    assert SKY130.resistor.draw(2e3)[1] == 0.69      # too short at 0.35 um
    with pytest.raises(CircuitError, match="below the shortest"):
        SKY130.resistor.draw(50.0)
    with pytest.raises(CircuitError, match="lower the impedance"):
        SKY130.resistor.draw(1e9)


def test_a_capacitor_the_kit_draws_is_the_size_its_formula_gives():
    cap = MimCapacitor("mim", density=2e-15, perimeter=0.19e-15, edge=-0.025, side_min=1.0,
                       side_max=100.0)
    for c in (cap.c_min, 3e-14, 2e-12):
        assert cap.farads(cap.draw(c)[1]) == pytest.approx(c, rel=1e-4)


def test_an_integrator_is_never_compensated_below_the_smallest_capacitor():
    """C' = (C - G/w)/(1 + 1/A0) may fall below what the kit draws (XOR's hidden units
    asked for 1.8 fF): it stays at c_min, and the unit is reported amplifier-paced with
    the effective time constant that capacitor gives."""
    free = compensate(1e-14, 1e-5, 3e-5, 3.65e7, 6906.0, 0.05)
    floored = compensate(1e-14, 1e-5, 3e-5, 3.65e7, 6906.0, 0.05, c_min=2.64e-15)
    assert free.c < 2.64e-15 and floored.c == 2.64e-15 and floored.limited
    assert floored.tau_eff_s > free.tau_eff_s
    assert compensate(1e-12, 1e-5, 3e-5, 3.65e7, 6906.0, 0.05, c_min=2.64e-15).c > 2.64e-15


def _xor(level: str, **cfg):
    from test_weights import ROOT

    from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
    from analogam.model.weights import load_model
    from analogam.tasks import bind_task, task_for

    m = load_model(ROOT / "models" / "xor.npz")
    return build_circuit(bind_task(m, task_for(m).inputs()[:1]),
                         CompileOptions(level, DeviceConfig().with_values(cfg)))


def test_the_crossbar_lines_are_the_kits_metal_at_pdk():
    """Each line a ladder of the kit's met1 (0.89 ohm and 0.22 fF per cell at a 1 um
    pitch), reported as set by the kit; a layout's own values are honoured; on ideal
    wires the line capacitance sits on the line, one cell's worth per cell."""
    metal = SKY130.metal
    assert metal.r_per_cell == pytest.approx(0.125 / 0.14)
    assert metal.c_per_cell == pytest.approx(2.58e-17 * 0.14 + 2 * 1.07e-16)
    c = _xor("pdk")
    els = c.circuit.elements
    wires = [e for e in els if e.role == "wire"]
    caps = [e for e in els if e.role == "parasitic" and e.name.split("_")[-1].startswith("c")
            and e.nets[0] in {w.nets[1] for w in wires}]
    assert wires and all(e.value == pytest.approx(metal.r_per_cell) for e in wires)
    assert len(caps) == len(wires) and all(
        e.value == pytest.approx(metal.c_per_cell) for e in caps)
    assert {k.key: k.value for k in c.kit_settings}["wire.r_per_cell"] == metal.r_per_cell
    mine = _xor("pdk", **{"wire.r_per_cell": 5.0})
    assert {e.value for e in mine.circuit.elements if e.role == "wire"} == {5.0}
    assert "your value" in next(k.why for k in mine.kit_settings if k.key == "wire.r_per_cell")
    lumped = _xor("opamp", **{"wire.c_per_cell": 1e-15})
    cw = {e.nets[0]: e.value for e in lumped.circuit.elements if e.name.endswith("_cw")}
    cells = {}
    for e in lumped.circuit.elements:
        if e.role == "crossbar":
            for net in e.nets:
                cells[net] = cells.get(net, 0) + 1
    assert cw and cw == pytest.approx({net: k * 1e-15 for net, k in cells.items()})


def test_wires_on_a_dual_array_are_refused_not_ignored():
    with pytest.raises(CircuitError, match="dual array's lines are ideal wires"):
        _xor("ideal", **{"conductance.dual_arrays": True, "wire.r_per_cell": 1.0})
