"""Hamming (7,4) end to end: all 16 codewords and 112 single-bit errors, compiled,
simulated in ngspice at a chosen level, compared with the ODE reference.

    python examples/hamming.py [ideal|bjt|opamp|pdk] [--quick]

--quick simulates every eighth input.
"""

from run_task import run_task

if __name__ == "__main__":
    raise SystemExit(run_task("hamming74"))
