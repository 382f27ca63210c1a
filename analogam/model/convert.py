"""Importers from other weight formats into an analogam :class:`~analogam.model.Model`.

``analog-denseam``: the parity Analog Energy Transformer as published with
Bacvanski et al., arXiv 2512.15002. Arrays (raw weights are squared, so conductances
are non-negative)::

    xi_attn_embed_raw (vocab, D)   xi_hopf_raw (M, D)   a (D)   b (L)   c (M)
    W_dec (vocab, D)               b_dec (vocab)

Context bit x_l selects row x_l of the squared embedding as attention unit l's weights.
beta = 0.1, tau_v = 0.1, tau_h = 0.01, v(0) = 0, hidden units start at their targets,
read-out at t = 1, prediction = argmax(W_dec v + b_dec).

``analog-et``: the reference work's positional character model (ReLU memories)::

    tok_embed_raw (vocab, D)   pos_embed_raw (L, D)   xi_hopf_raw (M, D)
    a (D)   b (L)   c (M)   W_dec (vocab, D)   b_dec (vocab)
    optional 0-d: beta (0.1), tau_v (0.1), tau_h (0.01), t_read (1.0)

Attention unit l holding token t has the row ``tok_embed_raw[t]^2 +
pos_embed_raw[l]^2``. The file names no characters: the vocabulary is the sorted set
of characters of the text it was trained on (``text``), as in Tiny Shakespeare's
character models.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import WeightsFileError
from .architectures import build_energy_transformer
from .network import Model
from .npz import NpzReader, count_values
from .weights import MAX_VALUES

REFERENCE_ARRAYS = ("xi_attn_embed_raw", "xi_hopf_raw", "a", "b", "c", "W_dec", "b_dec")
ET_ARRAYS = ("tok_embed_raw", "pos_embed_raw", "xi_hopf_raw", "a", "b", "c", "W_dec", "b_dec")
ET_SCALARS = {"beta": 0.1, "tau_v": 0.1, "tau_h": 0.01, "t_read": 1.0}
FORMATS = ("analog-denseam", "analog-et")


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


NDIM = {"xi_attn_embed_raw": 2, "tok_embed_raw": 2, "pos_embed_raw": 2, "xi_hopf_raw": 2,
        "a": 1, "b": 1, "c": 1, "W_dec": 2, "b_dec": 1, **dict.fromkeys(ET_SCALARS, 0)}


def _check_shapes(shapes: dict[str, tuple[int, ...]], names=REFERENCE_ARRAYS) -> None:
    """The reference layout's shapes agree with each other (checked from the ``.npy``
    headers before any array is read, and again on arrays given directly)."""
    for key in names:
        if key not in shapes:
            raise WeightsFileError(f"reference file lacks array {key!r} (needs "
                                   f"{', '.join(names)})")
    for key in shapes:
        if key in NDIM and len(shapes[key]) != NDIM[key]:
            raise WeightsFileError(f"array {key!r} must be {NDIM[key]}-d, got shape "
                                   f"{shapes[key]}")
    vocab, D = shapes[names[0]]
    H = shapes["xi_hopf_raw"]
    checks = [
        (H[1] == D, f"xi_hopf_raw has {H[1]} columns, embedding has D={D}"),
        (shapes["a"] == (D,), f"a has shape {shapes['a']}, expected ({D},)"),
        (shapes["c"] == (H[0],), f"c has shape {shapes['c']}, expected ({H[0]},)"),
        (shapes["W_dec"] == (vocab, D), f"W_dec has shape {shapes['W_dec']}, expected "
                                        f"({vocab}, {D})"),
        (shapes["b_dec"] == (vocab,), f"b_dec has shape {shapes['b_dec']}, expected "
                                      f"({vocab},)"),
        (shapes["b"][0] >= 1, "b (attention bias, one per context position) is empty"),
    ]
    if "pos_embed_raw" in names:
        checks.append((shapes["pos_embed_raw"] == (shapes["b"][0], D),
                       f"pos_embed_raw has shape {shapes['pos_embed_raw']}, expected "
                       f"({shapes['b'][0]}, {D}) (one row per context position)"))
    for ok, msg in checks:
        if not ok:
            raise WeightsFileError(f"reference file: {msg}")
    values = count_values(shapes.values())
    if values > MAX_VALUES:
        raise WeightsFileError(f"reference file holds {values} values (limit {MAX_VALUES}); "
                               "the model is too big to load")


def model_from_analog_denseam(arrays: dict[str, np.ndarray], name: str = "parity8") -> Model:
    """Build the Energy Transformer of a reference-format parity model."""
    E = _get(arrays, "xi_attn_embed_raw", 2, squared=True)
    H = _get(arrays, "xi_hopf_raw", 2, squared=True)
    a, b, c = (_get(arrays, k, 1) for k in "abc")
    W, bd = _get(arrays, "W_dec", 2), _get(arrays, "b_dec", 1)
    _check_shapes({k: np.shape(v) for k, v in (("xi_attn_embed_raw", E), ("xi_hopf_raw", H),
                                                 ("a", a), ("b", b), ("c", c),
                                                 ("W_dec", W), ("b_dec", bd))})
    vocab, D = E.shape
    return build_energy_transformer(
        E, H, context=b.size, visible_bias=a, attention_bias=b, memory_bias=c,
        decoder_weights=W, decoder_bias=bd, beta=0.1, tau_v=0.1, tau_h=0.01,
        readout_time=1.0, name=name, task="parity8" if b.size == 8 and vocab == 2 else "none",
    )


def _scalar(arrays: dict, key: str) -> float:
    if key not in arrays:
        return ET_SCALARS[key]
    v = _get(arrays, key, 0)
    if not v > 0:
        raise WeightsFileError(f"{key} must be positive, got {float(v):g}")
    return float(v)


def model_from_analog_et(arrays: dict[str, np.ndarray], vocabulary: str = "",
                         name: str = "analog-et") -> Model:
    """Build the positional character Energy Transformer of a reference-format file;
    ``vocabulary``: the symbols of its tokens (empty: plain token numbers)."""
    tok = _get(arrays, "tok_embed_raw", 2, squared=True)
    pos = _get(arrays, "pos_embed_raw", 2, squared=True)
    H = _get(arrays, "xi_hopf_raw", 2, squared=True)
    a, b, c = (_get(arrays, k, 1) for k in "abc")
    W, bd = _get(arrays, "W_dec", 2), _get(arrays, "b_dec", 1)
    _check_shapes({"tok_embed_raw": tok.shape, "pos_embed_raw": pos.shape,
                   "xi_hopf_raw": H.shape, "a": a.shape, "b": b.shape, "c": c.shape,
                   "W_dec": W.shape, "b_dec": bd.shape}, ET_ARRAYS)
    if vocabulary and len(vocabulary) != tok.shape[0]:
        raise WeightsFileError(f"the text names {len(vocabulary)} characters but the model "
                               f"has {tok.shape[0]} tokens; give the text it was trained on")
    beta, tau_v, tau_h, t_read = (_scalar(arrays, k) for k in ET_SCALARS)
    return build_energy_transformer(
        tok, H, context=b.size, positions=pos, visible_bias=a, attention_bias=b,
        memory_bias=c, decoder_weights=W, decoder_bias=bd, beta=beta, tau_v=tau_v,
        tau_h=tau_h, readout_time=t_read, memory_activation="relu",
        vocabulary=vocabulary, name=name, task="text" if vocabulary else "none")


def convert_file(path: str | os.PathLike, fmt: str, vocabulary: str = "") -> Model:
    """Read a foreign weights file of format ``fmt`` into a Model (``vocabulary``: the
    token symbols of an ``analog-et`` character model)."""
    if fmt not in FORMATS:
        raise WeightsFileError(f"unknown source format {fmt!r}; valid: {', '.join(FORMATS)}")
    names = ET_ARRAYS if fmt == "analog-et" else REFERENCE_ARRAYS
    optional = tuple(ET_SCALARS) if fmt == "analog-et" else ()
    try:
        with NpzReader(path, what="reference file") as z:
            _check_shapes({k: z.header(k)[0] for k in names + optional if k in z.names()},
                          names)
            arrays = {k: z.read(k) for k in names + optional if k in z.names()}
        if fmt == "analog-et":
            return model_from_analog_et(arrays, vocabulary, name=Path(path).stem[:64])
        return model_from_analog_denseam(arrays, name=Path(path).stem[:64])
    except WeightsFileError as e:
        raise WeightsFileError(f"{Path(path).name}: {e}") from None
