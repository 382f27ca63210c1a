"""The one device configuration: documented TOML round trip, validation, and the CLI's
precedence (file, then --set, then shortcut options), with defaults from the library."""

from __future__ import annotations

import tomllib

import pytest
from test_weights import ROOT, assert_one_line_error, run_cli

from analogam.circuit import DeviceConfig, config_from_dict, format_config, load_config
from analogam.errors import ConfigError


def test_documented_file_round_trips_and_names_every_key(tmp_path):
    cfg = DeviceConfig(seed=9).with_values({"opamp.gbw": 3e8, "bjt.ptat": True,
                                            "conductance.levels": 16, "scales.t0": 2e-6})
    text = format_config(cfg)
    assert config_from_dict(tomllib.loads(text)) == cfg
    path = tmp_path / "d.toml"
    path.write_text(text)
    assert load_config(path) == cfg
    # every key carries its unit and meaning
    keys = [ln for ln in text.splitlines() if "=" in ln and not ln.startswith(("#", "seed"))]
    assert keys and all("# " in ln for ln in keys)


@pytest.mark.parametrize("data, match", [
    ({"seed": 2**64}, "seed must be an integer in"),
    ({"seed": -1}, "seed must be an integer in"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"opamp": {"gbw": float("nan")}}, "opamp.gbw must be finite"),
    ({"opamp": {"v_neg": 6.0}}, "op-amp swing"),
    ({"conductance": {"levels": 2.7}}, "must be a whole number"),
    ({"conductance": {"levels": 1}}, "at least 2"),
    ({"conductance": {"g_min": 1e-3}}, "is empty"),
    ({"conductance": {"prog_noise_scale": 3.0}}, "not a device spread"),
    ({"scales": {"vs": 0.0}}, "scales.vs must be > 0"),
    ({"bjt": {"ptat": 1}}, "must be true or false"),
    ({"wire": "x"}, "must be a table"),
    ({"nosuch": {}}, "unknown section"),
])
def test_bad_values_are_one_line_config_errors(data, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict(data)


def test_cli_precedence_and_library_defaults(tmp_path):
    toml = tmp_path / "d.toml"
    toml.write_text("[scales]\nvs = 0.5\ng0 = 2e-5\n")
    out = tmp_path / "x.cir"
    r = run_cli("compile", str(ROOT / "models" / "xor.npz"), "-o", str(out), "--config",
                str(toml), "--set", "scales.g0=3e-5", "--vs", "0.25")
    assert r.returncode == 0, r.stderr
    assert "G0 3e-05 S" in r.stdout and "Vs 0.25 V" in r.stdout
    r = run_cli("compile", str(ROOT / "models" / "xor.npz"), "-o", str(out))
    d = DeviceConfig().scales
    assert f"G0 {d.g0:.4g} S" in r.stdout and f"Vs {d.vs:g} V" in r.stdout
    assert_one_line_error(run_cli("compile", str(ROOT / "models" / "xor.npz"), "-o", str(out),
                                  "--set", "opamp.nosuch=1"), "unknown configuration key")
    assert_one_line_error(run_cli("compile", str(ROOT / "models" / "xor.npz"), "-o", str(out),
                                  "--levels", "2.7"), "is not a valid integer")


@pytest.mark.parametrize("typo, hint", [
    ("opamp.gwb", "did you mean opamp.gbw?"),
    ("gbw", "did you mean opamp.gbw?"),
    ("wire.r_per_cel", "did you mean wire.r_per_cell or wire.c_per_cell?"),
    ("opamp.foo", "keys of [opamp]: opamp.a0, opamp.gbw"),
    ("nonsense.x", "sections: scales, conductance"),
])
def test_a_misspelt_key_names_the_nearest(typo, hint):
    with pytest.raises(ConfigError) as e:
        DeviceConfig().with_value(typo, 1)
    assert hint in str(e.value) and "analogam config" in str(e.value)
