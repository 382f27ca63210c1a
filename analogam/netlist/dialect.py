"""Netlist dialects: how numbers, expressions, element cards and analyses are spelled.

:class:`Dialect` is complete SPICE3 syntax; :class:`NgspiceDialect` overrides only what
ngspice spells differently. Every identifier that reaches the text is checked against
a strict pattern, so nothing from a weights file can add a line or a control block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..circuit import Circuit, Element
from ..circuit.ir import Expr, ModelCard, Process
from ..circuit.limits import limit_nets
from ..circuit.predict import initial_guess
from ..errors import NetlistError, lookup
from .analysis import AcSweep, Analysis, DcSweep, OperatingPoint, Transient

_SAFE = re.compile(r"\A[A-Za-z0-9_]{1,200}\Z")
_PATH = re.compile(r"\A/[A-Za-z0-9_./+-]{1,500}\Z")


def ident(name: str) -> str:
    """``name`` if it is a safe identifier (letters, digits, _), else NetlistError."""
    if not isinstance(name, str) or not _SAFE.match(name):
        raise NetlistError(f"refusing to write unsafe identifier {str(name)[:40]!r} into a "
                           "netlist")
    return name


class Dialect:
    """SPICE3 syntax."""

    comment = "*"
    ops = {"add": "+", "mul": "*", "div": "/"}
    functions = ("exp", "ln", "tanh", "max", "min")

    def number(self, x: float) -> str:
        return format(float(x), ".12g")

    def temperature(self) -> str:
        raise NetlistError(f"dialect {type(self).__name__} cannot write a "
                           "temperature-dependent expression")

    def expr(self, e: Expr) -> str:
        op, a = e.op, e.args
        if op == "num":
            s = self.number(a[0])
            return f"({s})" if s.startswith("-") else s
        if op == "v":
            return f"v({ident(a[0])})"
        if op == "i":
            return f"i(V{ident(a[0])})"
        if op == "temp":
            return self.temperature()
        if op in self.ops:
            return "(" + self.ops[op].join(self.expr(x) for x in a) + ")"
        if op in self.functions:
            return f"{op}({','.join(self.expr(x) for x in a)})"
        raise NetlistError(f"dialect {type(self).__name__} cannot write expression op {op!r}")

    def value(self, unit: str, v) -> str:
        """One parameter value: a reference, an expression or a number."""
        if unit == "ref:source":
            return "V" + ident(v)
        if unit.startswith("ref:"):
            return ident(v)
        if unit == "expr":
            return self.expr(v)
        if unit == "pwl":   # ((t, value), ...): time in s
            return "PWL(" + " ".join(f"{self.number(t)} {self.number(x)}" for t, x in v) + ")"
        return self.number(v)

    def element(self, e: Element) -> str:
        """``<letter><name> <nets> <params>``, each parameter after its prefix; a value
        equal to the parameter's default is left off."""
        parts = [f"{e.primitive.letter}{ident(e.name)}", *(ident(n) for n in e.nets)]
        for p, v in zip(e.primitive.params, e.values, strict=True):
            if not p.written or (p.default is not None and v == p.default):
                continue
            parts.append(p.prefix + self.value(p.unit, v))
        return " ".join(parts)

    def process(self, p: Process) -> Iterator[str]:
        """The process kit's parameters, the seed of its statistics (when they are
        on), geometry scale and model files (paths checked by the kit: letters, digits
        and ``_ . / + -`` only)."""
        if p.seed is not None:
            # read before the models are: ngspice seeds its agauss draws from it
            yield f".options seed={int(p.seed)}"
        for name, value in p.params:
            yield f".param {ident(name)}={self.number(value)}"
        yield f".options scale={self.number(p.scale)}"
        for path in p.includes:
            if not _PATH.match(path):
                raise NetlistError(f"refusing to write unsafe include path {path[:60]!r}")
            yield f'.include "{path}"'

    def model_card(self, card: ModelCard) -> str:
        params = " ".join(f"{k}={self.number(v)}" for k, v in card.params)
        return f".model {ident(card.name)} {ident(card.type)} ({params})"

    def ic_cards(self, ic, card: str = ".ic", per_line: int = 6) -> Iterator[str]:
        for i in range(0, len(ic), per_line):
            chunk = ic[i : i + per_line]
            yield f"{card} " + " ".join(f"v({ident(n)})={self.number(v)}" for n, v in chunk)

    def option_value(self, v) -> str:
        return ident(v) if isinstance(v, str) else self.number(v)

    def analysis(self, c: Circuit, a: Analysis) -> Iterator[str]:
        """Options, temperature, initial state, the analysis card, saved vectors."""
        yield ".options " + " ".join([ident(a.solver), *(f"{ident(k)}={self.option_value(v)}"
                                                        for k, v in a.options)])
        yield f".temp {self.number(a.temperature_c)}"
        if isinstance(a, OperatingPoint):
            # a hint only: Newton must find the circuit's own operating point
            yield from self.ic_cards(c.ic + initial_guess(c), ".nodeset")
            yield ".op"
        elif isinstance(a, AcSweep):
            yield from self.ic_cards(c.ic + initial_guess(c), ".nodeset")
            yield (f".ac dec {int(a.per_decade)} {self.number(a.f_start)} "
                   f"{self.number(a.f_stop)}")
        elif isinstance(a, DcSweep):
            yield from self.ic_cards(c.ic + initial_guess(c), ".nodeset")
            yield (f".dc V{ident(a.source)} {self.number(a.start)} {self.number(a.stop)} "
                   f"{self.number(a.step)}")
        elif isinstance(a, Transient):
            # the states, and every node the blocks predict from them that no source
            # fixes: the initial operating point needs no Newton search (gmin or source
            # stepping)
            yield from self.ic_cards(c.ic + initial_guess(c, hold=True))
            yield (f".tran {self.number(a.tstep)} {self.number(a.tstop)} 0 "
                   f"{self.number(a.tmax)}")
        else:
            raise NetlistError(f"unknown analysis {type(a).__name__}; valid: Transient, "
                               "OperatingPoint, AcSweep, DcSweep")
        nets = list(dict.fromkeys([p.net for p in c.probes] + limit_nets(c) + list(a.nets)))
        for i in range(0, len(nets), 8):
            yield ".save " + " ".join(f"v({ident(n)})" for n in nets[i : i + 8])
        meters = [m.source for m in c.meters] + list(a.currents)
        for i in range(0, len(meters), 8):
            yield ".save " + " ".join(f"i(V{ident(s)})" for s in meters[i : i + 8])
        if isinstance(a, Transient) and nets:
            # plain `ngspice -b FILE` runs a transient only with something to print: the
            # first copy's units (the raw file of `ngspice -b -r` holds every probe)
            first = list(dict.fromkeys(p.net for p in c.probes if p.copy == 0))[:8]
            yield ".print tran " + " ".join(f"v({ident(n)})" for n in first)


class NgspiceDialect(Dialect):
    """ngspice (tested with 39 and 46): the circuit temperature is ``temper`` (degC)."""

    def temperature(self) -> str:
        return "(temper+273.15)"


DIALECTS = {"spice3": Dialect, "ngspice": NgspiceDialect}


def get_dialect(name: str) -> Dialect:
    """A dialect by name; a wrong name lists the valid ones."""
    return lookup(DIALECTS, name, "dialect", NetlistError)()
