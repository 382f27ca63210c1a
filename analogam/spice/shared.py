"""The shared-library ngspice backend: PySpice's NgSpiceShared in worker processes.

PySpice is not thread-safe and a bad netlist can take libngspice down with the process
that loaded it, so simulations run in a :class:`SpicePool` of worker processes (also
parallel across inputs). Each worker keeps one NgSpiceShared instance and calls
``destroy()`` and ``remove_circuit()`` after every run, without which memory grows
per run. A run that exceeds its wall-clock timeout gets its worker killed.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from ..errors import SimulationError
from .library import check_library, die_with_parent, ngspice_library
from .result import (
    DEFAULT_TIMEOUT_S,
    SpiceResult,
    diagnose,
    keep_failed,
    tail,
    timeout_message,
)
from .scratch import scratch_dir

# libngspice sources ./.spiceinit at start-up, or failing that the account's
# ~/.spiceinit (found through getpwuid, not $HOME): either can hold ``shell`` lines and
# options that change results. A start-up file of our own in a private directory is read
# instead of both, so ngspice runs only what analogam wrote.
OWN_SPICEINIT = "* written by analogam: ngspice reads this file, and no other start-up file\n"


GUARD = ('a script that runs circuits on the local pool must start its work under '
         '`if __name__ == "__main__":` (the pool\'s workers import the script again), '
         'or use the serial scheduler')


def _script_hint() -> str:
    """When the main module is a user's script, the likeliest reason a worker died at
    start-up: it ran the script's unguarded top level again."""
    main = sys.modules.get("__main__")
    path = str(getattr(main, "__file__", "") or "")
    if path.endswith(".py") and "analogam" not in Path(path).parts[-2:]:
        return f" (or could not start: {GUARD})"
    return ""


def _init_worker(library: str, parent: int) -> None:
    die_with_parent(parent)
    os.environ["NGSPICE_LIBRARY_PATH"] = library
    logging.getLogger("PySpice").setLevel(logging.CRITICAL)
    try:
        here = os.getcwd()
    except OSError:   # the working directory is gone: the temp dir's parent will do
        here = tempfile.gettempdir()
    with scratch_dir("init") as private:
        (Path(private) / ".spiceinit").write_text(OWN_SPICEINIT, encoding="utf-8")
        os.chdir(private)
        try:
            _engine()  # ngSpice_Init runs here, once per worker
        finally:
            with contextlib.suppress(OSError):
                os.chdir(here)


def _engine():
    # PySpice caches one instance per id in the process: this is the worker's engine
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared

    return NgSpiceShared.new_instance()


def _vectors(ng, plot_name: str) -> dict[str, np.ndarray]:
    return {name.lower(): np.asarray(vec._data, dtype=float).copy()
            for name, vec in ng.plot(None, plot_name).items()}


def _deadline(signum, frame) -> None:
    # the worker enforces its own deadline: a run the parent can no longer stop (the
    # parent was killed) must not spin forever
    os._exit(3)


