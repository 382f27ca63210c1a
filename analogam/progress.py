"""Progress of long work on stderr, one implementation for the command line, the
examples and scripts: redrawn in place on a terminal, and in a log file (not a
terminal) one plain line per tenth of the work, never a carriage return."""

from __future__ import annotations

import sys
import time


def progress_bar(done: int, total: int) -> str:
    """``[#####.....] done/total``, 30 characters of bar."""
    n = int(30 * done / max(total, 1))
    return f"[{'#' * n}{'.' * (30 - n)}] {done}/{total}"


class Progress:
    """Done, rate and time left of ``what``; pass :meth:`update` as a ``progress``
    callback (extra arguments are ignored). Fewer than ``least`` items show nothing."""

    def __init__(self, what: str, least: int = 8, stream=None) -> None:
        self.what, self.least, self.stream = what, least, stream or sys.stderr
        self.t0, self.done, self.total = time.monotonic(), 0, 0
        self.tty = self.stream.isatty()
        self.shown, self._logged = False, -1

    def update(self, done: int, total: int, *_) -> None:
        self.done, self.total = done, total
        if total < self.least:
            return
        rate = done / max(time.monotonic() - self.t0, 1e-9)
        left = (total - done) / rate if rate > 0 else float("inf")
        eta = "?" if left == float("inf") else f"{int(left // 60)}:{int(left % 60):02d}"
        line = f"{progress_bar(done, total)} {self.what}, {rate:.1f}/s, {eta} left"
        if self.tty:
            self.stream.write(f"\r{line} ")
            self.shown = True
        elif 10 * done // total > self._logged:
            self._logged = 10 * done // total
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line a terminal's bar was drawn on."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
