"""The extras: ``pip install simlive`` simulates, plans, re-checks and reports without the
web stack, Locust or Dask; each command that needs an extra names it.

"Without" is real: the commands run in a child process whose importer refuses the extras'
packages (as on a machine where they were never installed); nothing is mocked in simlive.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTRA_ONLY = ("locust", "fastapi", "uvicorn", "sqlalchemy", "psycopg", "distributed",
              "starlette", "gevent")
BLOCK = f"""
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRA_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
"""


def without_extras(*args: str) -> subprocess.CompletedProcess[str]:
    """``simlive ARGS`` where none of the extras' packages can be imported."""
    code = BLOCK + ("from simlive.cli import cli\n"
                    f"cli({list(args)!r}, prog_name='simlive')\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, stdin=subprocess.DEVNULL)


def test_the_core_requires_no_extras_package():
    core = [r for r in requires("simlive") or [] if "extra ==" not in r]
    names = {r.split(";")[0].split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip()
             .lower() for r in core}
    assert names and not names & set(EXTRA_ONLY), names
    extras = [r for r in requires("simlive") or [] if "extra ==" in r]
    for extra, package in (("service", "fastapi"), ("load", "locust"),
                           ("cluster", "distributed")):
        assert any(r.lower().startswith(package) and f'extra == "{extra}"' in r
                   for r in extras), (extra, extras)


@pytest.mark.slow
def test_the_core_simulates_plans_and_rechecks_without_the_extras(tmp_path: Path):
    done = without_extras("run", "scenarios/boutique.yaml", "-r", "2", "-q", "--json",
                          str(tmp_path / "run.json"), "--html", str(tmp_path / "run.html"))
    assert done.returncode in (0, 4), done.stderr[-2000:]
    assert json.loads((tmp_path / "run.json").read_text())["replications"] == 2
    assert "<svg" in (tmp_path / "run.html").read_text()
    done = without_extras("plan", "scenarios/boutique.yaml", "--target",
                          "aftersales.first_reply.p95_s <= 600", "--vary", "aftersales.agents",
                          "--max", "6", "-r", "2", "--validate", "2")
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr[-2000:]
    found = ROOT / "examples" / "oscar" / "findings" / "tracked-oversell"
    done = without_extras("check", "--history", str(found / "history.jsonl.gz"), "--state",
                          str(found / "state.json.gz"), "--target",
                          str(ROOT / "examples" / "oscar" / "target.yaml"))
    assert done.returncode == 1 and "stock.no-oversell" in done.stdout, done.stderr[-2000:]
    done = without_extras("load", "scenarios/flash-sale.yaml", "--dry-run")
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(("args", "extra"), [
    (["serve", "--port", "0"], "service"),
    (["serve", "--fault", "oversell"], "service"),
    (["load", "scenarios/flash-sale.yaml", "--serve"], "load"),
    (["run", "scenarios/boutique.yaml", "-q", "--cluster", "tcp://127.0.0.1:9"], "cluster"),
])
def test_a_command_names_the_extra_it_needs(args: list[str], extra: str):
    done = without_extras(*args)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"pip install 'simlive[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("extra", "modules"), [
    ("service", "simlive.service.server, simlive.service.app"),
    ("load", "simlive.load.locustfile, simlive.load.runner"),
    ("cluster", "distributed, simlive.sim.workers"),
])
def test_each_extra_brings_what_its_modules_import(extra: str, modules: str):
    """Installed with its extra (the test extra has them all), each part imports."""
    done = subprocess.run([sys.executable, "-c", f"import {modules}"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, (extra, done.stderr[-2000:])
