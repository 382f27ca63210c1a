"""Stage 5, the circuit: the IR (immutable elements with roles, no SPICE text), its
structural checks, device kits and the one device configuration, registered circuit
blocks per fidelity level, and the compiler that realises a bound model with them.
"""

from .blocks import BLOCKS, activations_registered, block
from .builder import CircuitBuilder
from .checks import check_circuit
from .config import DeviceConfig, Scales, config_from_dict, format_config, load_config
from .ir import GROUND, Circuit, Element, Probe, flatten
from .levels import LEVELS, Level, get_level
from .options import CompileOptions
from .pdk import PROCESS_KITS, ProcessKit, get_process_kit
from .realise import Compiled, build_circuit, fit_conductances
from .testbench import build_softmax_testbench

__all__ = [
    "BLOCKS", "GROUND", "LEVELS", "PROCESS_KITS", "Circuit", "CircuitBuilder",
    "CompileOptions", "Compiled", "DeviceConfig", "Element", "Level", "Probe", "ProcessKit",
    "Scales", "activations_registered", "block", "build_circuit", "build_softmax_testbench",
    "check_circuit", "config_from_dict", "fit_conductances", "flatten", "format_config",
    "get_level", "get_process_kit", "load_config",
]
