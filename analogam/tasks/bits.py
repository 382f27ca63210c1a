"""Bit strings: every n-bit string, and bit strings parsed from text or files."""

from __future__ import annotations

import numpy as np

from ..errors import TaskError


def all_bit_strings(n: int) -> np.ndarray:
    """Every n-bit string, (2^n, n) int, most significant bit first, in counting order."""
    k = np.arange(2**n)
    return ((k[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(int)


def parse_bits(text: str, n_bits: int) -> np.ndarray:
    """One bit string ('0101...') of exactly ``n_bits`` characters -> (n_bits,) int."""
    s = text.strip()
    if len(s) != n_bits or set(s) - {"0", "1"}:
        raise TaskError(f"input {s[:40]!r} is not a string of {n_bits} bits (0/1)")
    return np.array([int(c) for c in s], dtype=int)


def read_bits_file(path: str, n_bits: int) -> np.ndarray:
    """A file of bit strings, one per line (blank lines and '#' comments skipped)."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            s = line.split("#", 1)[0].strip()
            if not s:
                continue
            try:
                rows.append(parse_bits(s, n_bits))
            except TaskError as e:
                raise TaskError(f"{path}:{lineno}: {e}") from None
    if not rows:
        raise TaskError(f"{path}: no bit strings found")
    return np.array(rows)
