"""Every input a user brings and every fault they cause (issue: 'every input a user
brings'): one line on stderr, the right exit code, no traceback, nothing half-written
or left behind, the input untouched. One case per cause."""

from __future__ import annotations

import json
import os
import resource
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from test_weights import ROOT

from analogam.model.architectures import build_denseam, random_denseam
from analogam.model.weights import META_KEY, model_to_arrays, save_model

XOR = ROOT / "models" / "xor.npz"


def cli(*args, env=None, cwd=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "analogam_cli.main", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def one_line_error(proc, match: str, code: int = 1) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout[-500:], proc.stderr[-500:])
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err and "Warning" not in err, err
    assert err.startswith("analogam: error:") and match in err, err


def leftovers(d: Path) -> list[str]:
    """Temp files or folders analogam could leave in ``d``."""
    return sorted(p.name for p in d.iterdir()
                  if p.name.endswith(".tmp") or p.name.startswith(("analogam-", "dask-")))


# ------------------------------------------------------------------ crafted files


def zip_members(path: Path, members: dict[str, bytes | tuple[bytes, int, int]]) -> None:
    """A zip written by hand. A member is raw bytes (stored), or a pre-made raw deflate
    stream with its declared uncompressed size and CRC: a bomb needs no gigabytes of
    work to make."""
    out, central = bytearray(), bytearray()
    for name, body in members.items():
        if isinstance(body, bytes):
            method, data, size, crc = 0, body, len(body), zlib.crc32(body)
        else:
            method, (data, size, crc) = 8, body
        n = name.encode()
        off = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc,
                           len(data), size, len(n), 0) + n + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21,
                               crc, len(data), size, len(n), 0, 0, 0, 0, 0, off) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                      len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))


def npy(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def zero_bomb(n_values: int, shape: tuple | None = None) -> tuple[bytes, int, int]:
    """Raw deflate of an .npy of ``n_values`` float64 zeros (declared size, and a CRC
    that is not computed: a reader that decompresses would find out only at the end)."""
    import io

    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False,
                                                "shape": shape or (n_values,)})
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = 1 << 24
    data = c.compress(head.getvalue()) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(n_values * 8, chunk)
    data += block * full + c.compress(bytes(rest)) + c.flush()
    return data, len(head.getvalue()) + n_values * 8, 0


def xor_members(**replace) -> dict[str, bytes]:
    arrays = model_to_arrays(random_denseam(4, 3))
    members = {f"{k}.npy": npy(v) for k, v in arrays.items()}
    members.update(replace)
    return members


def with_meta(tmp_path, mutate, name="m.npz") -> Path:
    arrays = model_to_arrays(random_denseam(4, 3))
    meta = json.loads(str(arrays[META_KEY]))
    mutate(arrays, meta)
    arrays[META_KEY] = np.array(json.dumps(meta))
    p = tmp_path / name
    zip_members(p, {f"{k}.npy": npy(v) for k, v in arrays.items()})
    return p


# ------------------------------------------------------------------ the cases


def _symlink(tmp):
    (tmp / "target.cir").write_text("keep")
    (tmp / "link.cir").symlink_to(tmp / "target.cir")
    return ["compile", XOR, "-o", tmp / "link.cir"]


def _output_is_input(tmp):
    copy = tmp / "x.npz"
    copy.write_bytes(XOR.read_bytes())
    return ["compile", copy, "-o", copy]


def _convert_onto_source(tmp):
    copy = tmp / "x.npz"
    copy.write_bytes(XOR.read_bytes())
    return ["convert", "--from", "analog-denseam", copy, "-o", copy]


def _bomb(values: int):
    def make(tmp):
        p = tmp / "bomb.npz"
        zip_members(p, xor_members(**{"junk.npy": zero_bomb(values)}))
        assert p.stat().st_size < 5e6
        return ["info", p]
    return make


def _bomb_bias(tmp):
    p = tmp / "bias.npz"
    zip_members(p, xor_members(**{"group.v.bias.npy": zero_bomb(100_000_000)}))
    return ["info", p]


def _lying_header(tmp):
    p = tmp / "lie.npz"
    zip_members(p, xor_members(**{"group.v.bias.npy": (zero_bomb(3)[0], 10**9, 0)}))
    return ["info", p]


