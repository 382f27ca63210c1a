"""Human-readable summaries of models (text only, no I/O)."""

from __future__ import annotations

import numpy as np

from ..errors import printable
from .activations import get_activation
from .network import Model


def format_model_summary(model: Model) -> str:
    """Groups, sizes, activations, tau, beta/gain, weight ranges, decoder, read-out."""
    lines = [f"model {printable(repr(model.name))}  task={printable(model.task)}  "
             f"read-out t={model.readout_time:g}",
             f"  {model.n_units} units in {len(model.groups)} groups:"]
    for g in model.groups:
        act = get_activation(g.activation)
        par = f" {act.param_name}={g.param:g}" if act.param_name else ""
        lines.append(
            f"    {g.name:<8} size {g.size:<5} {g.activation}{par:<12} tau={g.tau:g}  "
            f"bias [{g.bias.min():.4g}, {g.bias.max():.4g}]  init={g.init}"
        )
    lines.append(f"  {len(model.couplings)} couplings:")
    for c in model.couplings:
        w = c.weights
        kind = {"token": "token table", "position-token": "position+token rows"}.get(
            c.source, "weights")
        lines.append(
            f"    {c.name:<8} {c.hidden} x {c.visible}  {kind} {w.shape[0]}x{w.shape[1]}  "
            f"range [{w.min():.4g}, {w.max():.4g}]  nonzero {np.count_nonzero(w)}/{w.size}"
            + ("  (signed)" if w.min() < 0 else "")
        )
    if model.decoder is not None:
        d = model.decoder
        lines.append(f"  decoder on {d.group}: {d.weights.shape[0]} outputs, "
                     f"weights [{d.weights.min():.4g}, {d.weights.max():.4g}]")
    return "\n".join(lines)
