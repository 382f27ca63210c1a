"""Circuit blocks: small emitters with typed parameters, registered per level in one
table, :data:`BLOCKS` (block kind -> level -> emitter). A level that registers no
emitter of a kind inherits it from its parent (any other level). Adding an
activation means adding its record to :mod:`analogam.model.activations` and its
emitters to :mod:`.activations`; adding a level, its record in
:mod:`analogam.circuit.levels` and registering what it changes
(docs/levels-and-kits.md).
"""

from __future__ import annotations

from ...errors import CircuitError
from ..levels import lineage
from . import activations, amplifier, cmos, crossbar, devices, dual, lines, neuron, translinear
from .base import Emit, Port


def _merge(*tables: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """One table from the modules' own (a kind may be registered in several modules,
    one level each); registering a (kind, level) twice is a programming error."""
    out: dict[str, dict[str, object]] = {}
    for table in tables:
        for kind, per_level in table.items():
            slot = out.setdefault(kind, {})
            for lv, emitter in per_level.items():
                if lv in slot:
                    raise CircuitError(f"block {kind!r} registered twice at level {lv!r}")
                slot[lv] = emitter
    return out


BLOCKS: dict[str, dict[str, object]] = _merge(
    neuron.BLOCKS, lines.BLOCKS, crossbar.BLOCKS, dual.BLOCKS, activations.BLOCKS,
    devices.BLOCKS, amplifier.BLOCKS, cmos.BLOCKS, translinear.BLOCKS,
)


def block(kind: str, level: str):
    """The emitter of ``kind`` at ``level`` (or the nearest ancestor that has one)."""
    table = BLOCKS.get(kind)
    if table is None:
        raise CircuitError(f"no circuit block {kind!r}; registered: {', '.join(BLOCKS)}")
    for lv in lineage(level):
        if lv in table:
            return table[lv]
    raise CircuitError(f"no {kind!r} block at level {level!r} or below")


def activations_registered() -> list[str]:
    """The activations every level can realise (from the block table)."""
    return sorted(k.split(":", 1)[1] for k in BLOCKS if k.startswith("activation:"))


__all__ = ["BLOCKS", "Emit", "Port", "activations_registered", "block"]
