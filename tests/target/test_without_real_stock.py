"""A shop whose real stock cannot be read: displayed figures judged against the bounds the
history allows. The reference service through a target that leaves true_stock unsupported,
clean and with its stale-display fault (a 5 s display cache)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simlive.service.harness import ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "load" / "flash.yaml"


@pytest.mark.parametrize("faults, status", [((), "pass"), (("stale-display",), "fail")],
                         ids=["clean", "stale-display"])
def test_display_judged_from_the_history(tmp_path: Path, faults: tuple[str, ...],
                                         status: str) -> None:
    text = (ROOT / "simlive" / "target" / "reference.yaml").read_text()
    start = text.index("  true_stock:")
    end = text.index("  order:")
    target = tmp_path / "no-truth.yaml"
    target.write_text(text[:start] + "  true_stock: unsupported\n" + text[end:])
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                        faults=faults, payment_timeout=1.0, sweep_interval=0.5) as svc:
        done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(SCENARIO),
                               "--target", str(target), "--host", svc.base_url,
                               "--admin-token", svc.token("admin"), "--settle", "2",
                               "--out", str(tmp_path / "out")], capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    v = {x["id"]: x for x in json.loads((tmp_path / "out" / "verdicts.json").read_text())[
        "verdicts"]}["stock.display-matches"]
    assert v["status"] == status, v
    assert "bounds from the declared stock and the history" in v["evidence"]
    assert v["measured"]["readings_checked"] > 20
