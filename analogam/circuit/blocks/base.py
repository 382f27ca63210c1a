"""What every block emitter gets: the emission context of one circuit copy.

A block is a small function ``emit(e: Emit, spec)`` taking the context and a frozen
record of its typed parameters (SI units), and adding elements through ``e.add`` with
their role. Blocks never build names by hand: ``e.names`` does. Values that vary from
part to part are drawn through ``e.var`` keyed by the part's identity on the chip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..builder import CircuitBuilder
from ..config import DeviceConfig, Scales
from ..ir import GROUND, Limit, num
from ..naming import Names
from ..variation import Variation


@dataclass(frozen=True)
class Port:
    """Where a neuron integrates its input current: ``node``, and the ``sign`` with
    which a current injected there adds to ``C dV_u/dt`` (an inverting integrator's
    summing node takes currents negated)."""

    node: str
    sign: float


@dataclass
class Emit:
    """Emission context: the builder (shared by all copies), this copy's names, the
    device configuration, the seeded variation, the resolved scales and the level.
    ``once`` records circuit-wide parts already emitted (supply rails)."""

    b: CircuitBuilder
    names: Names
    config: DeviceConfig
    var: Variation
    scales: Scales
    level: str
    once: set = field(default_factory=set)
    copy: int = 0

    def for_copy(self, prefix: str, copy: int = 0) -> Emit:
        """The context of copy ``copy`` (same builder, rails and variation)."""
        return replace(self, names=Names(prefix), copy=copy)

    def limit(self, device: str, quantity: str, expr, lo: float | None = None,
              hi: float | None = None) -> None:
        """Record a safe operating condition ``lo <= expr <= hi`` of ``device``."""
        self.b.limits.append(Limit(device, quantity, expr, lo, hi, self.copy))

    def add(self, kind: str, name: str, nets: tuple[str, ...], *values, role: str) -> str:
        return self.b.add(kind, name, nets, *values, role=role)

    def key(self, name: str) -> str:
        """The identity of element ``name`` on the chip (its variation key)."""
        return self.names.identity(name)

    def rails(self) -> tuple[str, str]:
        """The supply rails ``vcc``/``vee`` of the translinear blocks, emitted once per
        circuit (ideal sources couple nothing between copies)."""
        if "rails" not in self.once:
            kit = self.config.bjt
            self.b.add("vsource", "cc", ("vcc", GROUND), kit.v_cc, role="supply")
            self.b.add("vsource", "ee", ("vee", GROUND), kit.v_ee, role="supply")
            self.b.guess("vcc", num(kit.v_cc))
            self.b.guess("vee", num(kit.v_ee))
            self.once.add("rails")
        return "vcc", "vee"
