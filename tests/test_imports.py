"""Importing simlive (and its CLI module) loads nothing heavy, so `simlive --help` is instant."""

from __future__ import annotations

import subprocess
import sys

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
    loaded = loaded_after("import simlive.target.client, simlive.target.provision, "
                          "simlive.target.preflight, simlive.check.checker, "
                          "simlive.check.stored, simlive.load.runner")
    assert "locust" not in loaded and "fastapi" not in loaded and "sqlalchemy" not in loaded
