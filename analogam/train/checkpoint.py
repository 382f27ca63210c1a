"""Checkpoints: the parameters, optimiser state and log after each finished epoch,
written atomically and refused when written by a run with other settings."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..atomic import atomic_open
from ..model.npz import read_npz
from .config import TrainConfig, TrainError
from .params import Optimizer


def _ckpt_arrays(cfg: TrainConfig, epoch: int, theta: dict, opt: Optimizer, log: list) -> dict:
    meta = {"config": asdict(cfg), "epoch": epoch, "adam_t": opt.t, "log": log}
    arrays = {"__meta__": np.array(json.dumps(meta, sort_keys=True))}
    for k in theta:
        arrays[f"theta/{k}"] = theta[k]
        if k in opt.m:
            arrays[f"adam_m/{k}"] = opt.m[k]
            arrays[f"adam_v/{k}"] = opt.v[k]
    return arrays


def save_checkpoint(path: Path, cfg: TrainConfig, epoch: int, theta: dict, opt: Optimizer,
                    log: list) -> None:
    """Atomically write the state after ``epoch`` finished epochs."""
    arrays = _ckpt_arrays(cfg, epoch, theta, opt, log)
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)


def load_checkpoint(path: Path, cfg: TrainConfig, template_theta: dict
                    ) -> tuple[int, dict, Optimizer, list]:
    """Read a checkpoint written by :func:`save_checkpoint` for the same settings."""
    arrays = read_npz(path, "checkpoint")
    try:
        meta = json.loads(str(arrays["__meta__"]))
        saved = meta["config"]
        same = {k: v for k, v in saved.items() if k != "epochs"} == {
            k: v for k, v in asdict(cfg).items() if k != "epochs"}
        if not same:
            raise TrainError(f"{path} was written by a run with other settings; delete it "
                             "or use --fresh")
        theta = {k: np.array(arrays[f"theta/{k}"], dtype=float) for k in template_theta}
        opt = Optimizer(cfg.lr, cfg.optimizer, t=int(meta["adam_t"]))
        for k in template_theta:
            if f"adam_m/{k}" in arrays:
                opt.m[k] = np.array(arrays[f"adam_m/{k}"], dtype=float)
                opt.v[k] = np.array(arrays[f"adam_v/{k}"], dtype=float)
        for k, v in theta.items():
            if v.shape != template_theta[k].shape or not np.all(np.isfinite(v)):
                raise TrainError(f"{path}: parameter {k} is damaged; delete the checkpoint")
        return int(meta["epoch"]), theta, opt, list(meta["log"])
    except (KeyError, ValueError, TypeError) as e:
        raise TrainError(f"{path} is not a usable checkpoint ({e}); delete it or use "
                         "--fresh") from None
