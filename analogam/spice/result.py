"""The outcome of one ngspice run, and how a failed run is diagnosed and kept.

A failed :class:`SpiceResult` is never compared: :meth:`SpiceResult.raise_for_status`
turns it into a SimulationError that carries the path of the netlist (kept on disk for
the user to run by hand) and the tail of ngspice's output.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SimulationError, one_line

DEFAULT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class SpiceResult:
    """Outcome of one ngspice run. ``vectors`` maps lower-case names (``time``,
    ``v(net)`` or ``net``) to arrays in SI units; ``log_tail`` holds ngspice's last
    lines; ``netlist_path`` the kept netlist of a failed run."""

    success: bool
    message: str
    backend: str
    time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    log_tail: str = ""
    wall_s: float = 0.0
    netlist_path: str = ""

    def voltage(self, net: str) -> np.ndarray:
        for key in (f"v({net})".lower(), net.lower()):
            if key in self.vectors:
                return self.vectors[key]
        raise SimulationError(f"ngspice result has no vector for net {net!r}")

    def current(self, source: str) -> np.ndarray:
        """The branch current of voltage source ``V<source>`` (A, into its + node)."""
        for key in (f"v{source}#branch".lower(), f"i(v{source})".lower()):
            if key in self.vectors:
                return self.vectors[key]
        raise SimulationError(f"ngspice result has no current for source V{source!r}")

    def raise_for_status(self) -> SpiceResult:
        if not self.success:
            where = f" (netlist kept at {self.netlist_path})" if self.netlist_path else ""
            raise SimulationError(self.message + where, netlist_path=self.netlist_path,
                                  log_tail=self.log_tail)
        return self


# ngspice's own failure lines; the echoed title ("Circuit: * <title>") and comment lines
# are skipped, so a model named "Hamming74_ErrorCorrector" is not a failure.
_KNOWN = [
    (re.compile(r"timestep too small", re.I),
     "ngspice did not converge (timestep too small); check the model's scales "
     "(--vs, --g0, --t0) or its weights"),
    (re.compile(r"unknown (subckt|model|device|parameter)|could not find|syntax error|"
                r"no such|unable to find|undefined", re.I),
     "ngspice could not parse the netlist"),
    (re.compile(r"singular matrix", re.I), "ngspice found a singular matrix (floating node?)"),
    (re.compile(r"\berror\b", re.I), "ngspice reported an error"),
]
_ECHO = re.compile(r"^\s*(circuit:|\*)", re.I)


def diagnose(log: str) -> str | None:
    """One line naming the first known failure in an ngspice log, or None."""
    lines = [ln for ln in log.splitlines() if not _ECHO.match(ln)
             and not re.search(r"warning", ln, re.I)]
    for pat, msg in _KNOWN:
        for line in lines:
            if pat.search(line):
                return f"{msg}: {one_line(line)[:200]}"
    return None


def tail(text: str, n: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def keep_failed(netlist: str) -> str:
    """Keep the netlist of a failed run where the user can find it: content-addressed
    under the temp directory, so repeating a failure writes nothing new."""
    d = Path(tempfile.gettempdir()) / "analogam-failed"
    try:
        d.mkdir(mode=0o700, exist_ok=True)
        path = d / (hashlib.sha256(netlist.encode()).hexdigest()[:16] + ".cir")
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(netlist, encoding="utf-8")
            os.replace(tmp, path)
        return str(path)
    except OSError:
        return ""
