"""Every registered block at every level, and every process kit at every corner, is
emitted by a generated test and held to a golden element list (kind, name, nets, role
and the device a kit element names), byte for byte; and the block table resolves the
way the level records say it does.

Regenerate on purpose: ``pytest tests/test_registry.py --regen-golden``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import analogam.circuit.realise as realise
from analogam.circuit import (
    BLOCKS,
    LEVELS,
    PROCESS_KITS,
    CompileOptions,
    DeviceConfig,
    block,
    build_circuit,
)
from analogam.circuit.ir import flatten
from analogam.circuit.levels import Level, lineage
from analogam.errors import CircuitError
from analogam.model import Stimulus, bind
from analogam.model.architectures import build_denseam

GOLDEN = Path(__file__).parent / "golden" / "elements"


def _variant(name: str):
    """Small models that between them reach every block kind."""
    if name == "softmax_tanh":      # signed weights: inverted lines, translinear blocks
        m = build_denseam(np.array([[0.5, -0.25], [0.0, 1.0]]), beta=2.0, tau_v=1.0,
                          tau_h=0.2, readout_time=6.0, visible_activation="tanh",
                          visible_bias=np.array([0.1, 0.0]), name=name)
        return bind(m, Stimulus(1, init={"v": np.array([[0.3, -0.2]])})), False
    if name == "relu_identity":     # a clamped unit, rectifiers, buffers
        m = build_denseam(np.array([[0.5, 0.25], [0.75, 1.0]]), beta=1.0, tau_v=1.0,
                          tau_h=0.2, readout_time=6.0, hidden_activation="relu",
                          hidden_bias=np.array([-0.1, 0.05]), name=name)
        return bind(m, Stimulus(1, init={"v": np.array([[0.3, 0.6]])},
                                clamp={"v": np.array([True, False])})), False
    m = build_denseam(np.array([[0.5, -0.25], [0.5, 1.0]]), beta=2.0, tau_v=1.0,
                      tau_h=0.2, readout_time=6.0, name=name)
    return bind(m, Stimulus(1, init={"v": np.array([[0.3, -0.2]])})), True


VARIANTS = ("softmax_tanh", "relu_identity", "dual")


def _cases():
    out = []
    for lv in LEVELS.values():
        for v in VARIANTS:
            if v == "dual" and not lv.builds("dual"):
                continue
            if lv.process_kit:
                out += [(v, lv.name, k.name, c) for k in PROCESS_KITS.values()
                        for c in k.corners]
            else:
                out.append((v, lv.name, None, None))
    return out


def _need_kit(name: str) -> None:
    try:
        PROCESS_KITS[name].directory()
    except CircuitError as err:
        pytest.skip(str(err))


def element_list(circuit) -> str:
    """One line per element of the flattened circuit: kind, name, nets, role, and the
    device a kit element names (values of other elements are the golden netlists')."""
    flat = flatten(circuit)
    lines = []
    for e in flat.elements:
        dev = f" {e.values[0]}" if e.kind in ("nmos", "pmos", "kit_npn") else ""
        lines.append(f"{e.kind} {e.name} {' '.join(e.nets)} {e.role}{dev}")
    if circuit.process is not None:
        lines.append(f"process {circuit.process.kit} {circuit.process.corner}")
    return "\n".join(lines) + "\n"


def _compile(variant, level, kit, corner):
    system, dual = _variant(variant)
    cfg = DeviceConfig().with_values({"conductance.dual_arrays": dual})
    opts = CompileOptions(level, cfg, pdk=kit or "sky130", corner=corner or "tt")
    return build_circuit(system, opts)


@pytest.fixture
def recorded(monkeypatch):
    """Which (kind, emitter) pairs the compiler resolved."""
    seen: set = set()

    def recording(kind, level):
        emitter = block(kind, level)
        seen.add((kind, id(emitter)))
        return emitter

    monkeypatch.setattr(realise, "block", recording)
    return seen


@pytest.mark.parametrize("variant, level, kit, corner", _cases())
def test_every_level_and_kit_corner_emits_its_golden_element_list(variant, level, kit,
                                                                 corner, request):
    if kit is not None:
        _need_kit(kit)
    text = element_list(_compile(variant, level, kit, corner).circuit)
    name = f"{variant}_{level}" + (f"_{kit}_{corner}" if kit else "") + ".txt"
    path = GOLDEN / name
    if request.config.getoption("--regen-golden"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs: rerun with --regen-golden on purpose"


def test_every_registered_block_is_emitted_at_every_level(recorded):
    """Every emitter the table resolves to at some level is used by the generated
    compiles of that level: no registered block goes untested."""
    for lv in LEVELS.values():
        if lv.process_kit:
            _need_kit("sky130")
        for v in VARIANTS:
            if v != "dual" or lv.builds("dual"):
                _compile(v, lv.name, None, None)
        expected = set()
        for kind in BLOCKS:
            try:
                emitter = block(kind, lv.name)
            except CircuitError:
                continue
            if kind in ("columns", "dual_crossbar") and not lv.builds("dual"):
                continue
            expected.add((kind, id(emitter)))
        missing = sorted(k for k, i in expected - recorded)
        assert not missing, f"level {lv.name}: blocks never emitted: {missing}"


def test_the_pdk_level_registers_its_own_devices_and_inherits_the_rest():
    assert block("amplifier", "pdk") is not block("amplifier", "opamp")
    assert block("npn", "pdk") is not block("npn", "bjt")
    assert block("tail", "pdk") is not block("tail", "bjt")
    assert block("integrator", "pdk") is block("integrator", "opamp")
    with pytest.raises(CircuitError, match="no 'amplifier' block at level 'bjt'"):
        block("amplifier", "bjt")


def test_a_level_may_derive_from_any_level_and_a_loop_is_refused(monkeypatch):
    import analogam.circuit.levels as levels

    sibling = Level("bjt_fast", "bjt", "a sibling of opamp", 2e-2, transistors=True)
    monkeypatch.setitem(levels.LEVELS, "bjt_fast", sibling)
    assert lineage("bjt_fast") == ["bjt_fast", "bjt", "ideal"]
    assert block("activation:softmax", "bjt_fast") is block("activation:softmax", "bjt")
    monkeypatch.setitem(levels.LEVELS, "loop", Level("loop", "loop", "", 1.0))
    with pytest.raises(CircuitError, match="derives from itself"):
        lineage("loop")


def test_a_level_refuses_a_topology_it_does_not_build_with_the_levels_that_do():
    system, _ = _variant("dual")
    cfg = DeviceConfig().with_values({"conductance.dual_arrays": True})
    with pytest.raises(CircuitError, match="opamp level builds no dual arrays.*ideal, bjt"):
        build_circuit(system, CompileOptions("opamp", cfg))
