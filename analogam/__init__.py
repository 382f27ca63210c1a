"""analogam: energy-based networks (Dense Associative Memories, Energy Transformers)
compiled to analog circuits and verified in ngspice.

Pipeline (docs/design.md section 2), one package per stage, imports flowing one way:
model -> tasks -> reference (ODE) / train (EP) ; model -> circuit -> netlist ; spice ;
compare (reads reference, circuit and spice) ; study (the end-to-end pipeline, reports,
Monte Carlo). ``errors``, ``atomic`` and ``figures`` are shared by all.

The objects a script uses are importable from here (docs/api.md)::

    import analogam as am
    model = am.load_model("models/hamming74.npz")
    rep = am.simulate_task(model, am.task_for(model).inputs()[:8],
                           am.CompileOptions(level="opamp"))
    figs = am.report_figures(rep)          # matplotlib Figures

A script that runs circuits on the local pool (the default) must start its work under
``if __name__ == "__main__":``: the pool's worker processes import the script again.
Importing this package is cheap: each name is imported from its stage on first use.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    # models and their files
    "Model": "model", "Stimulus": "model", "bind": "model",
    "build_denseam": "model.architectures", "build_energy_transformer":
        "model.architectures", "random_denseam": "model.architectures",
    "load_model": "model.weights", "save_model": "model.weights",
    "load_provenance": "model.weights",
    # tasks
    "get_task": "tasks", "task_for": "tasks", "bind_task": "tasks",
    "read_table": "tasks.table",
    # the ODE reference
    "simulate_ode": "reference",
    # devices and compiling
    "DeviceConfig": "circuit", "CompileOptions": "circuit", "build_circuit": "circuit",
    "load_config": "circuit.config",
    "format_netlist": "netlist", "transient_for": "netlist",
    # running ngspice
    "Runner": "spice", "simulate_spice": "spice",
    # studies
    "simulate_task": "study", "evaluate_ode": "study", "SimulationReport": "study.record",
    "monte_carlo": "study.montecarlo", "sweep": "study.montecarlo",
    "report_figures": "study.report", "write_report": "study.report",
    "generate": "study.generate", "generation_figure": "study.generate",
    "montecarlo_figure": "study.mc_figures", "bode_figure": "study.datasheet",
    "pdk_datasheet": "study.datasheet", "calibrate": "study.calibrate",
    "format_report": "study.report", "report_dict": "study.report",
    # training
    "train_model": "train:train", "TrainConfig": "train", "config_for": "train",
    # figures
    "render": "figures", "save_figure": "figures",
    # progress of long work
    "Progress": "progress",
    # errors
    "AnalogamError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'analogam' has no attribute {name!r}")
    # "stage:attr" where the name differs (``analogam.train`` is the training stage)
    module, _, attr = _EXPORTS[name].partition(":")
    value = getattr(import_module(f".{module}", __name__), attr or name)
    globals()[name] = value   # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
