"""analogam: energy-based networks (Dense Associative Memories, Energy Transformers)
compiled to analog circuits and verified in ngspice.

Pipeline (see DESIGN.md): weights file -> Model -> ODE reference / circuit IR -> netlist
-> ngspice -> comparison.
"""

__version__ = "0.1.0"
