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
from .deploy import check_continuous, deployability, prune_to_window, settle_readout
from .evaluate import Evaluation, evaluate
from .gradients import Gradient, cosine, ep_gradient, implicit_gradient
from .loss import Loss
from .params import (
    Optimizer,
    bound_scaling,
    contraction_scaling,
    from_theta,
    theta_grads,
    to_theta,
)
from .relax import Relaxed, relax, slowest_rate

ANCHORS = 512
"""Training contexts on which every step also checks the contraction bound."""


@dataclass(frozen=True)
class FreePhase:
    """A minibatch bound to the model, relaxed to its free fixed points."""

    system: System
    free: Relaxed
    loss: Loss


def free_phase(model: Model, inputs: np.ndarray, cfg: TrainConfig) -> FreePhase:
    system = bind_task(model, inputs)
    return FreePhase(system, relax(system, tol=cfg.relax_tol,
                                   contracting=cfg.stability_margin > 0),
                     task_loss(model, inputs))


def phase_gradient(ph: FreePhase, cfg: TrainConfig, method: str | None = None) -> Gradient:
    """The minibatch gradient by ``method`` (default the config's) from its free phase."""
    if (method or cfg.method) == "ep":
        return ep_gradient(ph.system, ph.free, ph.loss, cfg.beta_nudge, tol=cfg.relax_tol,
                           contracting=cfg.stability_margin > 0)
    return implicit_gradient(ph.system, ph.free, ph.loss)


def project(template: Model, theta: dict, inputs: np.ndarray, cfg: TrainConfig
            ) -> tuple[dict, Model]:
    """The hardware constraints after a step, on the new weights: bounded energy
    (``sigma_bound``) and, with ``stability_margin``, the contraction bound on
    ``inputs``. ``w = theta^2`` scales by f when theta scales by sqrt(f), so signs
    (and the optimiser's moments) stay consistent."""
    def scaled(theta: dict, scale: dict[str, float]) -> dict:
        return {**theta, **{k: theta[k] * np.sqrt(f) for k, f in scale.items()}}

    model = from_theta(template, theta)
    scale = bound_scaling(model, bind_task(model, inputs), cfg.sigma_bound)
    if scale:
        theta = scaled(theta, scale)
        model = from_theta(template, theta)
    if cfg.stability_margin > 0:
        scale = contraction_scaling(bind_task(model, inputs), cfg.stability_margin)
        if scale:
            theta = scaled(theta, scale)
            model = from_theta(template, theta)
    return theta, model


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


def _epoch_record(epoch: int, model: Model, data: TaskData, cfg: TrainConfig, skipped: int,
                  worst: float, cos: float, rate_batch: float, seconds: float) -> dict:
    tr = data.score_train
    idx = np.concatenate([tr, data.heldout])
    ev = evaluate(model, data.inputs[idx], contracting=cfg.stability_margin > 0)
    train, held = np.arange(tr.size), np.arange(tr.size, idx.size)
    rec = {
        "epoch": epoch,
        "loss": float(ev.loss[train].mean()),
        "train_acc": float(ev.correct[train].mean()),
        "heldout_acc": float(ev.correct[held].mean()) if held.size else None,
        "heldout_loss": float(ev.loss[held].mean()) if held.size else None,
        "skipped": skipped,
        "max_phase_residual": worst,
        "settled": int(ev.converged.sum()),
        "min_rate": float(ev.rate.min()),
        "cos_ep_implicit": cos,
        "min_rate_monitor": rate_batch,
        "seconds": seconds,
    }
    if cfg.stability_margin > 0 and held.size:
        rec.update(readout_check(model, data.inputs[data.heldout], cfg.stability_margin))
    return rec


def readout_check(model: Model, inputs: np.ndarray, margin: float) -> dict:
    """What a circuit would see on ``inputs`` (:func:`~.deploy.check_continuous`: the ODE
    from the initial state to the read-out time): how many settled there, whether the
    energy is bounded and never rose, and the largest contraction gain (and each
    coupling's part of it: a coupling whose part falls towards 0 is being crowded out)."""
    c = check_continuous(bind_task(model, inputs), n_points=16)
    return {"readout_settled": c["settled"], "readout_inputs": c["inputs"],
            **{f"contraction_{k}": v for k, v in c["contraction_parts"].items()},
            "readout_residual": c["max_residual"], "energy_bounded": bool(c["bounded"]),
            "energy_monotone": c["energy_monotone"], "contraction_gain": c["contraction_gain"],
            "contracting": bool(c["contraction_gain"] <= 1.0 - margin + 1e-9)}


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
    data = task_data(cfg.task, cfg)
    theta = to_theta(template)
    opt, log, start = Optimizer(cfg.lr, cfg.optimizer), [], 0
    if checkpoint is not None and checkpoint.exists() and not fresh:
        start, theta, opt, log = load_checkpoint(checkpoint, cfg, theta)
        if start > cfg.epochs:
            raise TrainError(f"{checkpoint} has finished {start} epochs, more than the "
                             f"{cfg.epochs} asked for; ask for at least {start} epochs or "
                             "start over with --fresh")
    model = from_theta(template, theta)
    # The contraction bound depends on the context; each step checks it on the
    # minibatch and on a fixed seeded set of training contexts, so one easy batch
    # cannot let the weights grow past what other contexts tolerate.
    anchors = data.inputs[np.random.default_rng([cfg.seed, 7]).permutation(data.train)[
        :ANCHORS if cfg.stability_margin > 0 else 0]]
    if start == 0 and not log:
        if cfg.stability_margin > 0:   # start inside the bound the steps keep
            theta, model = project(template, theta, anchors, cfg)
        rec = _epoch_record(0, model, data, cfg, 0, 0.0, float("nan"), float("nan"), 0.0)
        log.append(rec)
        if on_epoch:
            on_epoch(rec, cfg.epochs)
    for epoch in range(start + 1, cfg.epochs + 1):
        t0 = time.perf_counter()
        order = np.random.default_rng([cfg.seed, epoch]).permutation(data.train)
        bs = cfg.batch_size or order.size
        steps = -(-order.size // bs)
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
            opt.lr = cfg.step_size((epoch - 1 + i / steps) / max(cfg.epochs, 1))
            theta, model = project(template, opt.step(theta, theta_grads(theta, g.grads)),
                                   np.concatenate([batch, anchors]), cfg)
        rec = _epoch_record(epoch, model, data, cfg, skipped, worst, cos, rate,
                            time.perf_counter() - t0)
        log.append(rec)
        if checkpoint is not None:
            save_checkpoint(checkpoint, cfg, epoch, theta, opt, log)
        if on_epoch:
            on_epoch(rec, cfg.epochs)
    model, pruned = prune_to_window(model, cfg.window_ratio)
    inputs = data.inputs if data.final is None else data.inputs[data.final]
    model = settle_readout(model, inputs)
    final = evaluate(model, inputs, contracting=cfg.stability_margin > 0)
    deploy = {**deployability(model, inputs, final), "pruned_conductances": pruned}
    return TrainResult(model, log, final, data, deploy)


def provenance(cfg: TrainConfig, result: TrainResult) -> dict:
    """What is stored with the trained weights: settings, final figures, and the
    trainer's prediction for every task input (the simulate report's third column)."""
    last = result.log[-1]
    base = result.data.baselines
    extra = {"baselines": base} if base else {}
    return {
        **extra,
        "trainer": asdict(cfg),
        "final": {k: last[k] for k in ("loss", "train_acc", "heldout_acc")},
        "deploy": result.deploy,
        "trainer_predictions": result.final.predictions.tolist(),
    }
