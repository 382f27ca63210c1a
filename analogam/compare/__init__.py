"""Stage 8, comparison: SPICE waveforms read back in model units and time, scored
against the ODE reference (state error, settling, energy along the circuit's path),
and the energy the circuit draws per inference, measured at its supplies.
"""

from .metrics import Comparison, compare, stack
from .power import InferenceEnergy, inference_energy, supply_balance
from .readback import op_states, resample, spice_states

__all__ = ["Comparison", "InferenceEnergy", "compare", "inference_energy", "op_states",
           "resample", "spice_states", "stack", "supply_balance"]
