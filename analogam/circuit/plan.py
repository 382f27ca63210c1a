"""Planning a circuit for its design range, before any block is emitted: the bias
that keeps every device in its region, the configuration a process kit decides, the
largest line-to-cell voltage, and the design range itself (from the ODE on the task's
inputs). Pure functions of the model, the options and the level's traits."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ..errors import CircuitError, ConfigError
from ..model.activations import get_activation
from .blocks.activations import DIODE_DROP
from .config import SECTIONS, DeviceConfig
from .kits import thermal_voltage
from .levels import get_level
from .options import CompileOptions
from .pdk import ProcessKit, get_process_kit

HONOURED_KIT_KEYS = ("bjt.i_tail", "wire.r_per_cell", "wire.c_per_cell")
"""Keys a process kit sets but a user's explicit value overrides: the tail current is
a bias choice and the wires' resistance and capacitance a layout's (pitch, width,
layer), not properties of the kit's devices. Every other key a kit sets describes its
devices (supplies, the measured amplifier, the NPN), and a user's different value for
it is refused."""


@dataclass(frozen=True)
class KitSetting:
    """A configuration key the process kit (or the plan on it) decided: the ``value``
    the circuit gets, the configured value it replaced (``was``) and ``why``."""

    key: str
    value: float | bool
    was: float | bool
    why: str

    def describe(self) -> str:
        return f"{self.key} = {self.value:g} ({self.why}; configured {self.was:g})"


def _get(cfg: DeviceConfig, key: str):
    section, _, name = key.partition(".")
    return getattr(getattr(cfg, section), name)


def kit_config(cfg: DeviceConfig, kit: ProcessKit, ranges, corner: str = "tt"
               ) -> tuple[DeviceConfig, tuple[KitSetting, ...]]:
    """The configuration on ``kit`` at ``corner`` (:meth:`ProcessKit.config_values`;
    refused when its supply exceeds its devices' limits, which then hold everywhere by
    construction), and what it changed. A user's explicit value (one that differs from
    the library's default) for a key the kit decides is honoured for
    :data:`HONOURED_KIT_KEYS` and otherwise refused in one line, never dropped.

    Planned on the kit: the sense full scale, so the copies' outputs (gain x full
    scale) fit the swing, and ``Vs`` (V per model unit) reduced so the widest state of
    the design range, and the inverted line of the widest output, stay inside it."""
    amp = kit.amplifier_sizing(cfg.design.amplifier)[1]
    # no two nodes are further apart than the supplies: every MOS terminal pair and every
    # NPN collector-emitter stays within the kit's limits by construction
    if kit.vdd > min(kit.v_max, kit.vce_max):
        raise CircuitError(f"process kit {kit.name}: a {kit.vdd:g} V supply exceeds its "
                           f"devices' limits ({kit.v_max:g} V MOS, {kit.vce_max:g} V V_CE)")
    default = DeviceConfig()
    values = kit.config_values(corner, cfg.design.amplifier)
    why, honoured = {}, set()
    for key, val in list(values.items()):
        user = _get(cfg, key)
        if user == _get(default, key) or user == val:
            why[key] = f"process kit {kit.name}"
        elif key in HONOURED_KIT_KEYS:
            values[key] = user
            why[key] = f"your value, over process kit {kit.name}'s {val:g}"
            honoured.add(key)
        else:
            raise CircuitError(
                f"{key} = {user:g} is decided by process kit {kit.name} at {corner} (it "
                f"sets {val:g}: {_doc(key)}); remove the setting, or use a level without a "
                "process kit to set it")
    v_fs = min(cfg.sense.v_full_scale, 0.4 * amp["swing"] / cfg.sense.gain)
    values["sense.v_full_scale"] = v_fs
    why["sense.v_full_scale"] = "fits the copies' outputs in the kit's swing"
    if ranges:
        widest = max(max(abs(lo), abs(hi), 1.0) for _, lo, hi in ranges)
        values["scales.vs"] = min(cfg.scales.vs, (0.9 * amp["swing"] - v_fs) / widest)
        why["scales.vs"] = "fits the design range in the kit's swing"
    settings = tuple(KitSetting(k, v, _get(cfg, k), why[k]) for k, v in values.items()
                     if v != _get(cfg, k) or k in honoured)
    return cfg.with_values(values), settings


def _doc(key: str) -> str:
    section, _, name = key.partition(".")
    f = {f.name: f for f in fields(SECTIONS[section])}[name]
    return f.metadata["doc"]


def bias_plan(model, opt: CompileOptions
              ) -> tuple[CompileOptions, dict[str, float], tuple[KitSetting, ...]]:
    """The bias that keeps the devices in their region over the design range:

    - translinear groups (at levels with transistors): a common-mode level shift of the
      base drives when the highest base would come closer than ``bjt.headroom`` to the
      collector rail, or the emitters would leave the tail sources no
      ``bjt.compliance``; base drive ``gain * V_u`` with ``gain = param V_T / Vs``
      (both blocks are invariant to a common shift);
    - op-amp swing (``opamp.auto_rails``, at levels with amplifiers): widened to the
      largest state plus 0.5 V.

    At a level with a process kit the supplies, swing, amplifier and NPN are the kit's
    (:func:`kit_config`), and ``Vs`` shrinks until the design range fits the swing.

    Returns the options with the swing the circuit gets, the shift per group (V), and
    the keys the kit decided."""
    level = get_level(opt.level)
    settings: tuple[KitSetting, ...] = ()
    if level.process_kit:
        kit = get_process_kit(opt.pdk)
        kit.includes(opt.corner)    # a wrong corner or a missing kit, said first
        cfg, settings = kit_config(opt.config, kit, opt.ranges, opt.corner)
        opt = replace(opt, config=cfg)
    elif opt.config.environment.kit_mismatch:
        raise CircuitError(f"environment.kit_mismatch switches a process kit's mismatch on; "
                           f"level {level.name} has none: use a level with a kit, or set "
                           "opamp.offset_sigma for the macromodel's offsets")
    if not opt.ranges:
        return opt, {}, settings
    cfg, vs = opt.config, opt.config.scales.vs
    ranges = {g: (lo, hi) for g, lo, hi in opt.ranges}
    shifts = {}
    bjt = cfg.bjt
    for grp in model.groups:
        if (grp.name not in ranges or not level.transistors
                or not get_activation(grp.activation).translinear):
            continue
        lo, hi = ranges[grp.name]
        gain = grp.param * thermal_voltage() / vs
        top = gain * vs * (hi if grp.activation == "softmax" else max(abs(lo), abs(hi)))
        upper = bjt.v_cc - bjt.headroom                       # highest allowed base
        lower = bjt.v_ee + bjt.compliance + DIODE_DROP        # lowest allowed top base
        if top > upper:
            shifts[grp.name] = upper - top
        elif top < lower:
            shifts[grp.name] = lower - top
    amp = cfg.opamp
    if amp.auto_rails and level.amplifiers:
        lo = min(r[0] for r in ranges.values()) * vs
        hi = max(r[1] for r in ranges.values()) * vs
        need_hi, need_lo = np.ceil(2 * (hi + 0.5)) / 2, np.floor(2 * (lo - 0.5)) / 2
        if need_hi > amp.v_pos or need_lo < amp.v_neg:
            try:
                cfg = cfg.with_values({"opamp.v_pos": max(amp.v_pos, float(need_hi)),
                                       "opamp.v_neg": min(amp.v_neg, float(need_lo))})
            except ConfigError as e:
                raise _rails_error(ranges, vs, need_lo, need_hi, e) from None
    return replace(opt, config=cfg), shifts, settings


def _rails_error(ranges: dict, vs: float, need_lo: float, need_hi: float,
                 err: Exception) -> CircuitError:
    """Rails the design range needs but no supply gives: which group's states ask for
    them, and the Vs that would bring them inside (with a tenth to spare)."""
    g_lo = min(ranges, key=lambda g: ranges[g][0])
    g_hi = max(ranges, key=lambda g: ranges[g][1])
    top = max(abs(ranges[g_lo][0]), abs(ranges[g_hi][1]), 1e-12)
    spans = (f"group {g_lo!r} spans {ranges[g_lo][0]:.4g} .. {ranges[g_lo][1]:.4g}"
             if g_lo == g_hi else f"group {g_lo!r} reaches {ranges[g_lo][0]:.4g}, group "
             f"{g_hi!r} {ranges[g_hi][1]:.4g}")
    return CircuitError(
        f"the states need op-amp rails {need_lo:g} .. {need_hi:g} V at Vs {vs:g} V ({spans} "
        f"model units over the design range), beyond the op-amp level's supplies ({err}); "
        f"lower scales.vs to {0.9 * 99.5 / top:.3g} V or less (--set scales.vs=...), or "
        "bound the model's biases and states")


def line_swing(model, ranges) -> float:
    """The largest voltage (model units) between a line and a cell's far end over the
    design range ``ranges``: for every coupling, the widest gap between the two groups'
    activation ranges (1 without a range: the activations' unit scale)."""
    if not ranges:
        return 1.0
    rng = {g: (lo, hi) for g, lo, hi in ranges}
    out = {grp.name: get_activation(grp.activation).output_range(*rng[grp.name])
           for grp in model.groups if grp.name in rng}
    swing = 0.0
    for c in model.couplings:
        if c.hidden in out and c.visible in out:
            (la, ha), (lb, hb) = out[c.hidden], out[c.visible]
            swing = max(swing, ha - lb, hb - la)
    return swing if swing > 0 else 1.0


def design_ranges(model, u: np.ndarray, margin: float = 0.1
                  ) -> tuple[tuple[str, float, float], ...]:
    """Per group, the range of states ``u`` (B, T, N) (e.g. the ODE on the task's
    inputs), widened by ``margin`` of its span on either side."""
    out = []
    for grp in model.groups:
        x = u[:, :, model.slices[grp.name]]
        lo, hi = float(np.min(x)), float(np.max(x))
        pad = margin * max(hi - lo, 1e-9)
        out.append((grp.name, lo - pad, hi + pad))
    return tuple(out)


def design_excursions(model, t: np.ndarray, u: np.ndarray) -> tuple[tuple[str, float], ...]:
    """Per translinear group, the longest path its shared emitter travels along the
    states ``u`` (B, T, N) at model times ``t``, ``max_b int |dV_E/dt| dt`` in units of
    ``V_T``: a softmax emitter follows ``V_T ln sum exp(param u_i)``, so it moves at
    ``param sum_i p_i du_i/dt``; a tanh pair's at half its base, ``param |du_i/dt| / 2``
    (the worst unit)."""
    if u.shape[1] < 2:
        return ()
    out = []
    for grp in model.groups:
        if not get_activation(grp.activation).translinear:
            continue
        x = grp.param * u[:, :, model.slices[grp.name]]
        dx = np.diff(x, axis=1)
        if grp.activation == "softmax":
            p = np.exp(x - x.max(axis=2, keepdims=True))
            p = 0.5 * (p[:, 1:] / p[:, 1:].sum(2, keepdims=True)
                       + p[:, :-1] / p[:, :-1].sum(2, keepdims=True))
            path = np.abs(np.sum(p * dx, axis=2)).sum(axis=1)
        else:
            path = (np.abs(dx) / 2).sum(axis=1).max(axis=1)
        out.append((grp.name, float(path.max())))
    return tuple(out)
