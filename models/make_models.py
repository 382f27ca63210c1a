"""Regenerate the hand-built example models: ``python models/make_models.py``.

models/xor.npz        XOR truth-table memories (3 visible, 4 hidden softmax, beta 10)
models/hamming74.npz  Hamming (7,4) codewords (7 visible, 16 hidden softmax, beta 10)

Byte-deterministic: rerunning changes nothing (tests check the committed files).
"""

from pathlib import Path

from analogam.model.weights import save_model
from analogam.tasks import build_hamming_model, build_xor_model

HERE = Path(__file__).resolve().parent
BUILDERS = {"xor.npz": build_xor_model, "hamming74.npz": build_hamming_model}


def main() -> None:
    for fname, build in BUILDERS.items():
        save_model(build(), HERE / fname, provenance={"built_by": "models/make_models.py"})
        print(f"wrote {HERE / fname}")


if __name__ == "__main__":
    main()
