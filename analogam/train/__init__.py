"""Stage 4a, the digital trainer: equilibrium propagation (or the exact implicit
gradient) on the model's own energy, producing weights a crossbar can hold.

Energy (the model), relaxation (:mod:`.relax`) and learning rule (:mod:`.gradients`)
are separate; state is passed explicitly and the model is never mutated between phases.
"""

from .config import METHODS, TASK_DEFAULTS, TrainConfig, TrainError, config_for
from .evaluate import Evaluation, evaluate
from .gradients import Gradient, cosine, ep_gradient, implicit_gradient
from .loop import TrainResult, gradient, provenance, train
from .loss import Loss
from .params import from_theta, project_bounded, to_theta
from .plots import plot_log
from .relax import Nudge, Relaxed, relax, slowest_rate

__all__ = [
    "METHODS", "TASK_DEFAULTS", "Evaluation", "Gradient", "Loss", "Nudge", "Relaxed",
    "TrainConfig", "TrainError", "TrainResult", "config_for", "cosine", "ep_gradient",
    "evaluate", "from_theta", "gradient", "implicit_gradient", "plot_log",
    "project_bounded", "provenance", "relax", "slowest_rate", "to_theta", "train",
]
