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


@dataclass(frozen=True)
class Names:
    prefix: str = ""

    def net(self, kind: str, owner: str, index: int | str | None = None) -> str:
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
