"""``analogam``: thin click commands, one library call each.

Exit codes: 0 ok; 1 error (one line on stderr, no traceback, no partial output);
2 the command ran but a result is out of tolerance (wrong predictions, failed checks).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

EXIT_OK, EXIT_ERROR, EXIT_TOLERANCE = 0, 1, 2


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    from analogam.errors import one_line

    click.echo(f"analogam: error: {one_line(message)}", err=True)
    sys.exit(code)


def _select_inputs(model, input_bits: str | None, inputs: str | None):
    """The task inputs a command runs on: one --input, a --inputs file, or all."""
    from analogam.evaluate import task_of
    from analogam.tasks import parse_bits, read_bits_file

    task = task_of(model)
    if input_bits is not None and inputs is not None:
        raise click.UsageError("give --input or --inputs, not both")
    if input_bits is not None:
        return parse_bits(input_bits, task.n_bits)[None, :]
    if inputs is None or inputs == "all":
        return task.inputs()
    return read_bits_file(inputs, task.n_bits)


input_options = [
    click.option("--input", "input_bits", metavar="BITS", help="One task input, e.g. 01."),
    click.option("--inputs", metavar="FILE|all",
                 help="A file of bit strings (one per line), or 'all' task inputs (default)."),
]


def with_options(options: list) -> Callable:
    def deco(f):
        for opt in reversed(options):
            f = opt(f)
        return f
    return deco


circuit_options = [
    click.option("--level", default="ideal", show_default=True,
                 type=click.Choice(["ideal", "bjt", "opamp"]), help="Circuit fidelity level."),
    click.option("--vs", type=float, default=1.0, show_default=True, help="Volts per model unit."),
    click.option("--g0", type=float, default=10e-6, show_default=True,
                 help="Siemens per weight unit."),
    click.option("--t0", type=float, default=None,
                 help="Seconds per model time unit (default: slowest tau = 1 us)."),
    click.option("--gmin", type=float, default=1e-7, show_default=True,
                 help="Smallest realisable conductance (S)."),
    click.option("--gmax", type=float, default=1e-4, show_default=True,
                 help="Largest realisable conductance (S)."),
    click.option("--levels", type=int, default=None,
                 help="Quantise conductances to this many levels in [gmin, gmax]."),
    click.option("--rescale", is_flag=True,
                 help="Choose G0 so the weights fit the window (exact: C, leak, bias scale)."),
    click.option("--temp", "temp_c", type=float, default=27.0, show_default=True,
                 help="Circuit temperature (degC)."),
    click.option("--ptat", is_flag=True,
                 help="BJT attenuators track temperature, so beta/gain do not drift as 1/T."),
    click.option("--gbw", type=float, default=1e9, show_default=True,
                 help="Op-amp gain-bandwidth (Hz), opamp level."),
    click.option("--a0", type=float, default=1e5, show_default=True,
                 help="Op-amp open-loop DC gain, opamp level."),
    click.option("--t-end", type=float, default=None,
                 help="Simulate to this model time (default: the read-out time)."),
    click.option("--strict", is_flag=True, help="Turn pre-flight warnings into errors."),
]


def _compile_options(level, vs, g0, t0, gmin, gmax, levels, rescale, temp_c, ptat, gbw, a0,
                     t_end):
    from analogam.compile import CompileOptions, DeviceWindow, Scales
    from analogam.devices import OpampKit

    return CompileOptions(level=level, scales=Scales(vs, g0, t0),
                          window=DeviceWindow(gmin, gmax, levels, rescale), ptat=ptat,
                          temperature_c=temp_c, opamp=OpampKit(a0=a0, gbw=gbw), t_end=t_end)


def _warn(lines) -> None:
    for w in lines:
        click.echo(f"analogam: warning: {w}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="analogam")
def cli() -> None:
    """analogam: energy-based networks to analog circuits, verified in ngspice."""


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
def info(weights: str) -> None:
    """Print a summary of a weights file (groups, activations, weight ranges, tau)."""
    from analogam.summary import format_model_summary
    from analogam.weights import load_model

    click.echo(format_model_summary(load_model(weights)))


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--from", "fmt", required=True, type=click.Choice(["analog-denseam"]),
              help="Format of SOURCE.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the analogam weights file.")
def convert(source: str, fmt: str, output: str) -> None:
    """Convert a foreign weights file (e.g. the reference parity Analog ET) to analogam."""
    from analogam.convert import convert_file
    from analogam.weights import save_model

    model = convert_file(source, fmt)
    save_model(model, output, provenance={"converted_from": fmt})
    click.echo(f"wrote {output}: {model.name} ({model.n_units} units, task {model.task})")


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@with_options(input_options)
@click.option("--t-end", type=float, help="Integrate to this model time (default: read-out).")
@click.option("--method", default="Radau", show_default=True,
              type=click.Choice(["Radau", "BDF", "RK45", "DOP853", "RK23"]))
def ode(weights: str, input_bits, inputs, t_end, method) -> None:
    """Run the scipy ODE reference on task inputs; print accuracy and the checks.

    Exits 2 if any prediction is wrong or any check (energy, settling) fails."""
    from analogam.evaluate import evaluate_ode, format_ode_report
    from analogam.weights import load_model

    model = load_model(weights)
    rep = evaluate_ode(model, _select_inputs(model, input_bits, inputs), t_end=t_end,
                       method=method)
    click.echo(format_ode_report(rep))
    if rep.accuracy < 1.0 or rep.ode.warnings:
        sys.exit(EXIT_TOLERANCE)


@cli.command(name="compile")
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Netlist path (default: WEIGHTS-stem_LEVEL.cir); a directory with "
                   "--per-input.")
@with_options(input_options)
@click.option("--per-input", is_flag=True,
              help="One netlist per input instead of one netlist of independent copies.")
@with_options(circuit_options)
def compile_cmd(weights, output, input_bits, inputs, per_input, strict, **kw) -> None:
    """Compile a weights file into an ngspice netlist (after the pre-flight checks).

    Exits 2 when a pre-flight check fails (energy unbounded, not settled by the read-out),
    or 1 with --strict."""
    from pathlib import Path

    from analogam.errors import CircuitError
    from analogam.netlist import save_netlist
    from analogam.pipeline import compile_system, netlist_header, preflight
    from analogam.tasks import bind_task
    from analogam.weights import load_model

    model = load_model(weights)
    bits = _select_inputs(model, input_bits, inputs)
    opts = _compile_options(**kw)
    system = bind_task(model, bits)
    checks = preflight(system, t_end=opts.t_end)
    if strict and checks:
        raise CircuitError(f"pre-flight check failed (--strict): {checks[0]}")
    compiled = compile_system(system, opts, batched=not per_input)
    stem = f"{Path(weights).stem}_{opts.level}"
    if per_input and len(compiled) > 1:
        outdir = Path(output or stem)
        paths = [outdir / f"{stem}_{''.join(map(str, b))}.cir" for b in bits]
    else:
        paths = [Path(output or f"{stem}.cir")]
    for c, path, b in zip(compiled, paths, [bits] if len(paths) == 1 else bits[:, None],
                          strict=True):
        save_netlist(c.circuit, path, header=netlist_header(c, b))
    c0 = compiled[0]
    counts = ", ".join(f"{n} {k}" for k, n in c0.circuit.counts().items())
    where = paths[0] if len(paths) == 1 else f"{len(paths)} netlists in {paths[0].parent}"
    click.echo(f"wrote {where}: level {opts.level}, {c0.system.batch} cop"
               f"{'y' if c0.system.batch == 1 else 'ies'} per netlist")
    click.echo(f"  elements: {counts}")
    lo, hi = c0.conductance_range
    click.echo(f"  conductances {lo:.4g} .. {hi:.4g} S (G0 {c0.scales.g0:.4g} S), "
               f"Vs {c0.scales.vs:g} V, T0 {c0.scales.t0:.4g} s")
    _warn(checks)
    if checks:
        sys.exit(EXIT_TOLERANCE)


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--tran", is_flag=True, default=True, help="Transient analysis (always run).")
@click.option("--op", "with_op", is_flag=True,
              help="Also solve the DC operating point; flag inputs where it differs from the "
                   "settled transient (multistable models).")
@with_options(input_options)
@with_options(circuit_options)
@click.option("--backend", default="auto", show_default=True,
              type=click.Choice(["auto", "shared", "batch"]),
              help="ngspice shared library (worker pool) or ngspice -b subprocess.")
@click.option("--batch", "batched", is_flag=True,
              help="Simulate all inputs as independent copies in one netlist.")
@click.option("--timeout", type=float, default=600.0, show_default=True,
              help="Wall-clock limit per ngspice run (s).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Write report.json and PNG plots here.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
def simulate(weights, tran, with_op, input_bits, inputs, backend, batched, timeout, report_dir,
             as_json, strict, **kw) -> None:
    """Compile, run ngspice, and compare the circuit with the ODE reference.

    Exits 2 when the circuit disagrees with the ODE or a check fails."""
    import json

    import numpy as np

    from analogam.pipeline import check_operating_points, format_report, simulate_weights
    from analogam.report import report_dict, write_report
    from analogam.weights import load_model

    bits = _select_inputs(load_model(weights), input_bits, inputs)
    rep = simulate_weights(weights, bits, _compile_options(**kw), batched=batched,
                           backend=backend, timeout_s=timeout, strict=strict)
    op = check_operating_points(rep, backend=backend, timeout_s=timeout) if with_op else None
    if report_dir:
        write_report(rep, report_dir, op)
    if as_json:
        click.echo(json.dumps(report_dict(rep, op), indent=1))
    else:
        click.echo(format_report(rep))
        if op is not None:
            click.echo(f"  DC operating point (.op) vs settled transient: max difference "
                       f"{op.diff.max():.3e}; differs (> {op.tol:g}) on "
                       f"{int(op.differs.sum())}/{len(op.diff)} inputs")
            for i in np.flatnonzero(op.differs)[:8]:
                click.echo(f"    input {''.join(map(str, bits[i]))}: .op lands "
                           f"{op.diff[i]:.3g} away from the transient (another fixed point)")
        if report_dir:
            click.echo(f"  report: {report_dir}/report.json and plots")
    if rep.agreement < 1.0 or rep.preflight:
        sys.exit(EXIT_TOLERANCE)


@cli.command()
@click.argument("task", type=click.Choice(["xor", "parity"]))
@click.option("--method", type=click.Choice(["ep", "implicit"]), default="ep", show_default=True,
              help="Equilibrium propagation, or the exact implicit gradient.")
@click.option("--beta-nudge", type=float, default=None,
              help="EP nudging strength (default: xor 0.05, parity 1e-5).")
@click.option("--epochs", type=int, default=None, help="Epochs (default: xor 60, parity 10).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--init", type=click.Choice(["random", "constructed"]), default=None,
              help="Initial model (default: xor random, parity constructed).")
@click.option("--lr", type=float, default=None, help="Step size (task default).")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default=None)
@click.option("--batch-size", type=int, default=None, help="Minibatch size; 0 = full batch.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Trained weights (.npz); the log (.train.json), plot (.train.png) and "
                   "checkpoint (.ckpt.npz) go beside it.")
@click.option("--fresh", is_flag=True, help="Ignore an existing checkpoint and start over.")
def train(task, output, fresh, seed, **kw) -> None:
    """Train XOR or parity by equilibrium propagation on the model's energy.

    Interrupted runs resume from the last finished epoch when started again with the
    same settings. Exits 2 when the trained model is not deployable (the tight ODE
    disagrees with the trainer, an input does not settle, or the energy is unbounded)."""
    import json
    from pathlib import Path

    from analogam.atomic import atomic_open
    from analogam.train import config_for, plot_log, provenance
    from analogam.train import train as run_training
    from analogam.weights import save_model

    cfg = config_for(task, seed=seed, **kw)
    out = Path(output)
    stem = out.with_suffix("")
    ckpt, log_path, png = (Path(f"{stem}{s}") for s in (".ckpt.npz", ".train.json", ".train.png"))

    def show(rec: dict, epochs: int) -> None:
        held = "" if rec["heldout_acc"] is None else f" held-out {rec['heldout_acc']:.3f}"
        cos = rec["cos_ep_implicit"]
        n = int(30 * rec["epoch"] / max(epochs, 1))
        click.echo(f"[{'#' * n}{'.' * (30 - n)}] epoch {rec['epoch']}/{epochs} "
                   f"loss {rec['loss']:.4f} train {rec['train_acc']:.3f}{held} "
                   f"skipped {rec['skipped']} min rate {rec['min_rate']:.3g}"
                   + ("" if cos != cos else f" cos(EP,implicit) {cos:.5f}")
                   + f" ({rec['seconds']:.1f} s)", err=True)

    try:
        result = run_training(cfg, ckpt, fresh=fresh, on_epoch=show)
    except KeyboardInterrupt:
        _fail(f"interrupted; finished epochs are in {ckpt}; run the same command to resume",
              130)
    prov = provenance(cfg, result)
    save_model(result.model, out, prov)
    with atomic_open(log_path, "w") as f:
        json.dump({"config": prov["trainer"], "epochs": result.log,
                   "deploy": result.deploy}, f, indent=1, sort_keys=True)
    plot_log(result.log, png, f"{task}: {cfg.method}, seed {cfg.seed}, init {cfg.init}")
    ckpt.unlink(missing_ok=True)
    d, last = result.deploy, result.log[-1]
    held = "" if last["heldout_acc"] is None else f", held-out {last['heldout_acc']:.3f}"
    click.echo(f"{out}: train {last['train_acc']:.3f}{held} at the settled fixed point; "
               f"tight ODE agrees on {d['ode_agrees']}/{d['inputs']}, settled "
               f"{d['ode_settled']}/{d['inputs']} at t={d['readout_time']:g}, energy "
               f"{'bounded' if d['bounded'] else 'UNBOUNDED'}; log {log_path}, plot {png}")
    if not d["deployable"]:
        click.echo("analogam: warning: the trained model is not analog-deployable (see above)",
                   err=True)
        sys.exit(EXIT_TOLERANCE)


mc_options = [
    click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True),
                 default=None, help="Nonideality TOML (default: no nonideality)."),
    click.option("--samples", type=int, default=20, show_default=True,
                 help="Perturbed circuits per configuration."),
    click.option("--scheduler", default="local", show_default=True,
                 help="'local' (Dask cluster on this machine's cores), 'serial', or a Dask "
                      "scheduler address (tcp://host:8786)."),
    click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                 help="Results JSON, written as samples finish; rerun to resume."),
]


def _mc_setup(weights, input_bits, inputs, config_path, kw):
    from analogam.nonideal import Nonideality, load_nonideality
    from analogam.weights import load_model

    model = load_model(weights)
    bits = _select_inputs(model, input_bits, inputs)
    config = load_nonideality(config_path) if config_path else Nonideality()
    return model, bits, config, _compile_options(**kw)


def _mc_progress(done: int, total: int, job, rec: dict) -> None:
    n = int(30 * done / max(total, 1))
    what = (f"FAILED ({rec['failed']})" if rec.get("failed") else
            f"accuracy {rec['accuracy']:.3f}, max state error {rec['max_state_error']:.3g}")
    click.echo(f"[{'#' * n}{'.' * (30 - n)}] {done}/{total} {job.key}: {what}", err=True)


def _fmt_stat(st: dict | None, pct: bool = False) -> str:
    if st is None:
        return "-"
    f = 100.0 if pct else 1.0
    return (f"{f * st['mean']:.4g} ± {f * st['std']:.2g} "
            f"[{f * st['min']:.4g}, {f * st['max']:.4g}]")


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@with_options(input_options)
@with_options(mc_options)
@with_options(circuit_options)
@click.option("--timeout", type=float, default=600.0, show_default=True)
def montecarlo(weights, input_bits, inputs, config_path, samples, scheduler, output, timeout,
               strict, **kw) -> None:
    """N perturbed circuits in ngspice: accuracy, state error against the ideal ODE and
    settling time, with their spread."""
    from pathlib import Path

    from analogam.montecarlo import monte_carlo

    model, bits, config, base = _mc_setup(weights, input_bits, inputs, config_path, kw)
    res = monte_carlo(model, bits, config, samples, base=base, scheduler=scheduler,
                      results=Path(output) if output else None, progress=_mc_progress,
                      timeout_s=timeout)
    st = res["points"][0]["summary"]
    click.echo(f"{model.name}: {st['samples']} samples x {len(bits)} inputs, level "
               f"{base.level}" + (f" ({res['resumed']} resumed from {output})"
                                  if res["resumed"] else "")
               + (f"; {st['failed']} sample(s) did not simulate" if st["failed"] else ""))
    click.echo(f"  accuracy %           {_fmt_stat(st['accuracy'], True)}")
    click.echo(f"  agrees with ideal %  {_fmt_stat(st['agreement_with_ideal_ode'], True)}")
    click.echo(f"  max state error      {_fmt_stat(st['max_state_error'])}")
    click.echo(f"  settling (tau_v)     {_fmt_stat(st['settling_tau_max'])}")


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--param", required=True,
              help="The nonideality to vary, e.g. conductance.prog_noise_scale.")
@click.option("--values", required=True, help="Comma-separated values, e.g. 0,0.05,0.1.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="PNG of accuracy against the parameter.")
@with_options(input_options)
@with_options(mc_options)
@with_options(circuit_options)
@click.option("--timeout", type=float, default=600.0, show_default=True)
def sweep(weights, param, values, plot_path, input_bits, inputs, config_path, samples,
          scheduler, output, timeout, strict, **kw) -> None:
    """Monte Carlo at each value of one nonideality; accuracy against it."""
    from pathlib import Path

    from analogam.montecarlo import plot_sweep
    from analogam.montecarlo import sweep as run_sweep

    try:
        vals = [float(v) for v in values.split(",") if v.strip()]
    except ValueError:
        raise click.UsageError(f"--values must be numbers separated by commas, got "
                               f"{values[:40]!r}") from None
    model, bits, config, base = _mc_setup(weights, input_bits, inputs, config_path, kw)
    config.with_value(param, vals[0] if vals else 0.0)  # validates the name early
    res = run_sweep(model, bits, config, param, vals, samples, base=base, scheduler=scheduler,
                    results=Path(output) if output else None, progress=_mc_progress,
                    timeout_s=timeout)
    click.echo(f"{model.name}: {param} swept over {len(vals)} values, {samples} samples each")
    for pt in res["points"]:
        click.echo(f"  {pt['value']:<10g} accuracy % {_fmt_stat(pt['summary']['accuracy'], True)}")
    if plot_path:
        plot_sweep({model.name: res}, param, Path(plot_path))
        click.echo(f"  plot: {plot_path}")


def main() -> None:
    """Entry point: run the CLI, turning every expected failure into one line."""
    from analogam.errors import AnalogamError

    try:
        cli.main(standalone_mode=False)
    except AnalogamError as e:
        _fail(str(e))
    except click.exceptions.Abort:
        _fail("interrupted", 130)
    except click.ClickException as e:
        _fail(e.format_message())
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OSError as e:
        _fail(f"{e.strerror or e}: {e.filename or ''}")
    except MemoryError:
        _fail("out of memory; try fewer inputs at once")


if __name__ == "__main__":
    main()
