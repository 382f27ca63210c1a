"""The IR's structural checks: each catches the fault it names."""

import pytest

from analogam.circuit import CircuitBuilder
from analogam.circuit.ir import call, num, volt
from analogam.circuit.pdk import SKY130
from analogam.errors import CircuitError, NetlistError
from analogam.netlist import Transient


def base() -> CircuitBuilder:
    b = CircuitBuilder("t")
    b.add("vsource", "in", ("a", "0"), 1.0, role="clamp")
    b.add("resistor", "r1", ("a", "b"), 1e3, role="leak")
    b.add("capacitor", "c1", ("b", "0"), 1e-12, role="integrator")
    return b


def test_valid_circuit_passes_counts_and_finds_roles():
    c = base().freeze()
    assert c.counts() == {"capacitors": 1, "resistors": 1, "sources": 1}
    assert [e.name for e in c.by_role("leak")] == ["r1"]
    assert c.by_role("leak")[0].param("r") == 1e3


@pytest.mark.parametrize("mutate, match", [
    (lambda b: b.add("resistor", "r2", ("b", "dangling"), 1e3, role="load"),
     "floating net 'dangling'"),
    (lambda b: (b.add("capacitor", "c2", ("b", "x"), 1e-12, role="load"),
                b.add("capacitor", "c3", ("x", "0"), 1e-12, role="load")),
     "net 'x' has no DC path"),
    (lambda b: b.add("vsource", "in2", ("a", "0"), 2.0, role="clamp"),
     "loop of ideal voltage sources"),
    (lambda b: (b.add("vcvs", "e1", ("y", "0", "a", "0"), 2.0, role="buffer"),
                b.add("bvoltage", "b1", ("y", "0"), call("max", volt("a"), num(0)),
                      role="activation")),
     "loop of ideal voltage sources"),
    (lambda b: b.add("resistor", "r3", ("a", "0"), -5.0, role="load"), "must be positive"),
    (lambda b: b.add("resistor", "r4", ("a", "0"), float("nan"), role="load"),
     r"r \(ohm\) is nan"),
    (lambda b: b.add("resistor", "r5", ("a", "0"), 1e308 * 10, role="load"), "is inf"),
    (lambda b: b.add("bvoltage", "b3", ("q", "0"), call("exp", num(float("inf"))),
                     role="activation"), "a constant in its expression is inf"),
    (lambda b: b.add("cccs", "f1", ("0", "b"), "nosuch", 1.0, role="copy"),
     "sense 'nosuch' is not defined"),
    (lambda b: b.add("bvoltage", "b2", ("z", "0"), volt("ghost"), role="activation"),
     "undefined net 'ghost'"),
    (lambda b: b.add("resistor", "r1", ("a", "0"), 1.0, role="load"),
     "duplicate element names: Rr1"),
    (lambda b: b.add("resistor", "r6", ("a", "0"), 1.0, role="nonsense"), "unknown role"),
])
def test_structural_faults_are_caught(mutate, match):
    b = base()
    with pytest.raises(CircuitError, match=match):
        mutate(b)
        b.freeze()


@pytest.mark.parametrize("args, match", [
    ((float("inf"), float("inf"), 1e-9), "tstep is inf"),
    ((1e-9, 1e-6, 1e-3), "steps out of range"),
])
def test_transient_records_refuse_bad_times(args, match):
    with pytest.raises(NetlistError, match=match):
        Transient(*args)


def with_buffer(name: str) -> CircuitBuilder:
    """The base circuit with an op-amp buffer instance ``name`` driving a load."""
    from analogam.circuit.blocks.amplifier import opamp_subckt
    from analogam.circuit.kits import OpampKit

    b = base()
    b.subckt(opamp_subckt(OpampKit()))
    b.add("vsource", "dd", ("vdd", "0"), 5.1, role="supply")
    b.add("vsource", "ss", ("vss", "0"), -5.1, role="supply")
    b.add("instance", name, ("b", "o", "o", "o_int", "o_p2", "vdd", "vss"), "anm_opamp",
          role="amplifier")
    b.add("resistor", "load", ("o", "0"), 1e4, role="load")
    return b


def test_subcircuit_instances_are_checked_flattened():
    b = with_buffer("buf")
    c = b.freeze()
    assert c.counts()["amplifiers"] == 1
    b.add("instance", "bad", ("b", "o"), "anm_opamp", role="amplifier")
    with pytest.raises(CircuitError, match="has 2 nets; subcircuit 'anm_opamp' has ports"):
        b.freeze()
    b2 = base()
    b2.add("instance", "ghost", ("a", "b"), "nosuch", role="amplifier")
    with pytest.raises(CircuitError, match="undefined subcircuit 'nosuch'"):
        b2.freeze()


def test_a_block_instance_and_a_device_of_the_same_name_are_refused():
    """Both are X cards: flattened, the instance's name is gone, and ngspice keeps one
    of the two without a word (a kit capacitor named like its integrator's amplifier)."""
    b = with_buffer("int")
    b.freeze()
    b.process = SKY130.process("tt")
    b.add("kit_capacitor", "int", ("b", "o"), 1e-13, SKY130.capacitor.device, 7.0, 7.0,
          role="integrator")
    with pytest.raises(CircuitError, match="duplicate element names: Xint"):
        b.freeze()
