"""Finding the ngspice shared library."""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/libngspice.so.0", "/usr/lib/aarch64-linux-gnu/"
               "libngspice.so.0", "/usr/lib/libngspice.so.0", "/usr/lib64/libngspice.so.0",
               "/usr/lib/x86_64-linux-gnu/libngspice.so")


def ngspice_library() -> str | None:
    """Path of libngspice, honouring NGSPICE_LIBRARY_PATH; Debian ships only the
    versioned ``libngspice.so.0`` which PySpice does not look for by itself."""
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env:
        return env if Path(env).is_file() else None
    for cand in _CANDIDATES:
        if Path(cand).exists():
            return cand
    return None
