"""Scratch directories for ngspice runs, named by the process that owns them, so that
what a killed run (SIGKILL: no cleanup can run) leaves behind is removed by the next.

A directory is ``$TMPDIR/analogam-<kind>-<pid>-<random>``; :func:`sweep_stale` removes
those of the current user whose owning process no longer exists. A directory of another
user, a symbolic link, or one whose pid is alive (even if reused) is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

_SCRATCH = re.compile(r"analogam-(batch|init|dask)-(\d+)-[^/]+")


def scratch_dir(kind: str) -> tempfile.TemporaryDirectory:
    """A private (0700, ``mkdtemp``) directory removed when the context ends."""
    return tempfile.TemporaryDirectory(prefix=f"analogam-{kind}-{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def sweep_stale(directory: str | os.PathLike | None = None) -> list[str]:
    """Remove scratch directories under ``directory`` (default the temp dir) left by
    analogam processes that died; the names removed."""
    root = Path(directory or tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for e in entries:
        m = _SCRATCH.fullmatch(e.name)
        if m is None:
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
                and not _alive(int(m.group(2)))):
            shutil.rmtree(e.path, ignore_errors=True)
            removed.append(e.name)
    return removed
