"""Netlist writing: one pass over the circuit IR, into any text stream.

Output is deterministic (IR order, fixed number format). Free text (the title, notes)
goes through :func:`sanitize`, so nothing from a weights file can add a line or a
control block.
"""

from __future__ import annotations

import io
import os
import re
from typing import TextIO

from .. import __version__
from ..atomic import atomic_open
from ..circuit import Circuit
from .analysis import Analysis
from .dialect import Dialect, NgspiceDialect, ident

_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.+-]")


def sanitize(text: str, limit: int = 64) -> str:
    """Free text -> a single token of letters, digits and ``_ . + -`` only. Newlines,
    dots-at-start (``.control``), spaces and punctuation cannot survive."""
    s = _UNSAFE_CHARS.sub("_", str(text))[:limit].lstrip(".+-")
    return s or "unnamed"


def write_netlist(c: Circuit, stream: TextIO, analysis: Analysis,
                  dialect: Dialect | None = None, header: tuple[str, ...] = ()) -> None:
    """Stream the netlist of ``c``: title, header comments, model cards, library blocks,
    elements in IR order, then the analysis. Cost is linear in the number of elements."""
    d = dialect or NgspiceDialect()
    w = stream.write
    w(f"{d.comment} {sanitize(c.title)}: analogam {__version__} netlist\n")
    for line in (*header, *c.notes):
        w(f"{d.comment} {sanitize(line, 200).replace('_', ' ')}\n")
    if c.process is not None:
        for line in d.process(c.process):
            w(line + "\n")
    for card in c.models:
        w(d.model_card(card) + "\n")
    for sub in c.subckts:
        w(f"{d.comment} {sanitize(sub.doc, 200).replace('_', ' ')}\n")
        w(f".subckt {ident(sub.name)} {' '.join(ident(p) for p in sub.ports)}\n")
        for e in sub.elements:
            w(d.element(e) + "\n")
        w(f".ends {ident(sub.name)}\n")
    for e in c.elements:
        w(d.element(e) + "\n")
    for line in d.analysis(c, analysis):
        w(line + "\n")
    w(".end\n")


def format_netlist(c: Circuit, analysis: Analysis, dialect: Dialect | None = None,
                   header: tuple[str, ...] = ()) -> str:
    buf = io.StringIO()
    write_netlist(c, buf, analysis, dialect, header)
    return buf.getvalue()


def save_netlist(c: Circuit, path: str | os.PathLike, analysis: Analysis,
                 dialect: Dialect | None = None, header: tuple[str, ...] = ()) -> None:
    """Write the netlist atomically (temp file, then rename)."""
    with atomic_open(path, "w") as f:
        write_netlist(c, f, analysis, dialect, header)
