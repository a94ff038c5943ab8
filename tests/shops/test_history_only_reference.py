"""A shop whose state cannot be read: the reference service through a target that reads no
final state and no real stock (history-only), clean and with three of its faults together.
The rules are decided from what the history shows: displayed figures against the bounds the
declared stock and the acknowledged orders allow, reviews and tickets read back after they
were acknowledged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simlive.service.process import ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "load" / "flash.yaml"


def history_only_target(tmp_path: Path) -> Path:
    text = (ROOT / "simlive" / "shops" / "reference.yaml").read_text()
    text = text[:text.index("  true_stock:")] + "  true_stock: unsupported\n" + \
        text[text.index("  order:"):text.index("\nstate:") + 1] + "state: history-only\n"
    target = tmp_path / "history-only.yaml"
    target.write_text(text, encoding="utf-8")
    return target


# Two loads: a clean one, and one with the three faults together (a load per fault cost
# three more Locust runs); they touch apart things (the displayed stock, reviews, tickets),
# and each fault's rule must fail in the shared load.
@pytest.mark.slow
@pytest.mark.parametrize("faults, expected", [
    ((), {"stock.no-oversell": "pass", "stock.display-matches": "pass",
          "reviews.not-deleted": "pass", "aftersales.tracked-to-closure": "unknown",
          "stock.ledger-balances": "unknown"}),
    (("stale-display", "delete-review", "lose-ticket"),
     {"stock.display-matches": "fail", "reviews.not-deleted": "fail",
      "aftersales.tracked-to-closure": "fail"}),
], ids=["clean", "stale-display+delete-review+lose-ticket"])
def test_rules_decided_from_the_history(tmp_path: Path, faults: tuple[str, ...],
                                        expected: dict[str, str]) -> None:
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                        faults=faults, payment_timeout=1.0,
                        sweep_interval=0.5) as svc:
        done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(SCENARIO),
                               "--target", str(history_only_target(tmp_path)), "--host",
                               svc.base_url, "--admin-token", svc.token("admin"),
                               "--settle", "2", "--out", str(tmp_path / "out")],
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stderr[-3000:]  # unknown rules are never a pass
    v = {x["id"]: x for x in json.loads((tmp_path / "out" / "verdicts.json").read_text())[
        "verdicts"]}
    assert {rid: v[rid]["status"] for rid in expected} == expected, \
        {rid: v[rid] for rid in expected}
    if not faults:
        assert "bounds from the declared stock" in v["stock.display-matches"]["evidence"]
        assert v["stock.display-matches"]["measured"]["readings_checked"] > 20
        assert "read back later were still there" in v["reviews.not-deleted"]["evidence"]
        assert "none of" in v["aftersales.tracked-to-closure"]["evidence"]
