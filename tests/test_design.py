"""Design checks before simulating: the wire-resistance instability threshold against
what ngspice does on either side of it, and the op-amp integrators' bandwidth."""

from __future__ import annotations

import numpy as np
import pytest
from test_operating_point import memories_8x32, run
from test_weights import ROOT

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.circuit.design import _ladders as ladders
from analogam.circuit.design import effective_coupling, wire_stability
from analogam.errors import CircuitError, SimulationError
from analogam.model import with_parameters
from analogam.model.architectures import random_denseam
from analogam.model.weights import load_model
from analogam.reference import simulate_ode
from analogam.study import simulate_task
from analogam.tasks import bind_task, get_task, task_for

HAMMING_R_STAR = 155.0   # ohm per cell, from the linearisation (see below)


def hamming(r: float, level: str = "opamp", strict: bool = False, word: int = 20):
    m = load_model(ROOT / "models" / "hamming74.npz")
    x = get_task(m.task).inputs()[word:word + 1]
    cfg = DeviceConfig().with_value("wire.r_per_cell", r)
    return simulate_task(m, x, CompileOptions(level=level, config=cfg), strict=strict)


def test_effective_coupling_tends_to_the_model_weights_as_wires_vanish(hamming_model):
    """``A(r) -> W`` as r -> 0 (the Schur complement of the ladders onto the line ends
    is the crossbar's own conductance matrix), and the self term it leaves grows
    linearly in r."""
    system = bind_task(hamming_model, get_task("hamming74").inputs()[:1])
    c = build_circuit(system)
    lad = ladders(c.system, c.scales.g0)
    xi = c.system.weights[0][0]
    h, v = hamming_model.slices["h"], hamming_model.slices["v"]
    A1, A2 = (effective_coupling(lad, r, c.scales.g0) for r in (1e-2, 2e-2))
    np.testing.assert_allclose(A1[h, v], xi, atol=1e-3)
    np.testing.assert_allclose(A1[v, h], xi.T, atol=1e-3)
    d1, d2 = np.diag(A1), np.diag(A2)
    wired = lad.gsum > 0
    assert (d1[wired] > 0).all() and (d1[~wired] == 0).all()
    np.testing.assert_allclose(d2[wired] / d1[wired], 2.0, rtol=1e-2)


@pytest.mark.ngspice
def test_instability_threshold_is_where_the_circuit_runs_away():
    """Below the predicted threshold the opamp-level Hamming circuit settles inside its
    swing; above it the line amplifiers rail, the run is flagged before simulating
    (a warning naming the threshold) and after (railed amplifiers)."""
    m = load_model(ROOT / "models" / "hamming74.npz")
    system = bind_task(m, get_task(m.task).inputs())
    c = build_circuit(system.select(slice(0, 1)))
    ws = wire_stability(system, simulate_ode(system).u_final, c.scales.g0, 100.0)
    assert ws.threshold == pytest.approx(HAMMING_R_STAR, rel=0.03) and ws.rate < 0
    below = hamming(0.8 * HAMMING_R_STAR)
    assert below.violations == () and below.preflight == ()
    assert below.comparison.readout_err.max() < 0.1
    above = hamming(1.6 * HAMMING_R_STAR)
    assert any("unstable" in w and "155 ohm/cell" in w for w in above.preflight)
    assert any(v.stage == "simulated" and "swing" in v.quantity for v in above.violations)


@pytest.mark.ngspice
def test_a_kiloohm_per_cell_is_flagged_before_simulating():
    """Refused under --strict; otherwise the ideal-level run (exponentials overflow,
    ngspice stops) fails with the prediction in its message."""
    with pytest.raises(CircuitError, match=r"pre-flight check failed.*1000 ohm/cell makes "
                                           r"the circuit unstable"):
        hamming(1000.0, level="ideal", strict=True)
    with pytest.raises(SimulationError, match=r"did not converge.*the design check "
                                              r"predicted it: wire resistance 1000"):
        hamming(1000.0, level="ideal")


# the 8x32 DenseAM at Vs = 1 V swings over -5.1 .. 12.6 V: a supply span these
# bandwidth tests accept, while the design check (tested below) refuses it by default
WIDE = {"opamp.max_supply_span": 20.0}
TRAJECTORY = {"design.fidelity": "trajectory", **WIDE}


@pytest.mark.ngspice
def test_under_the_trajectory_policy_bandwidth_slows_the_time_scale():
    """The 8x32 DenseAM at a fixed 1 us time scale, uncompensated: its integrators run
    slower than their tau while they move, which the trajectory policy names; left
    automatic, the time scale slows until the stretch is within the limit, and the
    circuit then follows the ODE's path within the level's tolerance."""
    m = memories_8x32()
    plain = {**TRAJECTORY, "design.compensate": False}
    fixed = run(m, "opamp", **plain, **{"scales.t0": 1e-6})
    assert any("integrator" in w and "slower than its tau" in w for w in fixed.preflight)
    assert fixed.design.bandwidth.error > fixed.design.bandwidth_limit
    assert fixed.comparison.max_err.max() > 2e-2
    auto = run(m, "opamp", **plain)
    assert auto.preflight == ()
    assert auto.design.bandwidth.error <= auto.design.bandwidth_limit
    assert any("T0 slowed" in n for n in auto.compiled[0].circuit.notes)
    assert auto.compiled[0].scales.t0 > 1e-6
    assert auto.comparison.max_err.max() <= 2e-2


