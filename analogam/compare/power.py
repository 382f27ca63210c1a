"""Energy per inference: what the circuit draws from its supplies while it settles.

Computed from the circuit's own transient (the states ngspice produced, mapped back to
model units) and the circuit's element list, for one input, over ``[0, t_settle]``
(the 1% settling time of that input, seconds). Every line voltage is ``Vs y`` (the
drivers hold it), so currents follow from the states:

- crossbar: ``P = sum G (V_h - s V_v)^2`` with ``G = G0 |w|``, ``s = sign(w)``
  (negative weights sit on the inverted line);
- line driver j delivers ``I_j = G0 Vs (sum_k |w_jk| y_j - sum_k w_jk y_k)`` into the
  crossbar; an integrator delivers ``G0 Vs (u + tau du/dt) = G0 Vs drive`` into its
  leak and capacitor; a ReLU rectifier ``V_out / R_load``;
- amplifier supply: each amplifier draws ``I_q`` between its rails plus its output
  current from the rail on the side it drives (``|I| V_rail``): the macromodel's
  quiescent current and swing (``OpampKit.iq``, ``v_pos``, ``v_neg``) are the
  parameters;
- bias current sources and BJT tail currents are drawn from a rail (``|I| V_rail``
  and ``I_tail (V_cc - V_ee)``).

The dissipation in the crossbar and the leaks is reported as a breakdown (it is part
of what the amplifiers deliver). Joules and watts throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..circuit import Compiled
from ..model import outputs

Array = np.ndarray


@dataclass(frozen=True)
class InferenceEnergy:
    """Energy drawn during one settling (J) and its parts; ``t_settle_s`` in seconds."""

    total_j: float
    amplifier_quiescent_j: float
    amplifier_output_j: float
    bias_and_tails_j: float
    crossbar_dissipation_j: float
    leak_dissipation_j: float
    t_settle_s: float
    amplifiers: int


def _trapz(y: Array, t: Array) -> float:
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(t)))


def inference_energy(compiled: Compiled, t: Array, u: Array, t_settle: float,
                     copy: int = 0) -> InferenceEnergy:
    """Energy of copy ``copy`` of ``compiled`` along its circuit trajectory ``u`` (T, N)
    sampled at model times ``t``, integrated up to ``t_settle`` (model time)."""
    sys = compiled.system.select(slice(copy, copy + 1))
    cfg = compiled.options.config
    opamp_level = compiled.level == "opamp"
    m, sc, kit = sys.model, compiled.scales, cfg.opamp
    # up to and including the first sample after t_settle (at least two samples)
    n = min(t.size, max(2, int(np.searchsorted(t, t_settle + 1e-12, side="right")) + 1))
    t, u = t[:n], u[:n]
    ts = t * sc.t0
    g = outputs(sys, u)  # time as the batch axis: outputs are per state
    rail = max(kit.v_pos, -kit.v_neg)
    p_x = np.zeros(t.size)
    i_out = np.zeros(t.size)
    for c, W in zip(m.couplings, sys.weights, strict=True):
        w = W[0]
        yh, yv = g[c.hidden], g[c.visible]                       # (T, H), (T, V)
        aw = np.abs(w)
        diff = yh[:, :, None] - np.sign(w)[None] * yv[:, None, :]
        p_x += sc.g0 * sc.vs**2 * np.sum(aw[None] * diff**2, axis=(1, 2))
        ih = sc.g0 * sc.vs * (aw.sum(1)[None] * yh - yv @ w.T)
        iv = sc.g0 * sc.vs * (aw.sum(0)[None] * yv - yh @ w)
        i_out += np.abs(ih).sum(1) + np.abs(iv).sum(1)
    free = sys.free
    dudt = np.gradient(u, t, axis=0)
    i_int = sc.g0 * sc.vs * (u + m.tau[None] * dudt)[:, free]
    i_out += np.abs(i_int).sum(1)
    p_leak = sc.g0 * sc.vs**2 * np.sum(u[:, free] ** 2, axis=1)
    for grp in m.groups:
        if grp.activation == "relu" and opamp_level:
            i_out += np.sum(g[grp.name], axis=1) * sc.vs / 1e5
    circ = compiled.circuit
    bias_i = sum(abs(e.value) for e in circ.by_role("bias"))
    tails = sum(e.value for e in circ.by_role("tail"))
    copies = compiled.system.batch
    n_amp = compiled.circuit.counts().get("amplifiers", 0) // copies
    span = ts[-1] - ts[0]
    e_q = n_amp * kit.iq * (kit.v_pos - kit.v_neg) * span if opamp_level else 0.0
    e_out = _trapz(i_out * rail, ts)
    bjt = cfg.bjt
    e_bias = (bias_i / copies * rail + tails / copies * (bjt.v_cc - bjt.v_ee)) * span
    e_x, e_l = _trapz(p_x, ts), _trapz(p_leak, ts)
    parts = [float(x) for x in (e_q + e_out + e_bias, e_q, e_out, e_bias, e_x, e_l, span)]
    return InferenceEnergy(*parts, amplifiers=int(n_amp))

