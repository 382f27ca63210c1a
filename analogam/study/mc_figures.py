"""Figures of Monte Carlo runs and sweeps (:mod:`.montecarlo`): accuracy against a
swept parameter, and histograms over one run's samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..figures import plain, save_figure, subplots


def plot_sweep(results: dict[str, dict], param: str, path: Path) -> None:
    """Accuracy (mean, with min-max band) against the swept parameter, one line per
    model; written atomically."""
    fig, ax = subplots(figsize=(5.5, 3.6))
    for name, res in results.items():
        pts = [p for p in res["points"] if p["summary"]["accuracy"] is not None]
        x = [p["value"] for p in pts]
        acc = [p["summary"]["accuracy"] for p in pts]
        ax.plot(x, [100 * a["mean"] for a in acc], "o-", label=name)
        ax.fill_between(x, [100 * a["min"] for a in acc], [100 * a["max"] for a in acc],
                        alpha=0.2)
    ax.set_xlabel(param)
    ax.set_ylabel("task accuracy % (mean, min-max)")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize=8)
    save_figure(fig, path)


HISTOGRAMS = (("accuracy", "task accuracy (%)", 100.0, False),
              ("readout_error", "read-out error vs ideal ODE (model units)", 1.0, True),
              ("max_state_error", "max state error vs ideal ODE (model units)", 1.0, True),
              ("settling_tau_max", "slowest settling (tau_v)", 1.0, False))


def montecarlo_figure(res: dict, name: str = ""):
    """Histograms over the samples of one Monte Carlo run (:func:`monte_carlo`):
    accuracy, read-out and state error against the ideal ODE (log axes: they span
    decades), slowest settling time; samples that failed a check are drawn apart."""
    recs = [r for r in res["records"].values() if not r.get("failed")]
    flagged = np.array([bool(r.get("findings")) for r in recs], bool)
    fig, axes = subplots(2, 2, figsize=(7.5, 5.2))
    for ax, (key, label, scale, log) in zip(axes.flat, HISTOGRAMS, strict=True):
        vals = np.array([np.nan if r.get(key) is None else scale * r[key] for r in recs])
        ok = np.isfinite(vals) & (vals > 0 if log else True)
        if not ok.any():
            ax.text(0.5, 0.5, "no values", ha="center", transform=ax.transAxes)
        else:
            lo, hi = vals[ok].min(), vals[ok].max()
            half = 0.1 * abs(lo) or 0.5          # one value: a bin around it
            bins = (np.linspace(lo - half, hi + half, 16) if hi == lo else
                    np.geomspace(lo, hi * 1.0001, 16) if log else 15)
            ax.hist([vals[ok & ~flagged], vals[ok & flagged]], bins=bins, stacked=True,
                    color=["tab:blue", "tab:red"], label=["checks passed", "a check failed"])
            if log:
                ax.set_xscale("log")
        ax.set_xlabel(label, fontsize=8)
        ax.set_ylabel("samples", fontsize=8)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    failed = len(res["records"]) - len(recs)
    fig.suptitle(f"{plain(name)}: {len(recs)} Monte Carlo samples"
                 + (f" ({failed} did not simulate)" if failed else ""), fontsize=9)
    return fig
