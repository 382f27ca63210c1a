"""Figures: headless matplotlib, written atomically (a PNG is whole or absent)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from .atomic import atomic_open
from .errors import printable


def subplots(*args, **kwargs):
    """``matplotlib.pyplot.subplots`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def plain(text) -> str:
    """User text (a model name) for a figure: ``$`` escaped, so matplotlib does not
    parse it as mathtext, and control characters shown, not interpreted."""
    return printable(text).replace("$", r"\$")


def render_png(fig, dpi: int = 100) -> bytes:
    """Lay out ``fig``, render it as PNG bytes (deterministic: no software tag), and
    release it."""
    import matplotlib.pyplot as plt

    try:
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


def write_bytes(path: str | os.PathLike, data: bytes, protect=()) -> Path:
    """Write ``data`` to ``path`` atomically (never onto one of ``protect``)."""
    with atomic_open(path, "wb", protect) as f:
        f.write(data)
    return Path(path)


def save_figure(fig, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Render ``fig`` and write it as PNG to ``path`` atomically (whole or absent)."""
    return write_bytes(path, render_png(fig, dpi))
