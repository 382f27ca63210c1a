"""``analogam``: thin click commands, one library call each.

Exit codes: 0 ok; 1 error (one line on stderr, no traceback, no partial output);
2 the command ran but a result is out of tolerance (wrong predictions, failed checks);
130 interrupted (SIGINT); 143 terminated (SIGTERM). Finished work is kept either way.
"""

from __future__ import annotations

import sys

import click

from analogam.atomic import check_output

from .options import (
    compile_options,
    device_options,
    input_options,
    run_options,
    task_and_inputs,
    with_options,
)

EXIT_OK, EXIT_ERROR, EXIT_TOLERANCE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    from analogam.errors import one_line

    click.echo(f"analogam: error: {one_line(message)}", err=True)
    sys.exit(code)


def _warn(lines) -> None:
    for w in lines:
        click.echo(f"analogam: warning: {w}", err=True)


def _inputs_of(*paths) -> list[str]:
    """The files a command reads (an output must be none of them)."""
    return [p for p in paths if p and p != "all"]


def _results_path(output, weights, inputs, kw):
    from pathlib import Path

    if not output:
        return None
    check_output(output, _inputs_of(weights, inputs, kw.get("config_path")))
    return Path(output)


class ProgressBar:
    """Done, rate and time left on stderr, redrawn in place; only for a terminal or
    more than a handful of items."""

    def __init__(self, what: str) -> None:
        import time

        self.what, self.t0, self.done, self.total = what, time.monotonic(), 0, 0
        self.shown = False

    def update(self, done: int, total: int) -> None:
        import time

        self.done, self.total = done, total
        if total < 8:
            return
        dt = max(time.monotonic() - self.t0, 1e-9)
        rate = done / dt
        left = (total - done) / rate if rate > 0 else float("inf")
        eta = "?" if left == float("inf") else f"{int(left // 60)}:{int(left % 60):02d}"
        click.echo(f"\r{_bar(done, total)} {self.what}, {rate:.1f}/s, {eta} left ",
                   err=True, nl=False)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


def _bar(done: int, total: int) -> str:
    n = int(30 * done / max(total, 1))
    return f"[{'#' * n}{'.' * (30 - n)}] {done}/{total}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="analogam")
def cli() -> None:
    """analogam: energy-based networks to analog circuits, verified in ngspice."""


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
def info(weights: str) -> None:
    """Print a summary of a weights file (groups, activations, weight ranges, tau)."""
    from analogam.model.summary import format_model_summary
    from analogam.model.weights import load_model

    click.echo(format_model_summary(load_model(weights)))


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the file here instead of printing it.")
def config(output) -> None:
    """Print the device configuration TOML with every key, its unit and default."""
    from analogam.atomic import atomic_open
    from analogam.circuit import format_config

    if output is None:
        click.echo(format_config(), nl=False)
        return
    with atomic_open(output, "w") as f:
        f.write(format_config())
    click.echo(f"wrote {output}")


@cli.command()
@click.option("--pdk", "kit", default="sky130", show_default=True,
              help="Process kit whose transistor-level op-amp to characterise.")
@click.option("--corner", "corners", default="tt,ff,ss", show_default=True,
              help="Comma-separated corners of the kit.")
@click.option("--macromodel", is_flag=True,
              help="Characterise the op-amp level's macromodel instead (checks the benches).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def datasheet(kit, corners, macromodel, as_json) -> None:
    """Characterise an amplifier in ngspice: gain, gain-bandwidth, phase margin, slew,
    offset, quiescent power, output swing; and the op-amp level keys fitted to it."""
    import json

    from analogam.study.datasheet import format_datasheet, macromodel_datasheet, pdk_datasheet

    sheets = ([macromodel_datasheet()] if macromodel else
              [pdk_datasheet(kit, c.strip()) for c in corners.split(",") if c.strip()])
    if as_json:
        click.echo(json.dumps([{**d.as_dict(), "macromodel": d.macromodel()}
                               for d in sheets], indent=1))
        return
    click.echo(format_datasheet(sheets))
    fit = " ".join(f"--set {k}={v:.4g}" for k, v in sheets[0].macromodel().items())
    click.echo(f"  the op-amp level fitted to the {sheets[0].corner} column: {fit}")


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--from", "fmt", required=True, type=click.Choice(["analog-denseam"]),
              help="Format of SOURCE.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the analogam weights file.")
