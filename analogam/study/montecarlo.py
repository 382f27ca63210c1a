"""Monte Carlo and parameter sweeps over device nonidealities, on the one runner.

One *sample* is one perturbed circuit (sample i of a :class:`DeviceConfig`'s seeded
variation) simulated in ngspice on every input and compared with the ideal ODE of the
model's own weights. Circuits are compiled here and their netlists run on a
:class:`~analogam.spice.Runner` (serial, local worker processes, or Dask); every job is
a pure function of (model, inputs, compile options, sample): same seed, same numbers,
wherever it runs. The options travel whole (level, process kit and corner, the device
configuration), and the results file's key hashes them whole.

Finished samples are written (atomically) to the results file as they arrive; a run
started again with the same settings skips them, so an interrupted run loses nothing
that finished.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..atomic import atomic_open, check_output
from ..circuit import CompileOptions, DeviceConfig, get_level
from ..errors import AnalogamError, CircuitError, SimulationError, one_line, printable
from ..model import Model
from ..model.weights import model_to_arrays
from ..reference import simulate_ode
from ..spice import DEFAULT_TIMEOUT_S, Runner, SpiceResult
from ..tasks import Task, bind_task, task_for
from .build import compile_system, reference_to_readout, with_design_range
from .checks import Review, labels, review_after, review_before
from .files import transient_netlist
from .pipeline import compare_all, realised_ode

METRICS = ("accuracy", "agreement_with_ideal_ode", "max_state_error", "readout_error",
           "settling_tau_max", "settling_tau_median")


class Job(NamedTuple):
    """One sample of one configuration; ``key`` names it in the results file."""

    key: str
    config: DeviceConfig
    sample: int


def summarise(records) -> dict:
    """Mean, standard deviation, min and max of every metric over the samples that
    simulated; ``failed`` counts those that did not."""
    everything = list(records)
    recs = [r for r in everything if not r.get("failed")]
    out = {"samples": len(recs), "failed": len(everything) - len(recs),
           "findings": count_findings(everything)}
    for m in METRICS:
        v = np.array([r[m] for r in recs], dtype=float)
        out[m] = ({"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                   "min": float(v.min()), "max": float(v.max())} if v.size else None)
    return out


def run_key(model: Model, inputs: np.ndarray, options: CompileOptions, what: dict) -> str:
    """A digest of everything the numbers depend on: a results file written for other
    settings is never resumed."""
    h = hashlib.sha256()
    arrays = model_to_arrays(model)
    for k in sorted(arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    h.update(np.ascontiguousarray(inputs).tobytes())
    h.update(options.digest().encode())
    h.update(json.dumps(what, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


class ResultsFile:
    """Finished sample records on disk, rewritten atomically after each one. One writer
    at a time: a second run on the same file is refused while the first holds its lock
    (``.NAME.lock`` beside it, removed when the run ends)."""

    def __init__(self, path: str | Path | None, key: str, header: dict) -> None:
        path = None if path is None else Path(path)
        self.path, self.key, self.header = path, key, header
        self.records: dict[str, dict] = {}
        self._lock = None
        if path is not None:
            self._acquire(path)
        if path is not None and path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(old, dict):
                    raise ValueError
            except (ValueError, UnicodeDecodeError, RecursionError):
                self.close()
                raise AnalogamError(f"{path} is not a results file; move it away or "
                                    "choose another -o") from None
            if old.get("key") != key or not isinstance(old.get("records"), dict):
                self.close()
                raise AnalogamError(f"{path} holds results of other settings; move it away "
                                    "or choose another -o (nothing was overwritten)")
            self.records = dict(old["records"])

    def _acquire(self, path: Path) -> None:
        import fcntl

        check_output(path)
        lock = path.with_name(f".{path.name}.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(lock, "a")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise AnalogamError(f"another run is writing {str(path)[:200]}; wait for it or "
                                "choose another -o") from None
        self._lock = (f, lock)

    def close(self) -> None:
        if self._lock is not None:
            f, lock = self._lock
            lock.unlink(missing_ok=True)
            f.close()
            self._lock = None

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add(self, job_key: str, record: dict, summary: dict) -> None:
        self.records[job_key] = record
        self.write(summary)

    def write(self, summary: dict) -> None:
        if self.path is None:
            return
        data = {**self.header, "key": self.key, "summary": summary,
                "records": dict(sorted(self.records.items()))}
        with atomic_open(self.path, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True, allow_nan=False, default=_nan_null)


def _nan_null(x):
    raise TypeError(f"not JSON: {x!r}")


def count_findings(records) -> dict[str, int]:
    """Over sample records holding ``findings`` (kind -> lines): how many samples
    failed each kind of check."""
    out: dict[str, int] = {}
    for r in records:
        for kind in r.get("findings") or {}:
            out[kind] = out.get(kind, 0) + 1
    return dict(sorted(out.items()))


FINDING_LINES = 3
"""Lines kept per kind of finding in a sample's record (the count is over samples)."""


