"""Options shared by several commands, and how they become library objects. Defaults
come from the library (``DeviceConfig()``), never from here."""

from __future__ import annotations

from collections.abc import Callable

import click

from .common import (
    RegistryChoice,
    corner_names,
    default_corner,
    default_kit,
    kit_names,
    level_names,
)

# shortcut option -> device configuration key (analogam.circuit.config)
SHORTCUTS = {
    "vs": "scales.vs", "g0": "scales.g0", "t0": "scales.t0",
    "gmin": "conductance.g_min", "gmax": "conductance.g_max",
    "levels": "conductance.levels", "rescale": "conductance.rescale",
    "prune_below": "conductance.prune_below",
    "temp": "environment.temperature_c", "ptat": "bjt.ptat",
    "gbw": "opamp.gbw", "a0": "opamp.a0", "latency": "design.latency",
}


def with_options(options: list) -> Callable:
    def deco(f):
        for opt in reversed(options):
            f = opt(f)
        return f
    return deco


input_options = [
    click.option("--input", "input_bits", metavar="INPUT",
                 help="One task input: bits, e.g. 01 or '0 1' (separators allowed); for "
                      "digits, 64 intensities 0..16 and the label (65 numbers)."),
    click.option("--inputs", metavar="FILE|all",
                 help="A file of inputs (one per line, as --input), or 'all' task inputs "
                      "(default)."),
    click.option("--task", "task_name", default=None,
                 help="Task to run (default: the model's own; 'recall' for any DenseAM, "
                      "the default for models without a known task)."),
    click.option("--clamp", "clamp_bits", metavar="MASK", default=None,
                 help="recall task: visible units held at their input (1) or free (0), "
                      "e.g. 1100000."),
]


def _shortcut(name: str, typ, help_: str, flag: bool = False):
    opt = f"--{name.replace('_', '-')}"
    if flag:
        return click.option(opt, name, is_flag=True, default=None,
                            help=f"{help_} [config key {SHORTCUTS[name]}]")
    return click.option(opt, name, type=typ, default=None,
                        help=f"{help_} [config key {SHORTCUTS[name]}]")


device_options = [
    click.option("--level", default=lambda: level_names()[0],
                 type=RegistryChoice(level_names), help="Circuit fidelity level."),
    click.option("--pdk", "pdk", default=default_kit, type=RegistryChoice(kit_names),
                 help="Process kit of a level that uses one."),
    click.option("--corner", default=default_corner, type=RegistryChoice(corner_names),
                 help="Process corner of the kit."),
    click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                 help="Device configuration TOML (see `analogam config`)."),
    click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                 help="Set one configuration key, e.g. --set opamp.gbw=1e8 (repeatable)."),
    _shortcut("vs", float, "Volts per model unit."),
    _shortcut("g0", float, "Siemens per weight unit."),
    _shortcut("t0", float, "Seconds per model time unit (0: slowest tau is 1 us)."),
    _shortcut("gmin", float, "Smallest realisable conductance (S)."),
    _shortcut("gmax", float, "Largest realisable conductance (S)."),
    _shortcut("levels", int, "Quantise conductances to this many levels in [gmin, gmax]."),
    _shortcut("rescale", None, "Choose G0 so the weights fit the window.", flag=True),
    _shortcut("prune_below", float, "Drop weights below this fraction of the largest."),
    _shortcut("temp", float, "Circuit temperature (degC)."),
    _shortcut("ptat", None, "BJT attenuators track temperature.", flag=True),
    _shortcut("gbw", float, "Op-amp gain-bandwidth (Hz)."),
    _shortcut("a0", float, "Op-amp open-loop DC gain."),
    _shortcut("latency", float, "Settle within this many seconds (plans T0 and tails)."),
    click.option("--t-end", type=click.FloatRange(0, 1e6, min_open=True), default=None,
                 help="Simulate to this model time (default: the read-out time)."),
    click.option("--strict", is_flag=True, help="Turn pre-flight warnings into errors."),
]


def _parse_value(text: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text.strip()   # a text key (design.fidelity); the configuration checks it


def compile_options(level: str, config_path: str | None, sets: tuple[str, ...],
                    pdk: str | None = None, corner: str | None = None, **shortcuts):
    """The CompileOptions the device options describe: the TOML file (or the library's
    defaults), then every --set, then the shortcut options given."""
    from analogam.circuit import CompileOptions, DeviceConfig, load_config

    cfg = load_config(config_path) if config_path else DeviceConfig()
    for item in sets:
        key, eq, val = item.partition("=")
        if not eq:
            raise click.UsageError(f"--set takes KEY=VALUE, got {item[:40]!r}")
        cfg = cfg.with_value(key.strip(), _parse_value(val))
    for name, val in shortcuts.items():
        if val is not None:
            cfg = cfg.with_value(SHORTCUTS[name], val)
    if cfg.scales.t0 and cfg.design.latency:
        raise click.UsageError("set either scales.t0 (--t0) or design.latency (--latency), "
                               "not both")
    kit = {k: v for k, v in (("pdk", pdk), ("corner", corner)) if v is not None}
    return CompileOptions(level=level, config=cfg, **kit)


def task_and_inputs(model, input_bits: str | None, inputs: str | None,
                    task_name: str | None, clamp_bits: str | None,
                    provenance: dict | None = None):
    """The task a command runs and its inputs: one --input, a --inputs file, or all
    (a character model's held-out windows come from the text its provenance names)."""
    from analogam.tasks import parse_bits, select_inputs, task_for
    from analogam.tasks.task import trained_file

    clamp = None
    if clamp_bits is not None:
        base = task_for(model, "recall")
        clamp = parse_bits(clamp_bits, base.n_bits).astype(bool)
    task = task_for(model, task_name, clamp, trained_file(provenance or {}, "text"),
                    trained_file(provenance or {}, "data"))
    return task, select_inputs(task, task.n_bits, input_bits, inputs)


run_options = [
    click.option("--scheduler", default="local", show_default=True,
                 help="Where ngspice runs: 'local' (worker processes on this machine's "
                      "cores), 'serial', 'dask' (a local Dask cluster), or a Dask scheduler "
                      "address (tcp://host:8786)."),
    click.option("--timeout", type=float, default=600.0, show_default=True,
                 help="Wall-clock limit per ngspice run (s)."),
]
