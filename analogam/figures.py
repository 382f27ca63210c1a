"""Figures: matplotlib :class:`~matplotlib.figure.Figure` objects made without pyplot
(the user's backend and pyplot's figure list are never touched), returned to the
caller, and written atomically (a file is whole or absent) as PNG, PDF or SVG."""

from __future__ import annotations

import io
import os
from pathlib import Path

from .atomic import atomic_open
from .errors import printable


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """``(figure, axes)`` like ``matplotlib.pyplot.subplots``, but a standalone
    :class:`~matplotlib.figure.Figure`: no backend is selected and pyplot does not keep
    it (a notebook shows it when it is the cell's value; :func:`render` draws it)."""
    from matplotlib.figure import Figure

    fig_kw = {k: kwargs.pop(k) for k in ("figsize", "dpi", "layout") if k in kwargs}
    fig = Figure(**fig_kw)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def plain(text) -> str:
    """User text (a model name) for a figure: ``$`` escaped, so matplotlib does not
    parse it as mathtext, and control characters shown, not interpreted."""
    return printable(text).replace("$", r"\$")


FORMATS = ("png", "pdf", "svg")


def render(fig, fmt: str = "png", dpi: int = 100) -> bytes:
    """Lay out ``fig`` and render it as ``fmt`` bytes (PNG at ``dpi``; PDF and SVG are
    vector), deterministic: no software tag or creation date."""
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r}; valid: {', '.join(FORMATS)}")
    fig.tight_layout()
    meta = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None,
                                                "CreationDate": None},
            "svg": {"Creator": None, "Date": None}}[fmt]
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "analogam"}):   # element ids, not random
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    return buf.getvalue()


def render_png(fig, dpi: int = 100) -> bytes:
    """:func:`render` as PNG."""
    return render(fig, "png", dpi)


def write_bytes(path: str | os.PathLike, data: bytes, protect=()) -> Path:
    """Write ``data`` to ``path`` atomically (never onto one of ``protect``)."""
    with atomic_open(path, "wb", protect) as f:
        f.write(data)
    return Path(path)


def save_figure(fig, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Render ``fig`` in the format its suffix names (``.png``, ``.pdf``, ``.svg``;
    anything else: PNG) and write it to ``path`` atomically (whole or absent)."""
    fmt = Path(path).suffix.lower().lstrip(".")
    return write_bytes(path, render(fig, fmt if fmt in FORMATS else "png", dpi))
