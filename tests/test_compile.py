"""The compiler: golden output, determinism, sanitising, device window, quantisation."""

from pathlib import Path

import numpy as np
import pytest

from analogam.circuit import CompileOptions, DeviceConfig, build_circuit
from analogam.errors import CircuitError
from analogam.model import Stimulus, bind
from analogam.model.architectures import build_denseam
from analogam.netlist import format_netlist, sanitize, transient_for
from analogam.tasks import bind_task, get_task

GOLDEN = Path(__file__).parent / "golden"


def options(level="ideal", **keys):
    """CompileOptions with configuration keys given as section__key=value."""
    return CompileOptions(level, DeviceConfig().with_values(
        {k.replace("__", "."): v for k, v in keys.items()}))


def netlist_of(system, opts=None):
    c = build_circuit(system, opts)
    return format_netlist(c.circuit, transient_for(c))


def tiny_system(name="tiny"):
    """2 visible (tanh), 2 hidden (softmax), signed weights, a zero weight, biases."""
    m = build_denseam(np.array([[0.5, -0.25], [0.0, 1.0]]), beta=2.0, tau_v=1.0, tau_h=0.2,
                      readout_time=6.0, visible_activation="tanh",
                      visible_bias=np.array([0.1, 0.0]), name=name)
    return bind(m, Stimulus(1, init={"v": np.array([[0.3, -0.2]])}))


@pytest.mark.parametrize("level", ["ideal", "bjt", "opamp"])
def test_golden_netlists(level, request):
    text = netlist_of(tiny_system(), CompileOptions(level=level))
    path = GOLDEN / f"tiny_{level}.cir"
    if request.config.getoption("--regen-golden"):
        path.write_text(text)
    assert text == path.read_text(), f"{path.name} differs: rerun with --regen-golden on purpose"


def test_netlist_is_deterministic(hamming_model):
    s = bind_task(hamming_model, get_task("hamming74").inputs()[:5])
    a = netlist_of(s, CompileOptions(level="bjt"))
    b = netlist_of(s, CompileOptions(level="bjt"))
    assert a == b


def test_crossbar_has_one_resistor_per_nonzero_weight_and_inverted_lines_for_negatives():
    c = build_circuit(tiny_system()).circuit
    xbar = c.by_role("crossbar")
    assert sorted(e.name for e in xbar) == ["xi_0_0", "xi_0_1", "xi_1_1"]
    neg = next(e for e in xbar if e.name == "xi_0_1")
    assert neg.nets == ("l_h_0", "ln_v_1") and neg.param("r") == pytest.approx(1 / 2.5e-6)
    assert [e.name for e in c.by_role("inverter")] == ["v_1_inv"]


@pytest.mark.parametrize("evil", ["x\n.control\nshell touch /tmp/pwned\n.endc",
                                  "shell rm -rf ~", ".include /etc/passwd", "a;b`c`$(d)"])
def test_model_name_cannot_change_the_netlist(evil):
    safe = netlist_of(tiny_system("safe")).splitlines()
    bad = netlist_of(tiny_system(evil)).splitlines()
    assert safe[1:] == bad[1:], "only the title comment may differ"
    assert bad[0].startswith("* ") and "\n" not in bad[0]
    assert not any(line.lstrip().lower().startswith((".control", "shell", ".include"))
                   for line in bad)
    assert sanitize(evil) == sanitize(sanitize(evil))


def test_weights_outside_window_error_or_rescale_exactly(xor_model):
    s = bind_task(xor_model, get_task("xor").inputs())
    with pytest.raises(CircuitError, match=r"outside the device window.*--rescale"):
        build_circuit(s, options(scales__g0=1e-3))
    c = build_circuit(s, options(scales__g0=1e-3, conductance__rescale=True))
    assert c.scales.g0 == pytest.approx(1e-4) and c.conductance_range == (1e-4, 1e-4)
    np.testing.assert_array_equal(c.system.weights[0], s.weights[0])
    # C = tau T0 G0 follows the new G0, so the time constant is unchanged
    cap = next(e for e in c.circuit.by_role("integrator") if e.name == "k0_v_2_int")
    assert cap.param("c") == pytest.approx(1.0 * c.scales.t0 * 1e-4)
    with pytest.raises(CircuitError, match="span a ratio"):
        build_circuit(bind(build_denseam(np.array([[1.0, 1e-4]]), beta=1.0),
                           Stimulus(1)), options(conductance__rescale=True))


def test_quantisation(hamming_model):
    s = bind_task(hamming_model, get_task("hamming74").inputs()[:3])
    two = build_circuit(s, options(conductance__levels=2, conductance__rescale=True))
    np.testing.assert_array_equal(two.system.weights[0], s.weights[0])  # 0/1 weights survive
    rng = np.random.default_rng(3)
    m = build_denseam(rng.uniform(0.1, 1.0, (4, 3)), beta=1.0)
    sr = bind(m, Stimulus(1))
    q = build_circuit(sr, options(conductance__levels=4, conductance__rescale=True))
    grid = np.linspace(1e-7, 1e-4, 4) / q.scales.g0
    w = q.system.weights[0]
    assert np.all(np.isclose(w[..., None], grid).any(-1))
    assert np.abs(w - sr.weights[0]).max() <= (grid[1] - grid[0]) / 2 + 1e-12


def test_unknown_level_and_bad_scales():
    with pytest.raises(CircuitError, match="unknown level 'spice'; valid: ideal, bjt, opamp"):
        build_circuit(tiny_system(), CompileOptions(level="spice"))
    with pytest.raises(CircuitError, match="scales.vs must be > 0"):
        options(scales__vs=-1)


def test_base_dialect_stands_alone_and_ngspice_overrides_only_temperature():
    from analogam.errors import NetlistError
    from analogam.netlist import Dialect, NgspiceDialect

    c = build_circuit(tiny_system(), CompileOptions(level="bjt"))
    tran = transient_for(c)
    assert format_netlist(c.circuit, tran, Dialect()) == format_netlist(
        c.circuit, tran, NgspiceDialect())
    ptat = build_circuit(tiny_system(), options("bjt", bjt__ptat=True))
    assert "temper" in format_netlist(ptat.circuit, tran)
    with pytest.raises(NetlistError, match="cannot write a temperature-dependent"):
        format_netlist(ptat.circuit, tran, Dialect())


@pytest.mark.parametrize("top, both", [(20.0, True), (5.0, False)])
def test_the_window_error_names_every_remedy_the_weights_need(top, both):
    """Weights spanning more than the window need pruning; when the largest does not fit
    at this G0 either, the same message also names --rescale and the G0 that fits."""
    from analogam.circuit.config import Conductance
    from analogam.circuit.realise import fit_conductances
    from analogam.errors import CircuitError

    with pytest.raises(CircuitError) as e:
        fit_conductances([np.array([[1e-5, top]])], 1e-5, Conductance())
    msg = str(e.value)
    assert "--prune-below" in msg
    assert ("--rescale" in msg) == both and (f"--g0 {1e-4 / top:.3g}" in msg) == both
