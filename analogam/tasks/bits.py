"""Bit strings: every n-bit string, and bit strings parsed from text or files.

Bits may be written together (``01100011``) or separated by spaces, tabs or commas
(``0 1 1 0 0 0 1 1``, the reference work's data files). Files are read as a stream with
a bound on line length and count, so ``/dev/zero`` or a huge sparse file fails at once.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import TaskError

MAX_LINE = 1 << 22
"""Longest line of a bits file (characters)."""
MAX_INPUTS = 1 << 20
"""Most bit strings one file may hold."""
_SEPARATORS = re.compile(r"[\s,]+")


def all_bit_strings(n: int) -> np.ndarray:
    """Every n-bit string, (2^n, n) int, most significant bit first, in counting order."""
    k = np.arange(2**n)
    return ((k[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(int)


def parse_bits(text: str, n_bits: int) -> np.ndarray:
    """One bit string of exactly ``n_bits`` bits -> (n_bits,) int; separators (spaces,
    tabs, commas) between bits are allowed."""
    s = _SEPARATORS.sub("", text[:MAX_LINE])
    if len(s) != n_bits or set(s) - {"0", "1"}:
        raise TaskError(f"input {text.strip()[:40]!r} is not a string of {n_bits} bits (0/1)")
    return np.frombuffer(s.encode("ascii"), dtype=np.uint8).astype(int) - ord("0")


def parse_numbers(text: str, lows: np.ndarray, highs: np.ndarray, what: str
                  ) -> np.ndarray:
    """One input of whole numbers separated by spaces, tabs or commas, each inside
    ``[lows, highs]`` (per column) -> (n,) int."""
    parts = [p for p in _SEPARATORS.split(text[:MAX_LINE].strip()) if p]
    try:
        row = np.array([int(p) for p in parts])
    except ValueError:
        raise TaskError(f"input {text.strip()[:40]!r} is not {what}") from None
    if row.shape != lows.shape or np.any(row < lows) or np.any(row > highs):
        raise TaskError(f"input {text.strip()[:40]!r} is not {what}")
    return row


def _parse(task, text: str, n_bits: int) -> np.ndarray:
    return task.parse(text) if task is not None and task.parse else parse_bits(text, n_bits)


def read_bits_file(path: str, n_bits: int, task=None) -> np.ndarray:
    """A file of inputs, one per line (blank lines and '#' comments skipped): bit
    strings, or what ``task.parse`` reads."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno in range(1, MAX_INPUTS + 2):
            line = f.readline(MAX_LINE + 1)
            if not line:
                break
            if len(line) > MAX_LINE:
                raise TaskError(f"{path}:{lineno}: line longer than {MAX_LINE} characters; "
                                "not a file of bit strings")
            s = line.split("#", 1)[0].strip()
            if not s:
                continue
            if len(rows) == MAX_INPUTS:
                raise TaskError(f"{path}: more than {MAX_INPUTS} bit strings; split the file")
            try:
                rows.append(_parse(task, s, n_bits))
            except TaskError as e:
                raise TaskError(f"{path}:{lineno}: {e}") from None
    if not rows:
        raise TaskError(f"{path}: no bit strings found")
    return np.array(rows)


def select_inputs(task, n_bits: int, input_bits: str | None, inputs: str | None
                  ) -> np.ndarray:
    """The inputs a command runs on: one ``input_bits`` string, a file of them, or every
    input of ``task`` (``inputs`` None or ``"all"``)."""
    if input_bits is not None and inputs is not None:
        raise TaskError("give --input or --inputs, not both")
    if input_bits is not None:
        return _parse(task, input_bits, n_bits)[None, :]
    if inputs is None or inputs == "all":
        return task.inputs()
    return read_bits_file(inputs, n_bits, task)
