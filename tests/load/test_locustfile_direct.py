"""`locust -f loadtests/locustfile.py` used directly, as a Locust user would: exit codes from
the verdicts, clear errors without tracebacks, -t honoured, a second swarm in the web UI."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from simlive.check.history import read_jsonl
from simlive.service.process import ServiceProcess

SCENARIO = Path(__file__).with_name("flash.yaml")
LOCUSTFILE = Path(__file__).parents[2] / "loadtests" / "locustfile.py"


def locust(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.read_text().replace("peak_users: 16", "peak_users: lots"))
    done = locust("--headless", "--scenario", str(bad), "--host", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert f"simlive: error: {bad}:" in done.stderr and "load.peak_users: expected a whole " \
        "number; found 'lots'" in done.stderr
    assert "Traceback" not in done.stderr
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc") as svc:
        done = locust("--headless", "-t", "3s", "--scenario", str(SCENARIO), "--host",
                      svc.base_url, "--simlive-out", str(tmp_path / "o"))
        assert done.returncode == 2, done.stderr[-2000:]
        assert "the target's admin credentials come from the token file's key 'admin', " \
               "which holds no token (no token file was given; give --token-file or " \
               "--admin-token, or set auth.admin.key in the target)" in done.stderr
        assert "Traceback" not in done.stderr
    done = locust("--headless", "-t", "3s", "--scenario", str(SCENARIO), "--admin-token",
                  "x" * 20)
    assert done.returncode == 2 and "no host: give --host" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_exit_code_follows_the_verdicts_and_run_time_is_honoured(tmp_path: Path) -> None:
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                        faults=("stale-display",), payment_timeout=1.0,
                        sweep_interval=0.5) as svc:
        started = time.monotonic()
        done = locust("--headless", "-t", "3s", "--scenario", str(SCENARIO), "--host",
                      svc.base_url, "--admin-token", svc.token("admin"), "--simlive-out",
                      str(tmp_path / "o"))
        took = time.monotonic() - started
    assert done.returncode == 1, done.stderr[-3000:]  # stock.display-matches fails
    assert "FAIL: 1 rule(s) broken: stock.display-matches" in done.stderr
    assert "will be ignored" not in done.stderr  # -t is read, not ignored
    assert "HTTP Request:" not in done.stderr  # no httpx INFO line per setup request
    (run,) = (tmp_path / "o").iterdir()
    events = [e for e in read_jsonl(run / "history.jsonl") if e["process"] != "setup"]
    span = max(e["time"] for e in events) - min(e["time"] for e in events)
    assert span < 6.0 and took < 40, (span, took)  # 3 s of load, not the scenario's 5 s+
