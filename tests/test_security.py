"""What an attacker can plant around a run: start-up files ngspice would execute, the
temp directory analogam keeps failed netlists in, a report directory that holds the
command's own inputs, temp paths whose names read as ngspice errors. Each test plants
the file, runs the real code path (a real ngspice), and checks nothing was obeyed."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest
from test_robustness import XOR, cli, one_line_error

from analogam.spice import simulate_spice
from analogam.spice.batch import run_batch
from analogam.spice.library import ngspice_library
from analogam.spice.result import keep_failed

DIVIDER = "* divider\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n.op\n.end\n"
needs_library = pytest.mark.skipif(ngspice_library() is None, reason="needs libngspice")


def plant_spiceinit(d: Path, marker: Path) -> Path:
    """A start-up file whose ``shell`` line would create ``marker``."""
    f = d / ".spiceinit"
    f.write_text(f"shell touch {marker}\n", encoding="utf-8")
    return f


@pytest.mark.parametrize("backend", ["batch", pytest.param("shared", marks=needs_library)])
def test_a_spiceinit_in_the_working_directory_runs_nothing(tmp_path, monkeypatch, backend):
    marker = tmp_path / "PWNED"
    plant_spiceinit(tmp_path, marker)
    monkeypatch.chdir(tmp_path)
    r = simulate_spice(DIVIDER, backend=backend)
    assert r.success and abs(r.voltage("b")[0] - 0.5) < 1e-9
    assert not marker.exists()


def test_a_spiceinit_in_home_runs_nothing_in_batch(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    marker = tmp_path / "PWNED"
    plant_spiceinit(home, marker)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert run_batch(DIVIDER).success
    assert not marker.exists()


@needs_library
def test_the_accounts_spiceinit_runs_nothing_in_the_shared_library(tmp_path, monkeypatch):
    # libngspice finds ~/.spiceinit through the password database, not $HOME: the only
    # honest test plants it there (and leaves an existing one alone)
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    if (home / ".spiceinit").exists() or not os.access(home, os.W_OK):
        pytest.skip("the account already has a .spiceinit, or its home is read-only")
    marker = tmp_path / "PWNED"
    planted = plant_spiceinit(home, marker)
    try:
        monkeypatch.chdir(tmp_path)
        assert simulate_spice(DIVIDER, backend="shared").success
    finally:
        planted.unlink()
    assert not marker.exists()


def test_a_temp_path_that_reads_as_an_error_does_not_fail_a_run(tmp_path, monkeypatch):
    # ngspice echoes the raw file's path; a TMPDIR named "error" must not be a failure
    tmp = tmp_path / "error undefined no such"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr("tempfile.tempdir", None)
    r = run_batch(DIVIDER)
    assert r.success, r.message


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    return tmp_path


def test_failed_netlists_are_kept_in_a_private_directory(private_tmp):
    path = Path(keep_failed("* one\n.end\n"))
    assert path.read_text() == "* one\n.end\n"
    mode = os.lstat(path.parent).st_mode
    assert stat.S_ISDIR(mode) and mode & 0o077 == 0
    assert stat.S_IMODE(os.lstat(path).st_mode) & 0o077 == 0
    assert keep_failed("* one\n.end\n") == str(path)  # same failure, same file


@pytest.mark.parametrize("plant", ["link", "open"])
def test_a_planted_kept_netlist_directory_is_not_used(private_tmp, plant):
    elsewhere = private_tmp / "elsewhere"
    elsewhere.mkdir()
    planted = private_tmp / f"analogam-failed-{os.getuid()}"
    if plant == "link":
        planted.symlink_to(elsewhere)
    else:
        planted.mkdir(mode=0o777)
        os.chmod(planted, 0o777)  # another account could write here
    path = Path(keep_failed("* two\n.end\n"))
    assert path.is_file() and list(elsewhere.iterdir()) == []
    assert path.parent != planted and path.parent.resolve() != elsewhere.resolve()
    if plant == "open":
        assert list(planted.iterdir()) == []


def test_a_planted_link_at_the_temp_name_is_not_followed(private_tmp):
    victim = private_tmp / "victim.txt"
    victim.write_text("keep me")
    d = private_tmp / f"analogam-failed-{os.getuid()}"
    d.mkdir(mode=0o700)
    netlist = "* three\n.end\n"
    import hashlib

    name = hashlib.sha256(netlist.encode()).hexdigest()[:16]
    (d / f"{name}.cir").symlink_to(victim)
    (d / f"{name}.{os.getpid()}.tmp").symlink_to(victim)
    path = Path(keep_failed(netlist))
    assert victim.read_text() == "keep me"
    assert path.read_text() == netlist and not path.is_symlink()


def test_a_report_directory_never_overwrites_the_commands_inputs(tmp_path):
    rep = tmp_path / "rep"
    rep.mkdir()
    weights = rep / "report.json"
    weights.write_bytes(XOR.read_bytes())
    before = weights.read_bytes()
    proc = cli("simulate", weights, "--input", "01", "--report", rep)
    one_line_error(proc, "is an input of this command")
    assert weights.read_bytes() == before
    assert sorted(p.name for p in rep.iterdir()) == ["report.json"]
