"""The 8x8 digits task: the fixed split, how an image enters the DenseAM, the loss EP
trains, and (with the shipped trained model) circuit against ODE on test images."""

from __future__ import annotations

import numpy as np
import pytest
from test_weights import ROOT

from analogam.circuit import CompileOptions, DeviceConfig
from analogam.model import outputs
from analogam.model.weights import load_model
from analogam.study import simulate_task
from analogam.tasks import bind_task, digits_rows, digits_split, get_task
from analogam.train.data import task_loss
from analogam.train.inits import digits_memories
from analogam.train.relax import relax


def test_split_is_fixed_disjoint_complete_and_covers_every_class():
    tr, te = digits_split()
    assert tr.size == 1437 and te.size == 360
    assert np.intersect1d(tr, te).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), np.arange(1797))
    np.testing.assert_array_equal(te, digits_split()[1])
    labels = digits_rows()[te, -1]
    assert np.bincount(labels, minlength=10).min() >= 25


def test_pixels_are_clamped_and_the_labels_settle_to_the_memories_vote():
    """The 64 pixel units stay at intensity / 16; at the fixed point each label unit
    is the softmax-weighted vote of the memories' labels (identity visible units:
    v = xi^T softmax(...))."""
    m = digits_memories(0, per_class=3, init="constructed")
    rows = get_task("digits").inputs()[:5]
    system = bind_task(m, rows)
    r = relax(system, tol=1e-9)
    v = outputs(system, r.u)["v"]
    np.testing.assert_allclose(v[:, :64], rows[:, :64] / 16, atol=1e-12)
    h = outputs(system, r.u)["h"]
    np.testing.assert_allclose(h.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(v[:, 64:], h @ m.couplings[0].weights[:, 64:], atol=1e-6)


def test_the_loss_is_zero_only_at_the_true_one_hot_label():
    m = digits_memories(0, per_class=1)
    rows = get_task("digits").inputs()[:4]
    loss = task_loss(m, rows)
    u = np.zeros((4, m.n_units))
    vs = m.slices["v"]
    u[np.arange(4), vs.start + 64 + rows[:, -1]] = 1.0
    np.testing.assert_allclose(loss.value(m, u), 0.0)
    u[0, vs.start + 64 + (rows[0, -1] + 1) % 10] = 0.5
    assert loss.value(m, u)[0] == pytest.approx(0.125)


@pytest.mark.ngspice
def test_trained_digits_circuit_agrees_with_its_ode():
    """models/digits.npz (trained by EP) on 4 test images at the ideal level, with the
    coarse step examples/digits.py uses: the circuit's class equals the ODE's, and its
    settled state is the ODE's to the level's tolerance."""
    m = load_model(ROOT / "models" / "digits.npz")
    x = get_task("digits").inputs()[::90]
    cfg = DeviceConfig().with_values({"conductance.rescale": True,
                                      "simulation.steps_per_tau": 2.0})
    rep = simulate_task(m, x, CompileOptions("ideal", cfg))
    np.testing.assert_array_equal(rep.pred_spice, rep.pred_ode)
    np.testing.assert_array_equal(rep.pred_ode, rep.targets)
    assert rep.comparison.readout_err.max() <= 1e-3


def test_the_trained_model_is_the_one_its_provenance_describes():
    """The shipped weights carry the trainer's record: EP, held-out >= 95 % at the
    settled fixed point, deployable (the tight ODE agrees on all 1797 images)."""
    from analogam.model.weights import load_weights

    _, prov = load_weights(ROOT / "models" / "digits.npz")
    assert prov["trainer"]["method"] == "ep" and prov["trainer"]["task"] == "digits"
    assert prov["final"]["heldout_acc"] >= 0.95
    assert prov["deploy"]["deployable"] and prov["deploy"]["ode_agrees"] == 1797


def test_one_image_is_given_as_numbers_on_the_command_line(tmp_path):
    """--input and --inputs take a digits row as 65 whole numbers (64 intensities, the
    label); a row out of range is one line naming the layout."""
    from test_weights import ROOT, assert_one_line_error, run_cli

    from analogam.tasks.digits import _test_rows

    rows = _test_rows()[:3]
    r = run_cli("ode", str(ROOT / "models" / "digits.npz"), "--input",
                " ".join(map(str, rows[0])))
    assert r.returncode in (0, 2) and "(digits, 1 inputs)" in r.stdout, r.stderr
    f = tmp_path / "rows.txt"
    f.write_text("\n".join(",".join(map(str, row)) for row in rows) + "\n")
    r = run_cli("ode", str(ROOT / "models" / "digits.npz"), "--inputs", str(f))
    assert "(digits, 3 inputs)" in r.stdout, r.stderr
    bad = rows[0].copy()
    bad[5] = 17
    assert_one_line_error(run_cli("ode", str(ROOT / "models" / "digits.npz"), "--input",
                                  " ".join(map(str, bad))), "64 intensities 0..16")
