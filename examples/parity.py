"""8-bit parity end to end: the EP-trained Energy Transformer (models/parity8.npz) on
all 256 strings, compiled, simulated in ngspice, and compared three ways: circuit,
ODE reference, and the trainer's own settled predictions.

    python examples/parity.py [ideal|bjt|opamp|pdk] [--quick]

--quick simulates every eighth input.
"""

from run_task import run_task

if __name__ == "__main__":
    raise SystemExit(run_task("parity8"))
