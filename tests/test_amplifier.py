"""The op-amp macromodel against its datasheet, in ngspice: slew rate, quiescent and
output supply current, gain-bandwidth, the internal clamp; and a rectified unit that
starts off turns on when the ODE says it does."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from analogam.circuit import CompileOptions, build_circuit
from analogam.circuit.blocks.amplifier import OPAMP, opamp_subckt
from analogam.circuit.builder import CircuitBuilder
from analogam.circuit.ir import Meter, Probe
from analogam.circuit.kits import OpampKit
from analogam.compare import compare
from analogam.netlist import format_netlist, transient_for
from analogam.netlist.analysis import Transient
from analogam.reference import simulate_ode
from analogam.spice import simulate_spice

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from test_blocks import cell_system  # noqa: E402

pytestmark = pytest.mark.ngspice


def buffer(kit: OpampKit, v_in: float, load: float, out0: float = 0.0):
    """A unity-gain buffer of ``kit`` on its supplies, input held at ``v_in``, output
    loaded by ``load`` ohm, its internal nodes starting at ``out0`` (a step)."""
    b = CircuitBuilder("buffer")
    vdd, vss = kit.supplies
    b.add("vsource", "dd", ("vdd", "0"), vdd, role="supply")
    b.add("vsource", "ss", ("vss", "0"), vss, role="supply")
    b.add("vsource", "in", ("i", "0"), v_in, role="clamp")
    b.subckt(opamp_subckt(kit))
    b.add("instance", "a", ("i", "o", "o", "oi", "op2", "vdd", "vss"), OPAMP, role="amplifier")
    b.add("resistor", "load", ("o", "0"), load, role="load")
    b.ic.update({"oi": out0, "op2": out0})
    b.probes.append(Probe("o", 0, 0))
    b.meters += [Meter("dd", "supply", -1, vdd, -1.0), Meter("ss", "supply", -1, vss, -1.0)]
    return b.freeze()


def run(c, tstop: float, points: int = 2000):
    r = simulate_spice(format_netlist(c, Transient(tstop / points, tstop, tstop / points)))
    r.raise_for_status()
    return r


def test_slew_rate_quiescent_and_output_current_follow_the_kit():
    kit = OpampKit(slew_rate=5e8, gbw=1e9, iq_per_gbw=2e-12)
    r = run(buffer(kit, 2.0, 1e3), 40e-9)
    v, t = r.voltage("o"), r.time
    slope = np.gradient(v, t)
    assert 0.8 * kit.slew_rate < slope.max() <= 1.02 * kit.slew_rate
    assert abs(v[-1] - 2.0) < 1e-3
    # at rest the positive supply delivers I_q plus the load current, the negative I_q
    i_dd, i_ss = -r.current("dd")[-1], r.current("ss")[-1]
    np.testing.assert_allclose(i_dd, kit.iq + v[-1] / 1e3, rtol=1e-6)
    np.testing.assert_allclose(i_ss, kit.iq, rtol=1e-6)


def test_small_signal_speed_is_set_by_the_gain_bandwidth():
    """A 10 mV step (no slewing): the buffer's time constant scales as 1/GBW."""
    times = []
    for gbw in (1e8, 4e8):
        r = run(buffer(OpampKit(gbw=gbw), 0.01, 1e4), 50 / gbw)
        v, t = r.voltage("o"), r.time
        times.append(t[np.argmax(v >= 0.01 * (1 - np.exp(-1)))])
    # single pole: 1 / (2 pi GBW); the second pole at 3 GBW adds a little
    assert 0.9 / (2 * np.pi * 1e8) < times[0] < 1.6 / (2 * np.pi * 1e8)
    assert times[0] / times[1] == pytest.approx(4.0, rel=0.05)


