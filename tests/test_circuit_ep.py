"""Equilibrium propagation run by the circuit: the free and nudged phases are ngspice
transients of the circuit as programmed, the update the product of its settled line
voltages."""

from __future__ import annotations

import numpy as np
import pytest
from test_weights import ROOT

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.circuit.probe import nudge_circuit
from analogam.errors import CircuitError
from analogam.model.weights import load_model
from analogam.study.circuit_ep import circuit_ep_gradient, circuit_phases, train_in_circuit
from analogam.tasks import bind_task, task_for
from analogam.train.data import task_loss
from analogam.train.gradients import cosine, ep_gradient
from analogam.train.relax import relax

BETA = 0.1


def _xor(**cfg):
    m = load_model(ROOT / "models" / "xor_ep.npz")
    x = task_for(m).inputs()
    config = DeviceConfig().with_values({"conductance.rescale": True, **cfg})
    return m, x, config


@pytest.mark.ngspice
def test_one_circuit_step_is_the_digital_ep_update():
    """An ideal circuit without device errors: the in-circuit gradient equals the digital
    trainer's symmetric EP estimate at the same beta (measured: cosine 1 - 3e-13, largest
    difference 7e-8 against entries up to 5e-3)."""
    m, x, config = _xor()
    system, loss = bind_task(m, x), task_loss(m, x)
    ph = circuit_phases(system, loss, BETA, CompileOptions("ideal", config))
    circuit = circuit_ep_gradient(system, ph, BETA)
    digital = ep_gradient(system, relax(system, tol=1e-9), loss, BETA, tol=1e-9).grads
    assert cosine(circuit, digital) > 1 - 1e-9
    assert ph.findings == {}
    for k, g in circuit.items():
        assert np.abs(g - digital[k]).max() <= 1e-3 * np.abs(digital[k]).max(), k


@pytest.mark.ngspice
def test_each_phase_gets_the_checks_a_transient_gets():
    """Read out at a twentieth of the model's read-out time, the phases are still moving:
    each says so, by phase and input, and the training record keeps it per step."""
    from dataclasses import replace

    m, x, config = _xor()
    early = replace(m, readout_time=m.readout_time / 20)
    res = train_in_circuit(early, x, lambda model: task_loss(model, x),
                           CompileOptions("ideal", config), steps=0, lr=0.01, beta=BETA)
    (found,) = res.findings
    lines = found["dynamics"]
    assert any(ln.startswith("free phase, input 0: still moving") for ln in lines)
    assert any(ln.startswith("nudged phase") for ln in lines)


@pytest.mark.ngspice
def test_ep_in_the_circuit_recovers_what_the_noisy_chip_loses():
    """Dual arrays programmed with 40 % noise (chip sample 1): the digitally trained XOR
    deployed there gets 2 of 4; three in-circuit EP steps get 4 of 4 (two ngspice runs
    per input and step)."""
    m, x, config = _xor(**{"conductance.dual_arrays": True,
                           "conductance.prog_noise_scale": 0.4})
    res = train_in_circuit(m, x, lambda model: task_loss(model, x),
                           CompileOptions("ideal", config, sample=1), steps=3, lr=0.01,
                           beta=BETA)
    assert res.accuracy[0] == 0.5 and res.accuracy[-1] == 1.0
    assert res.loss[-1] < 0.05 * res.loss[0]
    assert res.runs_per_update == 8   # per input: its free phase, its two nudged copies


def test_nudging_needs_a_grounded_integrator(hamming_model):
    system = bind_task(hamming_model, task_for(hamming_model).inputs()[:1])
    c = build_circuit(system, CompileOptions("opamp"))
    units = np.ones(hamming_model.n_units, bool)
    with pytest.raises(CircuitError, match="ideal or bjt"):
        nudge_circuit(c, np.ones(1), np.zeros((1, hamming_model.n_units)), units)