def convert(source: str, fmt: str, output: str) -> None:
    """Convert a foreign weights file (e.g. the reference parity Analog ET) to analogam."""
    from analogam.model.convert import convert_file
    from analogam.model.weights import save_model

    check_output(output, [source])
    model = convert_file(source, fmt)
    save_model(model, output, provenance={"converted_from": fmt})
    click.echo(f"wrote {output}: {model.name} ({model.n_units} units, task {model.task})")


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@with_options(input_options)
@click.option("--t-end", type=float, help="Integrate to this model time (default: read-out).")
@click.option("--method", default="Radau", show_default=True,
              type=click.Choice(["Radau", "BDF", "RK45", "DOP853", "RK23"]))
def ode(weights: str, input_bits, inputs, task_name, clamp_bits, t_end, method) -> None:
    """Run the scipy ODE reference on task inputs; print accuracy and the checks.

    Exits 2 if any prediction is wrong or any check (energy, settling) fails."""
    from analogam.model.weights import load_model
    from analogam.study import evaluate_ode, format_ode_report

    model = load_model(weights)
    task, bits = task_and_inputs(model, input_bits, inputs, task_name, clamp_bits)
    rep = evaluate_ode(model, bits, task, t_end=t_end, method=method)
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
@with_options(device_options)
def compile_cmd(weights, output, input_bits, inputs, task_name, clamp_bits, per_input, strict,
                t_end, **kw) -> None:
    """Compile a weights file into an ngspice netlist (after the pre-flight checks).

    Exits 2 when a pre-flight check fails (energy unbounded, not settled by the read-out),
    or 1 with --strict."""
    from pathlib import Path

    from analogam.model.weights import load_model
    from analogam.study import compile_to_files, format_compiled

    model = load_model(weights)
    task, bits = task_and_inputs(model, input_bits, inputs, task_name, clamp_bits)
    files = compile_to_files(model, bits, compile_options(**kw), output=output,
                             stem=Path(weights).stem, per_input=per_input, strict=strict,
                             t_end=t_end, task=task,
                             protect=_inputs_of(weights, inputs, kw.get("config_path")))
    click.echo(format_compiled(files))
    _warn(files.warnings)
    if files.warnings:
        sys.exit(EXIT_TOLERANCE)


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--tran", is_flag=True, default=True, help="Transient analysis (always run).")
@click.option("--op", "with_op", is_flag=True,
              help="Also solve the DC operating point; flag inputs where it differs from the "
                   "settled transient (multistable models).")
@with_options(input_options)
@with_options(device_options)
@with_options(run_options)
@click.option("--backend", default="auto", show_default=True,
              type=click.Choice(["auto", "shared", "batch"]),
              help="ngspice shared library (worker pool) or ngspice -b subprocess.")
@click.option("--batch", "batched", is_flag=True,
              help="Simulate all inputs as independent copies in one netlist.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Write report.json and PNG plots here.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None,
              help="Keep every finished ngspice run here, so an interrupted run resumes "
                   "(default: REPORT/.spice when --report is given).")
@click.option("--equilibrium", "diagnose_n", type=click.IntRange(0, None), default=0,
              metavar="N", help="Linearise the circuit of the first N inputs at its read-out "
              "state in ngspice: coupling asymmetry, entropy production, eigenvalues.")
