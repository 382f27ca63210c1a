"""Commands that build and run circuits: compile, simulate, generate."""

from __future__ import annotations

import sys

import click

from analogam.atomic import check_output
from analogam.errors import printable
from analogam.progress import Progress

from .common import (
    EXIT_INTERRUPTED,
    EXIT_TOLERANCE,
    fail,
    inputs_of,
    plot_options,
    results_path,
    save_plot,
    warn,
)
from .options import (
    compile_options,
    device_options,
    input_options,
    run_options,
    task_and_inputs,
    with_options,
)


@click.command(name="compile")
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

    from analogam.model.weights import load_weights
    from analogam.study import compile_to_files, format_compiled

    model, prov = load_weights(weights)
    task, bits = task_and_inputs(model, input_bits, inputs, task_name, clamp_bits, prov)
    files = compile_to_files(model, bits, compile_options(**kw), output=output,
                             stem=Path(weights).stem, per_input=per_input, strict=strict,
                             t_end=t_end, task=task,
                             protect=inputs_of(weights, inputs, kw.get("config_path")))
    click.echo(format_compiled(files))
    warn(files.warnings)
    if files.warnings:
        sys.exit(EXIT_TOLERANCE)


@click.command()
@click.argument("weights", type=click.Path(dir_okay=False))
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
              help="Write report.json and the plots here.")
@click.option("--figure-format", "formats", multiple=True, default=("png",),
              type=click.Choice(["png", "pdf", "svg"]), show_default=True,
              help="Format of the report's plots (repeat for several).")
@click.option("--dpi", type=click.IntRange(50, 1200), default=100, show_default=True,
              help="Resolution of PNG plots (PDF and SVG are vector).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None,
              help="Keep every finished ngspice run here, so an interrupted run resumes "
                   "(default: REPORT/.spice when --report is given).")
@click.option("--equilibrium", "diagnose_n", type=click.IntRange(0, None), default=0,
              metavar="N", help="Linearise the circuit of the first N inputs at its read-out "
              "state in ngspice: coupling asymmetry, entropy production, eigenvalues.")
def simulate(weights, with_op, input_bits, inputs, task_name, clamp_bits, scheduler,
             timeout, backend, batched, report_dir, formats, dpi, as_json, cache_dir, strict,
             t_end, diagnose_n, **kw) -> None:
    """Compile, run ngspice, and compare the circuit with the ODE reference.

    Exits 2 when the circuit disagrees with the ODE or a check fails."""
    import json
    from pathlib import Path

    from analogam.model.weights import load_weights
    from analogam.spice import Runner
    from analogam.study import (
        check_operating_points,
        check_report_dir,
        format_op_check,
        format_report,
        report_dict,
        simulate_task,
        trainer_predictions,
        write_report,
    )
    from analogam.study.equilibrium import diagnose_report

    model, prov = load_weights(weights)
    task, bits = task_and_inputs(model, input_bits, inputs, task_name, clamp_bits, prov)
    opts = compile_options(**kw)
    protect = inputs_of(weights, inputs, kw.get("config_path"))
    if report_dir:
        check_report_dir(report_dir, protect, formats)
    cache = Path(cache_dir) if cache_dir else Path(report_dir) / ".spice" if report_dir \
        else None
    bar = Progress("ngspice runs")
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
                    fail(f"non-equilibrium check failed (--strict): {rep.warnings[0]}")
    except KeyboardInterrupt:
        kept = f"; the {bar.done} finished are kept in {cache}, run the same command to " \
               "resume" if cache else " (give --cache DIR to keep finished runs)"
        fail(f"interrupted after {bar.done} of {bar.total} ngspice runs{kept}",
              EXIT_INTERRUPTED)
    bar.close()
    if report_dir:
        write_report(rep, report_dir, op, protect, formats, dpi)
    if as_json:
        click.echo(json.dumps(report_dict(rep, op), indent=1))
    else:
        click.echo(format_report(rep))
        if op is not None:
            click.echo(format_op_check(rep, op))
        if report_dir:
            click.echo(f"  report: {printable(report_dir)}/report.json and plots")
    if rep.agreement < 1.0 or rep.violations or rep.warnings:
        sys.exit(EXIT_TOLERANCE)


@click.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--start", required=True, metavar="BITS|TEXT",
              help="The first context window: bits, e.g. 10110010 (separators allowed), "
                   "or for a character model its context's characters.")
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
@with_options(plot_options)
def generate(weights, start, tokens, scheduler, timeout, as_json, output, cache_dir,
             strict, t_end, plot_path, dpi, **kw) -> None:
    """Generate tokens autoregressively through the circuit, beside the ODE.

    Each token: the circuit settles on the context window, the decoded token replaces
    the oldest in the attention crossbar (a character model's window slides, every row
    reprogrammed). Each token is printed as it comes, the circuit's beside the ODE's.
    Exits 2 when the circuit departs from the task's rule (parity8: the xor of the last
    eight) or, for text, from the ODE."""
    import json
    from pathlib import Path

    from analogam.atomic import atomic_open
    from analogam.model.weights import load_weights
    from analogam.spice import Runner
    from analogam.study import format_generation
    from analogam.study import generate as run_generation
    from analogam.study.generate import generation_figure
    from analogam.tasks import parse_bits, task_for
    from analogam.tasks.task import trained_file
    from analogam.tasks.text import TEXT_TASK, encode

    model, prov = load_weights(weights)
    task = task_for(model, text=trained_file(prov))
    if task.name == TEXT_TASK:
        bits = encode(model.vocabulary, start)
        symbol = lambda t: repr(model.vocabulary[t])  # noqa: E731
    else:
        bits, symbol = parse_bits(start, task.n_bits), str

    def show(n: int, tok: int, tok_o: int) -> None:
        if not as_json:
            same = "" if tok == tok_o else "  <- differs"
            click.echo(f"token {n}: circuit {symbol(tok)}  ODE {symbol(tok_o)}{same}",
                       err=True)
    out = results_path(output, weights, None, kw)
    if plot_path:
        check_output(plot_path, inputs_of(weights, None, kw.get("config_path")))
    opts = compile_options(**kw)
    bar = Progress("tokens")
    try:
        with Runner(scheduler, "auto", timeout) as runner:
            g = run_generation(model, bits, tokens, opts, runner=runner, task=task,
                               cache=Path(cache_dir) if cache_dir else None,
                               strict=strict, t_end=t_end, progress=bar.update,
                               on_token=show)
    except KeyboardInterrupt:
        kept = f"; the finished runs are kept in {cache_dir}, run the same command to " \
               "resume" if cache_dir else " (give --cache DIR to keep finished runs)"
        fail(f"interrupted after {bar.done} of {tokens} tokens{kept}", EXIT_INTERRUPTED)
    bar.close()
    if out:
        with atomic_open(out, "w") as f:
            json.dump(g.as_dict(), f, indent=1)
    click.echo(json.dumps(g.as_dict(), indent=1) if as_json else format_generation(g))
    if plot_path:
        save_plot(generation_figure(g, model.name), plot_path, dpi, quiet=as_json)
    if not g.correct or not g.as_dict()["circuit_equals_ode"] or g.warnings:
        sys.exit(EXIT_TOLERANCE)
