"""The Python API: what `import analogam` exposes, the shipped notebook-style example
run whole, and the report's figures (Figure objects with labelled, unit-bearing axes,
the user's matplotlib backend untouched)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import analogam as am

ROOT = Path(__file__).resolve().parents[1]


def test_every_exported_name_resolves_to_its_stage():
    for name in am.__all__:
        obj = getattr(am, name)
        assert obj.__module__.startswith("analogam."), name
    with pytest.raises(AttributeError):
        am.no_such_thing  # noqa: B018


@pytest.mark.ngspice
def test_the_notebook_example_runs_from_python(tmp_path):
    """Build, compile, simulate at two levels, plot: exit 0 only when both levels agree
    with the ODE on every input; SVG figures written with their axis labels."""
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook.py"), str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-800:]
    assert "ideal: agreement with the ODE 100%" in r.stdout
    assert "opamp: agreement with the ODE 100%" in r.stdout
    svg = (tmp_path / "opamp_trajectories.svg").read_text()
    assert "model units" in svg and "tau_v" in svg


@pytest.mark.ngspice
def test_report_figures_label_every_axis_with_its_unit(xor_model):
    import matplotlib

    backend = matplotlib.get_backend()
    rep = am.simulate_task(xor_model, am.task_for(xor_model).inputs())
    figs = am.report_figures(rep)
    assert set(figs) == {"trajectories.png", "energy.png", "prediction.png"}
    for name, fig in figs.items():
        bottom = [ax for ax in fig.axes if ax.get_subplotspec().is_last_row()]
        assert bottom and all("model time" in ax.get_xlabel() for ax in bottom), name
        assert all(ax.get_ylabel() for ax in fig.axes if ax.get_subplotspec().is_first_col()
                   ), name
    traj = figs["trajectories.png"]
    assert any("model units" in ax.get_ylabel() for ax in traj.axes)
    assert any("tau_v" in ax.get_xlabel() for ax in traj.axes)
    # the error panel: |circuit - ODE| on a log axis, equal to the comparison's
    err_ax = traj.axes[-1]
    assert err_ax.get_yscale() == "log"
    y = err_ax.lines[0].get_ydata()
    c = rep.comparison
    k = len(rep.inputs) - 1 if len(rep.inputs) <= 4 else 3
    np.testing.assert_allclose(y, np.maximum(np.abs(c.u_spice[k] - c.u_ode[k]).max(1), 1e-12))
    assert matplotlib.get_backend() == backend
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []   # pyplot does not hold them


def test_the_api_page_documents_every_export():
    page = (ROOT / "docs" / "api.md").read_text()
    assert {n for n in am.__all__ if f"### `am.{n}`" not in page} == set()


def _sheet(corner: str, gbw: float):
    from analogam.study.datasheet import Datasheet

    f = np.geomspace(1.0, 1e10, 61)
    h = 1e4 / (1 + 1j * f * 1e4 / gbw) / (1 + 1j * f / (3 * gbw))   # two poles
    bode = tuple(zip(f, 20 * np.log10(np.abs(h)), np.degrees(np.unwrap(np.angle(h))), strict=True))
    return Datasheet("amp", corner, 0.0, 1e-4, 1e-4, 80.0, gbw, 70.0, 1e7, (-1, 1),
                     (-1, 1), 8, 10.0, bode=bode)


def test_the_bode_figure_draws_each_columns_response_on_log_axes():
    from analogam.study.datasheet import bode_figure

    sheets = [_sheet("tt", 3e7), _sheet("ss", 2e7)]
    fig = bode_figure(sheets)
    mag, ph = fig.axes
    assert mag.get_xscale() == ph.get_xscale() == "log"
    assert "(dB)" in mag.get_ylabel() and "(deg)" in ph.get_ylabel()
    assert "(Hz)" in ph.get_xlabel()
    np.testing.assert_allclose(mag.lines[0].get_ydata(), [p[1] for p in sheets[0].bode])
    # the unity-gain marker sits at each column's measured frequency
    assert [ln.get_xdata()[0] for ln in mag.lines if ln.get_linestyle() == ":"] == [3e7, 2e7]
    json.dumps(sheets[0].as_dict())       # the response travels in the JSON too


def test_the_montecarlo_histograms_count_every_sample_and_set_apart_the_flagged():
    from analogam.study.mc_figures import montecarlo_figure

    recs = {f"s{i}": {"accuracy": 1.0 - 0.25 * (i % 2), "readout_error": 10.0 ** -i,
                      "max_state_error": 0.1, "settling_tau_max": 4 + i,
                      "findings": {"fidelity": ["x"]} if i < 3 else {}} for i in range(7)}
    recs["dead"] = {"failed": "ngspice timed out"}
    fig = montecarlo_figure({"records": recs}, "m")
    acc, err = fig.axes[0], fig.axes[1]
    heights = [sum(p.get_height() for p in c) for c in acc.containers]
    assert heights == [4, 3]                  # passed every check / flagged: all 7
    assert err.get_xscale() == "log"          # the read-out error spans decades
    assert "1 did not simulate" in fig._suptitle.get_text()


def test_the_token_strip_marks_the_tokens_that_differ():
    from analogam.study.generate import Generation, generation_figure

    g = Generation(start=np.array([0, 1]), circuit=np.array([1, 0, 1, 1]),
                   ode=np.array([1, 0, 0, 1]), rule=None, max_err=np.full(4, 1e-3),
                   settle_s=np.full(4, 2e-7), energy_j=np.full(4, 1e-9),
                   cells_reprogrammed=np.zeros(4, int), level="opamp")
    fig = generation_figure(g, "m")
    strip = fig.axes[0]
    red = [t for t in strip.texts if t.get_color() == "tab:red"]
    assert len(strip.texts) == 8 and len(red) == 1   # circuit token 2 differs from the ODE
    assert fig.axes[1].get_ylabel() == "settling (ns)"
    assert np.allclose(fig.axes[1].lines[0].get_ydata(), 200.0)
    assert fig.axes[3].get_ylabel() == "energy (J)"


@pytest.mark.ngspice
def test_the_report_is_written_in_the_formats_asked_for(tmp_path):
    out = tmp_path / "rep"
    r = subprocess.run([sys.executable, "-m", "analogam_cli.main", "simulate",
                        str(ROOT / "models" / "xor.npz"), "--report", str(out),
                        "--figure-format", "svg", "--figure-format", "pdf"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-500:]
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == sorted(["report.json"] + [f"{n}.{f}" for n in
                                              ("trajectories", "energy", "prediction")
                                              for f in ("svg", "pdf")])
    assert (out / "energy.pdf").read_bytes().startswith(b"%PDF")
    assert "model units" in (out / "trajectories.svg").read_text()


def test_progress_redraws_on_a_terminal_and_logs_a_line_per_tenth_elsewhere():
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    log, tty = io.StringIO(), Tty()
    for stream in (log, tty):
        with am.Progress("runs", stream=stream) as bar:
            for k in range(1, 101):
                bar.update(k, 100, "extra", "arguments")
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 11    # the start, then each tenth
    assert lines[-1].startswith("[" + "#" * 30 + "] 100/100 runs")
    assert tty.getvalue().count("\r") == 100 and tty.getvalue().endswith("\n")
    quiet = io.StringIO()
    am.Progress("few", stream=quiet).update(3, 3)      # fewer than 8 items: nothing
    assert quiet.getvalue() == ""
