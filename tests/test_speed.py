"""Fast by design: integrators compensated for their amplifiers, the speed model
against ngspice, a latency target planned (or refused with the block that forbids it),
and a circuit judged by its answer, not by its path."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from test_weights import ROOT

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.circuit.speed import compensate
from analogam.errors import CircuitError
from analogam.model.weights import load_model
from analogam.study import simulate_task
from analogam.tasks import bind_task, get_task


def _opts(level, **keys):
    return CompileOptions(level, DeviceConfig().with_values(keys))


def test_compensation_makes_the_effective_time_constant_the_nominal_one():
    """C' (1 + 1/A0) + G_node'/w_u = C and G_L' + G_node'/A0 = G_L: the unit's time
    constant and fixed point are the designed ones; uncompensated, the time constant
    stretches by 1 + G_node/(w_u C) (closed form), and below the floor the amplifier
    sets it."""
    c, g_l, g_in, gbw, a0 = 1e-12, 1e-5, 6e-5, 3.65e7, 6906.0
    w = 2 * np.pi * gbw
    on = compensate(c, g_l, g_in, gbw, a0, 0.05)
    g_node = g_in + on.g_leak
    assert on.c * (1 + 1 / a0) + g_node / w == pytest.approx(c, rel=1e-12)
    assert on.g_leak + g_node / a0 == pytest.approx(g_l, rel=1e-12)
    assert on.tau_eff_s == pytest.approx(c / g_l, rel=1e-12) and not on.limited
    off = compensate(c, g_l, g_in, gbw, a0, 0.05, enabled=False)
    e = (g_in + g_l) / (w * c)
    assert off.tau_eff_s / (c / g_l) == pytest.approx(1 + e, rel=2e-3)
    small = compensate(1e-14, g_l, g_in, gbw, a0, 0.05)
    assert small.limited and small.c == pytest.approx(0.05e-14)
    assert small.tau_eff_s > 1e-14 / g_l


@pytest.mark.ngspice
@pytest.mark.parametrize("name, level, t0", [("xor", "opamp", 2e-8), ("xor", "pdk", 3.4e-8),
                                             ("hamming74", "opamp", 2e-8)])
def test_predicted_settling_is_within_20_percent_of_ngspice(name, level, t0):
    """Fast designs whose amplifiers set much of the pace (the XOR pdk circuit's hidden
    units are all amplifier-limited): the speed model's settling against the
    transient's, per input."""
    m = load_model(ROOT / "models" / f"{name}.npz")
    x = get_task(m.task).inputs()[[0, -1]]
    rep = simulate_task(m, x, _opts(level, **{"scales.t0": t0}))
    measured = rep.comparison.settle_spice_tau * rep.comparison.tau_s
    ratio = rep.predicted_settle_s / measured
    assert np.all(np.abs(ratio - 1) <= 0.2), ratio
    assert rep.accuracy_spice == 1.0 and rep.warnings == () and rep.violations == ()


@pytest.mark.ngspice
def test_a_latency_target_is_met_with_the_right_answer():
    """XOR at the opamp level planned for 100 ns: it settles within 20 % of the target,
    every answer right, no warning; the time scale is far below the 1 us default."""
    m = load_model(ROOT / "models" / "xor.npz")
    rep = simulate_task(m, get_task("xor").inputs(), _opts("opamp", **{"design.latency": 1e-7}))
    settle = rep.comparison.settle_spice_tau.max() * rep.comparison.tau_s
    assert 0.8e-7 <= settle <= 1.2e-7
    assert rep.compiled[0].scales.t0 < 5e-8
    assert rep.accuracy_spice == 1.0 and rep.warnings == () and rep.violations == ()


@pytest.mark.ngspice
def test_an_amplifier_paced_design_is_read_out_after_its_latency_not_the_models():
    """XOR on 30 MHz amplifiers planned for 300 ns: the time scale that meets it is so
    short that the model's read-out time (12 tau_v) ends near 110 ns, long before the
    circuit settles; the circuit and its ODE are both run to 1.5 latencies, and it is
    read out settled and right (it was read out at 110 ns, unsettled)."""
    from analogam.study.build import READOUT_LATENCIES, readout_end

    m = load_model(ROOT / "models" / "xor.npz")
    opts = _opts("opamp", **{"design.latency": 3e-7, "opamp.gbw": 3e7})
    rep = simulate_task(m, get_task("xor").inputs()[1:3], opts)
    cmp, t0 = rep.comparison, rep.compiled[0].scales.t0
    assert m.readout_time * t0 < 0.5 * 3e-7
    assert cmp.t[-1] * t0 == pytest.approx(READOUT_LATENCIES * 3e-7, rel=1e-6)
    assert readout_end(m, rep.compiled[0].options) == pytest.approx(cmp.t[-1])
    assert cmp.settle_spice_tau.max() * cmp.tau_s < 3.6e-7
    assert rep.accuracy_spice == 1.0 and cmp.readout_err.max() < 2e-2


