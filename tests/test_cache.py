"""The cache of finished ngspice runs: a hit gives back the very vectors ngspice
wrote, and a damaged or crafted entry is run again, never read as a result."""

import numpy as np
import pytest
from test_compile import netlist_of, tiny_system

from analogam.study.runs import ResultCache, run_netlists

pytestmark = pytest.mark.ngspice


@pytest.fixture(scope="module")
def netlist() -> str:
    return netlist_of(tiny_system())


def _entry(cache_dir):
    (p,) = cache_dir.glob("*.npz")
    return p


def _rewrite(path, **change):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(change)
    np.savez(path, **arrays)


def test_a_hit_returns_what_ngspice_wrote(netlist, tmp_path):
    (first,) = run_netlists([netlist], cache=tmp_path)
    (again,) = run_netlists([netlist], cache=tmp_path)
    assert first.backend != "cache" and again.backend == "cache"
    assert set(again.vectors) == set(first.vectors)
    for k, v in first.vectors.items():
        np.testing.assert_array_equal(again.vectors[k], v)


@pytest.mark.parametrize("damage", ["truncated vector", "edited value", "text vector",
                                    "2-d time", "no digest", "not a zip"])
def test_a_damaged_entry_is_run_again(netlist, tmp_path, damage):
    (first,) = run_netlists([netlist], cache=tmp_path)
    p = _entry(tmp_path)
    name = next(k for k in first.vectors if k != "time")
    v = first.vectors[name]
    if damage == "truncated vector":
        _rewrite(p, **{name: v[:3]})
    elif damage == "edited value":
        _rewrite(p, **{name: v + 1e-3})
    elif damage == "text vector":
        _rewrite(p, **{name: np.array(["x"] * v.size)})
    elif damage == "2-d time":
        _rewrite(p, time=first.time[None, :])
    elif damage == "no digest":
        with np.load(p) as z:
            arrays = {k: z[k] for k in z.files if k != "__sha256__"}
        np.savez(p, **arrays)
    else:
        p.write_bytes(b"PK\x03\x04 not really")
    assert ResultCache(tmp_path).get(netlist) is None
    (again,) = run_netlists([netlist], cache=tmp_path)
    assert again.backend != "cache"
    np.testing.assert_array_equal(again.vectors[name], v)
    assert ResultCache(tmp_path).get(netlist) is not None   # and it was written anew
