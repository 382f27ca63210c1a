"""Blocks alone on a bench: the translinear softmax driven by fixed states."""

from __future__ import annotations

import numpy as np

from .blocks import Emit, block
from .blocks.activations import ActivationSpec
from .builder import CircuitBuilder
from .config import DeviceConfig, Scales
from .ir import GROUND, Circuit, Probe, num
from .naming import Names
from .variation import Variation


def build_softmax_testbench(u: np.ndarray, beta: float, level: str = "bjt",
                            config: DeviceConfig | None = None
                            ) -> tuple[Circuit, list[list[str]]]:
    """The softmax block of ``level`` alone, driven by fixed states.

    ``u`` (K, n): K independent copies, each with its n inputs held at ``Vs*u`` by
    sources. Returns the circuit and, per copy, the nets whose voltages are
    ``Vs * softmax(beta u)`` (read them after a short transient)."""
    cfg = config or DeviceConfig()
    u = np.atleast_2d(np.asarray(u, dtype=float))
    K, n = u.shape
    vs = cfg.scales.vs
    e = Emit(CircuitBuilder(title="softmax testbench"), Names(), cfg, Variation(cfg),
             Scales(vs, cfg.scales.g0, 1e-6), level)
    softmax = block("activation:softmax", level)
    outs = []
    for k in range(K):
        ek = e.for_copy(f"k{k}_")
        nm = ek.names
        for i in range(n):
            ek.add("vsource", nm.elem("in", i), (nm.state("s", i), GROUND), vs * u[k, i],
                   role="clamp")
            ek.b.guess(nm.state("s", i), num(vs * u[k, i]))
            # a load on each output so its net is not floating; current goes to the source
            ek.add("resistor", nm.elem("load", i), (nm.act("s", i), GROUND), 1e6, role="load")
        softmax(ek, ActivationSpec("s", n, beta, (True,) * n))
        outs.append([nm.act("s", i) for i in range(n)])
        e.b.probes.extend(Probe(net, k, i) for i, net in enumerate(outs[-1]))
    return e.b.freeze(), outs
