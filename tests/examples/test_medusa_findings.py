"""Medusa's kept findings, re-checked offline (the shop itself is not built in the suite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEDUSA = ROOT / "examples" / "medusa"


@pytest.mark.parametrize("finding", ["cluster-oversell", "cluster-lost-update"])
def test_medusa_two_processes_oversell_as_kept(tmp_path: Path, finding: str) -> None:
    """Medusa 2.21.2 with --cluster 2 and its in-memory locking: more units acknowledged
    than stock, found again from the stored history and state."""
    found = MEDUSA / "findings" / finding
    done = subprocess.run([sys.executable, "-m", "simlive.cli", "check", "--history",
                           str(found / "history.jsonl.gz"), "--state",
                           str(found / "state.json.gz"), "--target",
                           str(MEDUSA / "target.yaml"), "--json", str(tmp_path / "v.json")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stderr[-2000:]
    v = {x["id"]: x for x in json.loads((tmp_path / "v.json").read_text())["verdicts"]}
    assert v["stock.no-oversell"]["status"] == "fail"
    assert v["stock.no-oversell"]["measured"]["oversold_units"] >= 1
    kept = json.loads((found / "verdicts.json").read_text())
    assert {x["id"]: x["status"] for x in kept["verdicts"]}["stock.no-oversell"] == "fail"
