"""The shape of the code: stage packages import only along the pipeline, no import
cycle, and the checker itself catches a forbidden import when one is added."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

PKG = Path(__file__).resolve().parents[1] / "analogam"
SHARED = {"errors", "atomic", "figures", "__init__"}
# stage -> the stages it may import (docs/design.md section 2; docs/conventions.md 1)
ALLOWED = {
    "model": set(),
    "tasks": {"model"},
    "reference": {"model"},
    "train": {"model", "tasks", "reference"},
    "circuit": {"model"},
    "netlist": {"circuit"},
    "spice": set(),
    "compare": {"model", "reference", "circuit", "spice"},
    "study": {"model", "tasks", "reference", "train", "circuit", "netlist", "spice",
              "compare"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def runtime_imports(path: Path, text: str | None = None) -> set[str]:
    """Absolute names of the analogam modules ``path`` (or ``text`` standing at
    ``path``) imports at run time (imports under ``if TYPE_CHECKING:`` are annotations
    only)."""
    tree = ast.parse(path.read_text() if text is None else text)
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("analogam"):
                out.add(mod)
                out |= {f"{mod}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("analogam")}
    return out


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return None if parts[1] in SHARED else parts[1]


def forbidden_imports(files: dict[Path, set[str]]) -> list[str]:
    bad = []
    for path, imports in files.items():
        src = stage_of(module_name(path))
        if src is None:  # shared modules import no stage at all
            bad += [f"{path.name} -> {m}" for m in imports if stage_of(m) in ALLOWED]
            continue
        for m in imports:
            dst = stage_of(m)
            if dst is not None and dst != src and dst in ALLOWED and dst not in ALLOWED[src]:
                bad.append(f"{module_name(path)} -> {m}")
    return sorted(bad)


def all_files() -> dict[Path, set[str]]:
    return {p: runtime_imports(p) for p in sorted(PKG.rglob("*.py"))}


def test_every_stage_package_is_known():
    found = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert found == set(ALLOWED)


def test_imports_flow_one_way_along_the_pipeline():
    assert forbidden_imports(all_files()) == []


@pytest.mark.parametrize("src, line", [
    ("reference/ode.py", "from ..spice import run_batch"),
    ("spice/runner.py", "from ..reference import simulate_ode"),
    ("circuit/realise.py", "from ..netlist import format_netlist"),
    ("train/loop.py", "from ..circuit import build_circuit"),
    ("compare/power.py", "from analogam.study import simulate_task"),
    ("errors.py", "from .model import Model"),
])
def test_a_forbidden_import_is_caught(src, line):
    path = PKG / src
    files = all_files()
    assert forbidden_imports(files) == []
    files[path] = runtime_imports(path, path.read_text() + "\n" + line + "\n")
    assert forbidden_imports(files), f"{line!r} in {src} was not caught"


def test_no_import_cycle_between_modules():
    g = nx.DiGraph()
    names = {module_name(p) for p in PKG.rglob("*.py")}
    for path, imports in all_files().items():
        src = module_name(path)
        for m in imports:
            # "from .x import y" names both the module x and maybe a submodule x.y
            dst = m if m in names else m.rsplit(".", 1)[0]
            if dst in names and dst != src and not src.startswith(dst + "."):
                g.add_edge(src, dst)
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], cycles[:3]


CLI = PKG.parent / "cli"
REPO = PKG.parent


def test_the_command_line_is_a_client_of_the_library_only():
    """No library module imports the CLI; the CLI imports no private library name."""
    for path, imports in all_files().items():
        assert not any(m.startswith("analogam_cli") for m in imports), path
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analogam"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private {private} from {node.module}"


LEVEL_BRANCHING = re.compile(
    r"""lineage\(|\blevel\s*[!=]=\s*["']|["'](ideal|bjt|opamp|pdk)["']\s+(not\s+)?in\s"""
    r"""|\bkit\s+is\s+(not\s+)?None|["']sky130["']""")
LEVEL_MODULES = {"circuit/levels.py", "circuit/blocks/__init__.py", "circuit/pdk.py",
                 "circuit/options.py"}


def level_branching(files: dict[str, str]) -> list[str]:
    """Lines outside the level and kit modules that decide by a level's name or
    ancestry, by whether a kit is present, or name a kit."""
    bad = []
    for rel, text in files.items():
        if rel in LEVEL_MODULES:
            continue
        for k, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            if LEVEL_BRANCHING.search(code):
                bad.append(f"{rel}:{k}: {line.strip()}")
    return bad


def _sources() -> dict[str, str]:
    out = {str(p.relative_to(PKG)): p.read_text() for p in sorted(PKG.rglob("*.py"))}
    out.update({f"../cli/{p.name}": p.read_text() for p in sorted(CLI.glob("*.py"))})
    return out


def test_levels_and_kits_are_decided_only_by_their_records():
    assert level_branching(_sources()) == []


@pytest.mark.parametrize("line", ['if level == "pdk":', 'x = "opamp" in lineage(lv)',
                                  "if e.kit is None:", 'kit = get_process_kit("sky130")'])
def test_level_branching_is_caught(line):
    assert level_branching({"circuit/realise.py": line + "\n"})


def test_no_module_is_over_450_lines():
    long = {rel: n for rel, text in _sources().items()
            if (n := text.count("\n")) > 450}
    assert long == {}


DOC_REF = re.compile(r"\b((?:docs/)?[\w./-]+\.md)\b")


def test_every_document_the_code_cites_is_in_the_repository():
    """A clone has every document a file in it names (no design notes living
    elsewhere)."""
    missing = set()
    for path in [*PKG.rglob("*.py"), *CLI.glob("*.py"), *(REPO / "tests").glob("*.py"),
                 *(REPO / "examples").glob("*.py"), *(REPO / "benchmarks").glob("*.py"),
                 REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        for ref in DOC_REF.findall(path.read_text()):
            if ref.startswith("docs/") and not (REPO / ref).is_file():
                missing.add(f"{path.name}: {ref}")
            elif ref in ("DESIGN" + ".md", "STYLE" + ".md"):
                missing.add(f"{path.name}: {ref}")
    assert sorted(missing) == []
