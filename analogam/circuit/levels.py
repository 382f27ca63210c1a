"""Fidelity levels as data (docs/design.md section 4, docs/levels-and-kits.md).

A level is a record of *traits* (what its circuits are made of, which topologies it
builds, how it is simulated and the tolerance it is held to) and a ``parent``: any
other level, whose blocks it inherits where it registers none of its own
(:mod:`analogam.circuit.blocks`). Levels form a tree, not a chain: a sibling of
``opamp`` derived from ``bjt`` is one more record here. Code outside this module and
the block registry asks a level for its traits, never for its name or ancestry.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CircuitError, lookup

TOPOLOGIES = ("single", "dual")
"""Crossbar topologies: one self-compensated array, or one array per direction."""


@dataclass(frozen=True)
class Level:
    """One fidelity level.

    - ``tolerance``: the largest read-out error against the ODE (model units) a circuit
      of this level is expected to stay within (the fidelity check's default, and the
      bound the generated tests hold every activation to).
    - ``transistors``: translinear blocks are bipolar transistors (so their operating
      points are planned and their emitter charge is checked).
    - ``amplifiers``: integrators, drivers and copies are op-amps (their swing is
      planned, their bandwidth is checked).
    - ``metered``: every block draws from supply rails of its own, through a sense
      source per copy and role (energy is measured there).
    - ``process_kit``: devices come from a process kit by name and corner
      (:mod:`analogam.circuit.pdk`), which also decides supplies and amplifier figures.
    - ``topologies``: the crossbar topologies it builds (:data:`TOPOLOGIES`).
    - ``klu_min_elements``: circuits with at least this many elements are solved with
      KLU (None: always Sparse).
    - ``tunable_amplifiers``: each amplifier may be biased for the gain-bandwidth its
      role needs (a macromodel's parameters; a kit's sizing is fixed).
    - ``integration``: ngspice's transient method, ``trap`` or ``gear``. The kit's
      transistor amplifiers make the trapezoidal rule ring on a read-out's switch-on
      edge until the step collapses (Hamming at ff, fast sizing: most words); Gear
      passes it, and at tt both end within 5e-8 model units of each other in the same
      time (measured on two words).
    """

    name: str
    parent: str | None
    description: str
    tolerance: float
    transistors: bool = False
    amplifiers: bool = False
    metered: bool = False
    process_kit: bool = False
    topologies: tuple[str, ...] = TOPOLOGIES
    klu_min_elements: int | None = None
    tunable_amplifiers: bool = False
    integration: str = "trap"

    def builds(self, topology: str) -> bool:
        """True when the level builds crossbars of ``topology``."""
        return topology in self.topologies


KLU_MIN_ELEMENTS = 400
"""From this many elements up an ideal-level circuit is written for KLU: measured with
``benchmarks/bench_scale.py`` (ngspice 46, one input, Sparse time over KLU time): 1.1x at
16x16 (465 elements), 1.6x at 32x32, 1.9x at 64x64, 9.3x at 128x128; below about 400
elements there is nothing to gain. The other levels stay on Sparse, also measured (Hamming,
one word): bjt 0.84x (KLU slower), opamp 1.46x but KLU fails on the tanh pair there, pdk
KLU stops with a collapsed step 62 ps in after 1.7x Sparse's whole run. A KLU run that
fails is repeated with Sparse by the runner."""

LEVELS: dict[str, Level] = {lv.name: lv for lv in (
    Level("ideal", None, "crossbar resistors; controlled sources and behavioural "
          "activations; must match the ODE to solver tolerance", 1e-3,
          klu_min_elements=KLU_MIN_ELEMENTS),
    Level("bjt", "ideal", "+ softmax and tanh from matched NPNs on tail currents "
          "(Gummel-Poon card)", 2e-2, transistors=True),
    Level("opamp", "bjt", "+ integrators, line drivers and ReLU rectifiers on an "
          "op-amp macromodel with finite gain, bandwidth and swing", 2e-2,
          transistors=True, amplifiers=True, metered=True, topologies=("single",),
          tunable_amplifiers=True),
    Level("pdk", "opamp", "+ every amplifier a transistor-level two-stage Miller op-amp and "
          "every translinear transistor the NPN of a process kit (by name, at a corner), on "
          "the kit's supply; crossbar conductances stay ideal resistors", 5e-2,
          transistors=True, amplifiers=True, metered=True, process_kit=True,
          topologies=("single",), integration="gear"),
)}


def get_level(name: str) -> Level:
    """Look a level up by name; a wrong name lists the valid ones."""
    return lookup(LEVELS, name, "level", CircuitError)


def lineage(name: str) -> list[str]:
    """The level and its ancestors, nearest first: where the block registry looks a
    block up (nothing else should need it)."""
    out: list[str] = []
    lv: str | None = name
    while lv is not None:
        if lv in out:
            raise CircuitError(f"level {name!r} derives from itself (through {lv!r})")
        out.append(lv)
        lv = get_level(lv).parent
    return out
