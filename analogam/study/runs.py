"""Running netlists: every result from the cache of finished ones or from the runner
(serial, local worker processes or Dask), kept as it finishes, and which ngspice ran
them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..atomic import atomic_open
from ..errors import AnalogamError
from ..model.npz import read_npz
from ..spice import DEFAULT_TIMEOUT_S, Runner, SpiceResult, ngspice_info


class ResultCache:
    """Finished ngspice results on disk, one ``.npz`` per netlist, named by the SHA-256
    of the netlist text (any change of model, input, options or analysis is a different
    netlist): what a long run has finished survives an interruption."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)

    def _path(self, netlist: str) -> Path:
        return self.dir / (hashlib.sha256(netlist.encode()).hexdigest()[:32] + ".npz")

    MAX_BYTES = 1 << 30
    """Largest cache entry read or written (1 GiB); a larger result is not cached."""

    @staticmethod
    def _digest(vectors: dict[str, np.ndarray]) -> str:
        h = hashlib.sha256()
        for k in sorted(vectors):
            h.update(k.encode() + b"\0" + np.ascontiguousarray(vectors[k]).tobytes())
        return h.hexdigest()

    def get(self, netlist: str) -> SpiceResult | None:
        """The kept result, or None when there is none or it is damaged (wrong kinds or
        shapes, non-finite, time not increasing, or its digest does not match): then
        the netlist runs again."""
        p = self._path(netlist)
        if not p.is_file():
            return None
        try:
            vectors = read_npz(p, "cached result", self.MAX_BYTES)
        except AnalogamError:
            return None
        digest = vectors.pop("__sha256__", None)
        time = vectors.get("time")
        if (digest is None or digest.shape != () or time is None or time.ndim != 1
                or any(v.dtype.kind != "f" or v.shape != time.shape
                       or not np.all(np.isfinite(v)) for v in vectors.values())
                or np.any(np.diff(time) < 0) or str(digest) != self._digest(vectors)):
            return None
        return SpiceResult(True, "ok (cached)", "cache", time, vectors)

    def put(self, netlist: str, result: SpiceResult) -> None:
        if result.success and sum(v.nbytes for v in result.vectors.values()) < self.MAX_BYTES:
            self.dir.mkdir(parents=True, exist_ok=True)
            with atomic_open(self._path(netlist), "wb") as f:
                np.savez(f, __sha256__=np.array(self._digest(result.vectors)),
                         **result.vectors)


def run_netlists(netlists: list[str], runner: Runner | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, cache: Path | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[SpiceResult]:
    """Every netlist's result: from ``cache`` when it holds it, else run (on ``runner``,
    default a local pool) and kept there as it finishes."""
    store = ResultCache(cache) if cache is not None else None
    results: list[SpiceResult | None] = [store.get(n) if store else None for n in netlists]
    todo = [i for i, r in enumerate(results) if r is None]
    done = len(netlists) - len(todo)
    if progress is not None:
        progress(done, len(netlists))

    def finished(j: int, r: SpiceResult) -> None:
        nonlocal done
        results[todo[j]] = r
        if store is not None:
            store.put(netlists[todo[j]], r)
        done += 1
        if progress is not None:
            progress(done, len(netlists))

    if todo:
        if runner is None:
            with Runner("local", timeout_s=timeout_s) as r:
                r.run([netlists[i] for i in todo], finished)
        else:
            runner.run([netlists[i] for i in todo], finished)
    return results  # type: ignore[return-value]


def simulator_description(netlists: list[str], results=()) -> str:
    """Which ngspice ran, with which solvers (from the netlists' options), and how many
    runs needed a solver rescue (:data:`~analogam.spice.runner.RESCUES`)."""
    info = ngspice_info()
    solvers = sorted({"KLU" if ".options klu " in n else "Sparse" for n in netlists})
    rescued: dict[str, int] = {}
    for r in results:
        for name in r.rescued:
            rescued[name] = rescued.get(name, 0) + 1
    return ((info.describe() if info else "ngspice") + "; netlists for "
            + " and ".join(solvers)
            + "".join(f"; {n} run(s) rescued by {name}" for name, n in rescued.items()))
