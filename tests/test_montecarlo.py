"""Nonidealities and Monte Carlo: zero is exact, known effects go the right way and
size, seeds reproduce and are keyed by part (not by emission order), Dask equals
serial, bad configs are one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_compile import netlist_of
from test_weights import assert_one_line_error, run_cli

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit, config_from_dict
from analogam.errors import CircuitError, ConfigError
from analogam.model.weights import load_model
from analogam.study import monte_carlo, simulate_task
from analogam.tasks import bind_task, get_task

pytestmark = pytest.mark.ngspice
ROOT = Path(__file__).resolve().parents[1]
XOR = str(ROOT / "models" / "xor.npz")


def cfg(seed=0, **keys) -> DeviceConfig:
    return DeviceConfig(seed=seed).with_values({k.replace("__", "."): v
                                                for k, v in keys.items()})


def netlist(model, inputs, level="ideal", config=None, sample=0):
    return netlist_of(bind_task(model, inputs), CompileOptions(level, config or cfg(), sample))


def record(model, inputs, config, level="ideal"):
    res = monte_carlo(model, inputs, CompileOptions(level, config), 1, scheduler="serial")
    return next(iter(res["records"].values()))


def test_zero_nonideality_reproduces_the_ideal_results_exactly(hamming_model):
    words = get_task("hamming74").inputs()[:8]
    assert netlist(hamming_model, words[:1], config=cfg(5), sample=3) == \
        netlist(hamming_model, words[:1])
    rec = record(hamming_model, words, cfg(5))
    rep = simulate_task(hamming_model, words)
    assert rec["accuracy"] == rep.accuracy_spice == 1.0
    assert rec["max_state_error"] == float(rep.comparison.max_err.max())
    assert rec["settling_tau_max"] == float(rep.comparison.settle_spice_tau.max())


def test_two_level_quantisation_leaves_hamming_unchanged(hamming_model):
    """Hamming's weights are 0/1: with G0 folded so 1 -> Gmax, the two levels
    {Gmin, Gmax} hold them exactly: the same netlist, and the same answers on 32 words
    (every codeword's neighbourhood)."""
    words = get_task("hamming74").inputs()[::4]
    base = cfg(conductance__rescale=True)
    q2 = base.with_value("conductance.levels", 2)
    assert netlist(hamming_model, words[:1], config=q2) == \
        netlist(hamming_model, words[:1], config=base)
    rec = record(hamming_model, words, q2)
    assert rec["accuracy"] == 1.0 and rec["agreement_with_ideal_ode"] == 1.0
    assert rec["readout_error"] < 1e-3


def test_programming_noise_drops_hamming_accuracy_with_its_size(hamming_model):
    words = get_task("hamming74").inputs()[::8]
    acc = {}
    for sigma in (0.0, 0.6):
        res = monte_carlo(hamming_model, words, cfg(conductance__prog_noise_scale=sigma), 2,
                          scheduler="serial")
        acc[sigma] = res["points"][0]["summary"]["accuracy"]["mean"]
    assert acc[0.0] == 1.0
    assert acc[0.6] < 0.7


def test_every_perturbation_is_seeded_and_lands_in_the_netlist(xor_model):
    c = cfg(7, conductance__prog_noise_scale=0.05, passives__resistor_tolerance=0.01,
            passives__capacitor_tolerance=0.02, bjt__is_mismatch=0.01,
            opamp__offset_sigma=1e-3, wire__r_per_cell=10.0)
    x = get_task("xor").inputs()[:1]
    a = netlist(xor_model, x, "opamp", c, 0)
    assert a == netlist(xor_model, x, "opamp", c, 0)
    assert a != netlist(xor_model, x, "opamp", c, 1)
    nominal = netlist(xor_model, x, "opamp")
    assert "_os " in a and "_os " not in nominal              # offset sources
    assert "_w0 " in a and "_w0 " not in nominal              # wire ladders
    q = [ln.split() for ln in a.splitlines() if ln.startswith("Q")]
    assert q and all(len(f) == 6 for f in q)                  # area factor on each BJT


def test_draws_are_keyed_by_part_so_batched_copies_hold_the_same_chip(hamming_model):
    """Every copy of a batched circuit holds the same perturbed parts as the circuit
    compiled for that input alone: draws depend on the part, not on emission order."""
    c = cfg(3, conductance__prog_noise_scale=0.1, passives__capacitor_tolerance=0.05)
    words = get_task("hamming74").inputs()[[0, 9, 40]]
    system = bind_task(hamming_model, words)
    batched = build_circuit(system, CompileOptions(config=c, sample=2))
    for k in range(3):
        alone = build_circuit(system.sample(k), CompileOptions(config=c, sample=2))
        np.testing.assert_array_equal(batched.system.weights[0][0], alone.system.weights[0][0])
        caps = {e.name[len(f"k{k}_"):]: e.value for e in batched.circuit.by_role("integrator")
                if e.name.startswith(f"k{k}_")}
        assert caps == {e.name: e.value for e in alone.circuit.by_role("integrator")}


def test_wire_resistance_error_grows_with_the_wire(hamming_model):
    words = get_task("hamming74").inputs()[:1]
    err = [record(hamming_model, words, cfg(wire__r_per_cell=r))["readout_error"]
           for r in (0.0, 10.0, 100.0)]
    assert err[0] < err[1] < err[2]


def test_dask_local_cluster_gives_the_serial_numbers(xor_model, tmp_path):
    c = cfg(11, conductance__prog_noise_scale=0.2, passives__capacitor_tolerance=0.05)
    x = get_task("xor").inputs()
    serial = monte_carlo(xor_model, x, c, 3, scheduler="serial")
    out = tmp_path / "mc.json"
    dist = monte_carlo(xor_model, x, c, 3, scheduler="dask", results=out)
    assert dist["records"] == serial["records"]
    local = monte_carlo(xor_model, x, c, 3, scheduler="local")
    assert local["records"] == serial["records"]
    # the results file holds every finished sample; a rerun resumes them all
    assert len(json.loads(out.read_text())["records"]) == 3
    again = monte_carlo(xor_model, x, c, 3, scheduler="serial", results=out)
    assert again["resumed"] == 3 and again["records"] == serial["records"]


def test_bad_configs_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown configuration key .conductance.prog_noise"
                                          ".; did you mean conductance.prog_noise_scale"):
        config_from_dict({"conductance": {"prog_noise": 0.1}})
    with pytest.raises(ConfigError, match="must be >= 0"):
        cfg(passives__capacitor_tolerance=-0.1)
    bad = tmp_path / "bad.toml"
    bad.write_text("[conductance]\nprog_noise_scale = 'lots'\n")
    r = run_cli("montecarlo", XOR, "--config", str(bad), "--samples", "1",
                "--scheduler", "serial", "-o", str(tmp_path / "r.json"))
    assert_one_line_error(r, "prog_noise_scale must be a number")
    assert not (tmp_path / "r.json").exists()
    bad.write_text("[conductance\n")
    assert_one_line_error(run_cli("montecarlo", XOR, "--config", str(bad)),
                          "not valid TOML")
    r = run_cli("montecarlo", XOR, "--samples", "1", "--scheduler",
                "tcp://127.0.0.1:9")
    assert_one_line_error(r, "cannot reach the Dask scheduler")