def test_an_infeasible_latency_names_the_block_and_the_fastest_latency():
    m = load_model(ROOT / "models" / "hamming74.npz")
    s = bind_task(m, get_task(m.task).inputs()[:1])
    with pytest.raises(CircuitError, match=r"1e-08 s is out of reach: the fastest this "
                                           r"circuit settles is [0-9.e-]+ s, set by unit "
                                           r"h_\d+: its integrator's amplifier"):
        build_circuit(s, _opts("opamp", **{"design.latency": 1e-8, "opamp.gbw": 1e8}))
    import click
    from analogam_cli.options import compile_options

    with pytest.raises(click.UsageError, match="either scales.t0"):
        compile_options("ideal", None, ("design.latency=1e-7", "scales.t0=1e-8"))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "analogam_cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.ngspice
def test_a_short_time_scale_with_the_right_answer_exits_0():
    """A forced 20 ns time scale on 30 MHz amplifiers: every integrator's amplifier sets
    its pace and the path is far from the ODE's, but the answer and the read-out are
    right, so the run passes; under the trajectory policy the same circuit is flagged."""
    xor = ROOT / "models" / "xor.npz"
    fast = ("simulate", xor, "--level", "opamp", "--gbw", "3e7", "--t0", "2e-8")
    ok = _cli(*fast)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "predicted settling" in ok.stdout
    strict = _cli(*fast, "--set", "design.fidelity=trajectory")
    assert strict.returncode == 2 and "slower than its tau" in strict.stderr + strict.stdout


@pytest.mark.ngspice
def test_explore_builds_each_target_refuses_the_impossible_and_marks_the_front(tmp_path):
    from analogam.study.explore import explore, explore_dict, pareto, plot_explore

    m = load_model(ROOT / "models" / "xor.npz")
    x = get_task("xor").inputs()[[1, 2]]
    pts = explore(m, x, [1e-7, 3e-7, 1e-10], ["opamp"], ["tt"],
                  options=_opts("opamp", **{"opamp.gbw": 3e8}))
    fast, slow, impossible = pts
    assert impossible.error and "out of reach" in impossible.error and not impossible.clean
    for p, target in ((fast, 1e-7), (slow, 3e-7)):
        assert p.clean and abs(p.settle_s / target - 1) <= 0.2
        assert p.capacitance_f > 0 and p.amplifiers > 0 and p.energy_j > 0
    # the slower design holds larger capacitors and, on the same amplifiers, costs more
    assert slow.capacitance_f > 2 * fast.capacitance_f and slow.energy_j > fast.energy_j
    assert pareto(pts) == [True, False, False]
    assert [p["pareto"] for p in explore_dict(pts)["points"]] == [True, False, False]
    assert plot_explore(m, pts, tmp_path / "front.png").stat().st_size > 1000


def test_a_latency_target_scales_the_tails_and_the_amplifiers_with_fan_in():
    """Constant time in size: at one latency target the softmax tail grows with the
    number of memories (the emitter's C_E V_T / I_tail stays a tenth of tau_h T0) and
    each integrator's amplifier with the conductance it integrates; neither moves at
    the default time scale."""
    from analogam.model import Stimulus, bind
    from analogam.model.architectures import random_denseam

    def compiled(k, level, **keys):
        m = random_denseam(k)
        s = bind(m, Stimulus(1, init={"v": m.couplings[0].weights[:1]}))
        return build_circuit(s, _opts(level, **{"conductance.rescale": True, **keys}))

    fast = {"design.latency": 3e-7}
    tails = [compiled(k, "bjt", **fast).options.config.bjt.i_tail for k in (64, 256)]
    assert tails[1] / tails[0] == pytest.approx(4.0, rel=1e-6) and tails[0] > 1e-4
    assert compiled(256, "bjt").options.config.bjt.i_tail == DeviceConfig().bjt.i_tail
    amps = [{e.values[0] for e in compiled(k, "opamp", **fast).circuit.elements
             if e.role == "amplifier" and e.kind == "instance"} for k in (16, 256)]
    assert any("mhz" in a for a in amps[1]) and len(amps[1]) > len(amps[0])
