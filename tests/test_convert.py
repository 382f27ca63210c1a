"""The reference parity-model importer against a direct numpy integration of the
reference equations, written here independently of analogam.model."""

import numpy as np
from test_weights import run_cli

from analogam.model.weights import load_model
from analogam.tasks import all_bit_strings


def reference_file(path, rng, D=6, M=5, L=8):
    arrays = dict(
        xi_attn_embed_raw=rng.uniform(0, 1.2, (2, D)), xi_hopf_raw=rng.uniform(0, 0.5, (M, D)),
        a=rng.normal(0, 0.3, D), b=rng.normal(0, 0.3, L), c=rng.normal(0, 0.3, M),
        W_dec=rng.normal(0, 1, (2, D)), b_dec=rng.normal(0, 0.1, 2),
    )
    np.savez(path, **arrays)
    return arrays


def numpy_reference(p, bits, t_end=1.0, steps=20000):
    """RK4 on the published equations (tau_v=0.1, tau_h=0.01, beta=0.1)."""
    E, H = p["xi_attn_embed_raw"] ** 2, p["xi_hopf_raw"] ** 2
    X = E[bits]                       # (B, L, D) attention weights

    def rhs(v, ha, hh):
        f = np.exp(0.1 * ha - (0.1 * ha).max(1, keepdims=True))
        f /= f.sum(1, keepdims=True)
        dv = (np.einsum("bld,bl->bd", X, f) + np.maximum(hh, 0) @ H + p["a"] - v) / 0.1
        dha = (np.einsum("bld,bd->bl", X, v) + p["b"] - ha) / 0.01
        dhh = (v @ H.T + p["c"] - hh) / 0.01
        return dv, dha, dhh

    v = np.zeros((bits.shape[0], E.shape[1]))
    ha = np.einsum("bld,bd->bl", X, v) + p["b"]
    hh = v @ H.T + p["c"]
    dt = t_end / steps
    for _ in range(steps):
        k1 = rhs(v, ha, hh)
        k2 = rhs(*(x + 0.5 * dt * k for x, k in zip((v, ha, hh), k1, strict=True)))
        k3 = rhs(*(x + 0.5 * dt * k for x, k in zip((v, ha, hh), k2, strict=True)))
        k4 = rhs(*(x + dt * k for x, k in zip((v, ha, hh), k3, strict=True)))
        v, ha, hh = (x + dt / 6 * (a + 2 * b + 2 * c + d)
                     for x, a, b, c, d in zip((v, ha, hh), k1, k2, k3, k4, strict=True))
    return v, np.argmax(v @ p["W_dec"].T + p["b_dec"], axis=1)


def test_importer_reproduces_numpy_reference(rng, tmp_path):
    src, out = tmp_path / "ref.npz", tmp_path / "parity.npz"
    p = reference_file(src, rng)
    proc = run_cli("convert", "--from", "analog-denseam", str(src), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    model = load_model(out)
    assert model.task == "parity8"
    from analogam.study import evaluate_ode

    bits = all_bit_strings(8)[::5]
    rep = evaluate_ode(model, bits)
    v_ref, pred_ref = numpy_reference(p, bits)
    np.testing.assert_allclose(rep.ode.u_final[:, model.slices["v"]], v_ref, atol=1e-6)
    np.testing.assert_array_equal(rep.predictions[:, 0], pred_ref)
    # the squared raw weights are what the model couples with
    np.testing.assert_array_equal(model.couplings[1].weights, p["xi_hopf_raw"] ** 2)
