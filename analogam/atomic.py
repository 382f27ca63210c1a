"""Atomic file output: write to a temporary file beside the target, then rename.

A failure (exception, Ctrl-C) mid-write leaves the target untouched and no temp file.
Only regular files are ever replaced: a device node, a FIFO, a symlink or a directory
at the target is refused (as root, renaming over ``/dev/null`` would replace the device
with a file). A temp file left by a writer killed with SIGKILL is removed by the next
write to the same target.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from .errors import AnalogamError


class OutputError(AnalogamError):
    """An output path that must not be written."""


def _prefix(target: Path) -> str:
    """Temp names are short (a 250-character target still fits the 255-byte limit) and
    tied to their target, so stale ones can be found."""
    return ".ana-" + hashlib.sha256(target.name.encode("utf-8", "surrogateescape")
                                    ).hexdigest()[:10] + "-"


def check_output(path: str | os.PathLike, protect: Iterable[str | os.PathLike] = ()) -> Path:
    """``path`` as a Path if it may be written: absent or a regular file, and not the
    same file as any of ``protect`` (the command's inputs)."""
    target = Path(path)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    except OSError as e:
        raise OutputError(f"cannot use output {str(target)[:200]!r}: {e.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"refusing to write {str(target)[:200]!r}: it is a symbolic link")
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise OutputError(f"refusing to write {str(target)[:200]!r}: it is {kind}")
    for p in protect:
        with contextlib.suppress(OSError):
            if os.path.samefile(target, p):
                raise OutputError(f"refusing to write {str(target)[:200]!r}: it is an input "
                                  "of this command; choose another output")
    return target


def _clean_stale(target: Path) -> None:
    """Remove temp files of this target whose writer process no longer exists."""
    pre = _prefix(target)
    with contextlib.suppress(OSError):
        for tmp in target.parent.glob(pre + "*.tmp"):
            try:
                pid = int(tmp.name[len(pre):].split("-", 1)[0])
            except ValueError:
                continue
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w",
                protect: Iterable[str | os.PathLike] = ()) -> Iterator[IO]:
    """Open a temp file in ``path``'s directory; rename it onto ``path`` on success.
    ``path`` must be absent or a regular file (see :func:`check_output`)."""
    target = check_output(path, protect)
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=f"{_prefix(target)}{os.getpid()}-", suffix=".tmp",
                               dir=target.parent)
    try:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        check_output(target, protect)  # nothing was put there meanwhile
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
