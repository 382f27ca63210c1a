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


def _damaged(path: Path, what: str) -> TrainError:
    return TrainError(f"{path}: {what}; delete the checkpoint or use --fresh")


def load_checkpoint(path: Path, cfg: TrainConfig, template_theta: dict
                    ) -> tuple[int, dict, Optimizer, list]:
    """Read a checkpoint written by :func:`save_checkpoint` for the same settings. At
    most three copies of the parameters (theta and Adam's two moments) plus 16 MiB of
    metadata are read; every value is checked (finite, the template's shapes, one log
    record of numbers per finished epoch) before training resumes from it."""
    values = sum(np.asarray(v).size for v in template_theta.values())
    arrays = read_npz(path, "checkpoint", max_bytes=3 * 8 * values + (16 << 20))
    try:
        meta = json.loads(str(arrays["__meta__"]))
        saved = meta["config"]
        same = {k: v for k, v in saved.items() if k != "epochs"} == {
            k: v for k, v in asdict(cfg).items() if k != "epochs"}
        epoch, adam_t, log = meta["epoch"], meta["adam_t"], meta["log"]
    except (KeyError, ValueError, TypeError, RecursionError) as e:
        raise _damaged(path, f"not a usable checkpoint ({str(e)[:80]})") from None
    if not same:
        raise TrainError(f"{path} was written by a run with other settings; delete it "
                         "or use --fresh")
    if cfg.lr_final > 0 and saved.get("epochs") != cfg.epochs:
        raise TrainError(f"{path} was written by a run whose step size falls over "
                         f"{saved.get('epochs')} epochs; resuming it for {cfg.epochs} would "
                         f"change the steps it took: keep --epochs {saved.get('epochs')}, "
                         "or start over with --fresh")
    if not (type(epoch) is int and type(adam_t) is int and 0 <= epoch <= 10**7
            and 0 <= adam_t <= 10**9):
        raise _damaged(path, "its epoch and step counts are not small non-negative integers")
    if not (isinstance(log, list) and len(log) == epoch + 1 and all(
            isinstance(r, dict) and all(v is None or type(v) in (bool, int, float)
                                        for v in r.values()) for r in log)):
        raise _damaged(path, f"its log is not one record of numbers for each of its "
                             f"{epoch + 1} epochs")

    def checked(key: str, ref) -> np.ndarray:
        a = arrays.get(key)
        if a is None or a.dtype.kind not in "fiu" or a.shape != np.shape(ref) \
                or not np.all(np.isfinite(a)):
            raise _damaged(path, f"array {key} is missing or damaged (shape "
                                 f"{None if a is None else a.shape}, expected "
                                 f"{np.shape(ref)})")
        return np.array(a, dtype=float)

    opt = Optimizer(cfg.lr, cfg.optimizer, t=adam_t)
    theta = {k: checked(f"theta/{k}", ref) for k, ref in template_theta.items()}
    for k, ref in template_theta.items():
        if f"adam_m/{k}" in arrays:   # plain descent keeps no moments
            opt.m[k], opt.v[k] = checked(f"adam_m/{k}", ref), checked(f"adam_v/{k}", ref)
    return epoch, theta, opt, list(log)
