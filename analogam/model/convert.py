"""Importers from other weight formats into an analogam :class:`~analogam.model.Model`.

``analog-denseam``: the parity Analog Energy Transformer as published with
Bacvanski et al., arXiv 2512.15002. Arrays (raw weights are squared, so conductances
are non-negative)::

    xi_attn_embed_raw (vocab, D)   xi_hopf_raw (M, D)   a (D)   b (L)   c (M)
    W_dec (vocab, D)               b_dec (vocab)

Context bit x_l selects row x_l of the squared embedding as attention unit l's weights.
beta = 0.1, tau_v = 0.1, tau_h = 0.01, v(0) = 0, hidden units start at their targets,
read-out at t = 1, prediction = argmax(W_dec v + b_dec).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import WeightsFileError
from .architectures import build_energy_transformer
from .network import Model
from .npz import NpzReader

REFERENCE_ARRAYS = ("xi_attn_embed_raw", "xi_hopf_raw", "a", "b", "c", "W_dec", "b_dec")
FORMATS = ("analog-denseam",)


def _get(arrays: dict, key: str, ndim: int, squared: bool = False) -> np.ndarray:
    if key not in arrays:
        raise WeightsFileError(f"reference file lacks array {key!r} (needs "
                               f"{', '.join(REFERENCE_ARRAYS)})")
    a = arrays[key]
    if a.dtype.kind not in "fiu" or a.ndim != ndim:
        raise WeightsFileError(f"array {key!r} must be a {ndim}-d numeric array, "
                               f"got {a.ndim}-d {a.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        a = a.astype(float) ** 2 if squared else a.astype(float)
    if not np.all(np.isfinite(a)):
        raise WeightsFileError(f"array {key!r} contains NaN or inf values"
                               + (" once squared" if squared else ""))
    return a


def model_from_analog_denseam(arrays: dict[str, np.ndarray], name: str = "parity8") -> Model:
    """Build the Energy Transformer of a reference-format parity model."""
    E = _get(arrays, "xi_attn_embed_raw", 2, squared=True)
    H = _get(arrays, "xi_hopf_raw", 2, squared=True)
    a, b, c = (_get(arrays, k, 1) for k in "abc")
    W, bd = _get(arrays, "W_dec", 2), _get(arrays, "b_dec", 1)
    vocab, D = E.shape
    checks = [
        (H.shape[1] == D, f"xi_hopf_raw has {H.shape[1]} columns, embedding has D={D}"),
        (a.shape == (D,), f"a has shape {a.shape}, expected ({D},)"),
        (c.shape == (H.shape[0],), f"c has shape {c.shape}, expected ({H.shape[0]},)"),
        (W.shape == (vocab, D), f"W_dec has shape {W.shape}, expected ({vocab}, {D})"),
        (bd.shape == (vocab,), f"b_dec has shape {bd.shape}, expected ({vocab},)"),
        (b.size >= 1, "b (attention bias, one per context position) is empty"),
    ]
    for ok, msg in checks:
        if not ok:
            raise WeightsFileError(f"reference file: {msg}")
    return build_energy_transformer(
        E, H, context=b.size, visible_bias=a, attention_bias=b, memory_bias=c,
        decoder_weights=W, decoder_bias=bd, beta=0.1, tau_v=0.1, tau_h=0.01,
        readout_time=1.0, name=name, task="parity8" if b.size == 8 and vocab == 2 else "none",
    )


def convert_file(path: str | os.PathLike, fmt: str) -> Model:
    """Read a foreign weights file of format ``fmt`` into a Model."""
    if fmt not in FORMATS:
        raise WeightsFileError(f"unknown source format {fmt!r}; valid: {', '.join(FORMATS)}")
    with NpzReader(path, what="reference file") as z:
        arrays = {k: z.read(k) for k in REFERENCE_ARRAYS if k in z.names()}
    try:
        return model_from_analog_denseam(arrays, name=Path(path).stem[:64])
    except WeightsFileError as e:
        raise WeightsFileError(f"{Path(path).name}: {e}") from None
