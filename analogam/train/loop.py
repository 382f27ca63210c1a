"""The digital trainer: equilibrium propagation (or the exact implicit gradient) on the
model's own energy, with weights a crossbar can hold and models that settle.

One training step on a minibatch: relax the free phase (:mod:`.relax`), take the
gradient (:mod:`.gradients`: EP from the nudged phases, or implicit differentiation),
map it onto the free parameters and take an optimiser step, then enforce the hardware
constraints (:mod:`.params`: conductances are squares, bounded energy). At the end
(:mod:`.deploy`), conductances below ``max / window_ratio`` are removed, so the rest
fits the device window at one G0, and the model is checked analog-deployable.

Each epoch is logged (loss, accuracies, skipped samples, residuals, slowest decay rate
at the fixed points, the cosine between the EP and implicit gradients, time) and
checkpointed atomically; a run started again with the same settings resumes from the
last finished epoch. Same seed, same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..model import Model, System
from ..tasks import bind_task
from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig, TrainError
from .data import TaskData, initial_model, task_data, task_loss
from .deploy import deployability, prune_to_window, settle_readout
from .evaluate import Evaluation, evaluate
from .gradients import Gradient, cosine, ep_gradient, implicit_gradient
from .loss import Loss
from .params import Optimizer, bound_scaling, from_theta, theta_grads, to_theta
from .relax import Relaxed, relax, slowest_rate


@dataclass(frozen=True)
class FreePhase:
    """A minibatch bound to the model, relaxed to its free fixed points."""

    system: System
    free: Relaxed
    loss: Loss


def free_phase(model: Model, inputs: np.ndarray, cfg: TrainConfig) -> FreePhase:
    system = bind_task(model, inputs)
    return FreePhase(system, relax(system, tol=cfg.relax_tol), task_loss(model, inputs))


def phase_gradient(ph: FreePhase, cfg: TrainConfig, method: str | None = None) -> Gradient:
    """The minibatch gradient by ``method`` (default the config's) from its free phase."""
    if (method or cfg.method) == "ep":
        return ep_gradient(ph.system, ph.free, ph.loss, cfg.beta_nudge, tol=cfg.relax_tol)
    return implicit_gradient(ph.system, ph.free, ph.loss)


def gradient(model: Model, inputs: np.ndarray, cfg: TrainConfig, method: str | None = None
             ) -> Gradient:
    """Free phase and gradient of one minibatch."""
    return phase_gradient(free_phase(model, inputs, cfg), cfg, method)


@dataclass(frozen=True)
class TrainResult:
    model: Model
    log: list[dict]
    final: Evaluation
    data: TaskData
    deploy: dict


def _epoch_record(epoch: int, model: Model, data: TaskData, skipped: int, worst: float,
                  cos: float, rate_batch: float, seconds: float) -> dict:
    ev = evaluate(model, data.inputs)
    held = data.heldout
    rec = {
        "epoch": epoch,
        "loss": float(ev.loss[data.train].mean()),
        "train_acc": float(ev.correct[data.train].mean()),
        "heldout_acc": float(ev.correct[held].mean()) if held.size else None,
        "skipped": skipped,
        "max_phase_residual": worst,
        "settled": int(ev.converged.sum()),
        "min_rate": float(ev.rate.min()),
        "cos_ep_implicit": cos,
        "min_rate_monitor": rate_batch,
        "seconds": seconds,
    }
    return rec


def train(
    cfg: TrainConfig,
    checkpoint: Path | None = None,
    *,
    fresh: bool = False,
    on_epoch: Callable[[dict, int], None] | None = None,
) -> TrainResult:
    """Run ``cfg.epochs`` epochs (resuming from ``checkpoint`` when it exists and
    ``fresh`` is false). ``on_epoch(record, epochs)`` is called after each epoch."""
    cfg.validate()
    template = initial_model(cfg)
    data = task_data(cfg.task)
    theta = to_theta(template)
    opt, log, start = Optimizer(cfg.lr, cfg.optimizer), [], 0
    if checkpoint is not None and checkpoint.exists() and not fresh:
        start, theta, opt, log = load_checkpoint(checkpoint, cfg, theta)
        if start > cfg.epochs:
            raise TrainError(f"{checkpoint} has finished {start} epochs, more than the "
                             f"{cfg.epochs} asked for; ask for at least {start} epochs or "
                             "start over with --fresh")
    model = from_theta(template, theta)
    if start == 0 and not log:
        rec = _epoch_record(0, model, data, 0, 0.0, float("nan"), float("nan"), 0.0)
        log.append(rec)
        if on_epoch:
            on_epoch(rec, cfg.epochs)
    for epoch in range(start + 1, cfg.epochs + 1):
        t0 = time.perf_counter()
        order = np.random.default_rng([cfg.seed, epoch]).permutation(data.train)
        bs = cfg.batch_size or order.size
        skipped, worst, cos, rate = 0, 0.0, float("nan"), float("nan")
        for i, lo in enumerate(range(0, order.size, bs)):
            batch = data.inputs[order[lo:lo + bs]]
            ph = free_phase(model, batch, cfg)
            system = ph.system
            g = phase_gradient(ph, cfg)
            if i == 0:
                # Monitor: how far EP is from the exact gradient, and how flat the
                # fixed points are (small rates bias EP and slow the circuit).
                other = phase_gradient(ph, cfg, "implicit" if cfg.method == "ep" else "ep")
                cos = cosine(g.grads, other.grads)
                rate = float(slowest_rate(system, ph.free.u).min())
            skipped += g.skipped
            worst = max(worst, g.residual)
            if g.used == 0:
                continue
            theta = opt.step(theta, theta_grads(theta, g.grads))
            model = from_theta(template, theta)
            # w = theta^2 scales by f when theta scales by sqrt(f): signs (and the
            # optimiser's moments) stay consistent
            scale = bound_scaling(model, system, cfg.sigma_bound)
            if scale:
                theta = {**theta, **{k: theta[k] * np.sqrt(f) for k, f in scale.items()}}
                model = from_theta(template, theta)
        rec = _epoch_record(epoch, model, data, skipped, worst, cos, rate,
                               time.perf_counter() - t0)
        log.append(rec)
        if checkpoint is not None:
            save_checkpoint(checkpoint, cfg, epoch, theta, opt, log)
        if on_epoch:
            on_epoch(rec, cfg.epochs)
    model, pruned = prune_to_window(model, cfg.window_ratio)
    model = settle_readout(model, data.inputs)
    final = evaluate(model, data.inputs)
    deploy = {**deployability(model, data.inputs, final), "pruned_conductances": pruned}
    return TrainResult(model, log, final, data, deploy)


def provenance(cfg: TrainConfig, result: TrainResult) -> dict:
    """What is stored with the trained weights: settings, final figures, and the
    trainer's prediction for every task input (the simulate report's third column)."""
    last = result.log[-1]
    return {
        "trainer": asdict(cfg),
        "final": {k: last[k] for k in ("loss", "train_acc", "heldout_acc")},
        "deploy": result.deploy,
        "trainer_predictions": result.final.predictions.tolist(),
    }