def test_internal_node_is_clamped_at_the_supplies():
    """Open loop, overdriven: the output rails and the internal node stops at the
    supply (without the clamp it winds up without bound)."""
    kit = OpampKit()
    b = CircuitBuilder("comparator")
    vdd, vss = kit.supplies
    b.add("vsource", "dd", ("vdd", "0"), vdd, role="supply")
    b.add("vsource", "ss", ("vss", "0"), vss, role="supply")
    b.add("vsource", "in", ("i", "0"), 0.5, role="clamp")
    b.subckt(opamp_subckt(kit))
    b.add("instance", "a", ("i", "0", "o", "oi", "op2", "vdd", "vss"), OPAMP, role="amplifier")
    b.add("resistor", "load", ("o", "0"), 1e4, role="load")
    b.ic.update({"oi": 0.0, "op2": 0.0})
    b.probes += [Probe("o", 0, 0), Probe("oi", 0, 1)]
    r = run(b.freeze(), 1e-6)
    assert r.voltage("o")[-1] == pytest.approx(kit.v_pos * 1e4 / (1e4 + kit.r_out), abs=1e-4)
    assert vdd - 1e-3 < r.voltage("oi").max() < vdd + 0.05


def test_rectified_unit_that_starts_off_turns_on_with_the_ode():
    """A ReLU unit off until t = 1.8 (model time) turns on in the opamp-level circuit
    within 0.05 of that, and the whole trajectory stays within 2e-2 of the ODE (a
    railed super-diode took ~16 us to recover: on at 5.7 instead of 0.36)."""
    system = cell_system("relu")
    c = build_circuit(system, CompileOptions(level="opamp"))
    r = simulate_spice(format_netlist(c.circuit, transient_for(c)))
    cmp = compare(c, r, simulate_ode(c.system))
    unit = 3 + 2
    ode, circ = cmp.u_ode[0, :, unit], cmp.u_spice[0, :, unit]
    t_ode, t_circ = cmp.t[np.argmax(ode > 0)], cmp.t[np.argmax(circ > 0)]
    assert ode[0] <= 0 and t_ode > 1.0
    assert abs(t_circ - t_ode) <= 0.05
    assert cmp.max_err.max() <= 2e-2


@pytest.mark.ngspice
def test_the_macromodels_output_current_limit_is_what_the_datasheet_measures():
    """With i_source_max / i_sink_max set (the line `analogam datasheet` fits to the
    kit's Miller amplifier) the macromodel's output delivers no more: the datasheet's
    short-circuit bench reads the limits back; without them only R_out limits it."""
    from analogam.study.datasheet import macromodel_datasheet

    free = macromodel_datasheet(OpampKit())
    limited = macromodel_datasheet(OpampKit(i_source_max=7.76e-3, i_sink_max=98.4e-6))
    assert free.i_sink_a > 0.05 and free.i_source_a > 0.05       # 5 V into R_out 50 ohm
    assert limited.i_source_a == pytest.approx(7.76e-3, rel=1e-3)
    assert limited.i_sink_a == pytest.approx(98.4e-6, rel=1e-3)
    assert limited.gbw_hz == pytest.approx(free.gbw_hz, rel=1e-6)   # small signal as before


@pytest.mark.ngspice
def test_the_fitted_macromodel_fails_where_the_transistors_fail():
    """XOR at G0 = 100 uS: on sky130 2 of 4 answers come out wrong (a losing line must
    sink more than the class-A stage's 98 uA). The op-amp level with the datasheet's
    fitted current limits now gives the same wrong answers; without them it is right."""
    from test_weights import ROOT

    from analogam.circuit import DeviceConfig
    from analogam.model.weights import load_model
    from analogam.study import simulate_task
    from analogam.tasks import get_task

    xor = load_model(ROOT / "models" / "xor.npz")
    x = get_task("xor").inputs()
    base = DeviceConfig().with_value("scales.g0", 1e-4)
    fitted = base.with_values({"opamp.i_source_max": 7.761e-3, "opamp.i_sink_max": 9.84e-5})
    ok = simulate_task(xor, x, CompileOptions("opamp", base))
    bad = simulate_task(xor, x, CompileOptions("opamp", fitted))
    assert ok.accuracy_spice == 1.0
    assert bad.accuracy_spice == 0.5 and bad.comparison.readout_err.max() > 1.0
    assert any(v.quantity == "output current" for v in bad.violations)
