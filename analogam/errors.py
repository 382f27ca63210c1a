"""The one error hierarchy of analogam, and the text helpers every message uses.

Every message is one line that names the argument or object at fault and, where there
is a closed set of valid choices, lists them. The CLI prints ``str(error)`` and exits 1.
"""


import unicodedata


class AnalogamError(Exception):
    """Base of every error analogam raises on purpose."""


class ModelError(AnalogamError):
    """A model is inconsistent: shapes, activations, time constants, values."""


class WeightsFileError(ModelError):
    """A weights file cannot be read or does not validate."""


class TaskError(AnalogamError):
    """A task input is malformed (wrong length, not a bit string, unknown task)."""


class CircuitError(AnalogamError):
    """The circuit IR fails a structural or device check."""


class ConfigError(CircuitError):
    """A device configuration (TOML file or option) that cannot be used."""


class NetlistError(AnalogamError):
    """A netlist cannot be written."""


class SimulationError(AnalogamError):
    """ngspice is missing, failed, timed out or did not converge. Carries the path of
    the kept netlist (if any) and the tail of ngspice's output."""

    def __init__(self, message: str, *, netlist_path: str = "", log_tail: str = "") -> None:
        super().__init__(message)
        self.netlist_path = netlist_path
        self.log_tail = log_tail


def printable(text) -> str:
    """``text`` safe for a terminal: control and format characters (newlines, ANSI
    escapes, bidi overrides) and lone surrogates are shown as ``\\xNN``/``\\uNNNN``."""
    out = []
    for ch in str(text):
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != " ":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def one_line(text: str) -> str:
    """Collapse ``text`` to a single printable line, so a message can never span lines
    or carry terminal escapes."""
    return printable(" ".join(str(text).split()))


def lookup(table, name, what: str, error: type[AnalogamError]):
    """``table[name]``; a wrong name is one ``error`` line listing the valid ones."""
    try:
        return table[name]
    except (KeyError, TypeError):
        raise error(f"unknown {what} {str(name)[:40]!r}; valid: "
                    f"{', '.join(table)}") from None
