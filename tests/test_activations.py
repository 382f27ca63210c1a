"""Every registered activation: g = dL/du, dg/du = Hessian of L, L convex."""

import numpy as np
import pytest

from analogam.errors import ModelError
from analogam.model.activations import ACTIVATIONS, get_activation

PARAM = 1.7


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_value_is_gradient_of_lagrangian(name, rng):
    act = get_activation(name)
    u = rng.normal(0, 1.5, (3, 6))
    h = 1e-6
    fd = np.stack([
        (act.lagrangian(u + h * e, PARAM) - act.lagrangian(u - h * e, PARAM)) / (2 * h)
        for e in np.eye(6)
    ], axis=-1)
    np.testing.assert_allclose(act.value(u, PARAM), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_jacobian_matches_finite_differences_and_is_psd(name, rng):
    act = get_activation(name)
    u = rng.normal(0, 1.5, (3, 6))
    h = 1e-6
    fd = np.stack([(act.value(u + h * e, PARAM) - act.value(u - h * e, PARAM)) / (2 * h)
                   for e in np.eye(6)], axis=-1)
    J = act.jacobian(u, PARAM)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)
    assert np.all(np.linalg.eigvalsh(0.5 * (J + np.swapaxes(J, 1, 2))) > -1e-12)


def test_closed_forms():
    u = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(get_activation("softmax").value(u, 1.0), [[0.25, 0.75]])
    np.testing.assert_allclose(get_activation("tanh").lagrangian(np.array([[0.0]]), 2.0), [0.0])
    np.testing.assert_allclose(get_activation("relu").value(np.array([[-1.0, 2.0]]), 1), [[0, 2]])
    # log cosh stays finite where cosh overflows
    assert np.isfinite(get_activation("tanh").lagrangian(np.array([[1e4]]), 1.0)).all()


def test_unknown_activation_lists_valid_ones():
    with pytest.raises(ModelError, match="valid: identity, relu, tanh, softmax"):
        get_activation("sigmoid")
