"""The analogam weights file: a versioned ``.npz`` of plain arrays plus JSON metadata.

Layout (format ``analogam-weights``, version 1)::

    __meta__                 0-d unicode array: JSON (name, task, readout_time, groups,
                             couplings, decoder, provenance)
    group.<name>.bias        (size,)
    coupling.<name>.weights  (H, V), or (vocab, V) for token couplings
    decoder.weights          (K, n)      decoder.bias  (K,)

Loading never unpickles (``allow_pickle=False``) and validates everything, failing
with one :class:`~analogam.errors.WeightsFileError` line on the first problem.
Saving is atomic and byte-deterministic (fixed zip timestamps, sorted members).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_open
from ..errors import ModelError, WeightsFileError
from .activations import ACTIVATIONS
from .network import TOKEN_SOURCES, Coupling, Decoder, Group, Model
from .npz import NpzReader, count_values

FORMAT = "analogam-weights"
VERSION = 1
META_KEY = "__meta__"
MAX_META_CHARS = 1 << 20
MAX_GROUP_UNITS = 1 << 20
MAX_UNITS = 1 << 21
MAX_VALUES = 1 << 24
"""Most values one weights file may hold in all its arrays (16 M: 128 MiB as float64)."""
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def model_to_arrays(model: Model, provenance: dict[str, Any] | None = None) -> dict:
    """The arrays (and metadata string) that represent ``model`` on disk."""
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "name": model.name,
        "task": model.task,
        "readout_time": model.readout_time,
        "groups": [
            {"name": g.name, "size": int(g.size), "activation": g.activation,
             "tau": float(g.tau), "param": float(g.param), "init": g.init}
            for g in model.groups
        ],
        "couplings": [
            {"name": c.name, "hidden": c.hidden, "visible": c.visible, "source": c.source}
            for c in model.couplings
        ],
        "decoder": None if model.decoder is None else {"group": model.decoder.group},
        "provenance": provenance or {},
    }
    if model.vocabulary:   # only a character model names its symbols
        meta["vocabulary"] = model.vocabulary
    if model.classes:      # only a classifier names its classes
        meta["classes"] = list(model.classes)
    arrays = {META_KEY: np.array(json.dumps(meta, sort_keys=True))}
    for g in model.groups:
        arrays[f"group.{g.name}.bias"] = np.asarray(g.bias)
    for c in model.couplings:
        arrays[f"coupling.{c.name}.weights"] = np.asarray(c.weights)
    if model.decoder is not None:
        arrays["decoder.weights"] = np.asarray(model.decoder.weights)
        arrays["decoder.bias"] = np.asarray(model.decoder.bias)
    return arrays


def save_model(model: Model, path: str | os.PathLike, provenance: dict | None = None) -> None:
    """Write ``model`` to ``path`` atomically; same model gives the same bytes."""
    arrays = model_to_arrays(model, provenance)
    with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as member:
                np.lib.format.write_array(member, np.asarray(arrays[key], order="C"),
                                          allow_pickle=False)


def _field(obj: dict, key: str, typ, where: str):
    if key not in obj:
        raise WeightsFileError(f"metadata: {where} lacks field {key!r}")
    val = obj[key]
    if typ is float and isinstance(val, int | float) and not isinstance(val, bool):
        return float(val)
    if not isinstance(val, typ) or isinstance(val, bool) and typ is not bool:
        raise WeightsFileError(
            f"metadata: {where} field {key!r} must be {typ.__name__}, got {type(val).__name__}"
        )
    return val


def _name(obj: dict, where: str) -> str:
    n = _field(obj, "name", str, where)
    if not _NAME.fullmatch(n):
        raise WeightsFileError(
            f"metadata: {where} name {n!r} is not an identifier (letters, digits, _; "
            "starting with a letter; at most 32 characters)"
        )
    return n


def _array(arrays: dict, key: str) -> np.ndarray:
    if key not in arrays:
        raise WeightsFileError(f"weights file lacks required array {key!r}")
    a = arrays[key]
    if a.dtype.kind not in "fiu":
        raise WeightsFileError(f"array {key!r} has dtype {a.dtype}, expected a numeric dtype")
    a = a.astype(float)
    if not np.all(np.isfinite(a)):
        raise WeightsFileError(f"array {key!r} contains NaN or inf values; fix the weights")
    return a


def _meta(arrays: dict) -> dict:
    if META_KEY not in arrays:
        raise WeightsFileError(
            f"not an analogam weights file (no {META_KEY!r} array); to import a reference "
            "model use `analogam convert --from analog-denseam`"
        )
    raw = arrays[META_KEY]
    if raw.dtype.kind != "U" or raw.shape != () or len(str(raw)) > MAX_META_CHARS:
        raise WeightsFileError(f"{META_KEY!r} must be a 0-d unicode string of JSON")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError as e:
        raise WeightsFileError(f"metadata is not valid JSON: {e}") from None
    except RecursionError:
        raise WeightsFileError("metadata JSON is nested too deeply") from None
    except ValueError:   # an integer of more than 4300 digits
        raise WeightsFileError("metadata JSON holds a number too long for a weights "
                               "file") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise WeightsFileError(f"metadata format is not {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise WeightsFileError(
            f"weights format version {meta.get('version')!r} is not supported "
            f"(this analogam reads version {VERSION})"
        )
    return meta


def model_from_arrays(arrays: dict[str, np.ndarray]) -> Model:
    """Validate and build a Model from the arrays of a weights file."""
    try:
        return _build(arrays)
    except WeightsFileError:
        raise
    except ModelError as e:
        raise WeightsFileError(str(e)) from None


def _entries(meta: dict, key: str, what: str):
    """(where, entry, name) for each object of the metadata list ``key``."""
    for i, obj in enumerate(_field(meta, key, list, "top level")):
        where = f"{what} #{i}"
        if not isinstance(obj, dict):
            raise WeightsFileError(f"metadata: {where} is not an object")
        yield where, obj, _name(obj, where)


def _build(arrays: dict[str, np.ndarray]) -> Model:
    meta = _meta(arrays)
    groups = []
    for where, g, name in _entries(meta, "groups", "group"):
        act = _field(g, "activation", str, where)
        if act not in ACTIVATIONS:
            raise WeightsFileError(
                f"metadata: group {name!r} has unknown activation {act[:40]!r}; "
                f"valid: {', '.join(sorted(ACTIVATIONS))}"
            )
        tau = _field(g, "tau", float, where)
        if not (np.isfinite(tau) and tau > 0):
            raise WeightsFileError(f"metadata: group {name!r} tau must be positive, got {tau}")
        groups.append(Group(
            name=name, size=_field(g, "size", int, where), activation=act, tau=tau,
            bias=_array(arrays, f"group.{name}.bias"), param=_field(g, "param", float, where),
            init=_field(g, "init", str, where),
        ))
    couplings = []
    for where, c, name in _entries(meta, "couplings", "coupling"):
        couplings.append(Coupling(
            name=name, hidden=_field(c, "hidden", str, where),
            visible=_field(c, "visible", str, where),
            weights=_array(arrays, f"coupling.{name}.weights"),
            source=_field(c, "source", str, where),
        ))
    decoder = None
    dmeta = meta.get("decoder")
    if dmeta is not None:
        if not isinstance(dmeta, dict):
            raise WeightsFileError("metadata: decoder is not an object")
        decoder = Decoder(_field(dmeta, "group", str, "decoder"),
                          _array(arrays, "decoder.weights"), _array(arrays, "decoder.bias"))
    return Model(
        name=_field(meta, "name", str, "top level")[:200],
        groups=tuple(groups), couplings=tuple(couplings),
        readout_time=_field(meta, "readout_time", float, "top level"),
        task=_field(meta, "task", str, "top level")[:64], decoder=decoder,
        vocabulary=_field(meta, "vocabulary", str, "top level") if "vocabulary" in meta
        else "",
        classes=_class_names(meta),
    )


def _class_names(meta: dict) -> tuple[str, ...]:
    names = _field(meta, "classes", list, "top level") if "classes" in meta else []
    if not all(isinstance(c, str) for c in names):
        raise WeightsFileError("metadata: classes must be a list of texts")
    return tuple(names)


def _expected_shapes(meta: dict) -> dict[str, tuple]:
    """The arrays a weights file with this metadata holds, and their shapes (None: any
    length), checked against the size limits before anything is decompressed."""
    sizes, out, total = {}, {}, 0
    for where, g, name in _entries(meta, "groups", "group"):
        size = _field(g, "size", int, where)
        if not 1 <= size <= MAX_GROUP_UNITS:
            raise WeightsFileError(f"metadata: group {name!r} has {size} units (limit "
                                   f"{MAX_GROUP_UNITS}); the model is too big to load")
        sizes[name] = size
        total += size
        out[f"group.{name}.bias"] = (size,)
    if total > MAX_UNITS:
        raise WeightsFileError(f"metadata: the model has {total} units (limit {MAX_UNITS}); "
                               "too big to load")
    for where, c, name in _entries(meta, "couplings", "coupling"):
        h, v = (sizes.get(_field(c, k, str, where)) for k in ("hidden", "visible"))
        if h is None or v is None:
            continue  # named groups are checked when the model is built
        if c.get("source") in TOKEN_SOURCES:
            out[f"coupling.{name}.weights"] = (None, v)
        elif h * v > MAX_VALUES:
            raise WeightsFileError(f"metadata: coupling {name!r} has {h}x{v} weights (limit "
                                   f"{MAX_VALUES}); the model is too big to load")
        else:
            out[f"coupling.{name}.weights"] = (h, v)
    dmeta = meta.get("decoder")
    if isinstance(dmeta, dict) and dmeta.get("group") in sizes:
        out["decoder.weights"] = (None, sizes[dmeta["group"]])
        out["decoder.bias"] = (None,)
    return out


def load_weights(path: str | os.PathLike) -> tuple[Model, dict]:
    """Load and validate an analogam weights file, each array read once and only after
    its shape was checked against the metadata: the model and the provenance record
    stored with it (empty if none)."""
    name = Path(path).name[:100]
    with NpzReader(path) as z:
        try:
            raw = (z.read(META_KEY, (), kinds="U", max_bytes=4 * MAX_META_CHARS + 4096)
                   if META_KEY in z.names() else None)
            meta = _meta({} if raw is None else {META_KEY: raw})
            expected = _expected_shapes(meta)
        except WeightsFileError as e:
            raise WeightsFileError(f"{name}: {e}") from None
        z.refuse_unknown([META_KEY, *expected])
        present = [k for k in expected if k in z.names()]
        # rows of a token coupling or a decoder are free in the metadata: count every
        # array's values from its header before reading any
        values = count_values(z.header(k)[0] for k in present)
        if values > MAX_VALUES:
            raise WeightsFileError(f"{name}: its arrays hold {values} values (limit "
                                   f"{MAX_VALUES}); the model is too big to load")
        arrays = {META_KEY: raw}
        for key in present:
            arrays[key] = z.read(key, expected[key])
    try:
        model = model_from_arrays(arrays)
    except WeightsFileError as e:
        raise WeightsFileError(f"{name}: {e}") from None
    prov = meta.get("provenance", {})
    return model, (prov if isinstance(prov, dict) else {})


def load_model(path: str | os.PathLike) -> Model:
    """Load and validate an analogam weights file."""
    return load_weights(path)[0]


def load_provenance(path: str | os.PathLike) -> dict:
    """The provenance record stored with a weights file (empty if none)."""
    return load_weights(path)[1]