def _nested(tmp):
    arrays = model_to_arrays(random_denseam(4, 3))
    text = str(arrays[META_KEY]).replace('"provenance": {}',
                                         '"provenance": ' + "[" * 50000 + "]" * 50000)
    arrays[META_KEY] = np.array(text)
    p = tmp / "nested.npz"
    zip_members(p, {f"{k}.npy": npy(v) for k, v in arrays.items()})
    return ["info", p]


def _set_array(key, fn):
    return lambda tmp: ["info", with_meta(tmp, lambda a, m: a.__setitem__(key, fn(a[key])))]


def _group(field, value):
    def mutate(a, m):
        m["groups"][0][field] = value
    return lambda tmp: ["info", with_meta(tmp, mutate)]


def _dev_zero(tmp):
    return ["simulate", XOR, "--inputs", "/dev/zero"]


def _sparse(tmp):
    p = tmp / "sparse.txt"
    with open(p, "wb") as f:
        f.truncate(1 << 30)
    return ["simulate", XOR, "--inputs", p]


def _config_seed(tmp):
    p = tmp / "c.toml"
    p.write_text(f"seed = {2**70}\n")
    return ["compile", XOR, "-o", tmp / "x.cir", "--config", p]


def _mc_list(tmp):
    p = tmp / "mc.json"
    p.write_text("[]")
    return ["montecarlo", XOR, "--samples", "1", "--scheduler", "serial", "-o", p]


def _mc_locked(tmp):
    import fcntl

    p = tmp / "mc.json"
    f = open(tmp / ".mc.json.lock", "a")  # noqa: SIM115 - held by "another run"
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _mc_locked.held = f
    return ["montecarlo", XOR, "--samples", "1", "--scheduler", "serial", "-o", p]


def _mc_other_settings(tmp):
    p = tmp / "mc.json"
    p.write_text(json.dumps({"key": "0123456789abcdef", "records": {"v000_s00000": {}}}))
    return ["montecarlo", XOR, "--samples", "1", "--scheduler", "serial", "-o", p]


def _huge_header(tmp):
    return ["info", with_meta(tmp, lambda a, m: m["groups"][0].__setitem__("size", 10**12))]


def _decoder_rows(tmp):
    """A decoder's row count is free in the metadata: 2^25 declared rows of 3 values."""
    arrays = model_to_arrays(random_denseam(4, 3))
    meta = json.loads(str(arrays[META_KEY]))
    meta["decoder"] = {"group": "v"}
    members = {f"{k}.npy": npy(v) for k, v in arrays.items() if k != META_KEY}
    members[f"{META_KEY}.npy"] = npy(np.array(json.dumps(meta)))
    members["decoder.bias.npy"] = npy(np.zeros(1 << 25))
    members["decoder.weights.npy"] = zero_bomb(3 << 25, shape=(1 << 25, 3))
    p = tmp / "decoder.npz"
    zip_members(p, members)
    return ["info", p]


def _long_int_meta(tmp):
    arrays = model_to_arrays(random_denseam(4, 3))
    text = str(arrays[META_KEY]).replace('"provenance": {}', '"provenance": ' + "9" * 5000)
    members = {f"{k}.npy": npy(v) for k, v in arrays.items() if k != META_KEY}
    members[f"{META_KEY}.npy"] = npy(np.array(text))
    p = tmp / "int.npz"
    zip_members(p, members)
    return ["info", p]


def _dotted_toml(tmp):
    p = tmp / "dot.toml"
    p.write_text("a" + ".a" * 20000 + " = 1\n")
    return ["compile", XOR, "-o", tmp / "x.cir", "--config", p]


def _huge_ode(tmp):
    m = build_denseam(np.full((1, 100_000), 1e-3), beta=1.0, name="wide")
    p = tmp / "wide.npz"
    save_model(m, p)
    return ["ode", p, "--method", "Radau"]


def _convert_overflow(tmp):
    p = tmp / "ref.npz"
    rng = np.random.default_rng(0)
    np.savez(p, xi_attn_embed_raw=np.full((2, 4), 1e200), xi_hopf_raw=rng.random((3, 4)),
             a=np.zeros(4), b=np.zeros(8), c=np.zeros(3), W_dec=np.zeros((2, 4)),
             b_dec=np.zeros(2))
    return ["convert", "--from", "analog-denseam", p, "-o", tmp / "out.npz"]