def simulate(weights, tran, with_op, input_bits, inputs, task_name, clamp_bits, scheduler,
             timeout, backend, batched, report_dir, as_json, cache_dir, strict, t_end,
             diagnose_n, **kw) -> None:
    """Compile, run ngspice, and compare the circuit with the ODE reference.

    Exits 2 when the circuit disagrees with the ODE or a check fails."""
    import json
    from pathlib import Path

    from analogam.model.weights import load_weights
    from analogam.spice import Runner
    from analogam.study import (
        check_operating_points,
        format_op_check,
        format_report,
        report_dict,
        simulate_task,
        trainer_predictions,
        write_report,
    )
    from analogam.study.equilibrium import diagnose_report

    model, prov = load_weights(weights)
    task, bits = task_and_inputs(model, input_bits, inputs, task_name, clamp_bits)
    opts = compile_options(**kw)
    cache = Path(cache_dir) if cache_dir else Path(report_dir) / ".spice" if report_dir \
        else None
    bar = ProgressBar("ngspice runs")
    try:
        with Runner(scheduler, backend, timeout) as runner:
            rep = simulate_task(model, bits, opts, batched=batched, runner=runner,
                                strict=strict, t_end=t_end, task=task, cache=cache,
                                trainer=trainer_predictions(prov, model, bits),
                                progress=bar.update)
            op = check_operating_points(rep, runner=runner) if with_op else None
            if diagnose_n:
                rep = diagnose_report(model, rep, diagnose_n, runner=runner)
                if strict and rep.warnings:
                    _fail(f"non-equilibrium check failed (--strict): {rep.warnings[0]}")
    except KeyboardInterrupt:
        kept = f"; the {bar.done} finished are kept in {cache}, run the same command to " \
               "resume" if cache else " (give --cache DIR to keep finished runs)"
        _fail(f"interrupted after {bar.done} of {bar.total} ngspice runs{kept}",
              EXIT_INTERRUPTED)
    bar.close()
    if report_dir:
        write_report(rep, report_dir, op)
    if as_json:
        click.echo(json.dumps(report_dict(rep, op), indent=1))
    else:
        click.echo(format_report(rep))
        if op is not None:
            click.echo(format_op_check(rep, op))
        if report_dir:
            click.echo(f"  report: {report_dir}/report.json and plots")
    if rep.agreement < 1.0 or rep.violations or rep.warnings:
        sys.exit(EXIT_TOLERANCE)


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--start", required=True, metavar="BITS",
              help="The first context window, e.g. 10110010 (separators allowed).")
@click.option("--tokens", type=click.IntRange(1, 100000), default=64, show_default=True,
              help="Tokens to generate.")
@with_options(device_options)
@with_options(run_options)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the JSON report here.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None,
              help="Keep every finished ngspice run here, so an interrupted generation "
                   "resumes.")
def generate(weights, start, tokens, scheduler, timeout, as_json, output, cache_dir,
             strict, t_end, **kw) -> None:
    """Generate tokens autoregressively through the circuit, beside the ODE.

    Each token: the circuit settles on the context window, the decoded token replaces
    the oldest in the attention crossbar. Exits 2 when the circuit departs from the
    task's rule (parity8: the xor of the last eight) or from the ODE."""
    import json
    from pathlib import Path

    from analogam.atomic import atomic_open
    from analogam.model.weights import load_weights
    from analogam.spice import Runner
    from analogam.study import format_generation
    from analogam.study import generate as run_generation
    from analogam.tasks import parse_bits, task_for

    model, _ = load_weights(weights)
    task = task_for(model)
    bits = parse_bits(start, task.n_bits)
    out = _results_path(output, weights, None, kw)
    opts = compile_options(**kw)
    bar = ProgressBar("tokens")
    try:
        with Runner(scheduler, "auto", timeout) as runner:
            g = run_generation(model, bits, tokens, opts, runner=runner, task=task,
                               cache=Path(cache_dir) if cache_dir else None,
                               strict=strict, t_end=t_end, progress=bar.update)
    except KeyboardInterrupt:
        kept = f"; the finished runs are kept in {cache_dir}, run the same command to " \
               "resume" if cache_dir else " (give --cache DIR to keep finished runs)"
        _fail(f"interrupted after {bar.done} of {tokens} tokens{kept}", EXIT_INTERRUPTED)
    bar.close()
    if out:
        with atomic_open(out, "w") as f:
            json.dump(g.as_dict(), f, indent=1)
    click.echo(json.dumps(g.as_dict(), indent=1) if as_json else format_generation(g))
    if not g.correct or not g.as_dict()["circuit_equals_ode"] or g.warnings:
        sys.exit(EXIT_TOLERANCE)