def test_sensing_mismatch_perturbs_the_sensing_resistors_only(xor_model):
    """``sense.mismatch`` moves every resistor of the current-sensing paths (sense,
    difference amplifiers, injection) and nothing else; ``sense.copy_gain_sigma`` moves
    the ideal copies' gains."""
    x = get_task("xor").inputs()[:1]
    system = bind_task(xor_model, x)

    def values(level, **kw):
        c = build_circuit(system, CompileOptions(level=level, config=cfg(5, **kw)))
        return {e.name: (e.role, e.values[-1]) for e in c.circuit.elements
                if e.kind in ("resistor", "cccs")}

    nominal, mism = values("opamp"), values("opamp", sense__mismatch=0.01)
    changed = {n for n in nominal if nominal[n] != mism[n]}
    sensing = {n for n, (role, _) in nominal.items() if role in ("sense", "copy")}
    assert changed == sensing and len(sensing) > 10
    ideal, gain = values("ideal"), values("ideal", sense__copy_gain_sigma=0.01)
    assert {n for n in ideal if ideal[n] != gain[n]} == {
        n for n, (role, _) in ideal.items() if role == "copy"}


@pytest.mark.ngspice
def test_copy_gain_error_grows_the_state_error_in_proportion(hamming_model):
    """The self-compensated neuron's sensitivity: its input is a small difference of
    two large currents, so a copy's gain error reaches the state amplified; ten times
    the mismatch, about ten times the error."""
    words = get_task("hamming74").inputs()[::16]
    err = {}
    for sigma in (1e-3, 1e-2):
        res = monte_carlo(hamming_model, words, cfg(sense__copy_gain_sigma=sigma), 2,
                          scheduler="serial")
        err[sigma] = res["points"][0]["summary"]["readout_error"]["mean"]
    assert 5 < err[1e-2] / err[1e-3] < 15


