"""Reader for ngspice's binary (and ASCII) raw files, real-valued analyses."""

from __future__ import annotations

import os

import numpy as np

from ..errors import SimulationError


def read_raw(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Vectors of the last plot in a raw file: lower-cased name -> (points,) float array
    (complex for an AC analysis).

    Format: text header (``No. Variables:``, ``No. Points:``, ``Variables:`` table,
    ``Flags:``) then ``Binary:`` and points x variables little-endian float64 values
    (pairs of them when the flags say complex), or ``Values:`` and an ASCII table.
    """
    with open(path, "rb") as f:
        data = f.read()
    plots, pos = [], 0
    while pos < len(data):
        header, nvars, npts, names, flags = {}, 0, 0, [], ""
        while True:
            end = data.find(b"\n", pos)
            if end < 0:
                raise SimulationError(f"raw file {path} is truncated (no data section)")
            line = data[pos:end].decode("latin-1").rstrip("\r")
            pos = end + 1
            key, _, val = line.partition(":")
            key = key.strip().lower()
            if key == "no. variables":
                nvars = int(val)
            elif key == "no. points":
                npts = int(val)
            elif key == "flags":
                flags = val.strip().lower()
            elif key == "variables":
                for _ in range(nvars):
                    end = data.find(b"\n", pos)
                    parts = data[pos:end].decode("latin-1").split()
                    pos = end + 1
                    names.append(parts[1].lower())
            elif key in ("binary", "values"):
                header["kind"] = key
                break
        cplx = "complex" in flags
        if cplx and header["kind"] != "binary":
            raise SimulationError("complex ASCII raw files are not supported; write binary")
        if header["kind"] == "binary":
            n = nvars * npts
            dtype, size = ("<c16", 16) if cplx else ("<f8", 8)
            arr = np.frombuffer(data, dtype=dtype, count=n, offset=pos).reshape(npts, nvars)
            pos += n * size
        else:
            rows, tokens = [], data[pos:].decode("latin-1").split()
            i = 0
            for _ in range(npts):
                i += 1  # point index
                rows.append([float(t) for t in tokens[i : i + nvars]])
                i += nvars
            arr = np.array(rows).reshape(npts, nvars)
            pos = len(data)
        plots.append(dict(zip(names, arr.T.copy(), strict=True)))
        while pos < len(data) and data[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1
    if not plots:
        raise SimulationError(f"raw file {path} holds no plot")
    return plots[-1]