def _convert_bomb(rows: int, cols: int):
    """A reference file whose xi_hopf_raw declares ``rows`` x ``cols`` zeros (a few MB
    of deflate); the embedding has D = 4."""
    def make(tmp):
        p = tmp / "ref.npz"
        members = {f"{k}.npy": npy(v) for k, v in dict(
            xi_attn_embed_raw=np.ones((2, 4)), a=np.zeros(4), b=np.zeros(8),
            W_dec=np.zeros((2, 4)), b_dec=np.zeros(2)).items()}
        members["c.npy"] = zero_bomb(rows)
        members["xi_hopf_raw.npy"] = zero_bomb(rows * cols, shape=(rows, cols))
        zip_members(p, members)
        return ["convert", "--from", "analog-denseam", p, "-o", tmp / "out.npz"]
    return make


def _resume_epochs(tmp):
    out = tmp / "x.npz"
    r = cli("train", "xor", "--epochs", "2", "-o", out)
    assert r.returncode in (0, 2)
    from analogam.train import config_for
    from analogam.train.checkpoint import save_checkpoint
    from analogam.train.data import initial_model
    from analogam.train.params import Optimizer, to_theta

    cfg = config_for("xor", epochs=3)
    save_checkpoint(tmp / "x.ckpt.npz", cfg, 3, to_theta(initial_model(cfg)),
                    Optimizer(cfg.lr), [{"epoch": k, "loss": 0.1} for k in range(4)])
    out.unlink()
    for f in tmp.glob("x.train.*"):
        f.unlink()
    return ["train", "xor", "--epochs", "1", "-o", out]


def _config_text(text: str):
    def make(tmp):
        (tmp / "c.toml").write_text(text)
        return ["compile", XOR, "-o", tmp / "x.cir", "--config", tmp / "c.toml"]
    return make


