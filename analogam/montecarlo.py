"""Monte Carlo and parameter sweeps over device nonidealities, serial or on Dask.

One *sample* is one perturbed circuit (:class:`~analogam.nonideal.Variation` index i
of a :class:`~analogam.nonideal.Nonideality`) simulated in ngspice on every input and
compared with the ideal ODE of the model's own weights. Samples are independent, so a
run is a bag of jobs, executed in this process (``scheduler="serial"``) or on
dask.distributed (``"local"``: a local cluster, one single-threaded worker process per
core; or a scheduler address). Every job is a pure function of (model, inputs,
options, config, sample): same seed, same numbers, wherever it runs. Each job uses the
``ngspice -b`` backend, so serial and distributed runs use the same simulator path.

Finished samples are written (atomically) to the results file as they arrive; a run
started again with the same settings skips them, so an interrupted run loses nothing
that finished.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .atomic import atomic_open
from .compile import CompileOptions, DeviceWindow
from .devices import with_params
from .errors import AnalogamError, SimulationError, one_line
from .figures import save_figure, subplots
from .model import Model
from .nonideal import Nonideality
from .pipeline import simulate_task
from .weights import model_to_arrays

METRICS = ("accuracy", "agreement_with_ideal_ode", "max_state_error", "readout_error",
           "settling_tau_max", "settling_tau_median")


class DistributedError(AnalogamError):
    """The Dask scheduler cannot be reached or a worker failed."""


def options_for(base: CompileOptions, config: Nonideality, sample: int) -> CompileOptions:
    """Compile options with a nonideality applied: device window and quantisation,
    amplifier gain/bandwidth/quiescent current, temperature, and the seeded sample."""
    window = base.window
    if config.levels or config.g_min is not None or config.g_max is not None:
        window = DeviceWindow(
            gmin=config.g_min if config.g_min is not None else window.gmin,
            gmax=config.g_max if config.g_max is not None else window.gmax,
            levels=int(config.levels) or window.levels, rescale=window.rescale)
    amp = {k: getattr(config, k) for k in ("a0", "gbw", "iq") if getattr(config, k) is not None}
    return replace(base, window=window,
                   opamp=with_params(base.opamp, **amp) if amp else base.opamp,
                   temperature_c=(config.temperature_c if config.temperature_c is not None
                                  else base.temperature_c),
                   nonideal=config, sample=sample)


def run_sample(model: Model, inputs: np.ndarray, base: CompileOptions, config: Nonideality,
               sample: int, timeout_s: float = 600.0) -> dict:
    """Simulate sample ``sample`` on every input; the figures of one Monte Carlo draw.
    A circuit ngspice cannot simulate (no convergence, timeout) is a recorded outcome
    of that draw, with ``failed`` set, not an error of the whole run."""
    try:
        rep = simulate_task(model, inputs, options_for(base, config, sample), backend="batch",
                            timeout_s=timeout_s, reference="nominal")
    except SimulationError as e:
        return {"sample": sample, "failed": one_line(str(e))[:300],
                **{m: float("nan") for m in METRICS}}
    c = rep.comparison
    return {
        "sample": sample,
        "accuracy": rep.accuracy_spice,
        "agreement_with_ideal_ode": rep.agreement,
        "max_state_error": float(c.max_err.max()),
        "readout_error": float(c.readout_err.max()),
        "settling_tau_max": float(c.settle_spice_tau.max()),
        "settling_tau_median": float(np.median(c.settle_spice_tau)),
        "tau_v_s": c.tau_s,
    }


def summarise(records: Iterable[dict]) -> dict:
    """Mean, standard deviation, min and max of every metric over the samples that
    simulated; ``failed`` counts those that did not."""
    everything = list(records)
    recs = [r for r in everything if not r.get("failed")]
    out = {"samples": len(recs), "failed": len(everything) - len(recs)}
    for m in METRICS:
        v = np.array([r[m] for r in recs], dtype=float)
        out[m] = ({"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                   "min": float(v.min()), "max": float(v.max())} if v.size else None)
    return out


# --------------------------------------------------------------------------- execution


@dataclass(frozen=True)
class Job:
    """One sample of one configuration; ``key`` names it in the results file."""

    key: str
    config: Nonideality
    sample: int


def run_jobs(jobs: list[Job], model: Model, inputs: np.ndarray, base: CompileOptions,
             scheduler: str, on_result: Callable[[Job, dict], None],
             timeout_s: float = 600.0) -> None:
    """Run every job serially or on Dask, calling ``on_result`` as each finishes (in
    completion order; the records carry their keys, so order does not matter)."""
    if scheduler == "serial":
        for job in jobs:
            on_result(job, run_sample(model, inputs, base, job.config, job.sample, timeout_s))
        return
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise DistributedError("dask.distributed is not installed; pip install distributed, "
                               "or use --scheduler serial") from None
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = None
    try:
        if scheduler == "local":
            import os

            cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=":0")
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="5s")
    except (OSError, TimeoutError) as e:
        raise DistributedError(f"cannot reach the Dask scheduler at {scheduler!r}: {e}; "
                               "check the address or use --scheduler local") from None
    try:
        futures = {client.submit(run_sample, model, inputs, base, j.config, j.sample,
                                 timeout_s, pure=False): j for j in jobs}
        for fut in as_completed(futures):
            on_result(futures[fut], fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_key(model: Model, inputs: np.ndarray, base: CompileOptions, what: dict) -> str:
    """A digest of everything the numbers depend on: a results file written for other
    settings is never resumed."""
    h = hashlib.sha256()
    arrays = model_to_arrays(model)
    for k in sorted(arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    h.update(np.ascontiguousarray(inputs).tobytes())
    h.update(repr(base).encode())
    h.update(json.dumps(what, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


class ResultsFile:
    """Finished sample records on disk, rewritten atomically after each one."""

    def __init__(self, path: Path | None, key: str, header: dict) -> None:
        self.path, self.key, self.header = path, key, header
        self.records: dict[str, dict] = {}
        if path is not None and path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise AnalogamError(f"{path} is not a results file; move it away or "
                                    "choose another -o") from None
            if old.get("key") == key:
                self.records = dict(old.get("records", {}))

    def add(self, job_key: str, record: dict, summary: dict) -> None:
        self.records[job_key] = record
        self.write(summary)

    def write(self, summary: dict) -> None:
        if self.path is None:
            return
        data = {**self.header, "key": self.key, "summary": summary,
                "records": dict(sorted(self.records.items()))}
        with atomic_open(self.path, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)


def _progress_default(done: int, total: int, job: Job, rec: dict) -> None:
    return None


def monte_carlo(model: Model, inputs: np.ndarray, config: Nonideality, samples: int, *,
                base: CompileOptions | None = None, scheduler: str = "local",
                results: Path | None = None, progress: Callable = _progress_default,
                timeout_s: float = 600.0) -> dict:
    """N perturbed circuits: per-sample records and their summary (mean, std, range)."""
    return sweep(model, inputs, config, None, [None], samples, base=base, scheduler=scheduler,
                 results=results, progress=progress, timeout_s=timeout_s)


def sweep(model: Model, inputs: np.ndarray, config: Nonideality, param: str | None,
          values: list, samples: int, *, base: CompileOptions | None = None,
          scheduler: str = "local", results: Path | None = None,
          progress: Callable = _progress_default, timeout_s: float = 600.0) -> dict:
    """Monte Carlo at each value of one nonideality ``param`` (``None``: the config as
    it is). Returns ``{"points": [{"value", "summary"}...], "records": {...}}``."""
    if samples < 1:
        raise AnalogamError(f"samples must be at least 1, got {samples}")
    base = base or CompileOptions()
    configs = [config if param is None else config.with_value(param, v) for v in values]
    jobs = [Job(f"v{j:03d}_s{i:05d}", cfg, i)
            for j, cfg in enumerate(configs) for i in range(samples)]
    what = {"param": param, "values": values, "samples": samples, "config": repr(config)}
    store = ResultsFile(results, run_key(model, inputs, base, what),
                        {"model": model.name, "task": model.task, "level": base.level,
                         "param": param, "values": values, "samples": samples,
                         "inputs": len(inputs)})
    todo = [j for j in jobs if j.key not in store.records]

    def points() -> list[dict]:
        return [{"value": v, "summary": summarise(
                    r for k, r in sorted(store.records.items()) if k.startswith(f"v{j:03d}_"))}
                for j, v in enumerate(values)]

    done = len(jobs) - len(todo)

    def on_result(job: Job, rec: dict) -> None:
        nonlocal done
        done += 1
        store.add(job.key, rec, {"points": points()})
        progress(done, len(jobs), job, rec)

    if todo:
        run_jobs(todo, model, inputs, base, scheduler, on_result, timeout_s)
    store.write({"points": points()})
    return {"points": points(), "records": dict(sorted(store.records.items())),
            "resumed": len(jobs) - len(todo)}


def plot_sweep(results: dict[str, dict], param: str, path: Path) -> None:
    """Accuracy (mean, with min-max band) against the swept parameter, one line per
    model; written atomically."""
    fig, ax = subplots(figsize=(5.5, 3.6))
    for name, res in results.items():
        pts = [p for p in res["points"] if p["summary"]["accuracy"] is not None]
        x = [p["value"] for p in pts]
        acc = [p["summary"]["accuracy"] for p in pts]
        ax.plot(x, [100 * a["mean"] for a in acc], "o-", label=name)
        ax.fill_between(x, [100 * a["min"] for a in acc], [100 * a["max"] for a in acc],
                        alpha=0.2)
    ax.set_xlabel(param)
    ax.set_ylabel("task accuracy % (mean, min-max)")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize=8)
    save_figure(fig, path)
