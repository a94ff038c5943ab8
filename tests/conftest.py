"""Shared fixtures: a small valid scenario, writing scenario files, running the CLI, and
runs computed once per test run for the tests that read the same run."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

# pytest-xdist's workers inherit COLUMNS=80 and LINES=24 from execnet, and a plain pytest
# hands COLUMNS=80 to its subprocesses; simlive honours COLUMNS, so every test would print
# for an 80-column terminal. The suite's commands print at 160 columns, as when piped
# without it; tests of the width set COLUMNS themselves.
os.environ["COLUMNS"] = "160"
os.environ.pop("LINES", None)

# A valid two-SKU, one-hour scenario that passes every rule in a fraction of a second.
# Line numbers matter: the CLI error tests edit it line by line and expect exact lines.
TINY = """\
name: tiny
seed: 7
duration: 1h
audience:
  arrivals:
    - {at: 0m, rate: 30/min}
    - {at: 1h, rate: 10/min}
products:
  skus:
    - {sku: MUG, price: 20, stock: 50, limit: 2}
  schedule:
    - {sku: MUG, from: 0m, to: 30m, propensity: 0.003/min}
aftersales:
  agents:
    - {from: 0h, to: 1h, agents: 2}
    - {from: 1h, to: 31d, agents: 1}
"""


@pytest.fixture
def tiny_text() -> str:
    return TINY


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write(name, text) -> the path of a scenario file in tmp_path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """invoke(*args) -> click Result of ``simlive args...`` run in-process."""
    from simlive.cli import cli

    runner = CliRunner()

    def _invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), prog_name="simlive")

    return _invoke


def _table_rows(out: str) -> dict[str, str]:
    """A rich table printed as text -> {first cell: the row's cells joined}, with the
    lines a long cell was folded onto joined back to its row."""
    rows: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in out.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if cells[0]:
            last = rows.setdefault(cells[0], cells)
        elif last is not None:
            for i, c in enumerate(cells):
                if c and i < len(last):
                    last[i] = f"{last[i]} {c}" if last[i] else c
    return {k: " | ".join(v) for k, v in rows.items()}


@pytest.fixture
def table_rows() -> Callable[[str], dict[str, str]]:
    """table_rows(text) -> the rows of a table the CLI printed, folded lines joined."""
    return _table_rows


# --- computed once per test run ----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def once_per_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """once_per_run(name, make) -> a folder that ``make(folder)`` filled, once per test run.

    Under pytest-xdist every worker has a session of its own, so the folder goes in the
    run's base temp dir (the parent of each worker's): the first worker to need it fills it
    under a lock while the others wait and reuse it. A ``make`` that raised leaves nothing
    behind, and the next test to need the folder tries again.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by this run's workers, fresh for each run

    def get(name: str, make: Callable[[Path], None]) -> Path:
        work = root / name
        with open(root / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            if not (work / ".done").exists():
                shutil.rmtree(work, ignore_errors=True)  # what a failed make left
                work.mkdir()
                make(work)
                (work / ".done").touch()
        return work

    return get


@dataclass(frozen=True)
class Ran:
    """A simlive command run in a subprocess: its exit code, its output, and the folder it
    wrote its files in."""

    returncode: int
    stdout: str
    stderr: str
    dir: Path

    def json(self, name: str = "run.json") -> Any:
        return json.loads((self.dir / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def simlive_once(once_per_run: Callable[..., Path]) -> Callable[..., Ran]:
    """simlive_once(name, *args) -> ``simlive args...`` run once per test run, in a
    subprocess from the repository's root; ``{out}`` in an argument is the run's folder.
    For the tests that read the same run."""

    def make(folder: Path, args: tuple[str, ...]) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "simlive.cli",
             *(a.replace("{out}", str(folder)) for a in args)],
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, cwd=ROOT)
        (folder / "returncode").write_text(str(done.returncode))
        (folder / "stdout").write_text(done.stdout)
        (folder / "stderr").write_text(done.stderr)

    def get(name: str, *args: str) -> Ran:
        folder = once_per_run(name, lambda f: make(f, args))
        return Ran(int((folder / "returncode").read_text()), (folder / "stdout").read_text(),
                   (folder / "stderr").read_text(), folder)

    return get


@pytest.fixture(scope="session")
def until_decided(simlive_once: Callable[..., Ran]) -> Callable[..., Ran]:
    """until_decided(scenario, jobs, reports=False) -> ``simlive run
    scenarios/<scenario>.yaml -q --until-decided -j <jobs> --json run.json`` (with
    ``reports``, --html report.html and --junit junit.xml as well), run once per test run:
    several tests read the same run (its verdicts, its report, its JUnit, its bytes against
    the other number of jobs, a cluster's run against it)."""

    def get(scenario: str, jobs: int, reports: bool = False) -> Ran:
        name = f"until-decided-{scenario}-j{jobs}"
        files: tuple[str, ...] = ()
        if reports:
            name, files = name + "-reports", ("--html", "{out}/report.html", "--junit",
                                              "{out}/junit.xml")
        return simlive_once(name, "run", f"scenarios/{scenario}.yaml", "-q",
                            "--until-decided", "-j", str(jobs), "--json", "{out}/run.json",
                            *files)

    return get


@pytest.fixture(scope="session")
def clean_load_on_workers(simlive_once: Callable[..., Ran]) -> Ran:
    """``simlive load tests/load/flash.yaml --serve --workers 2``, no fault, once per test
    run: the clean load the end-to-end test (every rule passes, the reports, an offline
    re-check) and the Locust modes test (the workers' histories merged) both read."""
    return simlive_once("clean-load-on-workers", "load", "tests/load/flash.yaml", "--serve",
                        "--workers", "2", "--out", "{out}/out")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with slow tests run first, the most slow tests first; each module's tests
    stay together and in order (module fixtures are set up once per worker).

    With ``--maxschedchunk`` (pyproject's addopts) xdist hands each worker a couple of tests
    at a time in this order, so the long runs start early and the short tests fill the end
    of both workers instead of one worker finishing a long run alone."""
    by_module: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_module.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def slow(group: list[pytest.Item]) -> int:
        return sum(1 for i in group if i.get_closest_marker("slow") is not None)

    groups = sorted(by_module.values(), key=lambda g: -slow(g))  # stable: else as collected
    items[:] = [item for group in groups for item in group]
