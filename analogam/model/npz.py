"""Reading ``.npz`` files that may be malformed or malicious: never unpickle, never
decompress before the sizes are known.

Each member's ``.npy`` header (shape and dtype) is read first, from the stream, and
checked against what the caller expects and against the size the zip declares for the
member; only then is the array read, once. Object arrays are refused (they would need
unpickling). A bomb (a small file declaring gigabytes, an unknown extra array, a header
that lies about its size) fails in milliseconds with one line.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import WeightsFileError

MAX_TOTAL_BYTES = 1 << 31
"""Largest total a file's arrays may expand to (2 GiB)."""

Shape = tuple[int | None, ...]


class NpzReader:
    """A validated ``.npz`` archive opened for reading; use as a context manager."""

    def __init__(self, path: str | os.PathLike, what: str = "weights file",
                 max_bytes: int = MAX_TOTAL_BYTES) -> None:
        self.path, self.what = Path(path), what
        p = self.path
        if not p.is_file():
            raise WeightsFileError(f"{what} {str(p)[:200]!r} does not exist or is not a "
                                   "regular file")
        try:
            self.zf = zipfile.ZipFile(p)
        except (zipfile.BadZipFile, OSError) as e:
            raise WeightsFileError(f"{what} {p.name!r} is not a valid .npz (truncated or not a "
                                   f"zip archive: {e})") from None
        try:
            infos = self.zf.infolist()
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise WeightsFileError(f"{what} {p.name!r} has duplicate members")
            bad = [n for n in names if not n.endswith(".npy")]
            if bad:
                raise WeightsFileError(f"{what} {p.name!r} has a member that is not an array: "
                                       f"{bad[0][:60]!r}")
            total = sum(i.file_size for i in infos)
            if total > max_bytes:
                raise WeightsFileError(f"{what} {p.name!r} declares {total} bytes of arrays "
                                       f"(limit {max_bytes}); refusing to decompress it")
            self.infos = {i.filename[:-4]: i for i in infos}
        except BaseException:
            self.zf.close()
            raise

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc) -> None:
        self.zf.close()

    def names(self) -> list[str]:
        return list(self.infos)

    def _fail(self, msg: str) -> WeightsFileError:
        return WeightsFileError(f"{self.path.name[:100]}: {msg}")

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """Shape and dtype of member ``name`` from its ``.npy`` header alone, checked
        against the size the archive declares for it."""
        info = self.infos[name]
        try:
            with self.zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)
                shape, _, dtype = reader(f)
                start = f.tell()
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise self._fail(f"array {name!r} has an unreadable header ({e})") from None
        if dtype.hasobject:
            raise self._fail(f"array {name!r} holds object arrays, which would need unpickling; "
                             "refusing (save plain numeric arrays)")
        count = 1
        for d in shape:
            count *= int(d)
        if info.file_size != start + count * dtype.itemsize:
            raise self._fail(f"array {name!r} declares {info.file_size} bytes but its header "
                             f"says {shape} {dtype}; the file is corrupt or crafted")
        return tuple(int(d) for d in shape), dtype

    def read(self, name: str, shape: Shape | None = None, kinds: str = "fiu",
             max_bytes: int | None = None) -> np.ndarray:
        """Member ``name``, after checking its header: dtype kind in ``kinds``, ``shape``
        (None entries match any length) when given, at most ``max_bytes``."""
        if name not in self.infos:
            raise self._fail(f"lacks required array {name!r}")
        if max_bytes is not None and self.infos[name].file_size > max_bytes:
            raise self._fail(f"array {name!r} declares {self.infos[name].file_size} bytes "
                             f"(limit {max_bytes})")
        got, dtype = self.header(name)
        if dtype.kind not in kinds:
            raise self._fail(f"array {name!r} has dtype {dtype}, expected "
                             + ("a numeric dtype" if kinds == "fiu" else f"kind {kinds}"))
        if shape is not None and (len(got) != len(shape) or any(
                e is not None and e != g for e, g in zip(shape, got, strict=True))):
            want = "(" + ", ".join("*" if e is None else str(e) for e in shape) + ")"
            raise self._fail(f"array {name!r} has shape {got}, expected {want}")
        try:
            with self.zf.open(self.infos[name]) as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise self._fail(f"array {name!r} cannot be read ({e})") from None

    def refuse_unknown(self, known: Iterable[str]) -> None:
        extra = sorted(set(self.infos) - set(known))
        if extra:
            raise self._fail(f"holds unknown array {extra[0][:60]!r}"
                             + (f" and {len(extra) - 1} more" if len(extra) > 1 else "")
                             + "; refusing (an analogam file holds only its model's arrays)")


def count_values(shapes) -> int:
    """How many values arrays of these shapes hold (exact: no overflow on crafted
    headers)."""
    return sum(int(np.prod(sh, dtype=object)) for sh in shapes)


def read_npz(path: str | os.PathLike, what: str = "weights file",
             max_bytes: int = MAX_TOTAL_BYTES, kinds: str = "fiuU") -> dict[str, np.ndarray]:
    """Every array of an ``.npz``, each checked by its header before it is read."""
    with NpzReader(path, what, max_bytes) as z:
        return {k: z.read(k, kinds=kinds) for k in z.names()}
