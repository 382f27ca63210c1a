"""The Python API: what `import analogam` exposes, the shipped notebook-style example
run whole, and the report's figures (Figure objects with labelled, unit-bearing axes,
the user's matplotlib backend untouched)."""

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
