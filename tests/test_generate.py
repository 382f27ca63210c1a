"""Autoregressive generation through the circuit: parity8 as a generator must follow
``x_(n+1) = x_(n-7) xor ... xor x_n``, token by token, in ngspice and in the ODE."""

from __future__ import annotations

import numpy as np
import pytest
from test_weights import ROOT

from analogam.errors import CircuitError
from analogam.model.weights import load_model
from analogam.study import generate
from analogam.study.generate import rule_sequence
from analogam.tasks import get_task


def xor_recurrence(start: np.ndarray, n: int) -> np.ndarray:
    seq = list(start)
    for _ in range(n):
        seq.append(int(np.bitwise_xor.reduce(seq[-8:])))
    return np.asarray(seq[8:])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_rule_of_parity8_is_the_xor_recurrence(seed):
    start = np.random.default_rng(seed).integers(0, 2, 8)
    np.testing.assert_array_equal(rule_sequence(get_task("parity8"), start, 64),
                                  xor_recurrence(start, 64))


@pytest.mark.ngspice
def test_parity8_generates_the_recurrence_through_the_circuit():
    """16 tokens from a start string: every token the circuit decodes equals the
    recurrence and the ODE's own generation; each step reprograms the cells of one
    attention unit at most (the oldest token's), and the circuit follows the ODE on
    every window."""
    m = load_model(ROOT / "models" / "parity8.npz")
    start = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    g = generate(m, start, 16)
    np.testing.assert_array_equal(g.rule, xor_recurrence(start, 16))
    np.testing.assert_array_equal(g.circuit, g.rule)
    np.testing.assert_array_equal(g.ode, g.rule)
    assert g.correct and g.warnings == ()
    assert g.max_err.max() <= 1e-3
    # before token n the circuit's token n-1 replaced the sequence's token n-1 (eight
    # back): equal tokens reprogram nothing
    seq = np.concatenate([start, g.circuit])
    same = g.circuit[:-1] == seq[:15]
    assert (g.cells_reprogrammed[1:][same] == 0).all()
    assert (g.cells_reprogrammed[1:][~same] > 0).all()
    assert (g.settle_s > 0).all()


def test_a_task_that_does_not_emit_one_bit_cannot_generate(hamming_model):
    with pytest.raises(CircuitError, match="one bit per input"):
        generate(hamming_model, np.zeros(7, int), 2)


@pytest.mark.ngspice
def test_cli_generates_writes_json_and_refuses_what_cannot_generate(tmp_path):
    """`analogam generate`: XOR as a generator (x_(n+1) = x_(n-1) xor x_n) from 01 gives
    1, 0, 1, 1, 0, 1; the JSON report holds the three sequences; a task that does not
    emit one bit exits 1 with one line and writes nothing."""
    import json

    from test_robustness import cli

    out = tmp_path / "gen.json"
    r = cli("generate", ROOT / "models" / "xor.npz", "--start", "0 1", "--tokens", 6,
            "--scheduler", "serial", "-o", out)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["circuit"] == d["ode"] == d["rule"] == "101101"
    bad = tmp_path / "bad.json"
    r = cli("generate", ROOT / "models" / "hamming74.npz", "--start", "1011001", "-o", bad)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "one bit per input" in r.stderr and not bad.exists()


def test_a_task_that_depends_on_the_order_cannot_use_the_ring(xor_model):
    """The window is a ring (the oldest unit reprogrammed), so a task whose answer
    depends on the order of its context is refused before anything is simulated."""
    from dataclasses import replace

    first_bit = replace(get_task("xor"), target=lambda b: b[:, :1])
    with pytest.raises(CircuitError, match="order of its context"):
        generate(xor_model, np.array([0, 1]), 2, task=first_bit)
