"""The ODE reference: closed forms, the task answers, and the checks it must report."""

import numpy as np
import pytest
from conftest import et_system, random_et

from analogam.model import Group, Model, Stimulus, bind
from analogam.reference import METHODS, simulate_ode
from analogam.study import evaluate_ode
from analogam.tasks import get_task, hamming74_codewords


@pytest.mark.parametrize("method", METHODS)
def test_leaky_unit_matches_closed_form(method):
    """tau du/dt = b - u  =>  u(t) = b + (u0 - b) exp(-t/tau), for every method."""
    m = Model("leak", (Group("v", 3, "identity", 0.5, np.array([1.0, -2.0, 0.0])),), (), 3.0)
    u0 = np.array([[0.0, 1.0, 4.0], [2.0, 2.0, 2.0]])
    r = simulate_ode(bind(m, Stimulus(2, init={"v": u0})), method=method, rtol=1e-9,
                     atol=1e-12)
    exact = m.groups[0].bias + (u0[:, None, :] - m.groups[0].bias) * np.exp(-r.t / 0.5)[:, None]
    assert r.success
    np.testing.assert_allclose(r.u, exact, atol=1e-6)


def test_xor_truth_table(xor_model):
    rep = evaluate_ode(xor_model, get_task("xor").inputs())
    np.testing.assert_array_equal(rep.predictions[:, 0], [0, 1, 1, 0])
    assert rep.ode.success and not rep.ode.warnings
    assert rep.ode.settled.all() and rep.ode.energy_monotone.all()
    # the settled output bit sits at the stored pattern, not just on the right side of 1/2
    np.testing.assert_allclose(rep.ode.u_final[:, 2], [0, 1, 1, 0], atol=1e-3)


def test_hamming_corrects_every_single_bit_error(hamming_model):
    task = get_task("hamming74")
    words = task.inputs()
    assert len(words) == 128 == len({tuple(w) for w in words})
    rep = evaluate_ode(hamming_model, words)
    assert rep.accuracy == 1.0, f"{(~rep.correct).sum()} words decoded wrongly"
    cw = {tuple(c) for c in hamming74_codewords()}
    assert all(tuple(p) in cw for p in rep.predictions)
    assert rep.ode.energy_monotone.all() and rep.ode.settled.all()


def test_energy_non_increasing_on_energy_transformer(rng):
    s = et_system(random_et(rng, memory_activation="tanh"), rng, B=5)
    r = simulate_ode(s)
    assert r.success and r.energy_monotone.all()
    assert np.all(np.diff(r.energy, axis=1) <= r.energy_tol)


def test_early_readout_is_reported(xor_model):
    r = simulate_ode(bind(xor_model, get_task("xor").stimulus(xor_model, get_task("xor").inputs())),
                     t_end=0.5)
    assert not r.settled.all()
    assert any("before the fixed point" in w and "--t-end" in w for w in r.warnings)


def test_unbounded_energy_is_reported(rng):
    s = et_system(random_et(rng, scale=3.0), rng)
    r = simulate_ode(s, t_end=0.2)
    assert not r.bound.bounded
    assert any("unbounded" in w for w in r.warnings)


def test_energy_increase_is_reported(xor_model, monkeypatch):
    """A wrong energy (here: the true one negated, which rises along every trajectory)
    must be caught by the monotonicity check, not pass silently."""
    import analogam.reference.ode as ode_mod

    task = get_task("xor")
    s = bind(xor_model, task.stimulus(xor_model, task.inputs()))
    assert not any("energy increased" in w for w in simulate_ode(s).warnings)
    true_energy = ode_mod.energy
    monkeypatch.setattr(ode_mod, "energy", lambda system, u: -true_energy(system, u))
    r = simulate_ode(s)
    assert not r.energy_monotone.all()
    assert any("energy increased on 4/4" in w for w in r.warnings)


def test_bad_arguments_name_the_argument(xor_model):
    from analogam.errors import ModelError

    s = bind(xor_model, get_task("xor").stimulus(xor_model, get_task("xor").inputs()))
    with pytest.raises(ModelError, match="unknown ODE method 'Euler'"):
        simulate_ode(s, method="Euler")
    with pytest.raises(ModelError, match="rtol must be positive"):
        simulate_ode(s, rtol=0)


def test_compiled_force_equals_the_model_force_on_every_activation_and_nudge(rng):
    """The compiled transcription of the force (and of the EP nudge) against the numpy
    definition, for every activation, static and token couplings, clamps."""
    from analogam.reference.kernel import HAVE_NUMBA, force_compiled
    from analogam.reference.spec import spec_of
    from analogam.train import Loss, Nudge
    from analogam.train.relax import nudged_force, nudged_spec

    if not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    from conftest import denseam_with, et_system, random_et

    from analogam.model import Stimulus, bind, force

    systems = [et_system(random_et(rng, memory_activation=a), rng) for a in ("relu", "tanh")]
    for h, v in (("softmax", "identity"), ("relu", "tanh"), ("tanh", "identity")):
        m = denseam_with(h, v, rng)
        systems.append(bind(m, Stimulus(3, init={"v": rng.normal(0, 1, (3, 4))},
                                        clamp={"v": np.array([1, 0, 0, 0], bool)})))
    for s in systems:
        u = s.u0 + rng.normal(0, 0.5, s.u0.shape)
        u[:, s.clamped] = s.u0[:, s.clamped]
        np.testing.assert_allclose(force_compiled(spec_of(s), u), force(s, u), atol=1e-10)
    s = systems[0]
    ce = Nudge(0.3, Loss("cross_entropy", "v", rng.integers(0, 2, s.batch)))
    np.testing.assert_allclose(force_compiled(nudged_spec(s, ce), u := s.u0 + 0.2),
                               nudged_force(s, ce, u), atol=1e-10)
    s = systems[2]
    sq = Nudge(-0.2, Loss("squared", "v", rng.uniform(0, 1, (s.batch, 4)),
                          np.array([0, 1, 1, 0], bool)))
    np.testing.assert_allclose(force_compiled(nudged_spec(s, sq), u := s.u0 + 0.1),
                               nudged_force(s, sq, u), atol=1e-10)


@pytest.mark.parametrize("method", ["dopri5", "rkc"])
def test_batched_integrators_converge_at_their_order(method):
    """du/dt = -k u with a different k per sample (one stiff): the error against the
    closed form falls like rtol^(order/(order+1)); every sample lands on exp(-k t)."""
    from analogam.model import Stimulus, bind
    from analogam.model.architectures import build_denseam
    from analogam.reference import integrate

    # a DenseAM whose visible units only leak: du/dt = (a - u) / tau
    m = build_denseam(np.zeros((1, 3)), beta=1.0, tau_v=1.0, tau_h=0.01,
                      visible_bias=np.zeros(3), readout_time=2.0)
    u0 = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
    s = bind(m, Stimulus(2, init={"v": u0}))
    times = np.linspace(0, 2, 5)
    exact = u0[:, None, :] * np.exp(-times)[None, :, None]
    errs = []
    for rtol in (1e-4, 1e-7):
        tr = integrate(s, times, method=method, rtol=rtol, atol=rtol * 1e-3)
        assert tr.success and tr.method == method
        errs.append(np.abs(tr.u[:, :, :3] - exact).max())
    assert errs[1] < errs[0] / 30
    assert errs[1] < 1e-5
