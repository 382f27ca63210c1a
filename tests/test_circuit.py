"""The IR's structural checks: each catches the fault it names."""

import pytest

from analogam.circuit import CircuitBuilder, Transient, call, num, volt
from analogam.errors import CircuitError

TRAN = Transient(1e-9, 1e-6, 1e-9, ())


def base() -> CircuitBuilder:
    b = CircuitBuilder("t")
    b.add("vsource", "in", ("a", "0"), 1.0)
    b.add("resistor", "r1", ("a", "b"), 1e3)
    b.add("capacitor", "c1", ("b", "0"), 1e-12)
    return b


def test_valid_circuit_passes_and_counts():
    c = base().freeze(TRAN)
    assert c.counts() == {"capacitors": 1, "resistors": 1, "sources": 1}


@pytest.mark.parametrize("mutate, match", [
    (lambda b: b.add("resistor", "r2", ("b", "dangling"), 1e3), "floating net 'dangling'"),
    (lambda b: (b.add("capacitor", "c2", ("b", "x"), 1e-12),
                b.add("capacitor", "c3", ("x", "0"), 1e-12)), "net 'x' has no DC path"),
    (lambda b: b.add("vsource", "in2", ("a", "0"), 2.0), "loop of ideal voltage sources"),
    (lambda b: (b.add("vcvs", "e1", ("y", "0", "a", "0"), 2.0),
                b.add("bvoltage", "b1", ("y", "0"), call("max", volt("a"), num(0)))),
     "loop of ideal voltage sources"),
    (lambda b: b.add("resistor", "r3", ("a", "0"), -5.0), "must be positive"),
    (lambda b: b.add("resistor", "r4", ("a", "0"), float("nan")), "r is nan"),
    (lambda b: b.add("cccs", "f1", ("0", "b"), "nosuch", 1.0), "sense 'nosuch' is not defined"),
    (lambda b: b.add("bvoltage", "b2", ("z", "0"), volt("ghost")), "undefined net 'ghost'"),
    (lambda b: b.add("resistor", "r1", ("a", "0"), 1.0), "duplicate element names: Rr1"),
])
def test_structural_faults_are_caught(mutate, match):
    b = base()
    mutate(b)
    with pytest.raises(CircuitError, match=match):
        b.freeze(TRAN)


def test_subcircuit_instances_are_checked_flattened():
    from analogam.compile import opamp_subckt
    from analogam.devices import OpampKit

    b = base()
    b.subckt(opamp_subckt(OpampKit()))
    b.add("instance", "buf", ("b", "o", "o", "o_int"), "anm_opamp")
    b.add("resistor", "load", ("o", "0"), 1e4)
    c = b.freeze(TRAN)
    assert c.counts()["amplifiers"] == 1
    b.add("instance", "bad", ("b", "o"), "anm_opamp")
    with pytest.raises(CircuitError, match="has 2 nets; subcircuit 'anm_opamp' has ports"):
        b.freeze(TRAN)
    b2 = base()
    b2.add("instance", "ghost", ("a", "b"), "nosuch")
    with pytest.raises(CircuitError, match="undefined subcircuit 'nosuch'"):
        b2.freeze(TRAN)