CASES = {
    # 1. output paths
    "output is a device node": (lambda tmp: ["compile", XOR, "-o", "/dev/null"],
                                "it is not a regular file"),
    "output is a symlink": (_symlink, "it is a symbolic link"),
    "output is the input": (_output_is_input, "it is an input of this command"),
    "convert onto its source": (_convert_onto_source, "it is an input of this command"),
    "output is a directory": (lambda tmp: ["compile", XOR, "-o", tmp], "it is a directory"),
    # 3. memory bombs
    "4 MB bomb of 3.9 GB": (_bomb(487_500_000), "refusing to decompress it"),
    "2 MB bomb, unknown array": (_bomb(200_000_000), "holds unknown array 'junk'"),
    "oversized bias": (_bomb_bias, "its arrays hold 100000016 values"),
    "header lies about its size": (_lying_header, "array 'group.v.bias'"),
    "header claims 1e12 units": (_huge_header, "too big to load"),
    "decoder declares 2^25 rows": (_decoder_rows, "the model is too big to load"),
    "convert: 1 GB array of the wrong shape": (_convert_bomb(1 << 25, 3),
                                               "xi_hopf_raw has 3 columns"),
    "convert: 1 GB array of the right shape": (_convert_bomb(1 << 25, 4), "too big to load"),
    "60 KB dotted TOML key": (_dotted_toml, "a dotted key deeper than 4 levels"),
    "5000-digit integer in metadata": (_long_int_meta, "a number too long"),
    "--inputs /dev/zero": (_dev_zero, "line longer than"),
    "1 GB sparse inputs file": (_sparse, "line longer than"),
    # 5. tracebacks
    "deeply nested metadata": (_nested, "nested too deeply"),
    "weights x1e308": (_set_array("coupling.xi.weights", lambda w: w * 1e308), "no device"),
    "bias 1e300": (_set_array("group.h.bias", lambda b: b + 1e300), "no device"),
    "tau 1e-300": (_group("tau", 1e-300), "must lie in"),
    "readout_time 1e308": (lambda tmp: ["info", with_meta(
        tmp, lambda a, m: m.__setitem__("readout_time", 1e308))], "must lie in"),
    "lone surrogate in the name": (lambda tmp: ["info", with_meta(
        tmp, lambda a, m: m.__setitem__("name", "x\udc80"))], "lone surrogate"),
    "--timeout inf": (lambda tmp: ["simulate", XOR, "--timeout", "inf"], "timeout must be"),
    "--timeout 1e308": (lambda tmp: ["simulate", XOR, "--timeout", "1e308"], "timeout must be"),
    "--timeout nan": (lambda tmp: ["simulate", XOR, "--timeout", "nan"], "timeout must be"),
    "--timeout -1": (lambda tmp: ["simulate", XOR, "--timeout", "-1"], "timeout must be"),
    "--timeout 0": (lambda tmp: ["simulate", XOR, "--timeout", "0"], "timeout must be"),
    "--levels 2^63": (lambda tmp: ["compile", XOR, "-o", tmp / "x.cir", "--levels",
                                   "9223372036854775808"], "conductance.levels is out of range"),
    "--levels 2.7": (lambda tmp: ["compile", XOR, "-o", tmp / "x.cir", "--levels", "2.7"],
                     "is not a valid integer"),
    "seed beyond 64 bits in TOML": (_config_seed, "seed must be an integer in"),
    "sweep --param seed 1e30": (lambda tmp: ["sweep", XOR, "--param", "seed", "--values",
                                             "1e30", "--samples", "1"],
                                "seed must be an integer in"),
    "montecarlo -o on a list": (_mc_list, "is not a results file"),
    "--scheduler not a url": (lambda tmp: ["simulate", XOR, "--scheduler", "not a url"],
                              "unknown scheduler 'not a url'"),
    "tls:// without settings": (lambda tmp: ["simulate", XOR, "--input", "01", "--scheduler",
                                             "tls://127.0.0.1:1"], "needs Dask's TLS settings"),
    "--task of another model": (lambda tmp: ["simulate", XOR, "--task", "hamming74"],
                                "task 'hamming74' does not fit model 'xor'"),
    # 6. non-finite netlists
    "--t0 1e308": (lambda tmp: ["compile", XOR, "-o", tmp / "x.cir", "--t0", "1e308"],
                   "scales.t0 must be <="),
    "--vs 1e-308": (lambda tmp: ["compile", XOR, "-o", tmp / "x.cir", "--vs", "1e-308"],
                    "not a finite value a device can realise"),
    # 8. lost data
    "second writer of a results file": (_mc_locked, "another run is writing"),
    "results of other settings": (_mc_other_settings, "holds results of other settings"),
    # 9. smaller
    "100k units, dense Jacobian": (_huge_ode, "Jacobian of"),
    "convert of weights 1e200": (_convert_overflow, "once squared"),
    "group name with a newline": (_group("name", "h\n"), "is not an identifier"),
    "resume beyond --epochs": (_resume_epochs, "more than the 1 asked for"),
    "sweep --values ''": (lambda tmp: ["sweep", XOR, "--param", "seed", "--values", ""],
                          "--values needs at least one number"),
    # the second battery
    "--config nested 500 deep": (_config_text("a = " + "[" * 500 + "]" * 500),
                                 "nested too deep"),
    "--config with a 5000-digit integer": (_config_text("[scales]\nvs = " + "9" * 5000),
                                           "a number too long"),
    "--config /dev/zero": (lambda tmp: ["compile", XOR, "-o", tmp / "x.cir", "--config",
                                        "/dev/zero"], "larger than 256 KiB"),
    "train --seed -1": (lambda tmp: ["train", "xor", "--seed", "-1", "-o", tmp / "t"],
                        "is not in the range"),
    "datasheet --corner ,": (lambda tmp: ["datasheet", "--corner", ","],
                             "--corner needs at least one corner"),
    "train --lr 1e308": (lambda tmp: ["train", "xor", "--lr", "1e308", "-o", tmp / "t"],
                         "lr must be at most 10"),
    "compile --t-end 1e308": (lambda tmp: ["compile", XOR, "-o", tmp / "x.cir", "--t-end",
                                           "1e308"], "is not in the range"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_fault_is_one_line_and_leaves_nothing(case, tmp_path):
    make, match = CASES[case]
    args = make(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
              and p.stat().st_size < 1e8}
    t0 = time.perf_counter()
    r = cli(*args, cwd=tmp_path)
    one_line_error(r, match)
    assert leftovers(tmp_path) == []
    for p, data in before.items():   # inputs untouched, nothing replaced
        assert p.read_bytes() == data, p
    assert not (tmp_path / "x.cir").exists()
    if "bomb" in case or "bias" in case or "lies" in case:
        assert time.perf_counter() - t0 < 10  # python start-up included; the check is ms


def test_device_node_is_still_a_device():
    import stat

    r = cli("compile", XOR, "-o", "/dev/null")
    assert r.returncode == 1
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_bomb_is_refused_fast_with_bounded_memory(tmp_path):
    """A 4 MB file expanding to 3.9 GB: refused in well under a second, reading
    kilobytes (the library call alone, no interpreter start-up)."""
    from analogam.errors import WeightsFileError
    from analogam.model.weights import load_model

    p = tmp_path / "bomb.npz"
    zip_members(p, xor_members(**{"junk.npy": zero_bomb(487_500_000)}))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(WeightsFileError, match="refusing to decompress"):
        load_model(p)
    assert time.perf_counter() - t0 < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 50_000  # KiB


# ------------------------------------------------------------------ what a user brings


@pytest.mark.parametrize("level, tol", [("ideal", 1e-3), ("bjt", 2e-2), ("opamp", 2e-2)])
def test_a_column_of_only_negative_weights_recalls(level, tol):
    """Random +-1 patterns with one visible unit's weights all negative: that unit has
    an inverted line and no line (it used to be refused: "floating net 'l_v_3'"), and
    at the ideal level its self term was lost (read-out 0.86 off)."""
    from analogam.circuit import CompileOptions
    from analogam.study import simulate_task
    from analogam.tasks import task_for

    xi = np.random.default_rng(0).choice([-1.0, 1.0], size=(6, 10))
    xi[:, 3] = -1.0
    m = build_denseam(xi, beta=1.0, name="negative_column")
    task = task_for(m)
    rep = simulate_task(m, task.inputs(), CompileOptions(level=level))
    assert rep.agreement == 1.0
    assert rep.comparison.readout_err.max() <= tol


def test_a_clamped_unit_with_no_cell_is_a_probed_terminal(tmp_path):
    """A visible unit with no coupling, clamped: its net is set by the clamp's source
    alone, which is not a floating net; the others settle as the ODE says."""
    from analogam.circuit import CompileOptions
    from analogam.study import simulate_task
    from analogam.tasks import task_for

    xi = np.random.default_rng(1).choice([-1.0, 1.0], size=(6, 10))
    xi[:, 4] = 0.0
    m = build_denseam(xi, beta=1.0, name="zero_column")
    clamp = np.zeros(10, bool)
    clamp[4] = True
    task = task_for(m, "recall", clamp)
    rep = simulate_task(m, task.inputs()[:3], CompileOptions(level="opamp"), task=task)
    assert rep.agreement == 1.0
    assert rep.comparison.readout_err.max() <= 2e-2


def test_any_denseam_simulates_with_the_recall_task(tmp_path):
    """A random DenseAM saved under a task name analogam does not know: recall, from
    one --input, from a file of spaced bits, with clamping; circuit = ODE."""
    from dataclasses import replace

    m = replace(random_denseam(6, 10, seed=4), task="my_memory",
                name="Hamming74_ErrorCorrector")  # "Error" in the name is not an error
    p = tmp_path / "mine.npz"
    save_model(m, p)
    r = cli("simulate", p, "--input", "1011010110", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["task"] == "recall" and rep["summary"]["agreement_circuit_vs_ode"] == 1.0
    assert rep["summary"]["max_state_error"] < 1e-3
    bits = tmp_path / "in.txt"
    bits.write_text("1 0 1 1 0 1 0 1 1 0\n# a comment\n0,1,1,0,1,0,0,1,1,1\n")
    r = cli("simulate", p, "--inputs", bits, "--clamp", "1100000000", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert len(rep["per_input"]) == 2 and rep["summary"]["agreement_circuit_vs_ode"] == 1.0
    # clamped units hold their inputs
    assert [rec["circuit"][:2] for rec in rep["per_input"]] == [[1, 0], [0, 1]]


def test_recall_targets_are_the_nearest_stored_pattern():
    from analogam.tasks import recall_task

    xi = np.array([[0, 0, 0, 0, 1.0], [1, 1, 1, 0, 0]])
    t = recall_task(build_denseam(xi, beta=5.0))
    np.testing.assert_array_equal(t.target(np.array([[0, 0, 0, 1, 1], [1, 1, 0, 0, 0]])),
                                  [[0, 0, 0, 0, 1], [1, 1, 1, 0, 0]])
    assert len(t.inputs()) == 2 and np.all(np.abs(t.inputs() - (xi > 0.5)).sum(1) == 1)


def test_spaced_reference_bit_files_are_read(tmp_path):
    p = tmp_path / "bits.txt"
    p.write_text("1 1 1 0 0 0 1 1\n0\t1\t0\t1\t0\t1\t0\t1\n")
    r = cli("ode", ROOT / "models" / "parity8.npz", "--inputs", p)
    assert r.returncode == 0, r.stderr
    assert "accuracy 2/2" in r.stdout


def test_pruning_a_squared_weight_model(tmp_path):
    """The reference format squares its weights; tiny raw weights give conductances no
    window holds. The window error names --prune-below; with it the netlist is written
    and the report says how many were dropped and what that does to the ODE."""
    from analogam.model.convert import model_from_analog_denseam

    rng = np.random.default_rng(3)
    hopf = rng.uniform(0.2, 0.5, (6, 5))
    hopf[hopf < 0.3] = 1e-40                     # squared: 1e-80
    m = model_from_analog_denseam({
        "xi_attn_embed_raw": rng.uniform(0.3, 1, (2, 5)), "xi_hopf_raw": hopf,
        "a": np.zeros(5), "b": np.zeros(8), "c": -np.ones(6) * 0.5,
        "W_dec": rng.normal(0, 1, (2, 5)), "b_dec": np.zeros(2)}, name="sq")
    p = tmp_path / "sq.npz"
    save_model(m, p)
    out = tmp_path / "sq.cir"
    one_line_error(cli("compile", p, "-o", out, "--input", "10110010"), "--prune-below")
    assert not out.exists()
    r = cli("compile", p, "-o", out, "--input", "10110010", "--prune-below", "1e-3",
            "--rescale")
    assert r.returncode in (0, 2), r.stderr
    n = int(np.sum(m.couplings[1].weights < 1e-3 * max(c.weights.max() for c in m.couplings)))
    assert n > 0 and f"pruned {n} of " in r.stdout and "changes on 0/1 inputs" in r.stdout
    assert out.exists()


def test_long_output_name_and_stale_temp_files(tmp_path):
    """A valid 250-character name works; a temp file of a writer killed earlier is
    removed by the next write to the same target."""
    from analogam.atomic import _prefix, atomic_open

    target = tmp_path / ("n" * 246 + ".cir")
    assert cli("compile", XOR, "-o", target).returncode == 0 and target.exists()
    dead = 2**22 + 12345  # above pid_max on this kernel's defaults: never alive
    stale = tmp_path / f"{_prefix(target)}{dead}-abc.tmp"
    stale.write_text("partial")
    with atomic_open(target) as f:
        f.write("new")
    assert not stale.exists() and target.read_text() == "new"


def test_control_characters_are_escaped_on_output(tmp_path):
    def mutate(a, m):
        m["name"] = "evil\x1b[2J\nforged line"
        m["task"] = "t\x1b]0;title\x07"
    p = with_meta(tmp_path, mutate)
    r = cli("info", p)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "forged line" not in r.stdout.splitlines()[1:], "a newline forged a line"
    assert "\\x1b" in r.stdout


def test_mathtext_name_and_infinite_trainer_predictions(tmp_path):
    """A model name matplotlib would parse as mathtext, and stored trainer predictions
    that are not class indices: the report is written whole; no trainer column."""
    from dataclasses import replace

    from analogam.tasks import build_xor_model

    m = replace(build_xor_model(), name="$\\frac{")
    p = tmp_path / "m.npz"
    save_model(m, p, provenance={"trainer_predictions": [[float("inf")]] * 4})
    r = cli("simulate", p, "--report", tmp_path / "rep")
    assert r.returncode == 0, r.stderr
    assert sorted(f.name for f in (tmp_path / "rep").iterdir() if f.name[0] != ".") == [
        "energy.png", "prediction.png", "report.json", "trajectories.png"]
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert rep["summary"]["accuracy_trainer"] is None


def test_not_an_ngspice_library_is_one_line():
    env = dict(os.environ, NGSPICE_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/libz.so.1")
    if not Path(env["NGSPICE_LIBRARY_PATH"]).exists():
        pytest.skip("no libz at the Debian path")
    one_line_error(cli("simulate", XOR, "--backend", "shared", env=env),
                   "is not an ngspice shared library")


def test_failed_monte_carlo_samples_are_null_not_nan(tmp_path):
    out = tmp_path / "mc.json"
    r = cli("montecarlo", XOR, "--samples", "1", "--scheduler", "serial", "--timeout",
            "0.001", "-o", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()

    def no_constant(name):
        raise AssertionError(f"bare {name} in the results file")
    data = json.loads(text, parse_constant=no_constant)
    rec = next(iter(data["records"].values()))
    assert rec["failed"] and rec["accuracy"] is None


def test_dask_run_leaves_no_scratch_space(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    r = cli("montecarlo", XOR, "--samples", "1", "--scheduler", "dask", env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------ signals


def _descendants(pid: int) -> set[int]:
    kids = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.add(k)
            todo.append(k)
    return out


def _alive(pids: set[int]) -> set[int]:
    out = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(p)
    return out


@pytest.mark.parametrize("backend, sig", [("shared", signal.SIGKILL),
                                          ("batch", signal.SIGKILL),
                                          ("batch", signal.SIGTERM)])
def test_killed_simulate_leaves_no_worker_and_no_temp_folder(backend, sig, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "analogam_cli.main", "simulate",
                             str(ROOT / "models" / "hamming74.npz"), "--level", "opamp",
                             "--backend", backend], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    workers: set[int] = set()
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = _descendants(proc.pid)
    assert workers, "simulate started no worker"
    time.sleep(1.0)
    workers |= _descendants(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143 and "terminated" in err
    t0 = time.time()
    while _alive(workers) and time.time() - t0 < 5:
        time.sleep(0.1)
    assert not _alive(workers), f"orphans: {_alive(workers)}"
    if sig == signal.SIGTERM:
        assert leftovers(tmp_path) == []


@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"),
                                             (signal.SIGTERM, 143, "terminated"),
                                             (signal.SIGHUP, 129, "hung up")])
def test_a_signal_inside_compiled_code_ends_in_one_line(sig, code, word, tmp_path):
    """Training spends its time in numba's parallel integrator; a signal there used to
    crash the process (SIGSEGV) or end in a SystemError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "analogam_cli.main", "train", "parity8",
                             "--epochs", "50", "-o", str(tmp_path / "p.npz")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    line = proc.stderr.readline()   # the first epoch record: the integrator is running
    assert "epochs" in line, line
    time.sleep(2.0)
    proc.send_signal(sig)
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert proc.returncode == code, (proc.returncode, err[-800:])
    assert err.strip().splitlines()[-1].startswith(f"analogam: error: {word}")
    assert "Traceback" not in err and "Error" not in err.replace("analogam: error", "")


SIGNAL_IN_KERNEL = """
import os, signal, threading
class Stop(BaseException):
    pass
def stop(signum, frame):
    raise Stop()
signal.signal(signal.SIGTERM, stop)
from analogam.train import config_for
from analogam.train.evaluate import evaluate
from analogam.train.loop import initial_model, task_data
model, data = initial_model(config_for("parity8")), task_data("parity8")
evaluate(model, data.inputs[:4])
threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
try:
    while True:
        evaluate(model, data.inputs)
except Stop:
    print("stopped cleanly")
"""


def test_a_handler_that_raises_never_runs_inside_compiled_code():
    """A signal taken by another thread while the integrator runs: the handler raising
    inside numba's callback into Python gave a SystemError (or SIGSEGV) every time."""
    r = subprocess.run([sys.executable, "-c", SIGNAL_IN_KERNEL], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0 and "stopped cleanly" in r.stdout, r.stderr[-600:]


def test_an_unguarded_script_is_told_about_the_guard(tmp_path):
    """A script that simulates at its top level: the pool's workers import it again and
    die starting; the error names the `__main__` guard rather than blaming ngspice."""
    script = tmp_path / "mine.py"
    script.write_text("import analogam as am\n"
                      f"m = am.load_model({str(ROOT / 'models' / 'xor.npz')!r})\n"
                      "am.simulate_task(m, am.task_for(m).inputs())\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    assert r.returncode != 0
    assert 'if __name__ == "__main__":' in r.stderr.strip().splitlines()[-1], r.stderr[-600:]


def test_workers_killed_during_start_up_do_not_outlive_their_parent(tmp_path):
    """SIGKILL while the pool's workers are still starting (before they can ask for a
    death signal): they exit within seconds of finishing start-up, not a minute later."""
    proc = subprocess.Popen([sys.executable, "-m", "analogam_cli.main", "simulate",
                             str(ROOT / "models" / "xor.npz"), "--backend", "shared"],
                            env=dict(os.environ, TMPDIR=str(tmp_path)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.time() + 60
    while time.time() < deadline and not workers:
        time.sleep(0.02)
        workers = _descendants(proc.pid)
    assert workers, "simulate started no worker"
    proc.kill()
    proc.wait()
    t0 = time.time()
    while _alive(workers) and time.time() - t0 < 20:
        time.sleep(0.1)
    assert not _alive(workers), f"orphans: {_alive(workers)}"


def test_a_later_run_removes_what_a_killed_run_left(tmp_path):
    """Scratch directories of dead analogam processes are swept; a live process's, a
    symbolic link and unrelated names are not."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"analogam-batch-{dead.pid}-x1"
    live = tmp_path / f"analogam-batch-{os.getpid()}-x2"
    target = tmp_path / "kept"
    for d in (stale, live, target):
        d.mkdir()
        (d / "circuit.cir").write_text("* left\n")
    link = tmp_path / f"analogam-init-{dead.pid}-x3"
    link.symlink_to(target)
    other = tmp_path / f"analogam-failed-{dead.pid}"
    other.mkdir()
    proc = cli("simulate", ROOT / "models" / "xor.npz", "--input", "01", "--backend", "batch",
               env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr[-400:]
    assert not stale.exists()
    assert live.is_dir() and link.is_symlink() and (target / "circuit.cir").is_file()
    assert other.is_dir()


def test_progress_into_a_log_file_is_plain_lines(tmp_path):
    """Not a terminal: no carriage-return frames, a line per tenth at most, the last
    one complete."""
    words = tmp_path / "words.txt"
    words.write_text("".join(f"{i:07b}\n" for i in range(0, 128, 12)))  # 11 words
    proc = cli("simulate", ROOT / "models" / "hamming74.npz", "--inputs", words)
    assert proc.returncode == 0, proc.stderr[-400:]
    lines = [ln for ln in proc.stderr.splitlines() if "ngspice runs" in ln]
    assert "\r" not in proc.stderr and 1 <= len(lines) <= 11, proc.stderr
    assert "11/11 ngspice runs" in lines[-1]


def test_printed_paths_carry_no_terminal_escapes(tmp_path):
    """A path holding an OSC title sequence and a newline is printed escaped."""
    out = tmp_path / "a\x1b]0;pwned\x07\nb.toml"
    proc = cli("config", "-o", out)
    assert proc.returncode == 0 and out.is_file(), proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert proc.stdout.count("\n") == 1 and "\\x1b]0;pwned\\x07\\x0ab.toml" in proc.stdout


def _server(reply: bytes | None):
    """A TCP server on a free port that accepts, sends ``reply`` (None: nothing) and
    keeps the connection open."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    held = []

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            held.append(c)
            if reply:
                c.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return srv, f"tcp://127.0.0.1:{srv.getsockname()[1]}"


@pytest.mark.parametrize("reply, match", [
    (None, "sent no handshake within 5 s"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "does not speak Dask's protocol"),
    (bytes(range(256)) * 4, "does not speak Dask's protocol")])
def test_a_scheduler_that_does_not_answer_is_refused_in_seconds(reply, match):
    from analogam.spice import DistributedError, Runner
    from analogam.spice.runner import probe_scheduler

    srv, address = _server(reply)
    try:
        t0 = time.time()
        with pytest.raises(DistributedError, match=match):
            probe_scheduler(address)
        assert time.time() - t0 < 10
        with pytest.raises(DistributedError, match=match), Runner(address) as r:
            r.run(["* never run\n.end\n"], lambda i, res: None)
    finally:
        srv.close()


def test_a_real_scheduler_passes_the_probe_and_runs():
    from dask.distributed import LocalCluster
    from test_compile import netlist_of, tiny_system

    from analogam.spice import Runner, simulate_spice

    netlist = netlist_of(tiny_system())
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Runner(cluster.scheduler_address) as r:
        got = []
        r.run([netlist], lambda i, res: got.append(res))
    (res,) = got
    ref = simulate_spice(netlist, backend="batch")
    assert res.success and ref.success
    np.testing.assert_allclose(res.vectors["time"], ref.vectors["time"])
