"""The batch backend: ``ngspice -b`` as a subprocess, the raw file read back."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np

from .library import die_with_parent
from .rawfile import read_raw
from .result import (
    DEFAULT_TIMEOUT_S,
    SpiceResult,
    diagnose,
    keep_failed,
    tail,
    timeout_message,
)
from .scratch import scratch_dir


def _killed_with_parent() -> list[str]:
    """A launcher that makes Linux SIGKILL ngspice when analogam dies (util-linux's
    ``setpriv --pdeathsig``), so no Python code runs in the forked child: Python's
    after-fork hooks in a child of a threaded parent (the runner's threads) printed
    "Exception ignored ... SystemError" tracebacks. Empty where there is none."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def _preexec() -> dict:
    """Without the launcher, the same request from Python in the child."""
    if shutil.which("setpriv"):
        return {}
    return {"preexec_fn": functools.partial(die_with_parent, os.getpid())}


def run_batch(netlist: str, timeout_s: float = DEFAULT_TIMEOUT_S,
              executable: str = "ngspice") -> SpiceResult:
    """``ngspice -b -n -r out.raw`` on the netlist, in a private temp dir, killed on
    timeout. ``-n``: no start-up file (``.spiceinit`` here or in $HOME) is read; the
    names are relative, so no part of the temp path reaches ngspice's log (a TMPDIR
    named ".../error" must not read as a failure)."""
    exe = shutil.which(executable)
    if exe is None:
        return SpiceResult(False, f"{executable} not found on PATH; install it "
                           "(Debian: apt-get install ngspice libngspice0)", "batch")
    t0 = time.perf_counter()
    with scratch_dir("batch") as tmp:
        cir, raw = Path(tmp) / "circuit.cir", Path(tmp) / "out.raw"
        cir.write_text(netlist, encoding="utf-8")
        proc = subprocess.Popen([*_killed_with_parent(), exe, "-b", "-n", "-r", raw.name,
                                 cir.name], cwd=tmp, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, **_preexec())
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return SpiceResult(False, timeout_message(timeout_s), "batch",
                               wall_s=time.perf_counter() - t0,
                               netlist_path=keep_failed(netlist))
        except BaseException:  # interrupted or terminated: take ngspice down with us
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        log = out.decode("utf-8", "replace")
        wall = time.perf_counter() - t0
        problem = diagnose(log)
        if problem or proc.returncode != 0 or not raw.exists():
            msg = problem or f"ngspice exited with status {proc.returncode} and no results"
            return SpiceResult(False, msg, "batch", log_tail=tail(log), wall_s=wall,
                               netlist_path=keep_failed(netlist))
        vectors = read_raw(raw)
    return SpiceResult(True, "ok", "batch", vectors.get("time", np.zeros(0)), vectors,
                       tail(log), wall)
