"""The open model: users are added or removed to hold a request rate, not a user count."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from simlive.load.curve import open_model_users

SCENARIO = Path(__file__).with_name("flash.yaml")


@pytest.mark.parametrize(("current", "measured", "target", "expected"), [
    (0, 0.0, 100.0, 25),  # nothing measured yet: the pacing estimate (100 / 4 per user)
    (10, 50.0, 100.0, 20),  # a slow service: half the rate, twice the users
    (10, 10.0, 100.0, 20),  # far too slow: at most doubling per tick
    (10, 200.0, 100.0, 5),  # tasks making several calls: too fast, fewer users
    (10, 1000.0, 100.0, 5),  # far too fast: at most halving per tick
    (10, 100.0, 100.0, 10),  # on target: unchanged
    (10, 10.0, 1000.0, 12),  # the cap
])
def test_controller(current: int, measured: float, target: float, expected: int) -> None:
    assert open_model_users(current, measured, target, user_rate=4.0, cap=12
                            if expected == 12 else 1000) == expected


@pytest.mark.slow
def test_open_model_run_follows_the_curve(tmp_path: Path) -> None:
    text = SCENARIO.read_text().replace("  peak_users: 16\n", "  peak_users: 4\n  mode: open\n"
                                        "  arrival_rate: 300/s\n  user_rate: 4/s\n")
    text = text.replace("  run_time: 5s\n", "  run_time: 8s\n")
    assert "mode: open" in text
    path = tmp_path / "open.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(path), "--serve",
                           "--out", str(out)], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with (out / "locust_stats_history.csv").open(newline="") as fh:
        users = [int(r["User Count"]) for r in csv.DictReader(fh) if r["Name"] == "Aggregated"]
    # users rise toward the flash-sale spike (a quarter of the way in) and fall after it
    peak = users.index(max(users))
    assert max(users) > users[1] and max(users) > users[-1]
    assert 0 < peak < len(users) - 1
