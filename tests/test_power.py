"""Energy per inference measured at the supplies: every role's meter, their sum
against the supplies themselves, and the terms with a closed form (bias resistors,
quiescent current) against the element list."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_weights import ROOT

from analogam.circuit import CompileOptions
from analogam.circuit.ir import Element
from analogam.compare import inference_energy, supply_balance
from analogam.model.weights import load_model
from analogam.netlist import format_netlist, transient_for
from analogam.spice import simulate_spice
from analogam.study import simulate_task
from analogam.study.build import compile_system
from analogam.tasks import bind_task, get_task

pytestmark = pytest.mark.ngspice


@pytest.mark.parametrize("name, inputs", [("xor", slice(0, 4)), ("hamming74", slice(20, 21))])
def test_roles_add_up_to_the_supplies_with_closed_form_terms(name, inputs):
    model = load_model(ROOT / "models" / f"{name}.npz")
    x = get_task(model.task).inputs()[inputs]
    rep = simulate_task(model, x, CompileOptions(level="opamp"))
    assert abs(rep.supply_balance) < 1e-9
    kit = rep.compiled[0].options.config.opamp
    vdd, vss = kit.supplies
    for c, en in zip(rep.compiled, rep.energy, strict=True):
        assert en.total_j == pytest.approx(sum(en.by_role_j.values()), rel=1e-12)
        assert {"integrator", "driver", "copy"} <= set(en.by_role_j)
        t = en.t_settle_s
        # a bias resistor from a rail into a virtual ground draws V_rail^2 / R
        bias = sum(kit.supplies[0 if e.nets[0].startswith("vdd") else 1] ** 2
                   / e.param("r") for e in c.circuit.by_role("bias")
                   if e.kind == "resistor")
        assert en.by_role_j.get("bias", 0.0) == pytest.approx(bias * t, rel=2e-3)
        # every amplifier draws at least its quiescent current across the supplies
        n_int = len(c.circuit.by_role("integrator"))
        assert en.by_role_j["integrator"] >= n_int * kit.iq * (vdd - vss) * t * (1 - 1e-6)
        n_amp = c.circuit.counts()["amplifiers"]
        assert en.hold_w >= n_amp * kit.iq * (vdd - vss) * (1 - 1e-6)


def test_a_block_wired_past_its_meter_breaks_the_balance(xor_model):
    """A load on the supply itself, not on a role's rail: the roles no longer add up
    to what the supplies deliver, and the balance says by how much."""
    x = get_task("xor").inputs()[:1]
    (c,) = compile_system(bind_task(xor_model, x), CompileOptions(level="opamp"))
    r = simulate_spice(format_netlist(c.circuit, transient_for(c)))
    assert abs(supply_balance(c, r)) < 1e-9
    leak = Element("resistor", "stray", ("vdd", "0"), (1e5,), "load")
    bad = replace(c, circuit=replace(c.circuit, elements=c.circuit.elements + (leak,)))
    r2 = simulate_spice(format_netlist(bad.circuit, transient_for(bad)))
    vdd = c.options.config.opamp.supplies[0]
    e_stray = vdd**2 / 1e5 * r2.time[-1]
    e_total = sum(inference_energy(bad, r2, r2.time[-1]).by_role_j.values()) + e_stray
    assert supply_balance(bad, r2) == pytest.approx(e_stray / e_total, rel=1e-3)


def test_levels_without_supplies_report_no_energy(xor_model):
    rep = simulate_task(xor_model, get_task("xor").inputs()[:1], CompileOptions(level="bjt"))
    assert rep.energy is None and rep.supply_balance is None
    with pytest.raises(ValueError, match="no supply meters"):
        inference_energy(rep.compiled[0], None, 1e-6)
    assert np.isfinite(rep.comparison.max_err).all()