def _failed(sample: int, why: str, findings: dict | None = None) -> dict:
    return {"sample": sample, "failed": one_line(why)[:300], **{m: None for m in METRICS},
            "findings": findings or {}}


class _Sample:
    """The circuits of one sample, the checks made before simulating, and the results
    as they arrive (the ODE of the weights they hold is integrated again when the
    sample completes, rather than held for every pending sample)."""

    def __init__(self, job: Job, compiled: list, netlists: list[str], review: Review | None,
                 failed: str = "") -> None:
        self.job, self.compiled, self.netlists = job, compiled, netlists
        self.review, self.failed = review, failed
        self.results: list[SpiceResult | None] = [None] * len(netlists)

    def complete(self) -> bool:
        return all(r is not None for r in self.results)


def _record(s: _Sample, model: Model, task: Task, inputs: np.ndarray, ode, system) -> dict:
    """The figures of one Monte Carlo draw against the ideal ODE (``ode``), and every
    check of docs/design.md section 5 on its circuits (``findings``, by kind); a
    circuit ngspice cannot simulate is a recorded outcome of that draw (``failed``),
    not an error of the whole run."""
    names = labels(inputs)
    bad = [r for r in s.results if not r.success]
    if bad:
        return _failed(s.job.sample, bad[0].message, _kept(s.review.findings(names)))
    try:
        cmp = compare_all(s.compiled, s.results, ode, system)
        realised = realised_ode(s.compiled, system, ode)
        own = cmp if realised is ode else compare_all(s.compiled, s.results, realised)
    except SimulationError as e:
        return _failed(s.job.sample, str(e), _kept(s.review.findings(names)))
    review = review_after(s.review, s.compiled, s.results, own, system, names)
    pred = task.predict(model, cmp.u_spice[:, -1, :])
    pred_ode = task.predict(model, ode.u_final)
    sm = cmp.summary()
    return {
        "sample": s.job.sample,
        "accuracy": float(np.mean(np.all(pred == task.target(inputs), axis=1))),
        "agreement_with_ideal_ode": float(np.mean(np.all(pred == pred_ode, axis=1))),
        "max_state_error": sm["max_state_error"],
        "readout_error": sm["max_readout_error"],
        "settling_tau_max": sm["settling_tau_max"],
        "settling_tau_median": sm["settling_tau_median"],
        "tau_v_s": sm["tau_v_s"],
        "findings": _kept(review.findings(names)),
    }


def _kept(findings: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: [one_line(x)[:300] for x in v[:FINDING_LINES]]
            + ([f"... and {len(v) - FINDING_LINES} more"] if len(v) > FINDING_LINES else [])
            for k, v in findings.items()}


