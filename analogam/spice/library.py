"""Finding the ngspice shared library."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import SimulationError

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


def check_library(path: str) -> str:
    """``path`` if it is an ngspice shared library (it exports ``ngSpice_Init``), else a
    SimulationError saying so (checked here, not in a worker, so the message is one
    line)."""
    import ctypes

    try:
        lib = ctypes.CDLL(path)
        lib.ngSpice_Init  # noqa: B018 - the lookup is the check
    except (OSError, AttributeError):
        raise SimulationError(f"{path[:200]} is not an ngspice shared library (no "
                              "ngSpice_Init); unset NGSPICE_LIBRARY_PATH or point it at "
                              "libngspice.so.0, or use --backend batch") from None
    return path


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies, so a killed analogam
    leaves no worker or ngspice behind (no effect elsewhere). A worker can only ask
    once its interpreter has started; if ``parent`` (the pid that started it) died
    before that, the request comes too late, so the worker exits here instead."""
    import ctypes
    import os
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


@dataclass(frozen=True)
class NgspiceInfo:
    """What ``ngspice -v`` says of itself: the version and whether KLU is built in."""

    path: str
    version: int
    klu: bool

    def describe(self) -> str:
        return f"ngspice {self.version} ({'KLU and Sparse' if self.klu else 'Sparse only'})"


def ngspice_info(executable: str = "ngspice") -> NgspiceInfo | None:
    """Version and solvers of the ngspice on PATH (None when there is none)."""
    import shutil
    import subprocess

    exe = shutil.which(executable)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"ngspice-(\d+)", out)
    return NgspiceInfo(exe, int(m.group(1)) if m else 0, "KLU" in out)
