"""Stage 3, the ODE reference: the model's dynamics integrated by a real adaptive solver,
batched over inputs, with the checks of docs/design.md section 5 (bounded, non-increasing
energy; settled at the read-out) reported in the result, never hidden.
"""

from .metrics import SETTLE_BAND, settling_time
from .ode import METHODS, SETTLE_TOL, OdeResult, Trajectory, integrate, simulate_ode

__all__ = ["METHODS", "SETTLE_BAND", "SETTLE_TOL", "OdeResult", "Trajectory", "integrate",
           "settling_time", "simulate_ode"]
