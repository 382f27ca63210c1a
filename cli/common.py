"""What the commands share: exit codes, one-line errors and warnings, progress, the
files a command reads (an output must be none of them), and choices read from the
library's registries (so the command line never retypes a list the library keeps)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from analogam.atomic import check_output
from analogam.errors import printable
from analogam.progress import progress_bar

EXIT_OK, EXIT_ERROR, EXIT_TOLERANCE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


def fail(message: str, code: int = EXIT_ERROR) -> None:
    from analogam.errors import one_line

    click.echo(f"analogam: error: {one_line(message)}", err=True)
    sys.exit(code)


def warn(lines) -> None:
    for w in lines:
        click.echo(f"analogam: warning: {w}", err=True)


def inputs_of(*paths) -> list[str]:
    """The files a command reads (an output must be none of them)."""
    return [p for p in paths if p and p != "all"]


def results_path(output, weights, inputs, kw):
    from pathlib import Path

    if not output:
        return None
    check_output(output, inputs_of(weights, inputs, kw.get("config_path")))
    return Path(output)


class RegistryChoice(click.ParamType):
    """A choice among the names of a library registry, read when first needed (the
    registry's module is imported then, not when the command line starts)."""

    name = "choice"

    def __init__(self, names: Callable[[], list[str]]) -> None:
        self._names = names

    def choices(self) -> list[str]:
        return list(self._names())

    def get_metavar(self, param, ctx=None) -> str:
        return "[" + "|".join(self.choices()) + "]"

    def convert(self, value, param, ctx):
        valid = self.choices()
        if value not in valid:
            self.fail(f"{str(value)[:40]!r} is not one of {', '.join(valid)}", param, ctx)
        return value


def level_names() -> list[str]:
    from analogam.circuit.levels import LEVELS

    return list(LEVELS)


def kit_names() -> list[str]:
    from analogam.circuit.pdk import PROCESS_KITS

    return list(PROCESS_KITS)


def corner_names() -> list[str]:
    from analogam.circuit.pdk import PROCESS_KITS

    return sorted({c for k in PROCESS_KITS.values() for c in k.corners})


def ode_methods() -> list[str]:
    from analogam.reference.ode import METHODS

    return list(METHODS)


def train_tasks() -> list[str]:
    from analogam.train.config import TASK_DEFAULTS

    return list(TASK_DEFAULTS)


def default_kit() -> str:
    from analogam.circuit.pdk import DEFAULT_KIT

    return DEFAULT_KIT


def default_corner() -> str:
    from analogam.circuit.pdk import DEFAULT_CORNER

    return DEFAULT_CORNER


def mc_progress(done: int, total: int, job, rec: dict) -> None:
    what = (f"FAILED ({rec['failed']})" if rec.get("failed") else
            f"accuracy {rec['accuracy']:.3f}, max state error {rec['max_state_error']:.3g}")
    if rec.get("findings"):
        what += "; CHECKS failed: " + ", ".join(k.replace("_", " ") for k in rec["findings"])
    click.echo(f"{progress_bar(done, total)} {job.key}: {what}", err=True)


plot_options = [
    click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
                 help="Write the figure here; the suffix picks PNG, PDF or SVG."),
    click.option("--dpi", type=click.IntRange(50, 1200), default=100, show_default=True,
                 help="Resolution of PNG figures (PDF and SVG are vector)."),
]


def save_plot(fig, path: str, dpi: int, protect=(), quiet: bool = False) -> None:
    """Write ``fig`` to ``path`` (format by suffix) and say where (unless ``quiet``:
    the output is JSON)."""
    from analogam.figures import save_figure

    check_output(path, protect)
    save_figure(fig, path, dpi)
    if not quiet:
        click.echo(f"  plot: {printable(path)}")
