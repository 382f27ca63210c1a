"""Transient noise, drawn by analogam: every resistor's thermal noise and every
amplifier's input noise as piecewise-linear sources in the netlist.

A white source of one-sided density ``S`` is written as samples every ``dt`` seconds,
Gaussian with variance ``sigma^2 = S / (2 dt)``, joined linearly (the sampled sequence
has density ``2 sigma^2 dt = S`` up to ``1 / (2 dt)``; the linear joins roll it off
above). For a resistor ``R`` at temperature ``T`` the current in parallel has
``S = 4 k T / R`` (A^2/Hz): across a capacitor ``C`` it gives the textbook ``kT/C``.
An amplifier gets ``S = e_n^2`` (V^2/Hz) in series with its non-inverting input.

The draws come from :class:`~.variation.Variation` keyed by the element's name, so
the configuration's seed and the Monte Carlo sample name the noise, the netlist is
byte-identical for the same seed, and noise off leaves the circuit untouched. (ngspice's
own ``TRNOISE`` sources draw differently on every run, whatever its seed option says:
measured with ngspice 46.)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .ir import RESISTOR_KINDS, Circuit, Element
from .options import CompileOptions
from .variation import Variation

K_BOLTZMANN = 1.380649e-23   # J/K


def noise_step(tau_min_s: float, options: CompileOptions) -> float:
    """Seconds between noise samples: the fastest tau over
    ``environment.noise_steps_per_tau``."""
    return tau_min_s / options.config.environment.noise_steps_per_tau


def with_noise(circuit: Circuit, options: CompileOptions, tstop: float, dt: float
               ) -> Circuit:
    """``circuit`` with a noise source beside every top-level resistor and before every
    amplifier's non-inverting input, sampled every ``dt`` s up to ``tstop`` s (the
    circuit unchanged when ``environment.noise`` is off)."""
    cfg = options.config
    if not cfg.environment.noise:
        return circuit
    var = Variation(cfg, options.sample)
    kt = K_BOLTZMANN * (cfg.environment.temperature_c + 273.15)
    times = np.arange(int(np.ceil(tstop / dt)) + 1) * dt
    amplifiers = {d.name for d in circuit.subckts if d.category == "amplifiers"}
    e_n = cfg.opamp.noise_density

    def waveform(key: str, density: float) -> tuple:
        x = np.sqrt(density / (2 * dt)) * var.normals("noise", key, times.shape)
        return tuple(zip(times.tolist(), x.tolist(), strict=True))

    out: list[Element] = []
    for e in circuit.elements:
        if e.kind in RESISTOR_KINDS and e.value > 0:
            out += [e, Element("noise_current", f"nz_{e.name}", e.nets,
                               (waveform(e.name, 4 * kt / e.value),), "noise")]
        elif e.kind == "instance" and e.value in amplifiers and e_n > 0:
            quiet = f"nzin_{e.name}"
            out += [Element("noise_voltage", f"nz_{e.name}", (quiet, e.nets[0]),
                            (waveform(e.name, e_n**2),), "noise"),
                    replace(e, nets=(quiet, *e.nets[1:]))]
        else:
            out.append(e)
    notes = (*circuit.notes, f"transient noise: {kt / K_BOLTZMANN:.2f} K thermal noise of "
             f"every resistor, {e_n:g} V/rtHz at every amplifier input, sampled every "
             f"{dt:.3g} s (seed {cfg.seed}, sample {options.sample})")
    return replace(circuit, elements=tuple(out), notes=notes)
