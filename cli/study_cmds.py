"""Commands that study, train or characterise: train, montecarlo, sweep, datasheet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from analogam.atomic import check_output
from analogam.errors import printable
from analogam.progress import progress_bar

from . import options as shared
from .common import (
    EXIT_INTERRUPTED,
    EXIT_TOLERANCE,
    RegistryChoice,
    default_kit,
    fail,
    inputs_of,
    kit_names,
    mc_progress,
    plot_options,
    results_path,
    save_plot,
    train_tasks,
)


@click.command()
@click.option("--pdk", "kit", default=default_kit, type=RegistryChoice(kit_names),
              help="Process kit whose transistor-level op-amp to characterise.")
@click.option("--corner", "corners", default="tt,ff,ss", show_default=True,
              help="Comma-separated corners of the kit.")
@click.option("--sizing", default="standard", show_default=True,
              help="Which of the kit's amplifier sizings (design.amplifier).")
@click.option("--macromodel", is_flag=True,
              help="Characterise the op-amp level's macromodel instead (checks the benches).")
@click.option("--mismatch", type=click.IntRange(0, 10_000), default=0, show_default=True,
              help="Also measure the input offset's spread over N instances with the kit's "
                   "mismatch on (the op-amp level fitted to it draws offsets from it).")
@click.option("--seed", type=click.IntRange(1, 2**31 - 2), default=1, show_default=True,
              help="Seed of the kit's mismatch draws (--mismatch).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@shared.with_options(plot_options)
def datasheet(kit, corners, sizing, macromodel, mismatch, seed, as_json, plot_path,
              dpi) -> None:
    """Characterise an amplifier in ngspice: gain, gain-bandwidth, phase margin, slew,
    offset, quiescent power, output swing; and the op-amp level keys fitted to it."""
    import json

    from analogam.circuit import get_process_kit
    from analogam.study.datasheet import (
        bode_figure,
        format_datasheet,
        macromodel_datasheet,
        pdk_datasheet,
    )

    chosen = get_process_kit(kit).amplifier_sizing(sizing)[0]
    if not [c for c in corners.split(",") if c.strip()]:
        raise click.UsageError(f"--corner needs at least one corner name, got {corners[:40]!r}")
    if plot_path:
        check_output(plot_path)
    sheets = ([macromodel_datasheet()] if macromodel else
              [pdk_datasheet(kit, c.strip(), chosen, mismatch, seed) for c in corners.split(",")
               if c.strip()])
    if as_json:
        click.echo(json.dumps([{**d.as_dict(), "macromodel": d.macromodel()}
                               for d in sheets], indent=1))
    else:
        click.echo(format_datasheet(sheets))
        fit = " ".join(f"--set {k}={v:.4g}" for k, v in sheets[0].macromodel().items())
        click.echo(f"  the op-amp level fitted to the {sheets[0].corner} column: {fit}")
    if plot_path:
        save_plot(bode_figure(sheets), plot_path, dpi, quiet=as_json)


@click.command()
@click.argument("task", type=RegistryChoice(train_tasks))
@click.option("--method", type=click.Choice(["ep", "implicit"]), default="ep", show_default=True,
              help="Equilibrium propagation, or the exact implicit gradient.")
@click.option("--beta-nudge", type=float, default=None,
              help="EP nudging strength (default: xor 0.05, parity8 1e-5, digits 0.05).")
@click.option("--epochs", type=int, default=None,
              help="Epochs (default: xor 60, parity8 10, digits 12).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--init", type=click.Choice(["random", "constructed", "positional"]),
              default=None,
              help="Initial model (default: xor and text random; parity8 and digits "
                   "constructed: for digits, each memory a random training image of its "
                   "class; parity8 positional: random with positional embeddings).")
@click.option("--lr", type=float, default=None, help="Step size (task default).")
@click.option("--lr-final", type=float, default=None,
              help="Step size at the end: LR falls to it along a half cosine (default: "
                   "constant LR).")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default=None)
@click.option("--batch-size", type=int, default=None, help="Minibatch size; 0 = full batch.")
@click.option("--stability-margin", type=float, default=None,
              help="Keep the visible map's contraction gain at or below 1 - MARGIN after "
                   "every step (default: text 0.1, others off).")
@click.option("--text", "text", type=click.Path(dir_okay=False), default=None,
              help="text: the UTF-8 text file to learn (default: Debian's fortunes "
                   "songs-poems).")
@click.option("--data", "data", type=click.Path(dir_okay=False), default=None,
              help="table: your CSV or .npz (features, then a label, per row), learnt by "
                   "a DenseAM classifier; memory: your patterns (one per row), stored as "
                   "a DenseAM and checked.")
@click.option("--context", type=int, default=None, help="text: context length (32).")
@click.option("--width", type=int, default=None, help="text: visible width D (64).")
@click.option("--memories", type=int, default=None,
              help="text: memories M (128); table: memories shared among the classes (20).")
@click.option("--windows", type=int, default=None,
              help="text: training windows drawn from the text (8192).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Trained weights (.npz); the log (.train.json), plot (.train.png) and "
                   "checkpoint (.ckpt.npz) go beside it.")
@click.option("--fresh", is_flag=True, help="Ignore an existing checkpoint and start over.")
def train(task, output, fresh, seed, **kw) -> None:
    """Train XOR, parity, the 8x8 digits, a character model of a text or a classifier of
    your table (--data) by equilibrium propagation on the model's energy; or store your
    patterns as a memory (--data) with the same checks.

    Interrupted runs resume from the last finished epoch when started again with the
    same settings. Exits 2 when the trained model is not deployable (the tight ODE
    disagrees with the trainer, an input does not settle, or the energy is unbounded)."""
    from analogam.train import config_for
    from analogam.train.outputs import train_files, train_to_files

    if kw.get("data"):   # the model's later runs find their inputs from anywhere
        kw["data"] = str(Path(kw["data"]).resolve())
    cfg = config_for(task, seed=seed, **kw)

    def show(rec: dict, epochs: int) -> None:
        held = "" if rec["heldout_acc"] is None else f" held-out {rec['heldout_acc']:.3f}"
        cos = rec["cos_ep_implicit"]
        click.echo(f"{progress_bar(rec['epoch'], epochs)} epochs: loss {rec['loss']:.4f} "
                   f"train {rec['train_acc']:.3f}{held} skipped {rec['skipped']} "
                   f"min rate {rec['min_rate']:.3g}"
                   + ("" if cos != cos else f" cos(EP,implicit) {cos:.5f}")
                   + ("" if "contraction_gain" not in rec else
                      f" held-out CE {rec['heldout_loss']:.4f} settled at read-out "
                      f"{rec['readout_settled']}/{rec['readout_inputs']} gain "
                      f"{rec['contraction_gain']:.3f}")
                   + f" ({rec['seconds']:.1f} s)", err=True)

    try:
        result, files = train_to_files(cfg, output, fresh=fresh, on_epoch=show)
    except KeyboardInterrupt:
        fail(f"interrupted; finished epochs are in {train_files(output).checkpoint}; run the "
              "same command to resume", EXIT_INTERRUPTED)
    d, last = result.deploy, result.log[-1]
    held = "" if last["heldout_acc"] is None else f", held-out {last['heldout_acc']:.3f}"
    click.echo(f"{printable(files.weights)}: train {last['train_acc']:.3f}{held} at the "
               f"settled fixed point; tight ODE agrees on {d['ode_agrees']}/{d['inputs']}, "
               f"settled {d['ode_settled']}/{d['inputs']} at t={d['readout_time']:g}, energy "
               f"{'bounded' if d['bounded'] else 'UNBOUNDED'}; log {printable(files.log)}, "
               f"plot {printable(files.plot)}")
    if cfg.task == "text":
        b = result.data.baselines
        click.echo(f"  held-out cross-entropy {last['heldout_loss']:.4f} nats/char; bigram "
                   f"{b['bigram']:.4f}, unigram {b['unigram']:.4f} on the same split")
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


@click.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@shared.with_options(shared.input_options)
@shared.with_options(mc_options)
@shared.with_options(shared.device_options)
@shared.with_options(shared.run_options)
@shared.with_options(plot_options)
def montecarlo(weights, input_bits, inputs, task_name, clamp_bits, samples, output, scheduler,
               timeout, strict, t_end, plot_path, dpi, **kw) -> None:
    """N perturbed circuits in ngspice: accuracy, state error against the ideal ODE and
    settling time, with their spread."""

    from analogam.model.weights import load_weights
    from analogam.study import format_monte_carlo, monte_carlo
    from analogam.study.mc_figures import montecarlo_figure

    model, prov = load_weights(weights)
    task, bits = shared.task_and_inputs(model, input_bits, inputs, task_name, clamp_bits,
                                        prov)
    opts = shared.compile_options(**kw)
    protect = inputs_of(weights, inputs, kw.get("config_path"))
    if plot_path:
        check_output(plot_path, protect)
    res = monte_carlo(model, bits, opts, samples, scheduler=scheduler,
                      results=results_path(output, weights, inputs, kw),
                      progress=mc_progress, timeout_s=timeout, task=task, strict=strict)
    click.echo(format_monte_carlo(model, res, opts, output))
    if plot_path:
        save_plot(montecarlo_figure(res, model.name), plot_path, dpi, protect)
    exit_for_findings(res, strict)


def exit_for_findings(res: dict, strict: bool) -> None:
    """Exit 2 when a sample failed a check (1 under --strict, naming the first), as
    ``simulate`` does; the results are written either way."""
    from analogam.study.montecarlo import first_findings

    first = first_findings(res)
    if first and strict:
        kind, line = next(iter(first.items()))
        fail(f"{kind.replace('_', '-')} check failed (--strict): {line}")
    if first:
        sys.exit(EXIT_TOLERANCE)


@click.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--param", required=True,
              help="The configuration key to vary, e.g. conductance.prog_noise_scale.")
@click.option("--values", required=True, help="Comma-separated values, e.g. 0,0.05,0.1.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="PNG of accuracy against the parameter.")
@shared.with_options(shared.input_options)
@shared.with_options(mc_options)
@shared.with_options(shared.device_options)
@shared.with_options(shared.run_options)
def sweep(weights, param, values, plot_path, input_bits, inputs, task_name, clamp_bits, samples,
          output, scheduler, timeout, strict, t_end, **kw) -> None:
    """Monte Carlo at each value of one configuration key; accuracy against it."""
    from pathlib import Path

    from analogam.model.weights import load_weights
    from analogam.study import format_sweep, plot_sweep
    from analogam.study import sweep as run_sweep

    try:
        vals = [float(v) for v in values.split(",") if v.strip()]
    except ValueError:
        raise click.UsageError(f"--values must be numbers separated by commas, got "
                               f"{values[:40]!r}") from None
    if not vals:
        raise click.UsageError("--values needs at least one number")
    model, prov = load_weights(weights)
    task, bits = shared.task_and_inputs(model, input_bits, inputs, task_name, clamp_bits,
                                        prov)
    opts = shared.compile_options(**kw)
    opts.config.with_value(param, vals[0])  # validates the key before any work
    if plot_path:
        check_output(plot_path, inputs_of(weights, inputs, kw.get("config_path")))
    res = run_sweep(model, bits, opts, param, vals, samples, scheduler=scheduler,
                    results=results_path(output, weights, inputs, kw),
                    progress=mc_progress, timeout_s=timeout, task=task, strict=strict)
    click.echo(format_sweep(model, param, res))
    if plot_path:
        plot_sweep({model.name: res}, param, Path(plot_path))
        click.echo(f"  plot: {printable(plot_path)}")
    exit_for_findings(res, strict)


def _floats(text: str, what: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.UsageError(f"{what} must be numbers separated by commas, got "
                               f"{text[:40]!r}") from None
    if not vals or not all(v > 0 for v in vals):
        raise click.UsageError(f"{what} needs at least one positive number")
    return vals


@click.command()
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--latencies", default="1e-7,3e-7,1e-6", show_default=True,
              help="Comma-separated latency targets (s).")
@click.option("--compare-levels", "level_list", default=None,
              help="Comma-separated levels to explore (default: the --level given).")
@click.option("--corners", default="tt", show_default=True,
              help="Comma-separated corners of the kit (levels with a process kit).")
@click.option("--sizings", default="standard", show_default=True,
              help="Comma-separated amplifier sizings of the kit (levels with a process "
                   "kit), e.g. standard,lowpower,fast.")
@click.option("--max-inputs", type=click.IntRange(1, None), default=8, show_default=True,
              help="Simulate this many of the inputs (evenly spaced), per design.")
@shared.with_options(shared.input_options)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the designs as JSON here.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="PNG of energy against latency with the Pareto front.")
@shared.with_options(shared.device_options)
@shared.with_options(shared.run_options)
def explore(weights, latencies, level_list, corners, sizings, max_inputs, input_bits,
            inputs, task_name, clamp_bits, output, plot_path, scheduler, timeout, strict,
            t_end, **kw) -> None:
    """Latency target x level x corner: latency, energy, read-out error, accuracy,
    capacitance and MIM area, amplifiers and power, and the Pareto front.

    Exits 2 when no design is clean (right answers, no check finding)."""
    import json
    from pathlib import Path

    import numpy as np

    from analogam.atomic import atomic_open
    from analogam.circuit.levels import get_level
    from analogam.model.weights import load_weights
    from analogam.spice import Runner
    from analogam.study.explore import explore as run_explore
    from analogam.study.explore import explore_dict, format_explore, plot_explore

    targets = _floats(latencies, "--latencies")
    lvls = [get_level(v.strip()).name for v in (level_list or kw["level"]).split(",")
            if v.strip()]
    crn = [c.strip() for c in corners.split(",") if c.strip()]
    model, prov = load_weights(weights)
    task, bits = shared.task_and_inputs(model, input_bits, inputs, task_name, clamp_bits,
                                        prov)
    bits = bits[np.linspace(0, len(bits) - 1, min(max_inputs, len(bits))).astype(int)]
    protect = inputs_of(weights, inputs, kw.get("config_path"))
    for path in (output, plot_path):
        if path:
            check_output(path, protect)
    opts = shared.compile_options(**kw)

    def show(done, total, p) -> None:
        what = (f"refused ({p.error[:80]})" if p.error else
                f"settled {p.settle_s * 1e9:.3g} ns, "
                + ("" if p.energy_j is None else f"{p.energy_j * 1e9:.3g} nJ, ")
                + f"accuracy {p.accuracy:.3f}")
        click.echo(f"{progress_bar(done, total)} {p.label} at {p.target_s:.3g} s: {what}",
                   err=True)

    with Runner(scheduler, "auto", timeout) as runner:
        points = run_explore(model, bits, targets, lvls, crn, options=opts, runner=runner,
                             task=task, progress=show,
                             sizings=tuple(z.strip() for z in sizings.split(",") if z.strip()))
    click.echo(format_explore(model, points, len(bits)))
    if output:
        with atomic_open(output, "w") as f:
            json.dump(explore_dict(points), f, indent=1)
        click.echo(f"  designs: {printable(output)}")
    if plot_path:
        plot_explore(model, points, Path(plot_path))
        click.echo(f"  plot: {printable(plot_path)}")
    if not any(p.clean for p in points):
        sys.exit(EXIT_TOLERANCE)
