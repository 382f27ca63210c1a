"""Beyond equilibrium (docs/design.md section 9): the circuit's own linearisation measured in
ngspice, the coupling asymmetry, the entropy production of the linearised circuit,
and oscillation in a directed coupling."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.compare import Comparison, spice_states
from analogam.compare.equilibrium import (
    coupling_asymmetry,
    detect_oscillation,
    entropy_production,
    entropy_production_floor,
    metric_coupling,
    programmed_coupling,
)
from analogam.errors import CircuitError
from analogam.model import Stimulus, jacobian
from analogam.model.architectures import random_denseam
from analogam.model.binding import bind
from analogam.model.network import Coupling, Group, Model
from analogam.reference import simulate_ode
from analogam.study.checks import dynamics_warnings
from analogam.study.equilibrium import diagnose, linearise
from analogam.study.files import transient_netlist
from analogam.study.runs import run_netlists
from analogam.tasks import bind_task, get_task


def _hamming(model, dual: bool, noise: float = 0.0):
    system = bind_task(model, get_task("hamming74").inputs()[5:6])
    cfg = DeviceConfig().with_values({"conductance.dual_arrays": dual,
                                      "conductance.prog_noise_scale": noise})
    ode = simulate_ode(system)
    # the start (softmax spread over the memories) and the settled state
    return system, CompileOptions("ideal", cfg), np.stack([ode.u[0, 0], ode.u_final[0]])


@pytest.mark.ngspice
def test_the_ideal_single_array_measures_as_a_gradient_flow(hamming_model):
    """Holding the states and offsetting the lines in ngspice gives the model's own
    Jacobian (to the central difference's (beta delta)^2), a symmetric coupling and
    zero entropy production."""
    system, opt, states = _hamming(hamming_model, dual=False)
    lins = linearise(system, states, opt)
    for lin, u in zip(lins, states, strict=True):
        J = jacobian(system, u[None])[0]
        assert np.abs(lin.J - J).max() <= 1e-5 * np.abs(J).max()
        assert np.abs(lin.A - programmed_coupling(system)).max() <= 1e-9
        assert coupling_asymmetry(lin.A, system) <= 1e-9
    # the start is a saddle (the memories compete): no stationary state to speak of
    assert entropy_production(metric_coupling(lins[0].A, lins[0].Dg), lins[0].tau) is None


def _spread(dual: bool, noise: float = 0.0):
    """A random 16x8 DenseAM at beta 2: its fixed point mixes memories, so the softmax
    Jacobian is far from 0 and the coupling matters to the linear dynamics."""
    m = random_denseam(16, 8, seed=0, beta=2.0)
    system = bind(m, Stimulus(1, init={"v": np.random.default_rng(0).uniform(0, 1, (1, 8))}))
    cfg = DeviceConfig().with_values({"conductance.dual_arrays": dual,
                                      "conductance.prog_noise_scale": noise})
    (lin,) = linearise(system, simulate_ode(system).u_final[0], CompileOptions("ideal", cfg))
    S = metric_coupling(lin.A, lin.Dg)
    return entropy_production(S, lin.tau), entropy_production_floor(S, lin.tau)


@pytest.mark.ngspice
def test_entropy_production_is_zero_for_one_array_and_not_for_two_noisy_ones():
    """Below its numerical floor (detailed balance to rounding) and 0.119 k_B per tau_v
    at 10 % programming noise."""
    ep, floor = _spread(dual=False)
    assert 0 < floor < 1e-12 and ep <= floor
    ep, floor = _spread(dual=True, noise=0.1)
    assert ep > 0.05 and ep > 1e6 * floor


@pytest.mark.ngspice
def test_dual_arrays_with_noise_measure_the_programmed_asymmetry(hamming_model):
    """Each array draws its own programming noise: the asymmetry the circuit's
    linearisation shows is the one of the conductances programmed, and the measured
    coupling is the programmed one entry by entry."""
    system, opt, states = _hamming(hamming_model, dual=True, noise=0.1)
    c = build_circuit(system, opt)
    (settled,) = linearise(system, states[1], opt)
    measured = coupling_asymmetry(settled.A, system)
    assert measured == pytest.approx(c.asymmetry, rel=1e-6)
    assert measured > 0.05
    programmed = programmed_coupling(c.system)
    assert np.abs(settled.A - programmed).max() <= 1e-9


def _oscillator(k: float) -> tuple:
    """Two tanh units each way, forward W = 1, backward V^T = k^2 R(120 deg): at 0 the
    Jacobian's eigenvalues are -1 + k e^(+-i 60 deg) (tau 1): growing for k > 2."""
    a = 2 * np.pi / 3
    Vt = k ** 2 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    m = Model("oscillator", (Group("v", 2, "tanh", 1.0, np.zeros(2)),
                             Group("h", 2, "tanh", 1.0, np.zeros(2))),
              (Coupling("c", "h", "v", np.eye(2)),), readout_time=120.0)
    system = bind(m, Stimulus(1, init={"v": np.array([[0.1, 0.0]])}))
    cfg = DeviceConfig().with_values({"conductance.dual_arrays": True,
                                      "conductance.rescale": True})
    return replace(system, backward=(Vt.T[None],)), CompileOptions("ideal", cfg)


@pytest.mark.ngspice
@pytest.mark.parametrize("k", [2.04, 1.8])
def test_a_directed_coupling_oscillates_at_its_linear_period(k):
    system, opt = _oscillator(k)
    c = build_circuit(system, opt)
    (r,) = run_netlists([transient_netlist(c)])
    t, u = spice_states(c, r)
    (lin,) = linearise(system, np.zeros(4), opt)
    d = diagnose(c.system, lin, t, u[0], c.scales.t0)
    assert d.asymmetry == pytest.approx(d.asymmetry_programmed, rel=1e-6)
    if k > 2:
        predicted = 2 * np.pi / (k * np.sin(np.pi / 3))
        assert d.spectrum.period == pytest.approx(predicted, rel=1e-6)
        assert d.oscillation is not None
        assert d.oscillation.period == pytest.approx(d.spectrum.period, rel=0.05)
        assert any("oscillates" in w for w in d.warnings)
        assert any("unstable" in w for w in d.warnings)
    else:       # a damped spiral: the same asymmetry, no oscillation
        assert not d.spectrum.unstable and d.spectrum.max_real == pytest.approx(-0.1, abs=1e-6)
        assert d.oscillation is None and d.warnings == ()


def test_separate_backward_weights_need_dual_arrays():
    system, opt = _oscillator(2.04)
    single = CompileOptions("ideal", opt.config.with_value("conductance.dual_arrays", False))
    with pytest.raises(CircuitError, match="dual arrays"):
        build_circuit(system, single)


def test_entropy_production_of_a_rotating_ou_process():
    """B = I - S with S = [[0, a], [-a, 0]], D = I: Sigma = I and Pi = tr(B^T B) - tr(B)
    = 2 a^2; a symmetric S gives 0."""
    for a in (0.3, 1.0):
        S = np.array([[0.0, a], [-a, 0.0]])
        assert entropy_production(S, np.ones(2)) == pytest.approx(2 * a * a, rel=1e-9)
    sym, tau = np.array([[0.2, 0.5], [0.5, -0.1]]), np.array([1.0, 0.1])
    assert entropy_production(sym, tau) <= entropy_production_floor(sym, tau)
    assert entropy_production(np.array([[2.0, 0.0], [0.0, 0.0]]), np.ones(2)) is None


@pytest.mark.parametrize("gap", [1e-3, 1e-5, 1e-7])
def test_a_nearly_symmetric_coupling_has_its_entropy_production_to_1e8(gap):
    """S = [[0, a], [b, 0]], unit tau: Pi = (a - b)^2 / 2 in closed form (Lyapunov by
    hand). The difference of traces loses it below about 1e-9 tr B; the current's sum
    of squares keeps it to 1e-8 relative, far above its floor."""
    a = 0.3
    S = np.array([[0.0, a], [a + gap, 0.0]])
    assert entropy_production(S, np.ones(2)) == pytest.approx(gap ** 2 / 2, rel=1e-8)
    assert entropy_production_floor(S, np.ones(2)) < 1e-6 * gap ** 2


def _comparison(t, u_spice, u_ode) -> Comparison:
    B = u_spice.shape[0]
    z = np.zeros(B)
    return Comparison(t, u_spice, u_ode, np.zeros(u_spice.shape[:2]), z, z, z, z, 1e-6)


def test_the_circuits_own_trajectory_is_checked_for_oscillation_and_rest(hamming_model):
    """A sustained swing is an oscillation (period from its crossings); a decaying one
    is not; a circuit still moving at the read-out while the ODE rests is flagged."""
    system = bind_task(hamming_model, get_task("hamming74").inputs()[:3])
    t = np.linspace(0, 12, 600)
    N = hamming_model.n_units
    u_ode = np.zeros((3, t.size, N))
    u = np.zeros((3, t.size, N))
    u[0, :, 2] = 0.2 * np.sin(2 * np.pi * t / 1.5)                    # sustained
    u[1, :, 2] = 0.2 * np.exp(-t) * np.sin(2 * np.pi * t / 1.5)       # dies out
    u[2, :, 3] = 0.01 * t                                              # still moving
    w = dynamics_warnings(_comparison(t, u, u_ode), system, ["a", "b", "c"])
    assert len(w) == 2
    assert "oscillates on input a" in w[0] and "period 1.5 tau_v" in w[0]
    assert "not settled at the read-out on 1 of 3" in w[1] and "input c" in w[1]
    osc = detect_oscillation(t, u[0], system.free)
    assert osc.period == pytest.approx(1.5, rel=1e-3) and osc.unit == 2
    assert dynamics_warnings(_comparison(t, u_ode, u_ode), system, ["a", "b", "c"]) == ()


@pytest.mark.ngspice
def test_the_report_carries_the_diagnostics_in_text_and_json(hamming_model):
    """`simulate --equilibrium`: the measured and programmed asymmetry, the entropy
    production and the spectrum, at the read-out and along the transient."""
    from analogam.study import format_report, report_dict, simulate_task
    from analogam.study.equilibrium import diagnose_report

    cfg = DeviceConfig().with_values({"conductance.dual_arrays": True,
                                      "conductance.prog_noise_scale": 0.1})
    x = get_task("hamming74").inputs()[5:6]
    rep = simulate_task(hamming_model, x, CompileOptions("ideal", cfg))
    rep = diagnose_report(hamming_model, rep, 1, along=(0.2,))
    d = report_dict(rep)["nonequilibrium"][0]
    assert d["asymmetry_circuit"] == pytest.approx(d["asymmetry_programmed"], rel=1e-6)
    assert d["asymmetry_programmed"] == pytest.approx(rep.compiled[0].asymmetry, rel=1e-9)
    assert d["entropy_production_per_tau_v"] > 0 and d["jacobian_max_real_per_tau_v"] < 0
    assert len(d["along_trajectory"]) == 1 and rep.warnings == ()
    text = format_report(rep)
    assert "coupling asymmetry" in text and "entropy production" in text
    assert d["entropy_production_below_per_tau_v"] is None


@pytest.mark.ngspice
def test_a_rate_below_its_floor_is_reported_as_a_bound_never_as_zero(hamming_model):
    """One array: the coupling is symmetric to rounding, so the entropy production is
    reported as ``< floor`` in text and JSON (its value field empty), never as 0."""
    from analogam.study import format_report, report_dict, simulate_task
    from analogam.study.equilibrium import diagnose_report

    x = get_task("hamming74").inputs()[5:6]
    rep = diagnose_report(hamming_model, simulate_task(hamming_model, x), 1, along=())
    d = report_dict(rep)["nonequilibrium"][0]
    assert d["entropy_production_per_tau_v"] is None
    assert 0 < d["entropy_production_below_per_tau_v"] < 1e-9
    line = next(ln for ln in format_report(rep).splitlines() if "entropy production" in ln)
    assert "< " in line and "numerical floor" in line and ": 0 k_B" not in line


@pytest.mark.ngspice
def test_a_linearisation_outside_the_devices_safe_region_is_flagged(xor_model):
    """The held operating points are checked against the devices' limits like a
    transient: amplifiers whose swing is too small for the states rail there, and the
    diagnostics say so; with the default swing nothing is flagged."""
    system = bind_task(xor_model, get_task("xor").inputs()[1:2])
    u = simulate_ode(system).u_final[0]
    clean = CompileOptions("opamp")
    tight = CompileOptions("opamp", DeviceConfig().with_values({"opamp.v_pos": 0.5,
                                                                "opamp.v_neg": -0.5}))
    (ok,) = linearise(system, u, clean)
    (bad,) = linearise(system, u, tight)
    assert ok.violations == ()
    assert bad.violations and all(v.stage == "linearisation" for v in bad.violations)
    t = np.linspace(0, 1, 50)
    d = diagnose(system, bad, t, np.repeat(u[None], 50, axis=0), 1e-6)
    assert any("break" in w and "device limit" in w for w in d.warnings)
    assert not any("device limit" in w for w in diagnose(
        system, ok, t, np.repeat(u[None], 50, axis=0), 1e-6).warnings)
