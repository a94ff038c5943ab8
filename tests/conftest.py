"""Shared fixtures: a small valid scenario, writing scenario files, running the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

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
