"""The model's math: force = -grad E scaled, Jacobian vs finite differences, validation."""

import itertools

import numpy as np
import pytest
from conftest import denseam_with, et_system, random_et

from analogam.errors import ModelError
from analogam.model import (
    Coupling,
    Group,
    Model,
    Stimulus,
    bind,
    check_energy_bounded,
    drives,
    energy,
    force,
    jacobian,
    outputs,
)
from analogam.model.activations import ACTIVATIONS

PAIRS = list(itertools.product(sorted(ACTIVATIONS), ["identity", "tanh"]))


def fd_jacobian(system, u, h=1e-6):
    N = u.shape[1]
    cols = [(force(system, u + h * e) - force(system, u - h * e)) / (2 * h) for e in np.eye(N)]
    return np.stack(cols, axis=-1)


def systems(rng):
    for hidden, visible in PAIRS:
        m = denseam_with(hidden, visible, rng)
        yield f"{hidden}/{visible}", bind(m, Stimulus(3, init={"v": rng.normal(0, 1, (3, 4))}))
    for act in ("relu", "tanh"):
        yield f"ET/{act}", et_system(random_et(rng, memory_activation=act), rng)


def test_jacobian_matches_finite_differences(rng):
    for label, s in systems(rng):
        u = s.u0 + rng.normal(0, 0.7, s.u0.shape)
        J, fd = jacobian(s, u), fd_jacobian(s, u)
        rel = np.abs(J - fd).max() / max(1.0, np.abs(fd).max())
        assert rel <= 1e-6, f"{label}: relative Jacobian error {rel:.2e}"


def test_force_is_minus_grad_energy_through_activation_jacobian(rng):
    """tau du/dt = drive - u and dE/du = -J_act (drive - u): the energy is a Lyapunov
    function. Check dE/du by finite differences against that identity."""
    for label, s in systems(rng):
        u = s.u0 + rng.normal(0, 0.7, s.u0.shape)
        h = 1e-6
        grad = np.stack([(energy(s, u + h * e) - energy(s, u - h * e)) / (2 * h)
                         for e in np.eye(u.shape[1])], axis=-1)
        d = drives(s, outputs(s, u))
        m = s.model
        from analogam.model import activation_jacobians

        Jg = activation_jacobians(s, u)
        for g in m.groups:
            sl = m.slices[g.name]
            expect = -(Jg[g.name] @ (d[g.name] - u[:, sl])[:, :, None])[:, :, 0]
            np.testing.assert_allclose(grad[:, sl], expect, rtol=1e-5, atol=1e-6,
                                       err_msg=label)
        # energy never increases along the force
        assert np.all(np.sum(grad * force(s, u), axis=1) <= 1e-9), label


def test_clamped_units_do_not_move(xor_model):
    s = bind(xor_model, Stimulus(1, init={"v": np.array([[1.0, 0.0, 0.2]])},
                                 clamp={"v": np.array([True, True, False])}))
    f = force(s, s.u0)
    assert f[0, 0] == 0 and f[0, 1] == 0 and f[0, 2] != 0
    assert np.all(jacobian(s, s.u0)[0, :2] == 0)


def test_target_init_puts_hidden_units_at_their_drive(rng):
    s = et_system(random_et(rng), rng)
    d = drives(s, outputs(s, s.u0))
    for name in ("attn", "hopf"):
        np.testing.assert_allclose(s.u0[:, s.model.slices[name]], d[name])
    np.testing.assert_array_equal(s.u0[:, s.model.slices["v"]], 0.0)


def test_energy_bound_check_detects_large_relu_memories(rng):
    small = et_system(random_et(rng, scale=0.1), rng)
    big = et_system(random_et(rng, scale=3.0), rng)
    assert check_energy_bounded(small).bounded
    chk = check_energy_bounded(big)
    W = big.weights[1][0]
    assert not chk.bounded and chk.sigma_max == pytest.approx(np.linalg.norm(W, 2))
    assert "singular value" in chk.message
    # bounded memories never make E unbounded, whatever the scale
    assert check_energy_bounded(et_system(random_et(rng, scale=3.0,
                                                    memory_activation="tanh"), rng)).bounded


@pytest.mark.parametrize("mutate, match", [
    (dict(tau=-1.0), "tau must be positive"),
    (dict(tau=float("nan")), "tau must be positive"),
    (dict(activation="sigmoid"), "unknown activation"),
    (dict(bias=np.zeros(2)), "bias has shape"),
    (dict(bias=np.array([np.nan, 0, 0])), "non-finite"),
    (dict(init="random"), "unknown init"),
])
def test_invalid_groups_are_rejected(mutate, match):
    kw = dict(name="v", size=3, activation="identity", tau=1.0, bias=np.zeros(3))
    kw.update(mutate)
    with pytest.raises(ModelError, match=match):
        Model("m", (Group(**kw),), (), readout_time=1.0)


def test_coupling_shape_and_names_are_checked():
    g = (Group("v", 3, "identity", 1.0, np.zeros(3)), Group("h", 2, "softmax", 0.1, np.zeros(2)))
    with pytest.raises(ModelError, match=r"expected \(2, 3\)"):
        Model("m", g, (Coupling("xi", "h", "v", np.zeros((3, 2))),), 1.0)
    with pytest.raises(ModelError, match="unknown group"):
        Model("m", g, (Coupling("xi", "x", "v", np.zeros((2, 3))),), 1.0)


def test_model_arrays_are_immutable(xor_model):
    with pytest.raises(ValueError):
        xor_model.couplings[0].weights[0, 0] = 5.0
