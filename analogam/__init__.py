"""analogam: energy-based networks (Dense Associative Memories, Energy Transformers)
compiled to analog circuits and verified in ngspice.

Pipeline (docs/design.md section 2), one package per stage, imports flowing one way:
model -> tasks -> reference (ODE) / train (EP) ; model -> circuit -> netlist ; spice ;
compare (reads reference, circuit and spice) ; study (the end-to-end pipeline, reports,
Monte Carlo). ``errors``, ``atomic`` and ``figures`` are shared by all.
"""

__version__ = "0.1.0"