HAMMING = str(ROOT / "models" / "hamming74.npz")


def test_every_sample_gets_the_checks_simulate_runs(tmp_path):
    """1 kohm of wire per cell makes Hamming unstable at the opamp level: simulate names
    it, and so must each sweep point and Monte Carlo sample (text, the results JSON,
    exit 2); the clean point has no finding; --strict refuses before simulating."""
    out = tmp_path / "sweep.json"
    proc = run_cli("sweep", HAMMING, "--param", "wire.r_per_cell", "--values", "0,1000",
                   "--samples", "1", "--level", "opamp", "--input", "0010110", "-o", out)
    assert proc.returncode == 2, proc.stderr[-400:]
    assert "CHECK design: failed on 1 of 2" in proc.stdout
    assert "1000 ohm/cell makes the circuit unstable" in proc.stdout
    data = json.loads(out.read_text())
    clean, wired = (p["summary"]["findings"] for p in data["summary"]["points"])
    assert clean == {} and wired["design"] == 1 and wired["fidelity"] == 1
    rec = data["records"]["v001_s00000"]
    assert "stable below 155 ohm/cell" in rec["findings"]["design"][0]
    assert data["records"]["v000_s00000"]["findings"] == {}
    m = load_model(HAMMING)
    opts = CompileOptions("opamp", cfg(wire__r_per_cell=1000.0))
    with pytest.raises(CircuitError, match=r"design check failed on sample 0 \(--strict\): "
                                           r"wire resistance 1000"):
        monte_carlo(m, np.array([[0, 0, 1, 0, 1, 1, 0]]), opts, 1, scheduler="serial",
                    strict=True)


@pytest.mark.ngspice
def test_montecarlo_draws_its_histograms_and_its_stderr_holds_no_traceback(tmp_path):
    """The figure by suffix (SVG), and a clean stderr: ngspice started from the runner's
    threads once printed "Exception ignored ... SystemError" tracebacks from Python's
    after-fork hooks in the child."""
    plot = tmp_path / "mc.svg"
    r = run_cli("montecarlo", XOR, "--samples", "3", "--set",
                "conductance.prog_noise_scale=0.05", "--plot", str(plot))
    assert r.returncode in (0, 2), r.stderr[-500:]
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr[:800]
    svg = plot.read_text()
    assert "read-out error vs ideal ODE (model units)" in svg and "3 Monte Carlo samples" in svg
