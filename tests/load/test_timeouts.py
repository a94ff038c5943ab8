"""One timeout rule, observed in the Locust process: ``load.request_timeout`` when the
scenario sets it, else the target's ``timeout``, in the closed model and under --profile.

It once reached neither: --profile cut every request at 5.00 s whatever the settings, the
closed model used the target's and ignored the scenario's. The shop (racy_shop.py) answers
each checkout after 5.5 s; what the history records says which limit the process applied.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from load.racy_shop import TARGET, racy_shop
from simlive.check.history import pair, read_jsonl

FLASH = Path(__file__).parents[2] / "scenarios" / "flash-sale.yaml"


def checkouts(tmp_path: Path, timeout: str | None, target_timeout: int,
              profile: bool) -> list:
    scenario = FLASH.read_text()
    scenario += "load:\n  flash_sale_buyers: 4\n"
    if timeout is not None:
        scenario += f"  request_timeout: {timeout}\n"
    (tmp_path / "s.yaml").write_text(scenario)
    target = TARGET.read_text().replace("timeout: 10", f"timeout: {target_timeout}")
    (tmp_path / "t.yaml").write_text(target)
    extra = []
    if profile:
        (tmp_path / "p.yaml").write_text("operations: {order: 2}\n")
        extra = ["--profile", str(tmp_path / "p.yaml")]
    with racy_shop(pause=5.5) as shop:
        done = subprocess.run([sys.executable, "-m", "simlive.cli", "load",
                               str(tmp_path / "s.yaml"), "--target", str(tmp_path / "t.yaml"),
                               "--host", shop.url, "--users", "20", "--run-time", "10s",
                               "--out", str(tmp_path / "out"), *extra],
                              capture_output=True, text=True, timeout=180,
                              stdin=subprocess.DEVNULL)
    history = tmp_path / "out" / "history.jsonl"
    assert history.exists(), done.stderr[-3000:]
    # (a flash-sale buyer's order counts from its preparation, seconds before its commit)
    return [o for o in pair(list(read_jsonl(history)))
            if o.f == "order" and o.process != "setup" and o.end != float("inf")
            and not (o.value or {}).get("interrupted")]


@pytest.mark.parametrize("profile", [False, True], ids=["closed", "profile"])
def test_the_scenarios_timeout_wins_over_the_targets(tmp_path: Path, profile: bool) -> None:
    # the scenario allows 8 s, the target 2 s: the 5.5 s checkouts are answered (a
    # profile once cut them at 5 s)
    ops = checkouts(tmp_path, "8s", 2, profile)
    answered = [o for o in ops if o.type != "info"]
    assert answered and max(o.end - o.start for o in answered) > 5.4
    assert not [o for o in ops if o.type == "info"], [o.value for o in ops][:3]


def test_without_the_scenarios_timeout_the_targets_applies(tmp_path: Path) -> None:
    # no scenario setting: the target's 2 s cuts the 5.5 s checkouts (unknown outcome)
    ops = checkouts(tmp_path, None, 2, profile=False)
    cut = [o for o in ops if o.type == "info" and "-flash" not in o.process]  # no waiting
    assert cut and all(1.9 < o.end - o.start < 3.4 for o in cut), \
        [(o.type, o.end - o.start) for o in ops][:5]
