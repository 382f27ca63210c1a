"""From trained parameters to a model a circuit can hold: conductances pruned to one
device window, the read-out placed where every input has settled, and the check that
the continuous-time dynamics agree with the trainer (docs/design.md section 5)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..model import Model, Stimulus, System, bind, contraction, vocab_size, with_parameters
from ..reference import SETTLE_TOL, simulate_ode
from ..tasks import bind_task, task_for
from ..tasks.text import load_corpus
from .evaluate import Evaluation

READOUT_GRID = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 96.0,
                128.0)


def prune_to_window(model: Model, ratio: float) -> tuple[Model, int]:
    """Remove (set to 0: no device) every conductance below ``max / ratio``, the largest
    over all couplings, so the rest fits a device window of that on/off ratio.
    Returns the model and how many were removed."""
    ws = [c.weights for c in model.couplings]
    top = max((float(w.max()) for w in ws if w.size), default=0.0)
    floor = top / ratio
    pruned = sum(int(np.sum((w > 0) & (w < floor))) for w in ws)
    return with_parameters(model, {
        f"coupling.{c.name}.weights": np.where(c.weights < floor, 0.0, c.weights)
        for c in model.couplings}), pruned


def settle_readout(model: Model, inputs: np.ndarray, tol: float = SETTLE_TOL / 10) -> Model:
    """The model with the shortest read-out time of READOUT_GRID at which a tight ODE
    has settled (residual <= ``tol``, a tenth of the read-out check's tolerance, so the
    check passes with margin) on every input; unchanged if none has."""
    system = bind_task(model, inputs)
    for t in READOUT_GRID:
        r = simulate_ode(system, t, method="RK45", rtol=1e-8, atol=1e-10, n_points=2)
        if r.success and np.all(r.residual <= tol):
            return replace(model, readout_time=t)
    return model


def deployability(model: Model, inputs: np.ndarray, final: Evaluation) -> dict:
    """docs/design.md section 5: do a tight adaptive ODE's (the reference's own choice of
    integrator, at rtol 1e-8) read-out predictions equal the
    trainer's fixed-point predictions, is the energy bounded, has every input settled?"""
    task = task_for(model)
    ode = simulate_ode(bind_task(model, inputs), rtol=1e-8, atol=1e-10,
                       n_points=2)
    pred = task.predict(model, ode.u_final)
    agree = np.all(pred == final.predictions, axis=1)
    return {
        "ode_agrees": int(agree.sum()), "inputs": int(inputs.shape[0]),
        "ode_settled": int(ode.settled.sum()), "bounded": bool(ode.bound.bounded),
        "sigma_max": ode.bound.sigma_max, "readout_time": model.readout_time,
        "max_ode_residual": float(ode.residual.max()),
        "deployable": bool(agree.all() and ode.settled.all() and ode.bound.bounded
                           and final.converged.all()),
    }


def check_continuous(system: System, n_points: int = 8) -> dict:
    """Does the model work as a continuous-time system, as a circuit runs it? The ODE
    (the reference's integrator, rtol 1e-8) from the initial state to the read-out on
    the system's inputs: the solver's verdict, how many settled (residual <= SETTLE_TOL), the
    largest |u| reached (model units), whether the energy is bounded and never rose,
    and the contraction gain of the visible map. ``problems`` lists each failed check
    with its numbers; empty means deployable. A model trained as a discrete map (a few
    Euler steps) that only works that way fails here."""
    model = system.model
    ode = simulate_ode(system, rtol=1e-8, atol=1e-10, n_points=n_points)
    peak = float(np.nanmax(np.abs(np.where(np.isfinite(ode.u), ode.u, np.inf))))
    c = contraction(system) if "v" in model.slices else None
    gain = float(c.gain.max()) if c is not None else float("nan")
    settled = int(ode.settled.sum())
    B = system.batch
    problems = []
    if not ode.success:
        problems.append(f"the ODE failed before the read-out t={model.readout_time:g}: "
                        f"{ode.message}")
    if not np.isfinite(peak) or peak > 1e6:
        problems.append(f"the continuous dynamics diverge: |u| reaches {peak:.3g} model units "
                        f"by t={model.readout_time:g}")
    if settled < B:
        problems.append(f"{B - settled} of {B} inputs have not settled at the read-out "
                        f"t={model.readout_time:g} (largest residual "
                        f"{float(np.nanmax(ode.residual)):.3g} > {SETTLE_TOL:g})")
    if not ode.bound.bounded:
        problems.append(ode.bound.message)
    monotone = int(ode.energy_monotone.sum())
    rising = B - monotone
    if rising:
        problems.append(f"the energy rises on {rising} of {B} inputs")
    return {"inputs": B, "settled": settled, "peak_state": peak,
            "max_residual": float(np.nanmax(ode.residual)), "bounded": ode.bound.bounded,
            "sigma_max": ode.bound.sigma_max, "energy_monotone": monotone,
            "contraction_gain": gain,
            "contraction_parts": {} if c is None else {k: float(t.max())
                                                       for k, t in c.terms.items()},
            "readout_time": model.readout_time, "problems": problems,
            "deployable": not problems}


def check_character_model(model: Model, text: str | None, n: int = 64) -> dict:
    """:func:`check_continuous` of a character model on ``n`` held-out windows of the
    text it learnt, or on ``n`` seeded random contexts when no text is given."""
    C = model.group("attn").size
    if model.vocabulary and text:
        rows = load_corpus(text, C, vocabulary=model.vocabulary).sample("heldout", n, 0)
        return check_continuous(bind_task(model, rows))
    tokens = np.random.default_rng(0).integers(0, vocab_size(model), (n, C))
    return check_continuous(bind(model, Stimulus(n, tokens=tokens)))