@pytest.mark.ngspice
def test_compensation_restores_the_path_and_the_answer_policy_judges_the_answer():
    """The same circuit at the same 1 us, judged by its answer: no warning either way
    (the fixed point does not move). Programming C' = C - G_node / w_u brings the
    trajectory back to the ODE's (the check that fails without the compensation: the
    uncompensated path is several times further off)."""
    m = memories_8x32()
    off = run(m, "opamp", **WIDE, **{"scales.t0": 1e-6, "design.compensate": False})
    on = run(m, "opamp", **WIDE, **{"scales.t0": 1e-6})
    for rep in (off, on):
        assert rep.preflight == () and rep.fidelity == () and rep.agreement == 1.0
        assert rep.comparison.readout_err.max() <= 2e-2
    assert on.comparison.max_err.max() <= 2e-2
    assert off.comparison.max_err.max() > 3 * on.comparison.max_err.max()
    assert all(u.stretch == pytest.approx(1.0, abs=1e-9) for u in on.compiled[0].speeds
               if not u.limited)


@pytest.mark.ngspice
def test_translinear_emitter_charge_is_checked_and_the_time_scale_follows_it():
    """The 32x128 DenseAM at the bjt level (beta 10: the softmax emitter travels 2.4 V
    over a transient): at a fixed 1 us time scale the 128 transistors' emitter
    capacitance takes several percent of the tail while it moves; the check names it
    before simulating, and the circuit does leave the ODE by more than the level's
    tolerance. Left automatic, the time scale slows until the charge is within the
    limit and the circuit follows the ODE."""
    m = random_denseam(128, 32, seed=0)
    fixed = run(m, "bjt", **TRAJECTORY, **{"scales.t0": 1e-6})
    em = fixed.design.emitter
    assert em.group == "h" and em.error > 10 * fixed.design.bandwidth_limit
    assert any("shared emitter" in w for w in fixed.preflight)
    assert fixed.comparison.max_err.max() > 0.1
    auto = run(m, "bjt", **TRAJECTORY)
    assert auto.preflight == () and auto.design.emitter.error <= auto.design.bandwidth_limit
    assert any("T0 slowed" in n for n in auto.compiled[0].circuit.notes)
    assert auto.comparison.max_err.max() <= 2e-2


@pytest.mark.ngspice
def test_a_circuit_off_its_ode_beyond_the_level_tolerance_is_flagged():
    """10 ohm/cell on Hamming is stable (below r* = 155), so no design check fires, yet
    on the word 1111111 the circuit settles 0.29 from its ODE with the right answer: the
    check names the error and the level's tolerance, and --strict refuses the result.
    Ideal wires pass it."""
    off = hamming(10.0, level="ideal", word=15)
    assert off.design.warnings == () and off.agreement == 1.0
    assert off.comparison.readout_err.max() > 0.1
    assert len(off.fidelity) == 1 and "tolerance 0.001" in off.fidelity[0]
    with pytest.raises(CircuitError, match="fidelity check failed"):
        hamming(10.0, level="ideal", strict=True, word=15)
    assert hamming(0.0, level="ideal", word=15).fidelity == ()


def test_rails_no_supply_gives_are_refused_with_the_group_and_the_vs_that_fits():
    """States of hundreds of model units (a character model's attention biases reached
    -310) at Vs = 1 V ask for rails past +-100 V: one line naming the group, its range
    and a Vs that fits, which then compiles."""
    from analogam.study.build import compile_system, with_design_range

    m = random_denseam(4, 8, seed=0)
    m = with_parameters(m, {"group.h.bias": np.full(4, -300.0)})
    t = task_for(m)
    system = bind_task(m, t.inputs()[:1], t)
    ode = simulate_ode(system)
    with pytest.raises(CircuitError, match=r"group 'h' spans -3\d\d .*scales.vs to "
                                           r"0\.\d+ V") as e:
        compile_system(system, with_design_range(CompileOptions("opamp"), m, ode, system),
                       False)
    vs = float(e.value.args[0].split("scales.vs to ")[1].split(" V")[0])
    opts = with_design_range(CompileOptions("opamp", DeviceConfig().with_value(
        "scales.vs", vs)), m, ode, system)
    assert compile_system(system, opts, False)[0].options.config.opamp.v_neg >= -100


def test_supplies_widened_past_a_realistic_span_are_a_design_warning():
    """Automatic rails follow the states: the 16x128 DenseAM at Vs = 1 V needs about
    55 V of supply, which no amplifier beside a crossbar has; at Vs = 0.1 V it fits."""
    from analogam.circuit.design import design_review
    from analogam.study.build import compile_system, with_design_range

    m = random_denseam(16, 128, seed=0)
    for vs, wide in ((1.0, True), (0.1, False)):
        t = task_for(m)
        system = bind_task(m, t.inputs()[:2], t)
        ode = simulate_ode(system)
        opts = with_design_range(CompileOptions("opamp", DeviceConfig().with_value(
            "scales.vs", vs)), m, ode, system)
        compiled = compile_system(system, opts, False)
        top, bottom = compiled[0].options.config.opamp.supplies
        found = [w for w in design_review(compiled, ode.u_final).warnings
                 if "supplies span" in w]
        assert (top - bottom > 40) == wide and bool(found) == wide, (top, bottom)
        assert not found or "max_supply_span 12 V" in found[0]
