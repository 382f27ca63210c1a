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
