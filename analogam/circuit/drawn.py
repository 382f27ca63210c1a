"""A process kit's passive devices as drawn: how its poly resistor, MIM capacitor and
crossbar metal are sized to a value, and what the drawn device carries (temperature
coefficients, parasitic capacitance), all in um, ohm and farad. Records only: the kit
(:mod:`.pdk`) holds one of each and turns them into netlist elements."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import CircuitError


@dataclass(frozen=True)
class PolyResistor:
    """A kit's precision poly resistor, one subcircuit per drawn width (ports: the two
    ends and the body, the substrate its parasitic capacitance reaches): per width (um)
    the device and the resistance of its two contact ends (ohm, measured in ngspice at
    1 mV), so ``R = r_sheet l / w + r_end(w)``; drawn lengths ``l_min`` .. ``l_max`` (um).
    The narrowest width whose shortest resistor is below ``R`` draws it (least area).

    Its linear model (what a netlist holds: the device's own subcircuit is
    behavioural, docs/levels-and-kits.md), from the model card: the body's and the
    ends' temperature coefficients (``tc_body``, ``tc_end``: tc1 1/K,
    tc2 1/K^2) and the capacitance to the substrate, ``c_area`` F/um^2 over the body
    and its heads (``head`` um at each end) plus ``c_edge`` F/um of perimeter, half at
    each end."""

    widths: tuple[tuple[float, str, float], ...]
    r_sheet: float
    l_min: float
    l_max: float
    tc_body: tuple[float, float] = (0.0, 0.0)
    tc_end: tuple[float, float] = (0.0, 0.0)
    c_area: float = 0.0
    c_edge: float = 0.0
    head: float = 0.0

    def linear(self, ohms: float) -> tuple[float, float, float]:
        """(tc1, tc2, C to substrate F) of the drawn resistor of ``ohms``: the
        coefficients weighted by the body's and the ends' shares of R."""
        w, _, r_end, length = self._row(ohms)
        share = r_end / (self.r_sheet * length / w + r_end)
        tc1, tc2 = ((1 - share) * b + share * e
                    for b, e in zip(self.tc_body, self.tc_end, strict=True))
        span = length + 2 * self.head
        return tc1, tc2, span * w * self.c_area + 2 * (span + w) * self.c_edge

    def draw(self, ohms: float) -> tuple[str, float, float]:
        """(device, w, l) of the resistor of ``ohms``: l = (R - r_end(w)) w / r_sheet."""
        w, device, _, length = self._row(ohms)
        return device, w, length

    def _row(self, ohms: float) -> tuple[float, str, float, float]:
        """(w, device, r_end, l) of the narrowest width that draws ``ohms``."""
        for w, device, r_end in self.widths:
            length = (ohms - r_end) * w / self.r_sheet
            if length >= self.l_min:
                if length > self.l_max:
                    raise CircuitError(
                        f"a {ohms:.4g} ohm resistor needs {length:.4g} um of {device} (at most "
                        f"{self.l_max:g}): lower the impedance level (scales.g0 up)")
                return w, device, r_end, round(length, 4)
        w, device, r_end = self.widths[-1]
        raise CircuitError(f"a {ohms:.4g} ohm resistor is below the shortest {device} "
                           f"({r_end + self.r_sheet * self.l_min / w:.4g} ohm)")


@dataclass(frozen=True)
class MimCapacitor:
    """A kit's MIM capacitor ``device`` (ports: the plates), drawn square: C = density
    s^2 + perimeter 4 s (F) at the drawn side plus ``edge`` (um, the etch bias), the
    side between ``side_min`` and ``side_max`` (um)."""

    device: str
    density: float
    perimeter: float
    edge: float
    side_min: float
    side_max: float

    @property
    def c_min(self) -> float:
        """The smallest capacitor the kit draws (F)."""
        return self.farads(self.side_min)

    def farads(self, side: float) -> float:
        s = side + self.edge
        return self.density * s * s + self.perimeter * 4 * s

    def draw(self, farads: float) -> tuple[str, float, float]:
        """(device, w, l) of the square capacitor of ``farads`` (F), from the quadratic
        ``density s^2 + 4 perimeter s = C``."""
        a, b = self.density, 4 * self.perimeter
        side = (-b + math.sqrt(b * b + 4 * a * farads)) / (2 * a) - self.edge
        if side < self.side_min - 1e-9:
            raise CircuitError(f"a {farads:.4g} F capacitor is below the smallest "
                               f"{self.device} ({self.c_min:.4g} F, {self.side_min:g} um "
                               "square); design.c_min keeps integrators above it")
        if side > self.side_max:
            raise CircuitError(f"a {farads:.4g} F capacitor needs a {side:.4g} um square "
                               f"{self.device} (at most {self.side_max:g}): lower the "
                               "capacitance (scales.t0 or scales.g0 down)")
        side = round(side, 4)
        return self.device, side, side


@dataclass(frozen=True)
class MetalLine:
    """A crossbar line on the kit's metal: sheet resistance ``r_sheet`` (ohm/square),
    drawn ``width`` (um), capacitance to the substrate ``c_area`` (F/um^2) and
    ``c_edge`` (F/um of each edge), and the crossbar's cell ``pitch`` along a line (um;
    the memory cell is not the kit's: a choice, recorded)."""

    r_sheet: float
    width: float
    c_area: float
    c_edge: float
    pitch: float

    @property
    def r_per_cell(self) -> float:
        """Ohms of line per cell: ``r_sheet pitch / width``."""
        return self.r_sheet * self.pitch / self.width

    @property
    def c_per_cell(self) -> float:
        """Farads to ground per cell: ``c_area pitch width + 2 c_edge pitch``."""
        return self.c_area * self.pitch * self.width + 2 * self.c_edge * self.pitch
