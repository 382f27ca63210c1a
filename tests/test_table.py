"""A user's own table: reading CSV and npz (and refusing what is not a table), the
classifier it trains, its class names through the weights file, and the trained model
simulated through ngspice against the ODE."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analogam.errors import ModelError, TaskError
from analogam.model.architectures import build_denseam
from analogam.model.weights import load_weights, save_model
from analogam.tasks import task_for
from analogam.tasks.table import read_patterns, read_table, table_task
from analogam.train import config_for
from analogam.train.config import TrainError

ROOT = Path(__file__).resolve().parents[1]


def iris_csv(path: Path) -> Path:
    from sklearn.datasets import load_iris

    d = load_iris()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*d.feature_names, "species"])
        for x, y in zip(d.data, d.target, strict=True):
            w.writerow([*x, d.target_names[y]])
    return path


def test_a_csv_with_a_header_reads_as_scaled_features_and_sorted_classes(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a;b;kind\n1;10;dog\n3;10;cat\n2;10;dog\n# a comment\n5;10;emu\n")
    t = read_table(p)
    assert t.classes == ("cat", "dog", "emu")
    np.testing.assert_array_equal(t.labels, [1, 0, 1, 2])
    # (x - lo) / (hi - lo); a constant column maps to 0
    np.testing.assert_allclose(t.scaled, [[0, 0], [0.5, 0], [0.25, 0], [1, 0]])
    train, held = t.split()
    assert held.size == 1 and np.union1d(train, held).tolist() == [0, 1, 2, 3]
    assert np.array_equal(t.split()[1], held)    # seeded


@pytest.mark.parametrize("text, says", [
    ("1,2,a\n3,nan,b\n4,5,a\n", "row 2, column 2 is nan"),
    ("1,2,a\n3,b\n4,5,a\n", "row 2 has 2 fields"),
    ("1,2,a\n3,4,a\n4,5,a\n", "one class only"),
    ("1,2,a\n3,x,b\n4,5,a\n", "not a number"),
    ("1 2 a\n3 4 b\n", "no separated columns"),
    ("1,a\n2,b\n", "at least 3"),
])
def test_a_malformed_table_is_one_line_naming_the_fault(tmp_path, text, says):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(TaskError, match=says):
        read_table(p)


def test_an_npz_table_reads_and_object_arrays_are_refused(tmp_path):
    x = np.arange(12, dtype=float).reshape(6, 2)
    np.savez(tmp_path / "ok.npz", x=x, y=np.array([0, 1, 0, 1, 2, 2]))
    t = read_table(tmp_path / "ok.npz")
    assert t.classes == ("0", "1", "2") and t.features.shape == (6, 2)
    np.savez(tmp_path / "obj.npz", x=x, y=np.array([{"a": 1}] * 6, dtype=object))
    with pytest.raises(TaskError, match="object arrays"):
        read_table(tmp_path / "obj.npz")
    np.savez(tmp_path / "extra.npz", x=x, y=np.zeros(6), z=np.zeros(1))
    with pytest.raises(TaskError, match="unknown array 'z'"):
        read_table(tmp_path / "extra.npz")


def test_class_names_are_validated_and_survive_the_weights_file(tmp_path):
    xi = np.full((2, 4), 0.5)
    m = build_denseam(xi, beta=2.0, task="table", classes=("no", "yes"))
    save_model(m, tmp_path / "m.npz")
    back, _ = load_weights(tmp_path / "m.npz")
    assert back.classes == ("no", "yes")
    for bad in (("a", "a"), ("a",), ("a", "b", "c", "d"), ("a", "\x1b[2J")):
        with pytest.raises(ModelError):
            build_denseam(xi, beta=2.0, classes=bad)
    # a model without classes writes the same file as before classes existed
    save_model(build_denseam(xi, beta=2.0), tmp_path / "plain.npz")
    meta = json.loads(str(np.load(tmp_path / "plain.npz")["__meta__"]))
    assert "classes" not in meta


def test_the_table_task_reads_label_units_and_parses_a_row():
    xi = np.array([[0.9, 0.1, 1, 0], [0.1, 0.9, 0, 1]], float)
    m = build_denseam(xi, beta=4.0, task="table", classes=("left", "right"))
    task = table_task(m)
    assert task.n_bits == 3
    row = task.parse("0.2, 0.8, right")
    np.testing.assert_allclose(row, [0.2, 0.8, 1])
    st = task.stimulus(m, row[None])
    np.testing.assert_allclose(st.init["v"], [[0.2, 0.8, 0.1, 0.1]])
    assert st.clamp["v"].tolist() == [True, True, False, False]
    assert task.predict(m, np.array([[0.2, 0.8, 0.3, 0.7, 0, 0]])).tolist() == [[1]]
    with pytest.raises(TaskError, match="2 feature values"):
        task.parse("0.2, 1.7, left")
    with pytest.raises(TaskError, match="give --inputs FILE"):
        task.inputs()
    assert task_for(m).name == "table"


def test_train_table_needs_its_file_and_only_table_takes_one():
    with pytest.raises(TrainError, match="--data"):
        config_for("table")
    with pytest.raises(TrainError, match="--data is the file of the table and memory"):
        config_for("xor", data="x.csv")


@pytest.mark.ngspice
def test_a_classifier_trained_on_a_users_csv_runs_as_a_circuit(tmp_path):
    """Iris from a CSV through the CLI: EP training reaches >= 90 % on the held-out rows
    and is deployable; the trained file names its classes and its task finds the
    held-out rows from the trainer's record; rows given as text (the task's own layout)
    run through ngspice and decode as the ODE does."""
    from analogam.tasks.task import trained_file

    data = iris_csv(tmp_path / "iris.csv")
    out = tmp_path / "iris.npz"
    cli = [sys.executable, "-m", "analogam_cli.main"]
    r = subprocess.run([*cli, "train", "table", "--data", str(data), "--epochs", "8",
                        "-o", str(out)], capture_output=True, text=True, cwd=ROOT,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-600:]
    model, prov = load_weights(out)
    assert model.classes == ("setosa", "versicolor", "virginica")
    log = json.loads((tmp_path / "iris.train.json").read_text())
    assert log["epochs"][-1]["heldout_acc"] >= 0.9
    held = task_for(model, data=trained_file(prov, "data")).inputs()
    table = read_table(data)
    np.testing.assert_array_equal(held, table.rows[table.split()[1]])   # 30 rows
    rows = tmp_path / "rows.txt"
    rows.write_text("".join(", ".join(f"{v:.6f}" for v in x[:-1]) + ", "
                            + model.classes[int(x[-1])] + "\n" for x in held[::5]))
    r = subprocess.run([*cli, "simulate", str(out), "--rescale", "--inputs", str(rows),
                        "--json"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode in (0, 2), r.stderr[-600:]
    rep = json.loads(r.stdout)
    assert len(rep["per_input"]) == 6
    assert rep["summary"]["agreement_circuit_vs_ode"] == 1.0
    assert rep["summary"]["accuracy_circuit"] >= 5 / 6


def test_memory_inputs_are_patterns_with_one_or_two_bits_flipped():
    from analogam.train.data import memory_data

    patterns = np.array([[0, 1, 1, 0, 1], [1, 1, 0, 0, 0], [0, 0, 0, 1, 1.0]])
    d = memory_data(patterns, seed=0)
    stored = patterns.astype(int)
    dist = lambda rows: np.abs(rows[:, None] - stored[None]).sum(-1).min(1)  # noqa: E731
    assert d.train.size == 15 and dist(d.inputs[d.train]).tolist() == [1] * 15
    assert d.heldout.size == 15 and dist(d.inputs[d.heldout]).max() <= 2
    assert np.array_equal(memory_data(patterns, seed=0).inputs, d.inputs)   # seeded


def test_a_memory_of_a_users_patterns_is_stored_checked_and_recalls(tmp_path):
    """`train memory`: no epochs (refused: its target moves with the weights), the
    patterns become the memories at a beta that recalls them from one flipped bit, and
    the trainer's checks pass: every one-flip start recalled, the tight ODE agreeing."""
    from analogam.train import train
    from analogam.train.data import memory_beta

    rng = np.random.default_rng(3)
    pats = np.unique(rng.integers(0, 2, (8, 16)), axis=0)
    p = tmp_path / "pat.csv"
    np.savetxt(p, pats, fmt="%d", delimiter=",")
    with pytest.raises(TrainError, match="not offered"):
        config_for("memory", data=str(p), epochs=3)
    res = train(config_for("memory", data=str(p)))
    xi = np.asarray(res.model.couplings[0].weights)
    np.testing.assert_allclose(xi, np.maximum(pats, 0.05))
    assert res.model.group("h").param == pytest.approx(memory_beta(xi))
    assert res.log[-1]["train_acc"] == 1.0 and res.deploy["deployable"]
    assert task_for(res.model).name == "recall"
    (tmp_path / "dup.csv").write_text("1,0\n1,0\n0,1\n")
    with pytest.raises(TaskError, match="none repeated"):
        read_patterns(tmp_path / "dup.csv")
