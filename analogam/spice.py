"""Running ngspice: a netlist in, node waveforms (SI units) out.

Two backends behind one function, :func:`simulate_spice`:

* ``shared``: PySpice's ``NgSpiceShared`` binding to libngspice, in a worker process
  (PySpice is not thread-safe and a bad netlist can take the library down; the
  process is the isolation). ``destroy()`` and ``remove_circuit()`` after every run.
* ``batch``: ``ngspice -b -r out.raw`` as a subprocess, raw file read back.

``auto`` picks ``shared`` when libngspice loads, else ``batch``. Every run has a
wall-clock timeout; missing ngspice, parse errors, "timestep too small" and timeouts
come back as a failed :class:`SpiceResult` whose message is one line (and
:meth:`SpiceResult.raise_for_status` turns it into a SimulationError).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import SimulationError, one_line
from .rawfile import read_raw

BACKENDS = ("auto", "shared", "batch")
DEFAULT_TIMEOUT_S = 600.0
_DEBIAN_LIB = "/usr/lib/x86_64-linux-gnu/libngspice.so.0"


@dataclass(frozen=True)
class SpiceResult:
    """Outcome of one ngspice run. ``vectors`` maps lower-case names (``time``,
    ``v(net)`` or ``net``) to arrays; ``log_tail`` holds ngspice's last lines."""

    success: bool
    message: str
    backend: str
    time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    log_tail: str = ""
    wall_s: float = 0.0

    def voltage(self, net: str) -> np.ndarray:
        for key in (f"v({net})".lower(), net.lower()):
            if key in self.vectors:
                return self.vectors[key]
        raise SimulationError(f"ngspice result has no vector for net {net!r}")

    def raise_for_status(self) -> SpiceResult:
        if not self.success:
            raise SimulationError(self.message)
        return self


_KNOWN = [
    (re.compile(r"timestep too small", re.I),
     "ngspice did not converge (timestep too small); check the model's scales or loosen "
     "--max-step"),
    (re.compile(r"unknown (subckt|model|device|parameter)|could not find|syntax error|"
                r"no such|unable to find|undefined", re.I),
     "ngspice could not parse the netlist"),
    (re.compile(r"singular matrix", re.I), "ngspice found a singular matrix (floating node?)"),
    (re.compile(r"error", re.I), "ngspice reported an error"),
]


def diagnose(log: str) -> str | None:
    """One line naming the first known failure in an ngspice log, or None."""
    for pat, msg in _KNOWN:
        for line in log.splitlines():
            if pat.search(line) and not re.search(r"warning", line, re.I):
                return f"{msg}: {one_line(line)[:200]}"
    return None


def ngspice_library() -> str | None:
    """Path of libngspice, honouring NGSPICE_LIBRARY_PATH; Debian ships only the
    versioned ``libngspice.so.0`` which PySpice does not look for by itself."""
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env:
        return env if Path(env).exists() else None
    for cand in (_DEBIAN_LIB, "/usr/lib/libngspice.so.0", "/usr/lib64/libngspice.so.0",
                 "/usr/lib/x86_64-linux-gnu/libngspice.so"):
        if Path(cand).exists():
            return cand
    return None


def _tail(text: str, n: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def run_batch(netlist: str, timeout_s: float = DEFAULT_TIMEOUT_S,
              executable: str = "ngspice") -> SpiceResult:
    """``ngspice -b -r out.raw`` on the netlist, in a temp dir, killed on timeout."""
    import time

    exe = shutil.which(executable)
    if exe is None:
        return SpiceResult(False, f"{executable} not found on PATH; install it "
                           "(Debian: apt-get install ngspice libngspice0)", "batch")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="analogam-") as tmp:
        cir, raw = Path(tmp) / "circuit.cir", Path(tmp) / "out.raw"
        cir.write_text(netlist, encoding="utf-8")
        proc = subprocess.Popen([exe, "-b", "-r", str(raw), str(cir)], cwd=tmp,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return SpiceResult(False, f"ngspice timed out after {timeout_s:g} s (wall clock)",
                               "batch", wall_s=time.perf_counter() - t0)
        log = out.decode("utf-8", "replace")
        wall = time.perf_counter() - t0
        problem = diagnose(log)
        if problem or proc.returncode != 0 or not raw.exists():
            msg = problem or f"ngspice exited with status {proc.returncode} and no results"
            return SpiceResult(False, msg, "batch", log_tail=_tail(log), wall_s=wall)
        vectors = read_raw(raw)
    return SpiceResult(True, "ok", "batch", vectors.get("time", np.zeros(0)), vectors,
                       _tail(log), wall)


def simulate_spice(netlist: str, *, backend: str = "auto",
                   timeout_s: float = DEFAULT_TIMEOUT_S) -> SpiceResult:
    """Run a transient netlist with the chosen backend (see module docstring)."""
    if backend not in BACKENDS:
        raise SimulationError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if not (np.isfinite(timeout_s) and timeout_s > 0):
        raise SimulationError(f"timeout must be positive, got {timeout_s}")
    if backend == "auto":
        backend = "shared" if ngspice_library() else "batch"
    if backend == "shared":
        from .spice_shared import run_shared

        return run_shared(netlist, timeout_s)
    return run_batch(netlist, timeout_s)
