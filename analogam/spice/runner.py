"""One runner for many ngspice jobs: in this process, in local worker processes, or on
a Dask cluster, with one backend policy, a wall-clock timeout on every run, and
results reported as each job finishes (so a caller can show progress and keep what
finished when interrupted).

Backends: ``shared`` (PySpice's NgSpiceShared on libngspice, in worker processes: a bad
netlist can take the library down, the process is the isolation) or ``batch``
(``ngspice -b`` subprocesses). ``auto`` picks ``shared`` when libngspice loads, else
``batch``. Dask workers always use ``batch``.

Schedulers: ``serial`` (one job at a time), ``local`` (a pool of this machine's
cores), ``dask`` (a Dask LocalCluster), or a Dask scheduler address
(``tcp://host:8786``).
"""

from __future__ import annotations

import logging
import os
import queue
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from ..errors import AnalogamError, SimulationError
from .batch import run_batch
from .library import ngspice_library
from .result import DEFAULT_TIMEOUT_S, SpiceResult
from .scratch import scratch_dir, sweep_stale

BACKENDS = ("auto", "shared", "batch")
SCHEDULERS = ("serial", "local", "dask")


@dataclass(frozen=True)
class Rescue:
    """A failed run repeated, before anyone hears of the failure, with one solver option
    changed: ``pattern`` in the netlist becomes ``replacement`` when the run failed
    (with a message containing ``failure``, if given; never after a timeout)."""

    name: str
    pattern: re.Pattern
    replacement: str
    failure: str | None = None

    def applies(self, netlist: str, result: SpiceResult) -> bool:
        return (not result.success and not result.timed_out
                and (self.failure is None or self.failure in result.message)
                and self.pattern.search(netlist) is not None)

    def apply(self, netlist: str) -> str:
        return self.pattern.sub(self.replacement, netlist)


RESCUES = (
    # KLU has no absolute pivot tolerance and fails where Sparse does not
    Rescue("sparse", re.compile(r"^\.options klu ", re.M), ".options sparse "),
    # the trapezoidal rule can ring on a switch-on edge until the step collapses (a pdk
    # read-out at the ff corner, 30 ps in); Gear's damping passes it, the answer unchanged
    Rescue("gear", re.compile(r"^(\.options \w+ )method=trap ", re.M), r"\1method=gear ",
           "timestep too small"),
    # Gear at reltol 1e-5 can still collapse on a switch-on edge (a pdk amplifier with
    # 16x the input pair, 5 ps in); 1e-4 is what the amplifier's own step bench uses,
    # far inside the level's read-out tolerance (5e-2)
    Rescue("reltol", re.compile(r"^(\.options \w+ method=gear )reltol=1e-05 ", re.M),
           r"\1reltol=0.0001 ", "timestep too small"),
)


class DistributedError(AnalogamError):
    """The Dask scheduler cannot be reached or a worker failed."""


def resolve_backend(backend: str) -> str:
    """The backend ``auto`` stands for on this machine (the one policy)."""
    if backend not in BACKENDS:
        raise SimulationError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if backend == "auto":
        return "shared" if ngspice_library() else "batch"
    return backend


def check_timeout(timeout_s: float) -> float:
    if not (isinstance(timeout_s, int | float) and np.isfinite(timeout_s) and timeout_s > 0
            and timeout_s <= 1e7):
        raise SimulationError(f"timeout must be a positive number of seconds up to 1e7, got "
                              f"{timeout_s}")
    return float(timeout_s)


def check_scheduler(scheduler: str) -> str:
    if scheduler in SCHEDULERS or scheduler.startswith(("tcp://", "tls://", "inproc://")):
        return scheduler
    raise SimulationError(f"unknown scheduler {str(scheduler)[:60]!r}; valid: "
                          f"{', '.join(SCHEDULERS)}, or a Dask address tcp://host:port")


OnResult = Callable[[int, SpiceResult], None]