def sweep(model: Model, inputs: np.ndarray, options: CompileOptions | DeviceConfig,
          param: str | None,
          values: list, samples: int, *, scheduler: str = "local",
          results: str | Path | None = None, progress: Callable | None = None,
          timeout_s: float = DEFAULT_TIMEOUT_S, batched: bool = False,
          task: Task | None = None, strict: bool = False) -> dict:
    """Monte Carlo at each value of one configuration key ``param`` (``None``: the
    config as it is). Returns ``{"points": [{"value", "summary"}...], "records": {...},
    "resumed": n}``. ``progress(done, total, job, record)`` after each sample.
    ``options``: the compile options every sample is built with (a bare device
    configuration means the ideal level). Every sample's circuits get the checks of
    :func:`~analogam.study.simulate_task` (its record's ``findings``; the summary counts
    samples per kind); under ``strict`` a check that fails before simulating is an error
    and nothing more runs (samples are compiled a few at a time, so earlier ones may have
    finished; they are in ``results``)."""
    if isinstance(options, DeviceConfig):
        options = CompileOptions(config=options)
    if not isinstance(samples, int) or samples < 1:
        raise AnalogamError(f"samples must be a whole number >= 1, got {samples}")
    if param is not None and not values:
        raise AnalogamError("a sweep needs at least one value")
    config = options.config
    configs = [config if param is None else config.with_value(param, v) for v in values]
    jobs = [Job(f"v{j:03d}_s{i:05d}", cfg, i)
            for j, cfg in enumerate(configs) for i in range(samples)]
    what = {"param": param, "values": values, "samples": samples, "batched": batched}
    with ResultsFile(results, run_key(model, inputs, options, what),
                     {"model": model.name, "task": model.task, "level": options.level,
                      "pdk": options.pdk, "corner": options.corner,
                      "param": param, "values": values, "samples": samples,
                      "inputs": len(inputs)}) as store:
        return _run(store, jobs, model, inputs, values, options, scheduler, progress,
                    timeout_s, batched, task, strict)


