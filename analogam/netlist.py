"""Netlist writing: one pass over the circuit IR, into any text stream.

The :class:`Dialect` formats numbers, expressions and element cards; ngspice is the
one dialect so far (a new simulator overrides only what differs). Output is
deterministic (IR order, fixed number format). Every name that reaches the text is
checked against a strict identifier pattern, and free text (the title) goes through
:func:`sanitize`, so nothing from a weights file can add a line or a control block.
"""

from __future__ import annotations

import io
import os
import re
from typing import TextIO

from . import __version__
from .atomic import atomic_open
from .circuit import Circuit, Element, Expr
from .errors import NetlistError

_SAFE = re.compile(r"^[A-Za-z0-9_]{1,200}$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.+-]")


def sanitize(text: str, limit: int = 64) -> str:
    """Free text -> a single token of letters, digits and ``_ . + -`` only. Newlines,
    dots-at-start (``.control``), spaces and punctuation cannot survive."""
    s = _UNSAFE_CHARS.sub("_", str(text))[:limit].lstrip(".+-")
    return s or "unnamed"


def _ident(name: str) -> str:
    if not _SAFE.match(name):
        raise NetlistError(f"refusing to write unsafe identifier {name[:40]!r} into a netlist")
    return name


class Dialect:
    """Base dialect: SPICE3 syntax; subclasses override what differs."""

    comment = "*"

    def number(self, x: float) -> str:
        return format(float(x), ".12g")

    def expr(self, e: Expr) -> str:
        op, a = e.op, e.args
        if op == "num":
            s = self.number(a[0])
            return f"({s})" if s.startswith("-") else s
        if op == "v":
            return f"v({_ident(a[0])})"
        if op == "temp":
            return "(temper+273.15)"
        if op in ("add", "mul", "div"):
            sym = {"add": "+", "mul": "*", "div": "/"}[op]
            return "(" + sym.join(self.expr(x) for x in a) + ")"
        if op in ("exp", "tanh", "max", "min"):
            return f"{op}({','.join(self.expr(x) for x in a)})"
        raise NetlistError(f"dialect {type(self).__name__} cannot write expression op {op!r}")

    def element(self, e: Element) -> str:
        letter = e.primitive.letter
        nets = " ".join(_ident(n) for n in e.nets)
        head = f"{letter}{_ident(e.name)} {nets}"
        if e.kind in ("vsource", "isource"):
            return f"{head} DC {self.number(e.values[0])}"
        if e.kind in ("cccs", "ccvs"):
            return f"{head} V{_ident(e.values[0])} {self.number(e.values[1])}"
        if e.kind == "npn" and e.values[1] != 1.0:
            return f"{head} {_ident(e.values[0])} {self.number(e.values[1])}"
        if e.kind in ("npn", "diode", "instance"):
            return f"{head} {_ident(e.values[0])}"
        if e.kind == "bvoltage":
            return f"{head} V={self.expr(e.values[0])}"
        return f"{head} {self.number(e.values[0])}"

    def model_card(self, card) -> str:
        params = " ".join(f"{k}={self.number(v)}" for k, v in card.params)
        return f".model {_ident(card.name)} {_ident(card.type)} ({params})"


class NgspiceDialect(Dialect):
    """ngspice (tested with 39.3)."""

    def ic_cards(self, ic, card: str = ".ic", per_line: int = 6):
        for i in range(0, len(ic), per_line):
            chunk = ic[i : i + per_line]
            yield f"{card} " + " ".join(f"v({_ident(n)})={self.number(v)}" for n, v in chunk)

    def analysis(self, c: Circuit, kind: str = "tran"):
        """``tran``: transient from the initial conditions. ``op``: DC operating point,
        Newton started from the initial state (``.nodeset``)."""
        t = c.tran
        opts = " ".join(f"{k}={v if isinstance(v, str) else self.number(v)}"
                        for k, v in t.options)
        yield f".options {opts}"
        yield f".temp {self.number(c.temperature_c)}"
        if kind == "op":
            yield from self.ic_cards(c.ic, ".nodeset")
            yield ".op"
        elif kind == "tran":
            yield from self.ic_cards(c.ic)
            yield (f".tran {self.number(t.tstep)} {self.number(t.tstop)} 0 "
                   f"{self.number(t.tmax)}")
        else:
            raise NetlistError(f"unknown analysis {kind!r}; valid: tran, op")
        nets = list(dict.fromkeys(p.net for p in c.probes))
        for i in range(0, len(nets), 8):
            yield ".save " + " ".join(f"v({_ident(n)})" for n in nets[i : i + 8])


DIALECTS = {"ngspice": NgspiceDialect}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]()
    except KeyError:
        raise NetlistError(f"unknown dialect {name!r}; valid: {', '.join(DIALECTS)}") from None


def write_netlist(c: Circuit, stream: TextIO, dialect: Dialect | None = None,
                  header: tuple[str, ...] = (), analysis: str = "tran") -> None:
    """Stream the netlist of ``c``: title, header comments, model cards, elements in IR
    order, initial conditions, analysis. Cost is linear in the number of elements."""
    d = dialect or NgspiceDialect()
    w = stream.write
    w(f"{d.comment} {sanitize(c.title)}: analogam {__version__} netlist\n")
    for line in (*header, *c.notes):
        w(f"{d.comment} {sanitize(line, 200).replace('_', ' ')}\n")
    for card in c.models:
        w(d.model_card(card) + "\n")
    for sub in c.subckts:
        w(f"{d.comment} {sanitize(sub.doc, 200).replace('_', ' ')}\n")
        w(f".subckt {_ident(sub.name)} {' '.join(_ident(p) for p in sub.ports)}\n")
        for e in sub.elements:
            w(d.element(e) + "\n")
        w(f".ends {_ident(sub.name)}\n")
    for e in c.elements:
        w(d.element(e) + "\n")
    for line in d.analysis(c, analysis):
        w(line + "\n")
    w(".end\n")


def format_netlist(c: Circuit, dialect: Dialect | None = None,
                   header: tuple[str, ...] = (), analysis: str = "tran") -> str:
    buf = io.StringIO()
    write_netlist(c, buf, dialect, header, analysis)
    return buf.getvalue()


def save_netlist(c: Circuit, path: str | os.PathLike, dialect: Dialect | None = None,
                 header: tuple[str, ...] = ()) -> None:
    """Write the netlist atomically (temp file, then rename)."""
    with atomic_open(path, "w") as f:
        write_netlist(c, f, dialect, header)
