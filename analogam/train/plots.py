"""The training log as a figure."""

from __future__ import annotations

from pathlib import Path

from ..figures import save_figure, subplots


def plot_log(log: list[dict], path: Path, title: str) -> None:
    """Loss and accuracy per epoch, written atomically as PNG."""
    ep = [r["epoch"] for r in log]
    fig, (a, b) = subplots(1, 2, figsize=(9, 3.4))
    a.plot(ep, [r["loss"] for r in log], "k-")
    a.set_xlabel("epoch")
    a.set_ylabel("training loss (free fixed point)")
    b.plot(ep, [r["train_acc"] for r in log], label="train")
    if log and log[0]["heldout_acc"] is not None:
        b.plot(ep, [r["heldout_acc"] for r in log], label="held-out")
    b.set_xlabel("epoch")
    b.set_ylabel("accuracy at the settled state")
    b.set_ylim(-0.02, 1.02)
    b.legend()
    fig.suptitle(title)
    save_figure(fig, path)
