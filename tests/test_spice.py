"""Real ngspice runs: circuits vs the ODE reference at every level, the example
netlists, the BJT softmax alone, and every failure mode giving one line."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import et_system, random_et
from scipy.special import softmax
from test_compile import netlist_of, options, tiny_system
from test_weights import assert_one_line_error, run_cli

from analogam.circuit import CompileOptions, build_circuit, build_softmax_testbench
from analogam.errors import SimulationError
from analogam.netlist import Transient, format_netlist
from analogam.spice import run_batch, simulate_spice
from analogam.study import simulate_task
from analogam.tasks import get_task

pytestmark = pytest.mark.ngspice
ROOT = Path(__file__).resolve().parents[1]


def all_inputs(model):
    return get_task(model.task).inputs()


@pytest.mark.parametrize("level, tol", [("ideal", 1e-3), ("bjt", 2e-2), ("opamp", 2e-2)])
def test_xor_circuit_matches_ode(xor_model, level, tol):
    rep = simulate_task(xor_model, all_inputs(xor_model), CompileOptions(level=level))
    np.testing.assert_array_equal(rep.pred_spice[:, 0], [0, 1, 1, 0])
    assert rep.agreement == 1.0
    assert rep.comparison.max_err.max() <= tol
    assert np.all(rep.comparison.energy_rise <= 1e-6)


@pytest.mark.parametrize("level, tol, stride", [("ideal", 1e-3, 1), ("bjt", 2e-2, 4),
                                                ("opamp", 2e-2, 4)])
def test_hamming_circuit_corrects_single_bit_errors(hamming_model, level, tol, stride):
    """Every one of the 128 words at the ideal level; at the device levels every 4th
    (32 words: each codeword's neighbourhood sampled), the whole set being the README's
    measured runs."""
    words = all_inputs(hamming_model)
    assert len(words) == 128
    words = words[::stride]
    rep = simulate_task(hamming_model, words, CompileOptions(level=level))
    assert rep.accuracy_spice == 1.0 and rep.agreement == 1.0
    assert rep.comparison.max_err.max() <= tol


def test_signed_weights_tanh_and_energy_transformer_ideal(rng):
    """Inverted lines (negative weights), tanh, ReLU memories and token couplings."""
    from analogam.compare import compare
    from analogam.reference import simulate_ode

    for system in (tiny_system(), et_system(random_et(rng), rng, B=2)):
        c = build_circuit(system, options(conductance__g_min=1e-11))
        r = simulate_spice(netlist_of(system, options(conductance__g_min=1e-11)))
        cmp = compare(c, r, simulate_ode(c.system))
        assert cmp.max_err.max() <= 1e-3, system.model.name


def test_batched_copies_equal_single_runs(hamming_model):
    words = all_inputs(hamming_model)[[0, 20, 77]]
    a = simulate_task(hamming_model, words, batched=True)
    b = simulate_task(hamming_model, words, batched=False)
    assert np.abs(a.comparison.u_spice - b.comparison.u_spice).max() <= 1e-4
    assert len(a.compiled) == 1 and len(b.compiled) == 3


def test_bjt_softmax_alone_within_one_percent_and_temperature():
    rng = np.random.default_rng(0)
    u = rng.uniform(-0.5, 0.0, (12, 4))
    beta = 10.0
    eff = {}
    for temp in (0.0, 27.0, 85.0):
        for ptat in (False, True):
            c, outs = build_softmax_testbench(u, beta, "bjt", options(
                environment__temperature_c=temp, bjt__ptat=ptat).config)
            tran = Transient(1e-8, 1e-6, 1e-8, options=(("reltol", 1e-6),), temperature_c=temp)
            r = run_batch(format_netlist(c, tran)).raise_for_status()
            y = np.array([[r.voltage(n)[-1] for n in o] for o in outs])
            if temp == 27.0:
                assert np.abs(y - softmax(beta * u, axis=1)).max() <= 0.01
            du = u - u.mean(1, keepdims=True)
            dl = np.log(y) - np.log(y).mean(1, keepdims=True)
            eff[temp, ptat] = (du * dl).sum() / (du * du).sum()
    for temp in (0.0, 85.0):
        # without tracking beta drifts as 300.15 K / T; PTAT holds it
        assert eff[temp, False] == pytest.approx(beta * 300.15 / (temp + 273.15), rel=5e-3)
        assert eff[temp, True] == pytest.approx(beta, rel=2e-3)


SLOW_EXAMPLES = {"hamming74_opamp.cir"}
"""16 batched copies of a 67-amplifier circuit: 78 s in ngspice 46 (one copy: 0.7 s)."""


def run_example(f) -> None:
    """As written, with no option but ``-n`` (no start-up file: another test plants one
    with a shell line): ``ngspice -b FILE`` runs its transient and prints."""
    plain = subprocess.run(["ngspice", "-b", "-n", str(f)], capture_output=True, text=True,
                           timeout=600, cwd=f.parent)
    assert plain.returncode == 0 and "no simulations run" not in plain.stdout, f.name
    assert "Index" in plain.stdout and "time" in plain.stdout, f.name


def test_example_netlists_are_current_and_run():
    proc = subprocess.run([sys.executable, str(ROOT / "netlists" / "regenerate.py"),
                           "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    files = sorted((ROOT / "netlists").glob("*.cir"))
    assert len(files) >= 6
    for f in files:
        if f.name in SLOW_EXAMPLES:
            continue
        run_example(f)
        if f.name.startswith("xor"):
            r = run_batch(f.read_text(), timeout_s=300)
            assert r.success and r.time[-1] > 0, f"{f.name}: {r.message}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_EXAMPLES))
def test_large_example_netlists_run(name):
    run_example(ROOT / "netlists" / name)


# ------------------------------------------------------------------ failure modes

TTS = "* t\nV1 a 0 DC 1\nR1 a b 1k\nB1 b 0 V=exp(1000*v(b))*v(a)\n.tran 1n 1u\n.end\n"
PARSE = "* t\nV1 a 0 DC 1\nR1 a 0 1k\nXfoo a b nosuch\n.tran 1n 1u\n.end\n"
SLOW = "* t\nV1 a 0 SIN(0 1 1e9)\nR1 a b 1k\nC1 b 0 1p\n.tran 1p 1 0 1p\n.end\n"


@pytest.mark.parametrize("backend", ["batch", "shared"])
def test_failures_become_one_line(backend):
    for text, match in ((PARSE, "could not parse"), (TTS, "timestep too small")):
        r = simulate_spice(text, backend=backend, timeout_s=60)
        assert not r.success and match in r.message and "\n" not in r.message
        with pytest.raises(SimulationError, match=match):
            r.raise_for_status()
    r = simulate_spice(SLOW, backend=backend, timeout_s=1.0)
    assert not r.success and r.timed_out and "timed out after 1 s (wall clock" in r.message
    assert "load average" in r.message and "predicted" not in r.message


def test_missing_ngspice_is_one_line():
    r = run_batch(PARSE, executable="ngspice-not-installed")
    assert not r.success and "not found" in r.message and "apt-get install" in r.message
    env = dict(os.environ, PATH="/nonexistent", NGSPICE_LIBRARY_PATH="/nonexistent/lib.so")
    for backend in ("batch", "shared"):
        proc = subprocess.run([sys.executable, "-m", "analogam_cli.main", "simulate",
                               str(ROOT / "models" / "xor.npz"), "--backend", backend],
                              capture_output=True, text=True, env=env, timeout=120)
        assert_one_line_error(proc, "not found")


def test_cli_compile_errors_leave_no_output(tmp_path):
    out = tmp_path / "x.cir"
    for args, match in (
        (["--g0", "1"], "outside the device window"),
        (["--level", "spice"], "'spice' is not one of"),
        (["--gmin", "1e-3", "--gmax", "1e-4"], "is empty"),
    ):
        proc = run_cli("compile", str(ROOT / "models" / "xor.npz"), "-o", str(out), *args)
        assert_one_line_error(proc, match)
        assert not out.exists()
    # a read-out before the fixed point: a warning and exit 2, an error under --strict
    proc = run_cli("compile", str(ROOT / "models" / "xor.npz"), "-o", str(out),
                   "--t-end", "0.5")
    assert proc.returncode == 2 and "before the fixed point" in proc.stderr and out.exists()
    out.unlink()
    proc = run_cli("compile", str(ROOT / "models" / "xor.npz"), "-o", str(out),
                   "--t-end", "0.5", "--strict")
    assert_one_line_error(proc, "pre-flight check failed (--strict)")
    assert not out.exists()


def test_operating_point_is_a_fixed_point_and_differences_are_flagged(xor_model,
                                                                       hamming_model):
    from analogam.model import residual
    from analogam.study import check_operating_points
    from analogam.tasks import bind_task

    for model, words in ((xor_model, all_inputs(xor_model)),
                         (hamming_model, all_inputs(hamming_model)[[0, 17, 40]])):
        rep = simulate_task(model, words)
        op = check_operating_points(rep)
        # whatever fixed point Newton lands on, it is one of the model's
        assert residual(bind_task(model, words), op.u_op).max() <= 1e-3
        np.testing.assert_array_equal(op.differs, op.diff > op.tol)
        if model is xor_model:
            assert not op.differs.any()


@pytest.mark.slow   # 63 s; parity8 runs in ngspice in the default suite through generation
def test_trained_parity_every_string_in_ngspice_with_trainer_column():
    """Issue acceptance: the EP-trained parity ET at the ideal level, all 256 strings:
    circuit = ODE = trainer = parity, state error <= 1e-3."""
    from analogam.study import simulate_weights

    rep = simulate_weights(ROOT / "models" / "parity8.npz", options=CompileOptions())
    assert len(rep.inputs) == 256
    assert rep.agreement == 1.0 and rep.accuracy_spice == 1.0
    np.testing.assert_array_equal(rep.pred_trainer, rep.pred_spice)
    assert rep.comparison.max_err.max() <= 1e-3
    assert np.all(rep.comparison.energy_rise <= 1e-6)


def test_simulate_cli_reports_the_trainer_column(tmp_path):
    r = run_cli("simulate", str(ROOT / "models" / "xor_ep.npz"), "--rescale",
                "--json")
    assert r.returncode == 0, r.stderr
    import json

    rep = json.loads(r.stdout)
    assert rep["summary"]["accuracy_trainer"] == 1.0
    assert rep["summary"]["agreement_circuit_vs_trainer"] == 1.0
    assert [p["trainer"] for p in rep["per_input"]] == [[0], [1], [1], [0]]


def test_a_run_that_collapses_its_step_under_trap_is_repeated_with_gear():
    """The runner's rescue: the same netlist with ``method=gear``, said in the result;
    a netlist that fails under both fails with ngspice's own message."""
    from analogam.spice.runner import RESCUES

    trap = TTS.replace(".tran", ".options sparse method=trap reltol=1e-4\n.tran")
    gear = next(x for x in RESCUES if x.name == "gear").apply(trap)
    assert ".options sparse method=gear reltol=1e-4" in gear and "trap" not in gear
    r = simulate_spice(trap, backend="batch", timeout_s=60)
    assert not r.success and "timestep too small" in r.message and r.rescued == ("gear",)
    r = simulate_spice(TTS, backend="batch", timeout_s=60)   # no method to change
    assert not r.success and r.rescued == ()
    # under Gear at the pdk level's 1e-5 the step may still collapse (an input pair of
    # 16x the area, 5 ps in): the rescue after it loosens reltol to the amplifier bench's
    # 1e-4, once
    strict = TTS.replace(".tran", ".options sparse method=gear reltol=1e-05 abstol=1e-13\n.tran")
    loose = next(x for x in RESCUES if x.name == "reltol")
    assert ".options sparse method=gear reltol=0.0001 abstol=1e-13" in loose.apply(strict)
    assert loose.pattern.search(trap) is None and loose.pattern.search(
        loose.apply(strict)) is None
    r = simulate_spice(strict, backend="batch", timeout_s=60)
    assert not r.success and r.rescued == ("reltol",)


@pytest.mark.slow
def test_hamming_at_ff_decodes_where_trap_rings_at_switch_on():
    """Word 0101010 at the ff corner, fast sizing, 250 ns: the trapezoidal rule rings
    on the read-out's switch-on edge until the step collapses 31 ps in (most words at
    ff); the pdk level integrates with Gear, which passes it with no rescue, and the
    word decodes within the level's tolerance."""
    from analogam.circuit import DeviceConfig
    from analogam.model.weights import load_model
    from analogam.reference import simulate_ode
    from analogam.study.build import with_design_range
    from analogam.tasks import bind_task

    m = load_model(Path(__file__).resolve().parents[1] / "models" / "hamming74.npz")
    cfg = DeviceConfig().with_values({"design.latency": 2.5e-7, "design.amplifier": "fast",
                                      "simulation.steps_per_tau": 4})
    task = get_task(m.task)
    every = bind_task(m, task.inputs(), task)   # the design range of all 128 words
    planned = with_design_range(CompileOptions("pdk", cfg, corner="ff"), m,
                                simulate_ode(every), every)
    rep = simulate_task(m, np.array([[0, 1, 0, 1, 0, 1, 0]]), planned)
    assert "rescued" not in rep.simulator
    assert rep.accuracy_spice == 1.0 and rep.comparison.readout_err.max() < 2e-2


def test_each_level_integrates_with_its_own_method():
    """Trapezoidal where it is exact enough and cheapest; Gear at the pdk level."""
    from analogam.netlist import transient_for

    methods = {}
    for level in ("ideal", "opamp", "pdk"):
        (c,) = compile_xor(level)
        methods[level] = dict(transient_for(c).options)["method"]
    assert methods == {"ideal": "trap", "opamp": "trap", "pdk": "gear"}
    assert ".options sparse method=gear " in format_netlist(c.circuit, transient_for(c))


def compile_xor(level):
    from analogam.model.weights import load_model
    from analogam.reference import simulate_ode
    from analogam.study.build import compile_system, with_design_range
    from analogam.tasks import bind_task

    m = load_model(Path(__file__).resolve().parents[1] / "models" / "xor.npz")
    system = bind_task(m, get_task(m.task).inputs()[:1])
    ode = simulate_ode(system)
    return compile_system(system, with_design_range(CompileOptions(level), m, ode, system))


def test_ideal_crossbars_from_400_elements_are_written_for_klu_and_agree_with_sparse():
    """The solver policy measured in benchmarks/bench_scale.py: a 32x32 ideal crossbar
    (1441 elements) gets KLU, its answer Sparse's to solver tolerance; a circuit with
    transistors stays on Sparse."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_scale import crossbar

    from analogam.netlist import transient_for

    c = crossbar(32, "ideal")
    tran = transient_for(c, t_end=1.0)
    assert tran.solver == "klu"
    klu = simulate_spice(format_netlist(c.circuit, tran), backend="batch").raise_for_status()
    sparse = simulate_spice(format_netlist(c.circuit, transient_for(c, 1.0, solver="sparse")),
                            backend="batch").raise_for_status()
    assert klu.rescued == ()
    for net in ("u_v_0", "u_h_31"):
        np.testing.assert_allclose(klu.voltage(net)[-1], sparse.voltage(net)[-1], atol=1e-6)
    assert transient_for(crossbar(32, "bjt")).solver == "sparse"
