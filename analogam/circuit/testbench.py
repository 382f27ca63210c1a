"""Blocks alone on a bench: the translinear softmax driven by fixed states, and an
amplifier on the benches that characterise it."""

from __future__ import annotations

import numpy as np

from ..errors import CircuitError
from .blocks import Emit, block
from .blocks.activations import ActivationSpec
from .builder import CircuitBuilder
from .config import DeviceConfig, Scales
from .ir import GROUND, Circuit, Probe, Process, SubcktDef, num
from .levels import get_level
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
             Scales(vs, cfg.scales.g0, 1e-6), get_level(level), block)
    softmax = e.block("activation:softmax")
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


AMPLIFIER_BENCHES = ("follower", "open_loop", "step", "inverting", "short")
"""The benches an amplifier is characterised on: a unity-gain follower (offset,
quiescent current), the open loop closed for DC only through 1 Gohm and 1 F (gain,
gain-bandwidth, phase margin), a follower whose input steps by 1 V (slew rate), and a
gain -1 stage (output swing, whatever the input common-mode range)."""


def build_amplifier_bench(amp: SubcktDef, bench: str, supplies: tuple[float, float],
                          process: Process | None = None, load_c: float = 1e-12,
                          load_r: float = 100e3) -> Circuit:
    """``amp`` (ports named ``inp inn out vdd vss``, in any order, and any internal ports
    it exposes) on
    ``bench`` (:data:`AMPLIFIER_BENCHES`), supplies (V+, V-) around ground, loaded by
    ``load_c`` (F) and ``load_r`` (ohm, a crossbar line's order) to ground. The input
    source is ``vin``, the output net ``out``."""
    if bench not in AMPLIFIER_BENCHES:
        raise CircuitError(f"unknown amplifier bench {bench!r}; valid: "
                           f"{', '.join(AMPLIFIER_BENCHES)}")
    b = CircuitBuilder(title=f"{amp.name} {bench} bench")
    b.process = process
    b.subckt(amp)
    b.add("vsource", "vdd", ("vdd", GROUND), supplies[0], role="supply")
    b.add("vsource", "vss", ("vss", GROUND), supplies[1], role="supply")
    inn = "out" if bench in ("follower", "step") else "inn"
    b.add("acsource", "vin", ("in", GROUND), 0.5 if bench == "step" else 0.0,
          1.0 if bench == "open_loop" else 0.0, role="clamp")
    inp = {"inverting": GROUND, "step": "ip"}.get(bench, "in")
    inn = GROUND if bench == "short" else inn
    if bench == "step":
        # the input steps: a 1 ps RC from the source, its capacitor starting 1 V below
        b.add("resistor", "rs", ("in", "ip"), 1.0, role="load")
        b.add("capacitor", "cs", ("ip", GROUND), 1e-12, role="load")
    nets = {"inp": inp, "inn": inn, "out": "out", "vdd": "vdd", "vss": "vss"}
    extra = [f"x_{port}" for port in amp.ports if port not in nets]
    b.add("instance", "x", tuple(nets.get(port, f"x_{port}") for port in amp.ports),
          amp.name, role="amplifier")
    if bench == "open_loop":
        b.add("resistor", "rf", ("out", "inn"), 1e9, role="load")
        b.add("capacitor", "cf", ("inn", GROUND), 1.0, role="load")
    if bench == "inverting":
        b.add("resistor", "ri", ("in", "inn"), load_r, role="load")
        b.add("resistor", "rf", ("inn", "out"), load_r, role="load")
    if bench == "short":
        # the output held at ground by a meter: the current it sources (input above
        # ground) or sinks (below) is the amplifier's output current capability
        b.add("vsource", "vload", ("out", GROUND), 0.0, role="load")
    else:
        b.add("capacitor", "cl", ("out", GROUND), load_c, role="load")
        b.add("resistor", "rl", ("out", GROUND), load_r, role="load")
    if bench == "step":
        # the follower settled at -0.5 V (input, output and any internal state the model
        # exposes) when its input steps to +0.5 V
        for net in ("ip", "out", *extra):
            b.ic[net] = -0.5
    for net in extra:
        b.guess(net, num(0.0))
    b.probes.append(Probe("out", 0, 0))
    b.probes.append(Probe("in", 0, 1))
    return b.freeze()


