"""Energy per inference: the crossbar term against a sum over the circuit's own
resistor elements, and the quiescent term against its closed form."""

from __future__ import annotations

import numpy as np

from analogam.circuit import CompileOptions, build_circuit
from analogam.compare import inference_energy
from analogam.model import outputs
from analogam.reference import simulate_ode
from analogam.tasks import bind_task, get_task


def test_energy_terms_match_the_element_list(hamming_model):
    words = get_task("hamming74").inputs()[20:21]
    system = bind_task(hamming_model, words)
    opt = CompileOptions(level="opamp")
    c = build_circuit(system, opt)
    ode = simulate_ode(system, n_points=401)
    t, u = ode.t, ode.u[0]
    e = inference_energy(c, t, u, t[-1])
    # Independent: every crossbar resistor of the netlist, V = Vs y on its two lines.
    sc = c.scales
    g = outputs(system, u)
    volt = {f"l_{grp.name}_{i}": sc.vs * g[grp.name][:, i]
            for grp in hamming_model.groups for i in range(grp.size)}
    p = np.zeros(t.size)
    for el in c.circuit.by_role("crossbar"):
        a, b = el.nets
        p += (volt[a] - volt[b]) ** 2 / el.param("r")
    ts = t * sc.t0
    expect = float(np.sum(0.5 * (p[1:] + p[:-1]) * np.diff(ts)))
    np.testing.assert_allclose(e.crossbar_dissipation_j, expect, rtol=1e-9)
    n_amp = c.circuit.counts()["amplifiers"]
    xi = hamming_model.couplings[0].weights
    lines = int((xi > 0).any(1).sum() + (xi > 0).any(0).sum())  # codeword 0 has no line
    assert e.amplifiers == n_amp == 23 + lines      # an integrator per unit, a driver per line
    np.testing.assert_allclose(e.amplifier_quiescent_j,
                               n_amp * opt.config.opamp.iq * 10.0 * ts[-1], rtol=1e-12)
    assert e.total_j == e.amplifier_quiescent_j + e.amplifier_output_j + e.bias_and_tails_j
    assert e.amplifier_output_j > e.crossbar_dissipation_j > 0
