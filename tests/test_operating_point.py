"""Operating-point checks and the bias that keeps devices in their region: no silent
wrong answer. The case of the trust issue: a DenseAM with 32 visible units and random
memories, whose softmax bases climbed above the collector rail (the winner saturated)
and whose integrators railed, was reported 0.31 off the ODE without a word."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_weights import ROOT, run_cli

from analogam.circuit import CompileOptions, DeviceConfig
from analogam.circuit.plan import design_ranges
from analogam.errors import CircuitError
from analogam.model.architectures import build_denseam, random_denseam
from analogam.model.weights import load_model, save_model
from analogam.reference import simulate_ode
from analogam.study import simulate_task
from analogam.tasks import bind_task, task_for

pytestmark = pytest.mark.ngspice


def memories_8x32():
    """The first 8 memories of the 32x128 case: the same fault in a fraction of a second."""
    xi = random_denseam(128, 32, seed=0).couplings[0].weights[:8]
    return build_denseam(xi, beta=10.0, tau_v=1.0, tau_h=0.1, readout_time=12.0,
                         name="denseam_8x32")


def run(model, level, ranges=None, **cfg):
    task = task_for(model)
    x = task.inputs()[:2]
    opts = CompileOptions(level, DeviceConfig().with_values(cfg))
    if ranges is not None:
        opts = replace(opts, ranges=ranges)
    return simulate_task(model, x, opts, task=task)


def quantities(rep, stage):
    return {v.quantity for v in rep.violations if v.stage == stage}


def test_saturated_softmax_is_reported_with_devices_and_margins():
    """Without the level shift (no design range) the winning transistor saturates:
    predicted from the ODE and seen in the simulation, named, with its V_BC."""
    m = memories_8x32()
    rep = run(m, "bjt", ranges=(("none", 0.0, 0.0),))   # a range no group has: no shift
    assert "V_BC (forward-active)" in quantities(rep, "predicted")
    assert {"V_BC (forward-active)", "V_CE (not saturated)"} <= quantities(rep, "simulated")
    v = next(v for v in rep.violations if v.stage == "simulated" and "V_BC" in v.quantity)
    assert v.value > 0.3 and v.device.startswith("h_")


def test_level_shift_and_rails_from_the_design_range_fix_it():
    """With the bias planned from the ODE's range: no violation, and the circuit
    follows the ODE within 2e-2 at the bjt and opamp levels (it was 0.31 off, silent)."""
    m = memories_8x32()
    for level in ("bjt", "opamp"):
        rep = run(m, level)
        assert rep.violations == (), [v.describe() for v in rep.violations[:3]]
        assert rep.agreement == 1.0
        assert rep.comparison.max_err.max() <= 2e-2, level


def test_railed_amplifiers_are_reported_and_do_not_wind_up():
    """With the swing fixed at +-5 V, the hidden integrators rail: their outputs and
    internal nodes are violations, and the internal nodes stop at the supply (the
    clamp: it reached 3.7e5 V without one)."""
    m = memories_8x32()
    rep = run(m, "opamp", **{"opamp.auto_rails": False})
    q = quantities(rep, "simulated")
    assert "output inside the swing" in q
    assert "internal node inside the swing (no wind-up)" in q
    worst = max(v.value for v in rep.violations
                if "internal" in v.quantity and v.stage == "simulated")
    supply = rep.compiled[0].options.config.opamp.supplies[0]
    assert 5.0 < worst < supply + 0.05


def test_tail_compliance_and_reverse_breakdown_are_checked():
    """A tail source with no room (V_ee just below the emitters), and losing bases so
    far below the emitter that a junction with a 1 V breakdown would break, are flagged."""
    m = memories_8x32()
    rep = run(m, "bjt", **{"bjt.v_ee": -0.5})
    assert "tail source compliance" in quantities(rep, "predicted")
    rep = run(m, "bjt", **{"bjt.bv_ebo": 1.0})
    assert "V_EB (below reverse breakdown)" in quantities(rep, "simulated")


def test_strict_turns_violations_into_errors(tmp_path):
    m = memories_8x32()
    task = task_for(m)
    opts = replace(CompileOptions("bjt"), ranges=(("none", 0.0, 0.0),))
    with pytest.raises(CircuitError, match="operating-point check failed .*V_BC"):
        simulate_task(m, task.inputs()[:1], opts, task=task, strict=True)
    p = tmp_path / "m.npz"
    save_model(m, p)
    r = run_cli("simulate", str(p), "--level", "opamp", "--set", "opamp.auto_rails=false",
                "--input", "1" * 32, "--json")
    assert r.returncode == 2 and '"operating_point_violations"' in r.stdout
    r = run_cli("simulate", str(p), "--level", "opamp", "--set", "opamp.auto_rails=false",
                "--input", "1" * 32, "--strict")
    assert r.returncode == 1 and "operating-point check failed" in r.stderr


def test_design_range_covers_the_trajectories():
    m = memories_8x32()
    task = task_for(m)
    system = bind_task(m, task.inputs()[:3], task)
    ode = simulate_ode(system)
    ranges = dict((g, (lo, hi)) for g, lo, hi in design_ranges(m, ode.u))
    for grp in m.groups:
        x = ode.u[:, :, m.slices[grp.name]]
        lo, hi = ranges[grp.name]
        assert lo < x.min() and hi > x.max()


def test_shipped_examples_have_no_violation():
    from analogam.model.weights import load_model
    from analogam.tasks import get_task

    for name in ("xor", "hamming74"):
        model = load_model(ROOT / "models" / f"{name}.npz")
        words = get_task(model.task).inputs()[:4]
        for level in ("bjt", "opamp"):
            rep = simulate_task(model, words, CompileOptions(level))
            assert rep.violations == (), (name, level, rep.violations[:2])
            assert np.all(rep.comparison.max_err <= 2e-2)


def test_sense_resistors_follow_the_design_range(monkeypatch):
    """parity8's states reach 9.5 model units, so its lines carry ~10x the current of a
    unit-range model: sized for the design range, no copy amplifier leaves its swing
    (predicted from the ODE); sized for one model unit (the old rule), the attention
    units' copy amplifiers rail."""
    import analogam.circuit.realise as realise
    from analogam.study.build import compile_system, with_design_range
    from analogam.study.checks import predicted_violations

    m = load_model(ROOT / "models" / "parity8.npz")
    x = np.array([[1, 1, 1, 1, 0, 0, 0, 0]])
    system = bind_task(m, x)
    ode = simulate_ode(system)
    opts = with_design_range(CompileOptions("opamp"), m, ode)
    assert realise.line_swing(m, opts.ranges) > 5
    assert predicted_violations(compile_system(system, opts, False), ode) == []
    monkeypatch.setattr(realise, "line_swing", lambda model, ranges: 1.0)
    railed = predicted_violations(compile_system(system, opts, False), ode)
    assert any(v.device.startswith("attn_") and v.device.endswith("_cp") for v in railed)
