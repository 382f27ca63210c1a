"""Dual arrays (one crossbar per direction, columns at virtual ground, no
self-compensation): the model's dynamics when the arrays agree, a copy's gain error
that reaches the state unamplified, and independent programming noise per array."""

from __future__ import annotations

import numpy as np
import pytest
from test_weights import ROOT

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.errors import CircuitError
from analogam.model.weights import load_model
from analogam.study import simulate_task
from analogam.tasks import bind_task, get_task


def hamming(dual: bool, inputs=slice(None, None, 8), **cfg):
    m = load_model(ROOT / "models" / "hamming74.npz")
    config = DeviceConfig().with_values({"conductance.dual_arrays": dual, **cfg})
    return simulate_task(m, get_task(m.task).inputs()[inputs], CompileOptions("ideal", config),
                         reference="nominal")


@pytest.mark.ngspice
def test_dual_arrays_follow_the_model_with_each_cell_twice_and_no_self_term():
    single, dual = hamming(False), hamming(True)
    assert dual.comparison.max_err.max() <= 1e-3 and dual.agreement == 1.0
    els = dual.compiled[0].circuit.elements
    cells = [e for e in els if e.role == "crossbar"]
    assert len(cells) == 2 * sum(e.role == "crossbar" for e in single.compiled[0].circuit.elements)
    assert not any(e.role in ("self", "inverter") for e in els)


@pytest.mark.ngspice
def test_a_copy_gain_error_is_not_amplified_by_the_fan_in():
    """sigma 1e-2 on every copy: the self-compensated array's read-out error is the
    difference of two large currents (Hamming, 32 of its words: 0.30); the dual arrays'
    copies carry the useful current itself (0.06)."""
    single = hamming(False, slice(None, None, 4), **{"sense.copy_gain_sigma": 1e-2})
    dual = hamming(True, slice(None, None, 4), **{"sense.copy_gain_sigma": 1e-2})
    assert dual.comparison.readout_err.max() < 0.3 * single.comparison.readout_err.max()


def test_each_array_draws_its_own_programming_noise(hamming_model):
    """Relative noise sigma on each array independently: ||G_f - G_b|| / ||G_f + G_b||
    is sigma / sqrt(2) (to sampling error); without noise the arrays are equal."""
    system = bind_task(hamming_model, get_task("hamming74").inputs()[:1])
    cfg = DeviceConfig().with_value("conductance.dual_arrays", True)
    assert build_circuit(system, CompileOptions("ideal", cfg)).asymmetry == 0.0
    noisy = cfg.with_value("conductance.prog_noise_scale", 0.1)
    a = build_circuit(system, CompileOptions("ideal", noisy)).asymmetry
    assert a == pytest.approx(0.1 / np.sqrt(2), rel=0.25)


def test_dual_arrays_are_refused_at_the_opamp_level(hamming_model):
    system = bind_task(hamming_model, get_task("hamming74").inputs()[:1])
    cfg = DeviceConfig().with_value("conductance.dual_arrays", True)
    with pytest.raises(CircuitError, match="builds no dual arrays.*ideal, bjt"):
        build_circuit(system, CompileOptions("opamp", cfg))


@pytest.mark.ngspice
def test_the_realised_reference_holds_both_noisy_arrays():
    """With 10 % noise drawn per array the circuit is a directed coupling; the realised
    ODE integrates it (W forward, V backward) and the circuit follows it to the read-out
    (the forward array alone as reference: 0.175 off on 1011000)."""
    m = load_model(ROOT / "models" / "hamming74.npz")
    config = DeviceConfig().with_values({"conductance.dual_arrays": True,
                                         "conductance.prog_noise_scale": 0.1})
    rep = simulate_task(m, get_task(m.task).inputs()[::16], CompileOptions("ideal", config))
    c = rep.compiled[0]
    assert c.system.backward is not None
    assert not np.allclose(c.system.backward[0], c.system.weights[0])
    assert rep.comparison.readout_err.max() <= 1e-6 and rep.fidelity == ()


def test_a_directed_system_relaxes_to_its_own_fixed_point(hamming_model):
    """The compiled ODE kernel and the model's force agree on a directed coupling: the
    kernel's settled state is a fixed point of the force with V, not of the one with W."""
    from dataclasses import replace

    from analogam.model import residual
    from analogam.reference import simulate_ode

    system = bind_task(hamming_model, get_task("hamming74").inputs()[[5, 40, 77, 120]])
    W = system.weights[0]
    V = W * np.random.default_rng(0).uniform(0.7, 1.3, W.shape)
    directed = replace(system, backward=(V,))
    u = simulate_ode(directed).u_final
    assert residual(directed, u).max() < 1e-4
    assert residual(system, u).max() > 1e-2


@pytest.mark.ngspice
def test_a_hidden_line_with_no_backward_cell_is_not_built():
    """XOR's inputs are clamped, so the backward array has no cell on a hidden line
    whose weights all reach clamped units: that line's driver is not built (it used to
    hang alone: "floating net 'l_h_3'"), and the circuit answers as the ODE does."""
    m = load_model(ROOT / "models" / "xor.npz")
    cfg = DeviceConfig().with_value("conductance.dual_arrays", True)
    rep = simulate_task(m, get_task(m.task).inputs(), CompileOptions("ideal", cfg))
    assert rep.accuracy_spice == 1.0 and rep.agreement == 1.0
    assert rep.comparison.max_err.max() <= 1e-3