def run_job(netlist: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> SpiceResult:
    """Load, run and read one netlist in this (worker) process's ngspice; the process
    exits if the run outlives ``timeout_s`` (plus a grace period)."""
    t0 = time.perf_counter()
    signal.signal(signal.SIGALRM, _deadline)
    signal.setitimer(signal.ITIMER_REAL, timeout_s + 5.0)
    ng = _engine()
    log = ""
    try:
        try:
            ng.load_circuit(netlist)
        except Exception as e:  # PySpice raises bare NameError/NgSpiceCircuitError types
            log = ng.stdout + "\n" + ng.stderr
            problem = diagnose(log)
            # PySpice flags any output line containing "error", the echoed title too;
            # only ngspice's own error lines (diagnose) or a failed load mean a failure
            if problem or type(e).__name__ != "NgSpiceCircuitError":
                return SpiceResult(False, problem or "ngspice could not parse the netlist",
                                   "shared", log_tail=tail(log),
                                   netlist_path=keep_failed(netlist))
        log = ng.stdout + "\n" + ng.stderr
        with contextlib.suppress(Exception):  # errors are judged from the log and plot
            ng.run()
        log += "\n" + ng.stdout + "\n" + ng.stderr
        plot = ng.last_plot
        problem = diagnose(log)
        if problem or not plot.startswith(("tran", "op")):
            return SpiceResult(False, problem or "ngspice produced no analysis results",
                               "shared", log_tail=tail(log), wall_s=time.perf_counter() - t0,
                               netlist_path=keep_failed(netlist))
        vec = _vectors(ng, plot)
        return SpiceResult(True, "ok", "shared", vec.get("time", np.zeros(0)), vec,
                           tail(log), time.perf_counter() - t0)
    finally:
        with contextlib.suppress(Exception):
            ng.destroy()
        with contextlib.suppress(Exception):
            ng.remove_circuit()
        signal.setitimer(signal.ITIMER_REAL, 0)


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class SpicePool:
    """A pool of ngspice worker processes. Use as a context manager::

        with SpicePool(workers=2) as pool:
            results = list(pool.map(netlists))

    ``completed`` yields ``(index, result)`` as runs finish, ``map`` results in input
    order; a run over ``timeout_s`` is reported as a failed result and its pool is
    rebuilt, the other runs go on.
    """

    def __init__(self, workers: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S):
        lib = ngspice_library()
        if lib is None:
            raise SimulationError("libngspice not found (Debian: apt-get install libngspice0; "
                                  "or set NGSPICE_LIBRARY_PATH); use --backend batch")
        self.library = check_library(lib)
        self.workers = workers or min(2, os.cpu_count() or 1)
        self.timeout_s = timeout_s
        self._ex: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if getattr(mp.current_process(), "_inheriting", False):
            # a worker importing an unguarded script, which asks for a pool of its own
            raise SimulationError(GUARD)
        if self._ex is None:
            self._ex = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                           initializer=_init_worker,
                                           initargs=(self.library, os.getpid()))
        return self._ex

    def _kill(self) -> None:
        if self._ex is None:
            return
        for p in list(getattr(self._ex, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                p.kill()
        self._ex.shutdown(wait=False, cancel_futures=True)
        self._ex = None

    def close(self) -> None:
        if self._ex is not None:
            self._ex.shutdown(wait=True, cancel_futures=True)
            self._ex = None

    def __enter__(self) -> SpicePool:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self._kill()
        self.close()

    def map(self, netlists: Iterable[str]) -> Iterator[SpiceResult]:
        """Results in input order (see :meth:`completed` for completion order)."""
        held: dict[int, SpiceResult] = {}
        nxt = 0
        for i, r in self.completed(netlists):
            held[i] = r
            while nxt in held:
                yield held.pop(nxt)
                nxt += 1

    def completed(self, netlists: Iterable[str]) -> Iterator[tuple[int, SpiceResult]]:
        """``(index, result)`` as each run finishes, so a caller keeps (and caches) a
        finished run while a slower one still runs. A run past ``timeout_s`` since it
        started, or one whose worker died, is a failed result; the pool is then rebuilt
        and the runs it held are submitted again."""
        jobs = list(netlists)
        ex = self._executor()
        futures = {ex.submit(run_job, n, self.timeout_s): i for i, n in enumerate(jobs)}
        started: dict = {}
        while futures:
            done, _ = wait(futures, timeout=0.5, return_when=FIRST_COMPLETED)
            now = time.monotonic()
            for f in futures:
                if f not in started and f.running():
                    started[f] = now
            broken = None
            for f in sorted(done, key=futures.get):
                if isinstance(f.exception(), BrokenProcessPool):
                    broken = broken or f     # the others on the dead pool run again
                    continue
                yield futures.pop(f), f.result()
            overdue = [f for f in futures if now - started.get(f, now) > self.timeout_s]
            if broken is not None or overdue:
                for f in overdue or [broken]:
                    why = timeout_message(self.timeout_s) if overdue else \
                        "ngspice crashed its worker process" + _script_hint()
                    yield futures.pop(f), SpiceResult(False, why, "shared")
                rest = sorted(futures.values())
                self._kill()
                ex = self._executor()
                futures = {ex.submit(run_job, jobs[i], self.timeout_s): i for i in rest}
                started = {}

    def worker_rss_kib(self) -> list[int]:
        """Resident memory of each worker (KiB), to watch for growth across runs."""
        ex = self._executor()
        return [f.result() for f in [ex.submit(_rss_kib) for _ in range(self.workers)]]
