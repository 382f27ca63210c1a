"""Task helpers: data sets, splits, parsing."""

import numpy as np
import pytest

from analogam.errors import TaskError
from analogam.tasks import (
    all_bit_strings,
    get_task,
    hamming74_codewords,
    parity_split,
    parse_bits,
    read_bits_file,
)


def test_hamming_code_has_minimum_distance_three():
    cw = hamming74_codewords()
    d = np.abs(cw[:, None] - cw[None]).sum(-1)
    assert len({tuple(c) for c in cw}) == 16
    assert d[~np.eye(16, dtype=bool)].min() == 3
    # parity-check matrix annihilates every codeword
    Hm = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]])
    assert not np.any(cw @ Hm.T % 2)


def test_parity_split_is_fixed_disjoint_and_complete():
    tr, te = parity_split()
    assert len(tr) == 204 and len(te) == 52
    assert set(tr) | set(te) == set(range(256)) and not set(tr) & set(te)
    tr2, te2 = parity_split()
    assert np.array_equal(tr, tr2) and np.array_equal(te, te2)
    targets = get_task("parity8").target(all_bit_strings(8))
    assert targets.sum() == 128


def test_parse_bits_rejects_bad_input(tmp_path):
    assert parse_bits("0101", 4).tolist() == [0, 1, 0, 1]
    for bad in ("012", "01", "0a1", "01;.control"):
        with pytest.raises(TaskError, match="is not a string of 3 bits"):
            parse_bits(bad, 3)
    f = tmp_path / "in.txt"
    f.write_text("# words\n1010101\n\n0000000  # zero\n111\n")
    with pytest.raises(TaskError, match=r"in.txt:5: input '111'"):
        read_bits_file(str(f), 7)
    with pytest.raises(TaskError, match="unknown task 'tsp'; valid: xor, hamming74, parity8"):
        get_task("tsp")
