"""Importing simlive (and its CLI) loads nothing heavy, so `simlive --help` is instant; and
imports point one way, from the command line down to the vocabulary, with no circles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("simpy", "numpy", "locust", "fastapi", "sqlalchemy")


def loaded_after(statement: str) -> list[str]:
    code = (f"{statement}\nimport sys\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    return proc.stdout.split()


@pytest.mark.parametrize("statement", [
    "import simlive",
    "import simlive.cli",
    "import simlive.rules, simlive.errors",
])
def test_import_loads_nothing_heavy(statement):
    assert loaded_after(statement) == []


def test_help_loads_nothing_heavy():
    code = ("import sys\nfrom simlive.cli import cli\n"
            "try:\n    cli(['--help'], prog_name='simlive')\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', ' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "Usage: simlive" in proc.stdout
    assert proc.stdout.splitlines()[-1].split() == ["LOADED"]


def test_simulator_does_not_need_simpy_until_the_simpy_desk_runs():
    assert loaded_after("import simlive.sim.engine, simlive.sim.replications") == ["numpy"]


def test_version_is_public():
    import simlive

    assert simlive.__version__ == "0.1.0"
    assert simlive.__all__ == ["__version__"]


def test_targets_and_the_checker_run_without_locust_or_the_web_stack():
    """Only simlive.load imports locust, only simlive.service FastAPI: a checker or a
    preflight on a machine without them still works."""
    loaded = loaded_after("import simlive.shops.client, simlive.shops.provision, "
                          "simlive.shops.preflight, simlive.check.checker, "
                          "simlive.check.stored, simlive.load.runner")
    assert "locust" not in loaded and "fastapi" not in loaded and "sqlalchemy" not in loaded


# --- the direction of imports ------------------------------------------------------------

SIMLIVE = Path(__file__).parents[1] / "simlive"

LAYERS: dict[str, int] = {
    # the vocabulary: errors, words, the rules and the operations every part speaks
    "simlive": 0, "errors": 0, "text": 0,
    "rules": 1, "operations": 1, "extras": 1,
    "scenario": 2,  # the scenario file: what every feature reads
    "judge": 3,  # the judges over measure records, odds, Wald's test: no simulation
    # the features, each on its own: a feature imports only what lies below it
    "sim": 4, "check": 4, "service": 4,
    "shops": 5, "plan": 5,  # shops reads a final state (check); plan simulates (sim)
    "report": 6,  # tables and pages of runs and plans
    "load": 7,  # drives a shop (shops), records, checks, reports
    "cli": 8,
}
"""Each part of simlive and its layer: a module may import only from a lower layer (or its
own package). Equal layers are strangers: ``sim`` never imports ``check``."""


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports_of(source: str) -> list[tuple[int, str]]:
    """(line, module) of every simlive import in ``source``, lazy ones in functions too."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return [(line, m) for line, m in found if m == "simlive" or m.startswith("simlive.")]


def upward_imports(module: str, source: str) -> list[str]:
    """The imports of ``module`` that point up (or sideways to another part)."""
    here = _part(module)
    bad = []
    for line, target in imports_of(source):
        there = _part(target)
        if there != here and LAYERS[there] >= LAYERS[here]:
            bad.append(f"{module}:{line} imports {target} ({there}, layer {LAYERS[there]} "
                       f">= {here}, layer {LAYERS[here]})")
    return bad


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SIMLIVE.rglob("*.py")):
        name = ".".join(path.relative_to(SIMLIVE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def test_every_part_of_simlive_has_a_layer():
    assert {_part(m) for m in _modules()} == set(LAYERS)


def test_imports_point_one_way():
    bad = [b for m, p in _modules().items() for b in upward_imports(m, p.read_text())]
    assert not bad, "\n".join(bad)


def test_an_import_up_or_sideways_is_caught():
    assert upward_imports("simlive.sim.engine", "def f():\n    from simlive.check import x\n")
    assert upward_imports("simlive.rules", "import simlive.scenario.schema\n")
    assert not upward_imports("simlive.load.run", "from simlive.shops.client import c\n")


def test_no_two_modules_import_each_other():
    """No circle of modules, lazy imports included (a lazy import hides a circle from the
    interpreter, not from the reader)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for _, target in imports_of(p.read_text()):
            while target not in mods and "." in target:
                target = target.rsplit(".", 1)[0]  # from simlive.x import name
            if target in mods and target != m:
                graph[m].add(target)
    circles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert not circles, circles


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_a_circle_is_found():
    assert ["a", "b"] in _strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}})


SHARED_NAMES = {
    "__main__": "python -m",
    "aftersales": "the scenario's after-sales block and the model's desks (scenario/, sim/)",
    "orders": "the model's orders and the service's orders router (a router per resource)",
    "tickets": "the model's tickets and the service's tickets router",
    "common": "the CLI's shared options and the routers' shared path types",
    "files": "reading target files (shops/) and writing report files (report/)",
}
"""Module names two packages share on purpose, and why; any other name says which is
which (``sim/service_levels`` vs ``plan/desk_staffing``, not two ``staffing`` modules)."""


def test_module_names_say_which_package_they_belong_to():
    seen: dict[str, list[str]] = {}
    for name, path in _modules().items():
        if path.name != "__init__.py":  # a package may share a module's name (load/)
            seen.setdefault(path.stem, []).append(name)
    twice = {n: m for n, m in seen.items() if len(m) > 1 and n not in SHARED_NAMES}
    assert not twice, twice
