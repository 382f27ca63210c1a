"""Figures: headless matplotlib, written atomically (a PNG is whole or absent)."""

from __future__ import annotations

import os
from pathlib import Path

from .atomic import atomic_open


def subplots(*args, **kwargs):
    """``matplotlib.pyplot.subplots`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save_figure(fig, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Lay out, write ``fig`` as PNG to ``path`` atomically, and release it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return Path(path)
