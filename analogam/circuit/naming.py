"""Net and element names: one helper, so every name in a circuit follows one pattern.

Within copy ``k`` of a batched circuit every name starts with ``k{k}_`` (nothing for a
single copy). Nets are ``{prefix}{kind}_{owner}[_{index}]`` (``u`` state, ``a``
activation, ``l`` line, ``ln`` inverted line, ``sum`` summing node, block-internal kinds
otherwise); elements are ``{prefix}{owner}[_{index}][_{suffix}]``. An element's
*identity* is its name without the copy prefix: the same part on every copy of the chip
(what seeded variations are keyed by).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CircuitError

NET_KINDS = {
    "u": "state (integrator output or clamp)", "a": "activation output",
    "l": "crossbar line", "ln": "inverted crossbar line", "clamp": "input clamp source",
    "sum": "integrator summing node", "d": "line driver output",
    "dn": "inverted line driver output", "ni": "negated activation",
    "xo": "line copy amplifier output", "xon": "inverted line copy amplifier output",
    "lse": "log-sum-exp node", "ls": "level-shift reference",
    "b": "softmax base", "c": "softmax collector", "e": "common emitter",
    "bp": "pair base +", "bm": "pair base -", "cp": "pair collector +",
    "cm": "pair collector -", "tzm": "pair transimpedance midpoint",
    "vc": "read-out virtual ground (the collectors' voltage)",
    "rn": "rectifier inverted input", "rs1": "rectifier summing node 1",
    "rs2": "rectifier summing node 2", "rd": "rectifier diode node",
    "vcc": "role collector rail", "vee": "role emitter rail",
    "vdd": "role amplifier positive rail", "vss": "role amplifier negative rail",
    "col": "dual-array column (virtual ground)", "coln": "dual-array negative column",
}
"""Every kind of net a block may name, and what it is: two blocks can never name
different nets alike (a collision would silently join them)."""


@dataclass(frozen=True)
class Names:
    prefix: str = ""

    def net(self, kind: str, owner: str, index: int | str | None = None) -> str:
        if kind not in NET_KINDS:
            raise CircuitError(f"net kind {kind!r} is not registered in NET_KINDS")
        return f"{self.prefix}{kind}_{owner}" + ("" if index is None else f"_{index}")

    def elem(self, owner: str, index: int | str | None = None, suffix: str | None = None
             ) -> str:
        return (f"{self.prefix}{owner}" + ("" if index is None else f"_{index}")
                + ("" if suffix is None else f"_{suffix}"))

    def state(self, group: str, i: int) -> str:
        """Node at ``Vs * u`` (the integrator output, or the clamp)."""
        return self.net("u", group, i)

    def act(self, group: str, i: int) -> str:
        """Node at ``Vs * y``, the activation output."""
        return self.net("a", group, i)

    def line(self, group: str, i: int) -> str:
        """The crossbar line, held at ``Vs * y`` by its driver."""
        return self.net("l", group, i)

    def inv_line(self, group: str, i: int) -> str:
        """The inverted line at ``-Vs * y`` (negative weights connect here)."""
        return self.net("ln", group, i)

    def sense(self, group: str, i: int, inverted: bool = False) -> str:
        """The zero-volt source through which a line's (inverted line's) current flows."""
        return self.elem(group, i, "sn" if inverted else "s")

    def identity(self, name: str) -> str:
        """The element's name on the chip, without the copy prefix."""
        return name[len(self.prefix):] if name.startswith(self.prefix) else name