@cli.command()
@click.argument("task", type=click.Choice(["xor", "parity8", "digits"]))
@click.option("--method", type=click.Choice(["ep", "implicit"]), default="ep", show_default=True,
              help="Equilibrium propagation, or the exact implicit gradient.")
@click.option("--beta-nudge", type=float, default=None,
              help="EP nudging strength (default: xor 0.05, parity8 1e-5, digits 0.05).")
@click.option("--epochs", type=int, default=None,
              help="Epochs (default: xor 60, parity8 10, digits 12).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--init", type=click.Choice(["random", "constructed"]), default=None,
              help="Initial model (default: xor random; parity8 and digits constructed: "
                   "for digits, each memory a random training image of its class).")
@click.option("--lr", type=float, default=None, help="Step size (task default).")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default=None)
@click.option("--batch-size", type=int, default=None, help="Minibatch size; 0 = full batch.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Trained weights (.npz); the log (.train.json), plot (.train.png) and "
                   "checkpoint (.ckpt.npz) go beside it.")
@click.option("--fresh", is_flag=True, help="Ignore an existing checkpoint and start over.")
def train(task, output, fresh, seed, **kw) -> None:
    """Train XOR, parity or the 8x8 digits by equilibrium propagation on the model's
    energy.

    Interrupted runs resume from the last finished epoch when started again with the
    same settings. Exits 2 when the trained model is not deployable (the tight ODE
    disagrees with the trainer, an input does not settle, or the energy is unbounded)."""
    from analogam.train import config_for
    from analogam.train.outputs import train_files, train_to_files

    cfg = config_for(task, seed=seed, **kw)

    def show(rec: dict, epochs: int) -> None:
        held = "" if rec["heldout_acc"] is None else f" held-out {rec['heldout_acc']:.3f}"
        cos = rec["cos_ep_implicit"]
        click.echo(f"{_bar(rec['epoch'], epochs)} epochs: loss {rec['loss']:.4f} "
                   f"train {rec['train_acc']:.3f}{held} skipped {rec['skipped']} "
                   f"min rate {rec['min_rate']:.3g}"
                   + ("" if cos != cos else f" cos(EP,implicit) {cos:.5f}")
                   + f" ({rec['seconds']:.1f} s)", err=True)

    try:
        result, files = train_to_files(cfg, output, fresh=fresh, on_epoch=show)
    except KeyboardInterrupt:
        _fail(f"interrupted; finished epochs are in {train_files(output).checkpoint}; run the "
              "same command to resume", EXIT_INTERRUPTED)
    d, last = result.deploy, result.log[-1]
    held = "" if last["heldout_acc"] is None else f", held-out {last['heldout_acc']:.3f}"
    click.echo(f"{files.weights}: train {last['train_acc']:.3f}{held} at the settled fixed "
               f"point; tight ODE agrees on {d['ode_agrees']}/{d['inputs']}, settled "
               f"{d['ode_settled']}/{d['inputs']} at t={d['readout_time']:g}, energy "
               f"{'bounded' if d['bounded'] else 'UNBOUNDED'}; log {files.log}, plot "
               f"{files.plot}")
    if not d["deployable"]:
        click.echo("analogam: warning: the trained model is not analog-deployable (see above)",
                   err=True)
        sys.exit(EXIT_TOLERANCE)


