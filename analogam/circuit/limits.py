"""Operating-point checks: every device's safe operating conditions (``Circuit.limits``)
held against node voltages, predicted from the model's trajectory before anything is
simulated, or read from the SPICE transient after it. A violation names the device, the
quantity, how far past its bound it went, on which input and when."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CircuitError
from .ir import Circuit
from .kits import T_NOMINAL_K
from .predict import Env, evaluate


@dataclass(frozen=True)
class Violation:
    """``value`` (V) of ``quantity`` of ``device`` passed ``bound`` (``side``: "above" the
    upper or "below" the lower) on copy ``copy`` at time ``time`` (model time), by
    ``stage``: "predicted" (from the ODE trajectory) or "simulated" (ngspice)."""

    device: str
    quantity: str
    copy: int
    value: float
    bound: float
    side: str
    time: float
    stage: str
    unit: str = "V"

    def describe(self, inputs: list[str] | None = None) -> str:
        where = (f"input {inputs[self.copy]}" if inputs and self.copy < len(inputs)
                 else f"copy {self.copy}")
        op = ">" if self.side == "above" else "<"
        u = self.unit
        return (f"{self.stage}: {self.device} {self.quantity}: {self.value:.3g} {u} {op} "
                f"{self.bound:.3g} {u} ({where}, t={self.time:.3g})")


def limit_nets(c: Circuit) -> list[str]:
    """Every net a limit reads (to be saved from the simulation)."""
    out: dict[str, None] = {}
    for lim in c.limits:
        for n in sorted(lim.expr.nets()):
            out[n] = None
    return list(out)


def check_limits(c: Circuit, env: Env, times: np.ndarray, stage: str,
                 copy_map: dict[int, int] | None = None,
                 temp_k: float = T_NOMINAL_K) -> list[Violation]:
    """The limits of ``c`` against net voltages ``env`` (net -> (T,) array at model
    ``times``; nets missing from ``env`` come from the blocks' predictions). One
    violation per device and quantity: its worst point. ``copy_map`` renumbers copies
    (a per-input circuit's copy 0 is input i)."""
    guesses = dict(c.guesses)
    memo: Env = {}
    out = []
    for lim in c.limits:
        try:
            val = np.broadcast_to(np.asarray(evaluate(lim.expr, env, guesses, memo, temp_k),
                                             dtype=float), times.shape)
        except CircuitError:
            continue   # reads a net neither simulated nor predicted
        with np.errstate(invalid="ignore"):
            for bound, side, excess in ((lim.hi, "above", val - (lim.hi or 0.0)),
                                        (lim.lo, "below", (lim.lo or 0.0) - val)):
                if bound is None:
                    continue
                if not np.isfinite(val).all():
                    k = int(np.flatnonzero(~np.isfinite(val))[0])
                elif excess.max() > 0:
                    k = int(np.argmax(excess))
                else:
                    continue
                copy = copy_map.get(lim.copy, lim.copy) if copy_map else lim.copy
                out.append(Violation(lim.device, lim.quantity, copy, float(val[k]),
                                     float(bound), side, float(times[k]), stage, lim.unit))
    return out


def state_env(c: Circuit, u: np.ndarray, vs: float) -> Env:
    """Net voltages of the state nets from model states ``u`` (copies, T, N): the
    environment the predictions need."""
    return {p.net: vs * u[p.copy, :, p.unit] for p in c.probes}

