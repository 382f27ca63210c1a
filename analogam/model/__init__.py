"""Stage 1, the model: groups, couplings, energy, force, Jacobian (the math, once),
binding to inputs, the two architectures, weight files and importers.

Everything downstream (tasks, ODE reference, trainer, compiler) reads the math from
here and re-derives nothing.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .binding import Stimulus, System, bind, concat_systems, repeat_system
from .dynamics import (
    BoundCheck,
    Contraction,
    activation_jacobians,
    check_energy_bounded,
    contraction,
    decode,
    decoder_logits,
    drives,
    energy,
    energy_rise,
    force,
    group_outputs,
    jacobian,
    outputs,
    residual,
)
from .network import Coupling, Decoder, Group, Model, vocab_size
from .parameters import drive_vjp, energy_gradients, parameters, with_parameters

__all__ = [
    "ACTIVATIONS", "Activation", "BoundCheck", "Contraction", "Coupling", "Decoder", "Group",
    "Model",
    "Stimulus", "System", "activation_jacobians", "bind", "check_energy_bounded",
    "concat_systems", "contraction", "decode", "decoder_logits", "drive_vjp", "drives",
    "energy",
    "energy_gradients", "energy_rise", "force", "get_activation", "group_outputs", "jacobian",
    "outputs", "parameters", "repeat_system", "residual", "vocab_size", "with_parameters",
]