mc_options = [
    click.option("--samples", type=int, default=20, show_default=True,
                 help="Perturbed circuits per configuration."),
    click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                 help="Results JSON, written as samples finish; rerun to resume."),
]


def _mc_progress(done: int, total: int, job, rec: dict) -> None:
    what = (f"FAILED ({rec['failed']})" if rec.get("failed") else
            f"accuracy {rec['accuracy']:.3f}, max state error {rec['max_state_error']:.3g}")
    click.echo(f"{_bar(done, total)} {job.key}: {what}", err=True)


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@with_options(input_options)
@with_options(mc_options)
@with_options(device_options)
@with_options(run_options)
def montecarlo(weights, input_bits, inputs, task_name, clamp_bits, samples, output, scheduler,
               timeout, strict, t_end, **kw) -> None:
    """N perturbed circuits in ngspice: accuracy, state error against the ideal ODE and
    settling time, with their spread."""

    from analogam.model.weights import load_model
    from analogam.study import format_monte_carlo, monte_carlo

    model = load_model(weights)
    task, bits = task_and_inputs(model, input_bits, inputs, task_name, clamp_bits)
    opts = compile_options(**kw)
    res = monte_carlo(model, bits, opts.config, samples, level=opts.level,
                      scheduler=scheduler, results=_results_path(output, weights, inputs, kw),
                      progress=_mc_progress, timeout_s=timeout, task=task)
    click.echo(format_monte_carlo(model, res, opts.level, output))


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--param", required=True,
              help="The configuration key to vary, e.g. conductance.prog_noise_scale.")
@click.option("--values", required=True, help="Comma-separated values, e.g. 0,0.05,0.1.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="PNG of accuracy against the parameter.")
@with_options(input_options)
@with_options(mc_options)
@with_options(device_options)
@with_options(run_options)
def sweep(weights, param, values, plot_path, input_bits, inputs, task_name, clamp_bits, samples,
          output, scheduler, timeout, strict, t_end, **kw) -> None:
    """Monte Carlo at each value of one configuration key; accuracy against it."""
    from pathlib import Path

    from analogam.model.weights import load_model
    from analogam.study import format_sweep, plot_sweep
    from analogam.study import sweep as run_sweep

    try:
        vals = [float(v) for v in values.split(",") if v.strip()]
    except ValueError:
        raise click.UsageError(f"--values must be numbers separated by commas, got "
                               f"{values[:40]!r}") from None
    if not vals:
        raise click.UsageError("--values needs at least one number")
    model = load_model(weights)
    task, bits = task_and_inputs(model, input_bits, inputs, task_name, clamp_bits)
    opts = compile_options(**kw)
    opts.config.with_value(param, vals[0])  # validates the key before any work
    if plot_path:
        check_output(plot_path, _inputs_of(weights, inputs, kw.get("config_path")))
    res = run_sweep(model, bits, opts.config, param, vals, samples, level=opts.level,
                    scheduler=scheduler, results=_results_path(output, weights, inputs, kw),
                    progress=_mc_progress, timeout_s=timeout, task=task)
    click.echo(format_sweep(model, param, res))
    if plot_path:
        plot_sweep({model.name: res}, param, Path(plot_path))
        click.echo(f"  plot: {plot_path}")


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so every cleanup runs (temp files, workers)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def main() -> None:
    """Entry point: run the CLI, turning every expected failure into one line."""
    import signal

    from analogam.errors import AnalogamError

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        cli.main(standalone_mode=False)
    except Terminated:
        _fail("terminated", EXIT_TERMINATED)
    except AnalogamError as e:
        _fail(str(e))
    except click.exceptions.Abort:
        _fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as e:
        _fail(e.format_message())
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED)
    except OSError as e:
        _fail(f"{e.strerror or e}: {e.filename or ''}")
    except MemoryError:
        _fail("out of memory; try fewer inputs at once")


if __name__ == "__main__":
    main()
