"""Circuit blocks: small emitters with typed parameters, registered per level in one
table, :data:`BLOCKS` (block kind -> level -> emitter). A level that registers no
emitter of a kind inherits its parent's. Adding an activation means adding its
emitters to :mod:`.activations`; adding a level, naming it in
:mod:`analogam.circuit.levels` and registering what it changes.
"""

from __future__ import annotations

from ...errors import CircuitError
from ..levels import lineage
from . import activations, crossbar, dual, lines, neuron
from .base import Emit, Port

BLOCKS: dict[str, dict[str, object]] = {
    **neuron.BLOCKS, **lines.BLOCKS, **crossbar.BLOCKS, **dual.BLOCKS, **activations.BLOCKS,
}


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