def build_mismatch_bench(amp: SubcktDef, n: int, supplies: tuple[float, float],
                         process: Process, load_r: float = 100e3) -> Circuit:
    """``n`` unity-gain followers of ``amp``, inputs grounded, outputs ``out{k}`` each
    loaded by ``load_r`` (ohm), on ``process`` with the kit's mismatch switched on and
    seeded (:meth:`~.pdk.ProcessKit.process`): every instance draws its devices'
    statistics from the kit, so the outputs are ``n`` samples of the input-referred
    offset, the same ones for the same seed."""
    if not 1 <= n <= 10_000:
        raise CircuitError(f"a mismatch bench needs 1 to 10000 amplifiers, got {n}")
    if process.seed is None:
        raise CircuitError("a mismatch bench needs the kit's mismatch switched on and "
                           "seeded: ProcessKit.process(corner, mismatch_seed=...)")
    b = CircuitBuilder(title=f"{amp.name} mismatch bench, {n} followers")
    b.process = process
    b.subckt(amp)
    b.add("vsource", "vdd", ("vdd", GROUND), supplies[0], role="supply")
    b.add("vsource", "vss", ("vss", GROUND), supplies[1], role="supply")
    for k in range(n):
        out = f"out{k}"
        nets = {"inp": GROUND, "inn": out, "out": out, "vdd": "vdd", "vss": "vss"}
        b.add("instance", f"x{k}", tuple(nets.get(port, f"x{k}_{port}") for port in amp.ports),
              amp.name, role="amplifier")
        b.add("resistor", f"rl{k}", (out, GROUND), load_r, role="load")
        b.guess(out, num(0.0))
        b.probes.append(Probe(out, 0, k))
    return b.freeze()


def build_readout_bench(amp: SubcktDef, v_c: float, supplies: tuple[float, float],
                        process: Process | None = None, r: float = 50e3) -> Circuit:
    """``amp`` as the pdk level's transimpedance read-out with no input current: its
    non-inverting input at ``v_c`` (V), feedback ``r`` (ohm) from ``out`` to the summing
    node ``n``, ``r (V+ - v_c) / v_c`` from the positive supply into ``n`` and
    ``r |V-| / v_c`` from ``out`` to the negative supply (it takes the feedback
    resistor's current, so the amplifier's output carries none), so an ideal
    amplifier's output is 0 V. What it is instead is the amplifier's offset at
    this operating point (inputs at ``v_c``, output at ground) times the noise gain
    ``V+ / (V+ - v_c)``."""
    b = CircuitBuilder(title=f"{amp.name} read-out bench at {v_c:g} V")
    b.process = process
    b.subckt(amp)
    b.add("vsource", "vdd", ("vdd", GROUND), supplies[0], role="supply")
    b.add("vsource", "vss", ("vss", GROUND), supplies[1], role="supply")
    b.add("vsource", "vref", ("ref", GROUND), v_c, role="clamp")
    nets = {"inp": "ref", "inn": "n", "out": "out", "vdd": "vdd", "vss": "vss"}
    b.add("instance", "x", tuple(nets.get(port, f"x_{port}") for port in amp.ports),
          amp.name, role="amplifier")
    b.add("resistor", "rf", ("out", "n"), r, role="load")
    b.add("resistor", "rx", ("vdd", "n"), r * (supplies[0] - v_c) / v_c, role="load")
    b.add("resistor", "rp", ("out", "vss"), r * -supplies[1] / v_c, role="load")
    for net, v in (("n", v_c), ("out", 0.0), *((f"x_{p}", 0.0) for p in amp.ports
                                               if p not in nets)):
        b.guess(net, num(v))
    b.probes.append(Probe("out", 0, 0))
    return b.freeze()