class Runner:
    """Runs batches of netlists. Use as a context manager (pools and clients are
    released on exit)::

        with Runner("local") as r:
            results = r.run(netlists, on_result=lambda i, res: ...)
    """

    def __init__(self, scheduler: str = "local", backend: str = "auto",
                 timeout_s: float = DEFAULT_TIMEOUT_S, workers: int | None = None) -> None:
        self.scheduler = check_scheduler(scheduler)
        self.timeout_s = check_timeout(timeout_s)
        dask = self.scheduler not in ("serial", "local")
        self.backend = "batch" if dask else resolve_backend(backend)
        self.workers = workers or (1 if scheduler == "serial" else min(2, os.cpu_count() or 1))
        self._pool = None
        self._client = None
        self._cluster = None
        self._scratch = None
        sweep_stale()   # what runs killed before this one left behind

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close(kill=exc[0] is not None)

    def close(self, kill: bool = False) -> None:
        if self._pool is not None:
            if kill:
                self._pool._kill()
            self._pool.close()
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def run(self, netlists: Sequence[str], on_result: OnResult | None = None,
            keep: bool = True) -> list[SpiceResult]:
        """Simulate every netlist; results in input order. ``on_result(index, result)``
        is called as each finishes (completion order). ``keep=False``: the results are
        handed to ``on_result`` only and not held (memory flat in the number of runs;
        the returned list is empty)."""
        netlists = list(netlists)
        out: list[SpiceResult | None] = [None] * len(netlists) if keep else []

        def done(i: int, r: SpiceResult) -> None:
            if keep:
                out[i] = r
            if on_result is not None:
                on_result(i, r)

        if not netlists:
            return []
        texts, rescued = list(netlists), {}
        todo = list(range(len(netlists)))
        while todo:   # each rescue removes its own pattern: at most len(RESCUES) rounds
            again: list[int] = []

            def finish(j: int, r: SpiceResult, todo=todo, again=again) -> None:
                i = todo[j]
                rescue = next((x for x in RESCUES if x.applies(texts[i], r)), None)
                if rescue is None:
                    done(i, replace(r, rescued=tuple(rescued[i])) if i in rescued else r)
                    return
                texts[i] = rescue.apply(texts[i])
                rescued.setdefault(i, []).append(rescue.name)
                again.append(i)

            self._dispatch([texts[i] for i in todo], finish)
            todo = again
        return out  # type: ignore[return-value]

    def _dispatch(self, netlists: list[str], done: OnResult) -> None:
        if self.scheduler in ("serial", "local"):
            if self.backend == "shared":
                self._run_shared(netlists, done)
            else:
                self._run_batch(netlists, done)
        else:
            self._run_dask(netlists, done)

    def _run_shared(self, netlists: list[str], done: OnResult) -> None:
        from .shared import SpicePool

        if self._pool is None:
            self._pool = SpicePool(workers=self.workers, timeout_s=self.timeout_s)
        for i, r in self._pool.completed(netlists):
            done(i, r)

    def _run_batch(self, netlists: list[str], done: OnResult) -> None:
        if self.workers == 1 or len(netlists) == 1:
            for i, n in enumerate(netlists):
                done(i, run_batch(n, self.timeout_s))
            return
        # each job waits on its own ngspice process, which enforces the timeout; results
        # travel through a queue, not the futures, so none is held once handed over
        finished: queue.Queue = queue.Queue()

        def job(i: int, netlist: str) -> None:
            try:
                finished.put((i, run_batch(netlist, self.timeout_s), None))
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                finished.put((i, None, e))

        with ThreadPoolExecutor(self.workers) as ex:
            futures = [ex.submit(job, i, n) for i, n in enumerate(netlists)]
            try:
                for _ in netlists:
                    i, r, err = finished.get()
                    if err is not None:
                        raise err
                    done(i, r)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def _dask_client(self):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise DistributedError("dask.distributed is not installed; pip install "
                                   "distributed, or use --scheduler local") from None
        logging.getLogger("distributed").setLevel(logging.ERROR)
        if self._client is None:
            try:
                if self.scheduler == "dask":
                    # scratch space in a directory of our own, removed on close
                    import dask

                    self._scratch = scratch_dir("dask")
                    with dask.config.set({"temporary-directory": self._scratch.name}):
                        self._cluster = LocalCluster(n_workers=os.cpu_count() or 1,
                                                     threads_per_worker=1, processes=True,
                                                     dashboard_address=":0",
                                                     local_directory=self._scratch.name)
                    self._client = Client(self._cluster)
                else:
                    if self.scheduler.startswith("tcp://"):
                        probe_scheduler(self.scheduler)
                    self._client = Client(self.scheduler, timeout="5s")
            except TypeError:   # tls:// without Dask's TLS configuration
                self.close()
                raise DistributedError(
                    f"{self.scheduler[:60]!r} needs Dask's TLS settings (distributed.comm."
                    "tls.ca-file, .client.cert and .client.key in the Dask configuration); "
                    "set them, or use a tcp:// address") from None
            except (OSError, TimeoutError, ValueError) as e:
                self.close()
                raise DistributedError(f"cannot reach the Dask scheduler at "
                                       f"{self.scheduler!r}: {e}; check the address or use "
                                       "--scheduler local") from None
        return self._client

    def _run_dask(self, netlists: list[str], done: OnResult) -> None:
        from dask.distributed import as_completed as dask_completed

        client = self._dask_client()
        futures = {client.submit(run_batch, n, self.timeout_s, pure=False): i
                   for i, n in enumerate(netlists)}
        try:
            for fut in dask_completed(futures):
                done(futures[fut], fut.result())
        except BaseException:
            client.cancel(list(futures))
            raise


PROBE_TIMEOUT_S = 5.0
MAX_HANDSHAKE_BYTES = 1 << 20


def probe_scheduler(address: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Check that ``tcp://host:port`` is a Dask scheduler before Dask connects to it.
    Dask bounds the TCP connect by its timeout but not the handshake after it: an
    address that accepts and never answers would hang the run, and one that answers
    with other bytes (HTTP, noise) makes Dask allocate whatever length they spell. A
    scheduler speaks first: an 8-byte little-endian frame length, then its handshake
    (tens of bytes); anything else within ``timeout_s`` is a DistributedError."""
    import socket
    import struct

    hostport = address[len("tcp://"):].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DistributedError(f"scheduler address {address[:60]!r} is not tcp://host:port")
    where = f"the Dask scheduler at {address[:60]!r}"
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout_s) as s:
            s.settimeout(timeout_s)
            head = b""
            while len(head) < 8:
                chunk = s.recv(8 - len(head))
                if not chunk:
                    raise DistributedError(f"{where} closed the connection without a "
                                           "handshake; check the address")
                head += chunk
    except TimeoutError:
        raise DistributedError(f"{where} accepted the connection but sent no handshake "
                               f"within {timeout_s:g} s; is it a Dask scheduler?") from None
    except OSError as e:
        raise DistributedError(f"cannot reach {where}: {e.strerror or e}; check the "
                               "address or use --scheduler local") from None
    (length,) = struct.unpack("<Q", head)
    if not 0 < length <= MAX_HANDSHAKE_BYTES:
        raise DistributedError(f"{where} does not speak Dask's protocol (its first bytes "
                               f"{head!r}); check the address and port")


def simulate_spice(netlist: str, *, backend: str = "auto",
                   timeout_s: float = DEFAULT_TIMEOUT_S) -> SpiceResult:
    """One netlist, one run (serial), with the chosen backend."""
    with Runner("serial", backend, timeout_s) as r:
        return r.run([netlist])[0]
