"""Nonidealities and Monte Carlo: zero is exact, known effects go the right way and
size, seeds reproduce, Dask equals serial, bad configs are one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_weights import assert_one_line_error, run_cli

from analogam.compile import CompileOptions, DeviceWindow, build_circuit
from analogam.montecarlo import monte_carlo, options_for, run_sample
from analogam.netlist import format_netlist
from analogam.nonideal import ConfigError, Nonideality, nonideality_from_dict
from analogam.pipeline import simulate_task
from analogam.tasks import bind_task, get_task

pytestmark = pytest.mark.ngspice
ROOT = Path(__file__).resolve().parents[1]
XOR = str(ROOT / "models" / "xor.npz")


def netlist(model, inputs, options):
    return format_netlist(build_circuit(bind_task(model, inputs), options).circuit)


def test_zero_nonideality_reproduces_the_ideal_results_exactly(hamming_model):
    words = get_task("hamming74").inputs()[:8]
    base = CompileOptions()
    zero = options_for(base, Nonideality(seed=5), 3)
    assert netlist(hamming_model, words[:1], zero) == netlist(hamming_model, words[:1], base)
    rec = run_sample(hamming_model, words, base, Nonideality(seed=5), 3)
    rep = simulate_task(hamming_model, words, base, backend="batch")
    assert rec["accuracy"] == rep.accuracy_spice == 1.0
    assert rec["max_state_error"] == float(rep.comparison.max_err.max())
    assert rec["settling_tau_max"] == float(rep.comparison.settle_spice_tau.max())


def test_two_level_quantisation_leaves_hamming_unchanged(hamming_model):
    """Hamming's weights are 0/1: with G0 folded so 1 -> Gmax, the two levels
    {Gmin, Gmax} hold them exactly and nothing changes, on every word."""
    words = get_task("hamming74").inputs()
    base = CompileOptions(window=DeviceWindow(rescale=True))
    q2 = options_for(base, Nonideality(levels=2), 0)
    assert netlist(hamming_model, words[:1], q2) == netlist(hamming_model, words[:1], base)
    rec = run_sample(hamming_model, words, base, Nonideality(levels=2), 0)
    assert rec["accuracy"] == 1.0 and rec["agreement_with_ideal_ode"] == 1.0
    assert rec["readout_error"] < 1e-3


def test_programming_noise_drops_hamming_accuracy_with_its_size(hamming_model):
    words = get_task("hamming74").inputs()[::4]
    acc = {}
    for sigma in (0.0, 0.6):
        res = monte_carlo(hamming_model, words, Nonideality(prog_noise_scale=sigma), 2,
                          scheduler="serial")
        acc[sigma] = res["points"][0]["summary"]["accuracy"]["mean"]
    assert acc[0.0] == 1.0
    assert acc[0.6] < 0.7


def test_every_perturbation_is_seeded_and_lands_in_the_netlist(xor_model):
    cfg = Nonideality(seed=7, prog_noise_scale=0.05, resistor_tolerance=0.01,
                      capacitor_tolerance=0.02, is_mismatch=0.01, offset_sigma=1e-3,
                      r_per_cell=10.0)
    x = get_task("xor").inputs()[:1]
    base = CompileOptions(level="opamp")
    a = netlist(xor_model, x, options_for(base, cfg, 0))
    assert a == netlist(xor_model, x, options_for(base, cfg, 0))
    assert a != netlist(xor_model, x, options_for(base, cfg, 1))
    nominal = netlist(xor_model, x, base)
    assert "_os " in a and "_os " not in nominal              # offset sources
    assert "_w0 " in a and "_w0 " not in nominal              # wire ladders
    q = [ln.split() for ln in a.splitlines() if ln.startswith("Q")]
    assert q and all(len(f) == 6 for f in q)                  # area factor on each BJT


def test_wire_resistance_error_grows_with_the_wire(hamming_model):
    words = get_task("hamming74").inputs()[:1]
    err = [run_sample(hamming_model, words, CompileOptions(), Nonideality(r_per_cell=r),
                      0)["readout_error"] for r in (0.0, 10.0, 100.0)]
    assert err[0] < err[1] < err[2]


def test_dask_local_cluster_gives_the_serial_numbers(xor_model, tmp_path):
    cfg = Nonideality(seed=11, prog_noise_scale=0.2, capacitor_tolerance=0.05)
    x = get_task("xor").inputs()
    serial = monte_carlo(xor_model, x, cfg, 3, scheduler="serial")
    out = tmp_path / "mc.json"
    dist = monte_carlo(xor_model, x, cfg, 3, scheduler="local", results=out)
    assert dist["records"] == serial["records"]
    # the results file holds every finished sample; a rerun resumes them all
    assert len(json.loads(out.read_text())["records"]) == 3
    again = monte_carlo(xor_model, x, cfg, 3, scheduler="serial", results=out)
    assert again["resumed"] == 3 and again["records"] == serial["records"]


def test_bad_configs_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown key conductance.prog_noise"):
        nonideality_from_dict({"conductance": {"prog_noise": 0.1}})
    with pytest.raises(ConfigError, match="must be >= 0"):
        Nonideality(capacitor_tolerance=-0.1)
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
