"""A chip's calibration: with the process kit's own mismatch drawn (``environment.
kit_mismatch``), each amplifier's input offset is what its devices hold, unknown to
the compiler until the chip is measured.

The measurement is the one a calibration cycle makes during the reset: the sample's
circuit (the same seed and the same devices as every input's netlist) with the inputs
at zero and every integrator's capacitor shorted by its reset switch (its amplifier in
unity feedback, the state at its offset: the network's positive feedback is broken,
where without the reset Newton finds no operating point of Hamming's circuit), at its
DC operating point; per amplifier the input difference ``d = V(+) - V(-)`` its devices
hold there (V), which is minus its offset plus ``V_out / A0``. The trims
(``opamp.trim_bits``) cancel ``d`` to a DAC code and the reset holds each integrator's
summing node where the loop puts it
(:func:`~analogam.circuit.blocks.amplifier.input_offset`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..circuit import CompileOptions, build_circuit
from ..circuit.ir import GROUND, Element
from ..errors import SimulationError
from ..model import System
from ..netlist import format_netlist, operating_point_for
from ..spice import DEFAULT_TIMEOUT_S, simulate_spice


def calibrate(system: System, options: CompileOptions,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> CompileOptions:
    """The options with ``calibration`` set: each amplifier's input difference
    ``V(+) - V(-)`` (V) at the DC operating point of this sample's circuit in reset
    (inputs at zero, integrating capacitors shorted), solved by ngspice. Unchanged
    when the kit's mismatch is off or the sample is calibrated; SimulationError when
    the operating point fails."""
    if not options.config.environment.kit_mismatch or options.calibration:
        return options
    one = system.sample(0)
    zero = replace(one, u0=np.zeros_like(one.u0))
    # measured untrimmed: the trim is what the measurement decides
    cfg = options.config.with_value("opamp.trim_bits", 0)
    compiled = build_circuit(zero, replace(options, config=cfg))
    elements = compiled.circuit.elements
    amps = [e for e in elements if e.kind == "instance" and e.role == "amplifier"]
    resets = tuple(Element("vsource", f"{e.name}_rst", e.nets[:2], (0.0,), "reset")
                   for e in elements if e.role == "integrator")
    nets = tuple(dict.fromkeys(n for a in amps for n in a.nets[:2] if n != GROUND))
    in_reset = replace(compiled.circuit, elements=elements + resets)
    r = simulate_spice(format_netlist(in_reset, operating_point_for(compiled, nets)),
                       backend="batch", timeout_s=timeout_s)
    if not r.success:
        raise SimulationError(f"the calibration's operating point (sample {options.sample}, in "
                              f"reset, inputs at zero) failed: {r.message}",
                              netlist_path=r.netlist_path, log_tail=r.log_tail)

    def v(net: str) -> float:
        return 0.0 if net == GROUND else float(np.real(r.voltage(net))[-1])

    return replace(options, calibration=tuple((a.name, v(a.nets[0]) - v(a.nets[1]))
                                              for a in amps))
