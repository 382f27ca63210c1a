"""The outcome of one ngspice run, and how a failed run is diagnosed and kept.

A failed :class:`SpiceResult` is never compared: :meth:`SpiceResult.raise_for_status`
turns it into a SimulationError that carries the path of the netlist (kept on disk for
the user to run by hand) and the tail of ngspice's output.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SimulationError, one_line

DEFAULT_TIMEOUT_S = 600.0
TIMED_OUT = "ngspice timed out"


def timeout_message(timeout_s: float) -> str:
    """A timeout named as what it is: the wall clock, which the machine's load shares."""
    try:
        load = f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        load = ""
    return (f"{TIMED_OUT} after {timeout_s:g} s (wall clock{load}); raise --timeout or "
            "run fewer jobs at once")


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
    rescued: tuple[str, ...] = ()
    """The solver rescues (:data:`~analogam.spice.runner.RESCUES`) this result needed."""

    @property
    def timed_out(self) -> bool:
        """The run was stopped by its wall-clock limit (not by ngspice)."""
        return self.message.startswith(TIMED_OUT)

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


def _private_dir(name: str) -> Path:
    """``$TMPDIR/<name>-<uid>`` when it is a directory of ours that no one else can
    write (created 0700 if absent); otherwise a fresh ``mkdtemp``: a directory planted
    by another account, a link, or a group- or world-writable one is never used."""
    d = Path(tempfile.gettempdir()) / f"{name}-{os.getuid()}"
    try:
        os.mkdir(d, 0o700)
    except FileExistsError:
        st = os.lstat(d)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            return Path(tempfile.mkdtemp(prefix=f"{name}-"))
    return d


def keep_failed(netlist: str) -> str:
    """Keep the netlist of a failed run where the user can find it: content-addressed in
    a private directory under the temp directory (the same failure, the same file). The
    file is created exclusively and without following links, then renamed into place."""
    try:
        d = _private_dir("analogam-failed")
        path = d / (hashlib.sha256(netlist.encode()).hexdigest()[:16] + ".cir")
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)  # a leftover of this pid (killed mid-write); ours
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(netlist)
        os.replace(tmp, path)
        return str(path)
    except OSError:
        return ""
