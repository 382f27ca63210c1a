"""The EP trainer: gradients against exact ones, relaxation checks, constraints, resume,
and the shipped trained models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import denseam_with, et_system, random_et
from test_weights import assert_one_line_error, run_cli

from analogam.model import Stimulus, bind, check_energy_bounded, parameters, with_parameters
from analogam.model.architectures import build_denseam
from analogam.model.weights import load_model, load_provenance
from analogam.reference import simulate_ode
from analogam.tasks import bind_task, get_task
from analogam.train import (
    Loss,
    TrainConfig,
    TrainError,
    config_for,
    cosine,
    ep_gradient,
    from_theta,
    implicit_gradient,
    project_bounded,
    relax,
    slowest_rate,
    train,
)

ROOT = Path(__file__).resolve().parents[1]
PAIRS = [("softmax", "identity"), ("relu", "tanh"), ("tanh", "identity"), ("softmax", "tanh")]


def _denseam_problem(hidden, visible, rng, B=4):
    m = denseam_with(hidden, visible, rng)
    system = bind(m, Stimulus(B, init={"v": rng.normal(0, 0.5, (B, 4))}))
    loss = Loss("squared", "v", rng.uniform(0, 1, (B, 4)), np.array([0, 0, 1, 1], bool))
    return m, system, loss


@pytest.mark.parametrize("hidden,visible", PAIRS)
def test_symmetric_ep_matches_implicit_gradient(hidden, visible, rng):
    _, system, loss = _denseam_problem(hidden, visible, rng)
    free = relax(system)
    assert free.converged.all()
    exact = implicit_gradient(system, free, loss)
    ep = ep_gradient(system, free, loss, 1e-2)
    assert ep.skipped == 0
    assert cosine(ep.grads, exact.grads) >= 0.999


def test_ep_matches_implicit_on_energy_transformer(rng):
    m = random_et(rng, scale=0.15, memory_activation="tanh")
    system = et_system(m, rng, B=5)
    loss = Loss("cross_entropy", "v", rng.integers(0, 2, 5))
    free = relax(system)
    exact = implicit_gradient(system, free, loss)
    ep = ep_gradient(system, free, loss, 1e-2)
    assert cosine(ep.grads, exact.grads) >= 0.999
    # The decoder is trained by its ordinary gradient at the free state in both.
    np.testing.assert_allclose(ep.grads["decoder.weights"], exact.grads["decoder.weights"])


def test_implicit_gradient_matches_finite_differences(rng):
    """The exact baseline itself, against central differences of the settled loss."""
    m, system, loss = _denseam_problem("softmax", "identity", rng)
    free = relax(system)
    key = "coupling.xi.weights"
    exact = implicit_gradient(system, free, loss).grads[key]
    p = parameters(m)

    def settled_loss(w):
        mm = with_parameters(m, {key: w})
        s2 = bind(mm, Stimulus(system.batch, init={"v": system.u0[:, :4]}))
        return loss.value(mm, relax(s2, u_start=free.u, tol=1e-12).u).mean()

    eps, fd = 1e-6, np.zeros_like(p[key])
    for idx in np.ndindex(*fd.shape):
        d = np.zeros_like(fd)
        d[idx] = eps
        fd[idx] = (settled_loss(p[key] + d) - settled_loss(p[key] - d)) / (2 * eps)
    np.testing.assert_allclose(exact, fd, atol=1e-7 * max(1.0, np.abs(fd).max()))


def _rel_err(a: dict, b: dict) -> float:
    keys = sorted(b)
    x = np.concatenate([np.ravel(a[k]) for k in keys])
    y = np.concatenate([np.ravel(b[k]) for k in keys])
    return float(np.linalg.norm(x - y) / np.linalg.norm(y))


def test_one_sided_ep_has_the_larger_bias(rng):
    """One-sided EP's error shrinks like beta, symmetric EP's like beta^2."""
    _, system, loss = _denseam_problem("softmax", "identity", rng)
    free = relax(system)
    exact = implicit_gradient(system, free, loss).grads
    err = {}
    for beta in (0.03, 0.01):
        err["sym", beta] = _rel_err(ep_gradient(system, free, loss, beta).grads, exact)
        err["pos", beta] = _rel_err(
            ep_gradient(system, free, loss, beta, mode="positive").grads, exact)
        assert err["pos", beta] > 5 * err["sym", beta]
    assert 2 < err["pos", 0.03] / err["pos", 0.01] < 4.5      # ~3: first order
    assert err["sym", 0.03] / err["sym", 0.01] > 6            # ~9: second order


def test_ep_degrades_when_the_fixed_point_is_flat(rng):
    """tanh memories at gain c / sigma_max(xi)^2: as c nears 1 the fixed point flattens
    (slowest decay rate ~ 1 - c) and, at the same nudge, EP drifts from the exact
    gradient (the nudged state moves ~ beta / rate into the nonlinearity)."""
    xi = rng.uniform(0, 1, (5, 4))
    xi /= np.linalg.norm(xi, 2)
    a = rng.normal(0, 0.1, 4)
    loss = Loss("squared", "v", rng.uniform(0, 1, (3, 4)), np.array([0, 0, 1, 1], bool))
    u0 = rng.normal(0, 0.1, (3, 4))
    out = []
    for c in (0.3, 0.9):
        m = build_denseam(xi, beta=c, hidden_activation="tanh", visible_bias=a,
                          hidden_bias=np.zeros(5))
        s = bind(m, Stimulus(3, init={"v": u0}))
        free = relax(s)
        assert free.converged.all()
        cos = cosine(ep_gradient(s, free, loss, 0.05).grads,
                     implicit_gradient(s, free, loss).grads)
        out.append((float(slowest_rate(s, free.u).min()), 1 - cos))
    (rate_stiff, err_stiff), (rate_flat, err_flat) = out
    assert rate_flat < 0.3 * rate_stiff
    assert err_flat > 50 * err_stiff


def test_unconverged_phases_are_skipped_and_counted(rng):
    """An unbounded energy runs away: relaxation says so and EP uses none of it."""
    m = random_et(rng, scale=0.6)
    system = et_system(m, rng, B=3)
    assert not check_energy_bounded(system).bounded
    free = relax(system, attempts=2)
    assert not free.converged.any()
    g = ep_gradient(system, free, Loss("cross_entropy", "v", np.zeros(3, int)), 1e-2,
                    attempts=2)
    assert g.used == 0 and g.skipped == 3
    assert all(np.all(v == 0) for v in g.grads.values())


def test_projection_keeps_energy_bounded_and_weights_nonnegative(rng):
    m = random_et(rng, scale=0.6)
    system = et_system(m, rng, B=2)
    assert check_energy_bounded(system).sigma_max > 1
    p = project_bounded(m, system, 0.9)
    s2 = bind(p, Stimulus(2, tokens=system.tokens))
    assert check_energy_bounded(s2).sigma_max == pytest.approx(0.9)
    assert all(np.all(c.weights >= 0) for c in p.couplings)
    # Squares of any free parameters are conductances.
    theta = {"coupling.hopf.weights": -np.ones_like(m.couplings[1].weights)}
    assert np.all(from_theta(m, theta).couplings[1].weights == 1.0)


def test_xor_learned_by_ep_from_its_truth_table():
    result = train(config_for("xor", epochs=60))
    assert result.final.correct.all()
    assert result.final.converged.all()
    assert result.deploy["deployable"]
    assert all(r["skipped"] == 0 for r in result.log)
    assert min(r["cos_ep_implicit"] for r in result.log[1:]) >= 0.999


def test_the_step_size_falls_along_a_half_cosine_and_the_loop_takes_it():
    cfg = config_for("xor", epochs=4, lr=0.03, lr_final=0.001)
    steps = [cfg.step_size(d) for d in np.linspace(0, 1, 11)]
    assert steps[0] == pytest.approx(0.03) and steps[-1] == pytest.approx(0.001)
    assert steps[5] == pytest.approx(0.0155)          # the mean halfway
    assert np.all(np.diff(steps) < 0)
    assert config_for("xor", lr=0.03).step_size(0.7) == 0.03
    with pytest.raises(TrainError, match="lr_final"):
        config_for("xor", lr=0.01, lr_final=0.02)
    # lr_final = lr is the constant schedule to the bit; a falling one ends elsewhere
    const = train(config_for("xor", epochs=4)).log[-1]["loss"]
    same = train(config_for("xor", epochs=4, lr_final=0.03)).log[-1]["loss"]
    falls = train(config_for("xor", epochs=4, lr_final=1e-4)).log[-1]["loss"]
    assert same == const and falls != const


def test_interrupted_training_resumes_to_the_same_numbers(tmp_path):
    cfg = config_for("xor", epochs=4)
    whole = train(cfg)
    ckpt = tmp_path / "x.ckpt.npz"

    def stop_after_two(rec, _n):
        if rec["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, ckpt, on_epoch=stop_after_two)
    resumed = train(cfg, ckpt)
    for k, v in parameters(whole.model).items():
        np.testing.assert_array_equal(parameters(resumed.model)[k], v)
    assert [r["loss"] for r in resumed.log] == [r["loss"] for r in whole.log]
    # A checkpoint of other settings is refused, not silently mixed in.
    with pytest.raises(Exception, match="other settings"):
        train(TrainConfig(**{**cfg.__dict__, "lr": 0.5}), ckpt)


def _tamper_checkpoint(path, change):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    original = arrays["__meta__"]
    meta = json.loads(str(original))
    change(arrays, meta)
    if arrays["__meta__"] is original:
        arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def _first(prefix):
    return lambda a: next(k for k in a if k.startswith(prefix))


@pytest.mark.parametrize("damage, match", [
    (lambda a, m: m.__setitem__("epoch", float("inf")), "epoch and step counts"),
    (lambda a, m: m.__setitem__("epoch", 99), "one record of numbers"),
    (lambda a, m: m.__setitem__("adam_t", -3), "epoch and step counts"),
    (lambda a, m: m.__setitem__("log", [["x"]] * len(m["log"])), "one record of numbers"),
    (lambda a, m: a.__setitem__("__meta__", np.array("[" * 5000 + "]" * 5000)),
     "not a usable checkpoint"),
    (lambda a, m: a.__setitem__(_first("adam_m/")(a), np.zeros(7)), "missing or damaged"),
    (lambda a, m: a.__setitem__(_first("theta/")(a), a[_first("theta/")(a)] * np.nan),
     "missing or damaged"),
], ids=["epoch inf", "epoch beyond its log", "negative step", "log of lists",
        "nested metadata", "Adam moment of another shape", "NaN parameter"])
def test_a_damaged_checkpoint_is_refused_with_what_is_wrong(tmp_path, damage, match):
    cfg = config_for("xor", epochs=2)
    ckpt = tmp_path / "x.ckpt.npz"
    train(cfg, ckpt)
    _tamper_checkpoint(ckpt, damage)
    with pytest.raises(TrainError, match=match):
        train(cfg, ckpt)


@pytest.mark.parametrize("name", ["xor_ep", "parity8"])
def test_shipped_trained_models_are_deployable(name):
    """Tight adaptive ODE predictions equal the trainer's on every input, every input
    settles, the energy is bounded, weights are conductances (>= 0)."""
    path = ROOT / "models" / f"{name}.npz"
    model, prov = load_model(path), load_provenance(path)
    task = get_task(model.task)
    inputs = task.inputs()
    ode = simulate_ode(bind_task(model, inputs), method="Radau", rtol=1e-8, atol=1e-10,
                       n_points=2)
    assert ode.bound.bounded and ode.settled.all()
    pred = task.predict(model, ode.u_final)
    np.testing.assert_array_equal(pred, np.array(prov["trainer_predictions"]))
    assert np.all(pred == task.target(inputs))
    assert all(np.all(c.weights >= 0) for c in model.couplings)
    if name == "parity8":
        assert prov["final"]["heldout_acc"] >= 0.96


def test_train_cli_writes_log_and_rejects_bad_settings(tmp_path):
    out = tmp_path / "x.npz"
    r = run_cli("train", "xor", "--epochs", "2", "-o", str(out))
    assert r.returncode in (0, 2), r.stderr
    log = json.loads((tmp_path / "x.train.json").read_text())
    assert [e["epoch"] for e in log["epochs"]] == [0, 1, 2]
    assert {"loss", "train_acc", "skipped", "max_phase_residual", "min_rate",
            "cos_ep_implicit", "seconds"} <= set(log["epochs"][-1])
    assert (tmp_path / "x.train.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "x.ckpt.npz").exists()
    bad = run_cli("train", "xor", "--beta-nudge", "-1", "-o", str(tmp_path / "y.npz"))
    assert_one_line_error(bad, "beta_nudge")
    assert not (tmp_path / "y.npz").exists()
