"""A training run to files: the weights (with the trainer's provenance), the log
(JSON), its plot (PNG), and the checkpoint removed once the run has finished."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_open
from ..model.weights import save_model
from .config import TrainConfig
from .loop import TrainResult, provenance, train
from .plots import plot_log


@dataclass(frozen=True)
class TrainFiles:
    weights: Path
    log: Path
    plot: Path
    checkpoint: Path


def train_files(output: str | Path) -> TrainFiles:
    """``OUT.npz`` and, beside it, ``OUT.train.json``, ``OUT.train.png``,
    ``OUT.ckpt.npz``."""
    out = Path(output)
    stem = out.with_suffix("")
    return TrainFiles(out, *(Path(f"{stem}{s}") for s in (".train.json", ".train.png",
                                                          ".ckpt.npz")))


def train_to_files(cfg: TrainConfig, output: str | Path, *, fresh: bool = False,
                   on_epoch: Callable[[dict, int], None] | None = None
                   ) -> tuple[TrainResult, TrainFiles]:
    """Train (resuming from the checkpoint unless ``fresh``), then write every file
    atomically and remove the checkpoint."""
    files = train_files(output)
    result = train(cfg, files.checkpoint, fresh=fresh, on_epoch=on_epoch)
    prov = provenance(cfg, result)
    save_model(result.model, files.weights, prov)
    with atomic_open(files.log, "w") as f:
        json.dump({"config": prov["trainer"], "epochs": result.log,
                   "deploy": result.deploy}, f, indent=1, sort_keys=True)
    plot_log(result.log, files.plot, f"{cfg.task}: {cfg.method}, seed {cfg.seed}, "
             f"init {cfg.init}")
    files.checkpoint.unlink(missing_ok=True)
    return result, files
