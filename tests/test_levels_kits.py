"""Levels and kits as data: what a kit decides is reported and a user's value for it is
honoured or refused (never dropped), a kit's sizes are checked with a one-line error,
the options travel whole into Monte Carlo (the corner reaches ngspice and the results
key), the activation registry is the only place an activation is described, and the
command line reads its choices from the registries."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from test_weights import ROOT

from analogam.circuit import LEVELS, CompileOptions, DeviceConfig, build_circuit
from analogam.circuit.blocks.devices import BIAS_DROP
from analogam.circuit.pdk import SKY130, MirrorSizing
from analogam.errors import CircuitError, ModelError
from analogam.model import activations
from analogam.model.weights import load_model
from analogam.reference.ode import METHODS
from analogam.reference.spec import spec_of
from analogam.tasks import bind_task


def _xor():
    m = load_model(ROOT / "models" / "xor.npz")
    return m, bind_task(m, np.array([[0, 1]]))


def _pdk(**keys):
    return CompileOptions("pdk", DeviceConfig().with_values(keys))


def test_what_the_kit_decides_is_reported_and_a_bias_choice_is_honoured():
    _, s = _xor()
    c = build_circuit(s, _pdk())
    got = {k.key: k for k in c.kit_settings}
    assert got["opamp.gbw"].value == SKY130.amplifier["gbw"]
    assert got["opamp.gbw"].was == DeviceConfig().opamp.gbw
    assert got["bjt.i_tail"].value == SKY130.npn_tail
    mine = build_circuit(s, _pdk(**{"bjt.i_tail": 5e-5}))
    assert mine.options.config.bjt.i_tail == 5e-5
    assert "your value" in {k.key: k for k in mine.kit_settings}["bjt.i_tail"].why
    # the bias generator sets BIAS_DROP across its reference resistor
    refs = [e for e in mine.circuit.elements if e.role == "tail" and e.name.endswith("_rref")]
    assert refs and all(BIAS_DROP / e.values[0] == pytest.approx(5e-5) for e in refs)


@pytest.mark.parametrize("key, value", [("opamp.gbw", 1e8), ("bjt.bf", 50.0),
                                        ("opamp.v_pos", 3.0)])
def test_a_users_value_for_a_device_property_of_the_kit_is_refused(key, value):
    _, s = _xor()
    with pytest.raises(CircuitError, match=f"{key} = .* is decided by process kit sky130"):
        build_circuit(s, _pdk(**{key: value}))


def test_a_size_the_kit_cannot_make_is_one_line_naming_the_device():
    _, s = _xor()
    big = replace(SKY130, l_min=5.0)
    with pytest.raises(CircuitError, match="cmos_opamp m1: W=8 L=1 um is below"):
        big.check_size("cmos_opamp m1", 8.0, 1.0)
    small = replace(SKY130, tail_mirror=MirrorSizing(0.1, 4.0, 0.8))
    with pytest.raises(CircuitError, match="below process kit sky130's minimum"):
        small.check_size("tail", small.tail_mirror.w, small.tail_mirror.l)


def test_options_digest_covers_kit_and_corner():
    a = CompileOptions("pdk")
    assert a.digest() == CompileOptions("pdk").digest()
    assert a.digest() != CompileOptions("pdk", corner="ss").digest()
    assert a.digest() != CompileOptions("opamp").digest()


@pytest.mark.ngspice
def test_montecarlo_at_the_pdk_level_runs_on_the_corner_it_was_given(tmp_path):
    from analogam.study.montecarlo import monte_carlo

    m, _ = _xor()
    out = tmp_path / "mc.json"
    res = monte_carlo(m, np.array([[1, 0]]), CompileOptions("pdk", corner="ss"), 1,
                      scheduler="serial", results=out)
    rec = next(iter(res["records"].values()))
    assert not rec.get("failed") and rec["accuracy"] == 1.0
    import json

    head = json.loads(out.read_text())
    assert head["corner"] == "ss" and head["level"] == "pdk"
    # the netlist that ran includes the ss models
    from analogam.study.build import compile_system
    from analogam.study.files import transient_netlist

    c = compile_system(bind_task(m, np.array([[1, 0]])), CompileOptions("pdk", corner="ss"))
    assert "__ss.corner.spice" in transient_netlist(c[0])


def test_an_activation_the_kernel_does_not_implement_is_an_error(monkeypatch):
    m, s = _xor()
    fake = replace(activations.ACTIVATIONS["softmax"], name="softmax", code=9)
    monkeypatch.setitem(activations.ACTIVATIONS, "softmax", fake)
    with pytest.raises(ModelError, match="kernel code 9"):
        spec_of(s)


def test_output_ranges_come_from_the_registry():
    from analogam.circuit.plan import line_swing

    m, _ = _xor()
    # identity visible in [-1, 2], softmax hidden in [0, 1]: the widest gap is 2 - 0
    ranges = (("v", -1.0, 2.0), ("h", -3.0, 3.0))
    assert line_swing(m, ranges) == pytest.approx(2.0)
    assert activations.get_activation("relu").output_range(-2.0, 3.0) == (0.0, 3.0)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "analogam_cli.main", *args],
                          capture_output=True, text=True, timeout=120)


def test_the_command_lines_choices_are_the_registries():
    sim = _cli("simulate", "--help").stdout
    assert "[" + "|".join(LEVELS) + "]" in sim
    ode = _cli("ode", "--help").stdout
    assert "[" + "|".join(METHODS) + "]" in ode.replace("\n", "").replace(" ", "")
    assert "[default: auto]" in " ".join(ode.split())
    bad = _cli("compile", str(ROOT / "models" / "xor.npz"), "--level", "nope")
    assert bad.returncode == 1 and "not one of ideal, bjt, opamp, pdk" in bad.stderr
    assert "Traceback" not in bad.stderr
