"""Tests generated from the block registry: every registered activation is simulated
at every level in ngspice against the ODE, within that level's error bound, as soon
as its emitters are registered."""

from __future__ import annotations

import numpy as np
import pytest

from analogam.circuit import LEVELS, CompileOptions, activations_registered, build_circuit
from analogam.compare import compare
from analogam.model import Stimulus, bind
from analogam.model.architectures import build_denseam
from analogam.netlist import format_netlist, transient_for
from analogam.reference import simulate_ode
from analogam.spice import simulate_spice

pytestmark = pytest.mark.ngspice
PARAM = {"identity": 1.0, "relu": 1.0, "tanh": 2.0, "softmax": 3.0}


def cell_system(activation: str):
    """3 visible identity units and 4 hidden units of ``activation``, signed weights
    small enough that unbounded pairs keep a bounded energy (sigma_max < 1); visible
    units start away from the fixed point, and some hidden drives start negative."""
    rng = np.random.default_rng(7)
    xi = rng.uniform(-0.45, 0.45, (4, 3))
    m = build_denseam(xi, beta=PARAM[activation], tau_v=1.0, tau_h=0.2, readout_time=8.0,
                      hidden_activation=activation, visible_bias=np.array([0.2, -0.1, 0.3]),
                      hidden_bias=np.array([0.3, -0.4, 0.1, -0.2]), name=f"cell_{activation}")
    return bind(m, Stimulus(2, init={"v": np.array([[0.8, -0.5, 0.1], [-0.3, 0.6, -0.9]])}))


@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("activation", activations_registered())
def test_every_activation_at_every_level_follows_the_ode(activation, level):
    system = cell_system(activation)
    c = build_circuit(system, CompileOptions(level=level))
    r = simulate_spice(format_netlist(c.circuit, transient_for(c)), timeout_s=120)
    cmp = compare(c, r, simulate_ode(c.system))
    assert cmp.max_err.max() <= LEVELS[level].tolerance, (activation, level,
                                                          cmp.max_err.max())


def test_registry_covers_every_activation_of_the_model():
    from analogam.model import ACTIVATIONS

    assert activations_registered() == sorted(ACTIVATIONS)
