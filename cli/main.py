"""``analogam``: thin click commands, one library call each.

Exit codes: 0 ok; 1 error (one line on stderr, no traceback, no partial output);
2 the command ran but a result is out of tolerance (wrong predictions, failed checks);
130 interrupted (SIGINT); 143 terminated (SIGTERM). Finished work is kept either way.
"""

from __future__ import annotations

import signal
import sys

import click

from analogam.atomic import check_output
from analogam.errors import printable

from . import circuit_cmds, study_cmds
from .common import (
    EXIT_INTERRUPTED,
    EXIT_TOLERANCE,
    RegistryChoice,
    fail,
    ode_methods,
)
from .options import (
    input_options,
    task_and_inputs,
    with_options,
)


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
    click.echo(f"wrote {printable(output)}")


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--from", "fmt", required=True,
              type=click.Choice(["analog-denseam", "analog-et"]), help="Format of SOURCE.")
@click.option("--text", "text", type=click.Path(dir_okay=False), default=None,
              help="analog-et: the text the character model learnt (its sorted characters "
                   "are the vocabulary; held-out windows are the check's inputs).")
@click.option("--unchecked", is_flag=True,
              help="analog-et: write the model even when its continuous dynamics fail "
                   "the check (to study why).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the analogam weights file.")
def convert(source: str, fmt: str, text: str | None, unchecked: bool, output: str) -> None:
    """Convert a foreign weights file (the reference parity Analog ET, or its positional
    character model) to analogam.

    A character model is integrated as a circuit would run it (the ODE to its read-out)
    and refused, with the numbers, when it diverges, does not settle or has an
    unbounded energy: a model trained as a few-step discrete map fails this."""
    from analogam.model.convert import convert_file
    from analogam.model.weights import save_model

    check_output(output, [source])
    vocabulary = ""
    if text and fmt == "analog-et":
        from analogam.tasks.text import read_text, symbols

        vocabulary = symbols(read_text(text))
    model = convert_file(source, fmt, vocabulary)
    prov: dict = {"converted_from": fmt}
    if fmt == "analog-et":
        from analogam.train.deploy import check_character_model

        prov["continuous_check"] = check = check_character_model(model, text)
        if check["problems"] and not unchecked:
            fail(f"{printable(source)} does not work as a continuous-time circuit: "
                 + "; ".join(check["problems"]) + f" (contraction gain "
                 f"{check['contraction_gain']:.3g}); nothing written (--unchecked writes it)")
        for p in check["problems"]:
            click.echo(f"analogam: warning: {p}", err=True)
    save_model(model, output, provenance=prov)
    click.echo(f"wrote {printable(output)}: {printable(model.name)} ({model.n_units} units, "
               f"task {printable(model.task)})")


@cli.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@with_options(input_options)
@click.option("--t-end", type=click.FloatRange(0, 1e6, min_open=True),
              help="Integrate to this model time (default: read-out).")
@click.option("--method", default="auto", show_default=True, type=RegistryChoice(ode_methods),
              help="ODE method (auto: the compiled Dormand-Prince or RKC where they pay, "
                   "else Radau; the same default as simulate).")
def ode(weights: str, input_bits, inputs, task_name, clamp_bits, t_end, method) -> None:
    """Run the scipy ODE reference on task inputs; print accuracy and the checks.

    Exits 2 if any prediction is wrong or any check (energy, settling) fails."""
    from analogam.model.weights import load_weights
    from analogam.study import evaluate_ode, format_ode_report

    model, prov = load_weights(weights)
    task, bits = task_and_inputs(model, input_bits, inputs, task_name, clamp_bits, prov)
    rep = evaluate_ode(model, bits, task, t_end=t_end, method=method)
    click.echo(format_ode_report(rep))
    if rep.accuracy < 1.0 or rep.ode.warnings:
        sys.exit(EXIT_TOLERANCE)


for _command in (circuit_cmds.compile_cmd, circuit_cmds.simulate, circuit_cmds.generate,
                 study_cmds.datasheet, study_cmds.train, study_cmds.montecarlo,
                 study_cmds.sweep, study_cmds.explore):
    cli.add_command(_command)


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread so every cleanup runs (temp files,
    workers)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame) -> None:
    raise Terminated(signum)


def _stop(e: BaseException) -> None:
    """Exit as the shell expects: 128 + the signal (130 for an interrupt)."""
    if isinstance(e, Terminated):
        name = "hung up" if e.signum == signal.SIGHUP else "terminated"
        fail(name, 128 + e.signum)
    fail("interrupted", EXIT_INTERRUPTED)


def main() -> None:
    """Entry point: run the CLI, turning every expected failure into one line."""
    from analogam.errors import AnalogamError

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        cli.main(standalone_mode=False)
    except (Terminated, KeyboardInterrupt, click.exceptions.Abort) as e:
        _stop(e)
    except AnalogamError as e:
        fail(str(e))
    except click.ClickException as e:
        fail(e.format_message())
    except OSError as e:
        fail(f"{e.strerror or e}: {e.filename or ''}")
    except MemoryError:
        command = " ".join(a for a in sys.argv[1:2] if a.isidentifier())
        fail(f"out of memory in analogam {command}: this run needs more memory than the "
             "machine has; run fewer inputs, samples or words at once, or a smaller model")


if __name__ == "__main__":
    main()