def _run(store: ResultsFile, jobs: list[Job], model: Model, inputs: np.ndarray, values: list,
         options: CompileOptions, scheduler: str, progress, timeout_s: float, batched: bool,
         task: Task | None, strict: bool) -> dict:
    todo = [j for j in jobs if j.key not in store.records]

    def points() -> list[dict]:
        return [{"value": v, "summary": summarise(
                    r for k, r in sorted(store.records.items()) if k.startswith(f"v{j:03d}_"))}
                for j, v in enumerate(values)]

    done = len(jobs) - len(todo)
    if todo:
        task = task or task_for(model)
        system = bind_task(model, inputs, task)
        ode = simulate_ode(system)   # the ideal reference every sample is measured against
        # the bias and time scale are planned once, from the ideal trajectory
        planned = with_design_range(options, model, ode, system)
        t_read, ode = reference_to_readout(model, planned, system, ode)
        names = labels(inputs)

        def prepare(job: Job) -> _Sample:
            try:    # a chip of the kit's own mismatch is calibrated in ngspice first
                compiled = compile_system(system, planned.with_config(job.config, job.sample),
                                          batched, timeout_s)
            except SimulationError as err:
                return _Sample(job, [], [], None, failed=str(err))
            review = review_before(system, ode, compiled,
                                   realised_ode(compiled, system, ode, t_read))
            found = review.findings(names)
            if strict and found:
                kind, lines = next(iter(found.items()))
                raise CircuitError(f"{kind.replace('_', '-')} check failed on sample "
                                   f"{job.sample} (--strict): {lines[0]}")
            return _Sample(job, compiled, [transient_netlist(c, t_read) for c in compiled],
                           review)

        with Runner(scheduler, "batch", timeout_s) as runner:
            # a few samples at a time, compiled as they are needed: memory stays flat in
            # the number of samples, and every finished one is in the results file
            samples = (prepare(j) for j in todo)
            chunk = [next(samples)]
            per_sample = 1 if batched else system.batch
            window = max(1, -(-2 * runner.workers // per_sample))
            while chunk:
                chunk += itertools.islice(samples, window - len(chunk))
                for s in [s for s in chunk if s.failed]:
                    chunk.remove(s)
                    done += 1
                    rec = _failed(s.job.sample, s.failed)
                    store.add(s.job.key, rec, {"points": points()})
                    if progress is not None:
                        progress(done, len(jobs), s.job, rec)
                index = [(si, k) for si, s in enumerate(chunk) for k in range(len(s.netlists))]
                netlists = [chunk[si].netlists[k] for si, k in index]
                for s in chunk:
                    s.netlists = ()   # the runner holds them now

                def on_result(i: int, r: SpiceResult, chunk=chunk, index=index) -> None:
                    nonlocal done
                    si, k = index[i]
                    s = chunk[si]
                    s.results[k] = r
                    if s.complete():
                        rec = _record(s, model, task, inputs, ode, system)
                        chunk[si] = None  # release the circuits of a finished sample
                        done += 1
                        store.add(s.job.key, rec, {"points": points()})
                        if progress is not None:
                            progress(done, len(jobs), s.job, rec)

                if netlists:
                    runner.run(netlists, on_result, keep=False)
                chunk = list(itertools.islice(samples, window))
    store.write({"points": points()})
    return {"points": points(), "records": dict(sorted(store.records.items())),
            "resumed": len(jobs) - len(todo)}


def monte_carlo(model: Model, inputs: np.ndarray, options: CompileOptions | DeviceConfig,
                samples: int,
                **kw) -> dict:
    """N perturbed circuits: per-sample records and their summary (mean, std, range)."""
    return sweep(model, inputs, options, None, [None], samples, **kw)


def _fmt_stat(st: dict | None, pct: bool = False) -> str:
    if st is None:
        return "-"
    f = 100.0 if pct else 1.0
    return (f"{f * st['mean']:.4g} ± {f * st['std']:.2g} "
            f"[{f * st['min']:.4g}, {f * st['max']:.4g}]")


def describe_options(options: CompileOptions) -> str:
    """The level, and the process kit and corner where the level has one."""
    if get_level(options.level).process_kit:
        return f"level {options.level} ({options.pdk} {options.corner})"
    return f"level {options.level}"


def first_findings(res: dict) -> dict[str, str]:
    """Per kind of failed check, the first line any sample recorded (by sample key)."""
    out: dict[str, str] = {}
    for key, rec in sorted(res["records"].items()):
        for kind, lines in (rec.get("findings") or {}).items():
            out.setdefault(kind, f"{key}: {lines[0]}")
    return out


def _format_findings(res: dict, samples: int) -> list[str]:
    counts = count_findings(res["records"].values())
    first = first_findings(res)
    return [f"  CHECK {kind.replace('_', ' ')}: failed on {n} of {samples} sample(s); "
            f"first: {printable(first[kind])}" for kind, n in counts.items()]


def format_monte_carlo(model: Model, res: dict, options: CompileOptions, output=None) -> str:
    """A Monte Carlo run's summary as text, with every failed check counted."""
    st = res["points"][0]["summary"]
    head = (f"{printable(model.name)}: {st['samples']} samples, {describe_options(options)}"
            + (f" ({res['resumed']} resumed from {output})" if res["resumed"] else "")
            + (f"; {st['failed']} sample(s) did not simulate" if st["failed"] else ""))
    return "\n".join([
        head,
        f"  accuracy %           {_fmt_stat(st['accuracy'], True)}",
        f"  agrees with ideal %  {_fmt_stat(st['agreement_with_ideal_ode'], True)}",
        f"  max state error      {_fmt_stat(st['max_state_error'])}",
        f"  settling (tau_v)     {_fmt_stat(st['settling_tau_max'])}",
        *_format_findings(res, len(res["records"]))])


def format_sweep(model: Model, param: str, res: dict) -> str:
    """A sweep's accuracy per value as text, with the failed checks per value."""
    pts = res["points"]
    lines = [f"{printable(model.name)}: {param} swept over {len(pts)} values"]
    for pt in pts:
        found = pt["summary"]["findings"]
        lines.append(f"  {pt['value']:<10g} accuracy % {_fmt_stat(pt['summary']['accuracy'], True)}"
                     + (" CHECKS " + ", ".join(f"{k.replace('_', ' ')} {n}"
                                              for k, n in found.items()) if found else ""))
    return "\n".join(lines + _format_findings(res, len(res["records"])))
