"""Weights files: bit-exact round trip, deterministic bytes, and every bad file rejected
with one line and exit 1 from the CLI (no traceback, no output)."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import random_et

from analogam.errors import WeightsFileError
from analogam.model.weights import META_KEY, load_model, model_to_arrays, save_model

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "analogam_cli.main", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def assert_one_line_error(proc, match):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith("analogam: error:") and match in err, err


def test_round_trip_is_bit_exact(rng, tmp_path):
    m = random_et(rng)
    p = tmp_path / "m.npz"
    save_model(m, p)
    m2 = load_model(p)
    a, b = model_to_arrays(m), model_to_arrays(m2)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype
        assert np.array_equal(a[k], b[k]), k
    assert [g.tau for g in m.groups] == [g.tau for g in m2.groups]


def test_saving_is_byte_deterministic(rng, tmp_path):
    m = random_et(rng)
    save_model(m, tmp_path / "a.npz")
    save_model(m, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_committed_example_models_are_current(xor_model, hamming_model, tmp_path):
    for name, m in (("xor.npz", xor_model), ("hamming74.npz", hamming_model)):
        save_model(m, tmp_path / name, provenance={"built_by": "models/make_models.py"})
        assert (tmp_path / name).read_bytes() == (ROOT / "models" / name).read_bytes(), (
            f"models/{name} is stale: run python models/make_models.py")


def _write_arrays(path, arrays):
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in arrays.items():
            with zf.open(f"{k}.npy", "w") as f:
                np.lib.format.write_array(f, v, allow_pickle=True)


def _corrupt(tmp_path, mutate):
    arrays = model_to_arrays(random_et(np.random.default_rng(0)))
    meta = json.loads(str(arrays[META_KEY]))
    mutate(arrays, meta)
    arrays[META_KEY] = np.array(json.dumps(meta))
    p = tmp_path / "bad.npz"
    _write_arrays(p, arrays)
    return p


def _set_group(field, value):
    def mutate(arrays, meta):
        meta["groups"][0][field] = value
    return mutate


BAD = {
    "nan": (lambda a, m: a.__setitem__("coupling.hopf.weights",
                                       np.full_like(a["coupling.hopf.weights"], np.nan)),
            "NaN"),
    "shape": (lambda a, m: a.__setitem__("coupling.hopf.weights", np.zeros((3, 2))),
              "expected (5, 6)"),
    "activation": (_set_group("activation", "sigmoid"), "unknown activation 'sigmoid'"),
    "tau": (_set_group("tau", -0.1), "tau must be positive"),
    "version": (lambda a, m: m.__setitem__("version", 99), "version 99 is not supported"),
    "missing": (lambda a, m: a.pop("group.v.bias"), "lacks required array 'group.v.bias'"),
    "object": (lambda a, m: a.__setitem__("decoder.bias", np.array([1, "x"], dtype=object)),
               "object arrays"),
    "name": (_set_group("name", "v\n.control"), "is not an identifier"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_fail_with_one_line(case, tmp_path):
    mutate, match = BAD[case]
    p = _corrupt(tmp_path, mutate)
    with pytest.raises(WeightsFileError, match=match.replace("(", r"\(").replace(")", r"\)")):
        load_model(p)
    assert_one_line_error(run_cli("info", str(p)), match)


def test_truncated_and_non_zip_files(tmp_path, xor_model):
    good = tmp_path / "good.npz"
    save_model(xor_model, good)
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert_one_line_error(run_cli("info", str(trunc)), "not a valid .npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("hello")
    assert_one_line_error(run_cli("info", str(junk)), "not a valid .npz")
    assert_one_line_error(run_cli("info", str(tmp_path / "absent.npz")), "does not exist")


def test_failed_convert_leaves_no_output(tmp_path):
    bad = tmp_path / "ref.npz"
    np.savez(bad, xi_attn_embed_raw=np.ones((2, 4)))
    out = tmp_path / "out.npz"
    assert_one_line_error(run_cli("convert", "--from", "analog-denseam", str(bad), "-o",
                                  str(out)), "lacks array 'xi_hopf_raw'")
    assert list(tmp_path.iterdir()) == [bad]


def test_unknown_option_is_one_line_exit_1():
    assert_one_line_error(run_cli("ode", "models/xor.npz", "--method", "Euler"), "Euler")
