"""Transient noise: thermal noise of every resistor and every amplifier's input noise
as seeded piecewise-linear sources. Off, the netlist is the noiseless one; on, a seed
gives the same netlist (so the same ngspice run) and another seed another; the
resistor's noise across a capacitor is the textbook kT/C in ngspice."""

import numpy as np
import pytest

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.circuit.ir import Circuit, Element, Probe
from analogam.circuit.noise import K_BOLTZMANN, with_noise
from analogam.netlist import Transient, format_netlist
from analogam.spice.batch import run_batch
from analogam.study.files import transient_netlist
from analogam.tasks import bind_task, get_task


def xor_compiled(xor_model, **values):
    system = bind_task(xor_model, get_task("xor").inputs()[1:2])
    return build_circuit(system, CompileOptions("opamp", DeviceConfig(seed=values.pop(
        "seed", 0)).with_values(values)))


def test_noise_off_is_the_noiseless_netlist_and_a_seed_names_the_noise(xor_model):
    plain = xor_compiled(xor_model)
    assert transient_netlist(plain) == transient_netlist(xor_compiled(
        xor_model, **{"environment.noise": False, "opamp.noise_density": 1e-6}))
    noisy = xor_compiled(xor_model, **{"environment.noise": True})
    text = transient_netlist(noisy)
    assert text == transient_netlist(xor_compiled(xor_model, **{"environment.noise": True}))
    assert text != transient_netlist(xor_compiled(xor_model, seed=1,
                                                  **{"environment.noise": True}))
    lines = text.splitlines()
    resistors = [e for e in plain.circuit.elements if e.kind == "resistor"]
    amps = [e for e in plain.circuit.elements if e.kind == "instance"
            and e.value in {d.name for d in plain.circuit.subckts
                            if d.category == "amplifiers"}]
    assert sum(ln.startswith("Inz_") for ln in lines) == len(resistors) > 0
    assert sum(ln.startswith("Vnz_") for ln in lines) == len(amps) > 0
    # without the input noise source the amplifiers are wired as before
    assert sum(ln.startswith("Vnz_") for ln in transient_netlist(xor_compiled(
        xor_model, **{"environment.noise": True, "opamp.noise_density": 0.0})
        ).splitlines()) == 0


@pytest.mark.ngspice
@pytest.mark.parametrize("temperature_c", [27.0, 85.0])
def test_a_resistors_noise_across_a_capacitor_is_kt_over_c(temperature_c):
    """R = 100 kohm, C = 1 pF (tau 100 ns) for 400 tau, noise sampled every tau / 10:
    the node's variance after the first few tau is kT/C (within 15 %: about 200
    independent samples, and the linear joins' roll-off above 1 / (4 dt) takes ~5 %;
    measured 0.94 kT/C at both temperatures)."""
    R, C, tau = 1e5, 1e-12, 1e-7
    circuit = Circuit("rc", (Element("resistor", "r", ("a", "0"), (R,), "leak"),
                             Element("capacitor", "c", ("a", "0"), (C,), "integrator")),
                      (), (("a", 0.0),), (Probe("a", 0, 0),))
    options = CompileOptions("ideal", DeviceConfig(seed=3).with_values({
        "environment.noise": True, "environment.temperature_c": temperature_c}))
    noisy = with_noise(circuit, options, 400 * tau, tau / 10)
    netlist = format_netlist(noisy, Transient(tstep=tau / 10, tstop=400 * tau,
                                              tmax=tau / 10, temperature_c=temperature_c))
    r = run_batch(netlist)
    r.raise_for_status()
    again = run_batch(netlist)      # a fixed seed: the same run
    np.testing.assert_array_equal(np.real(again.vectors["v(a)"]), np.real(r.vectors["v(a)"]))
    t, v = np.real(r.vectors["time"]), np.real(r.vectors["v(a)"])
    # ngspice's time points crowd after each breakpoint: average over time, not points
    var = np.var(np.interp(np.arange(5 * tau, 400 * tau, tau / 50), t, v))
    kt_c = K_BOLTZMANN * (temperature_c + 273.15) / C
    assert var == pytest.approx(kt_c, rel=0.15)


@pytest.mark.ngspice
def test_circuit_ep_runs_its_phases_with_the_noise_too(xor_model, monkeypatch):
    """Every transient goes through the same noise step: the phases circuit EP runs
    (its own netlists, nudged circuits included) carry the noise sources as well."""
    from analogam.study import circuit_ep

    written = []
    real = circuit_ep.run_netlists

    def spy(netlists, *args, **kw):
        written.extend(netlists)
        return real(netlists, *args, **kw)

    monkeypatch.setattr(circuit_ep, "run_netlists", spy)
    compiled = xor_compiled(xor_model, **{"environment.noise": True})
    u, _, _ = circuit_ep._settled([(compiled, compiled.circuit)], None, 120.0, "free")
    assert written and all("Inz_" in n and "PWL(" in n for n in written)
    assert np.all(np.isfinite(u))
