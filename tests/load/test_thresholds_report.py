"""Thresholds per operation and phase through real Locust (exit 3 naming the one that
broke), and the load run's report.html with its plots over time, opened in Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCENARIO = Path(__file__).with_name("flash.yaml")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_threshold_per_operation_and_phase_and_the_report(tmp_path: Path) -> None:
    doc = yaml.safe_load(SCENARIO.read_text())
    doc["load"]["thresholds"]["operations"] = [
        {"operation": "order", "percentile": 99, "max_ms": 0.001, "phase": "flash-sale"},
        {"operation": "order", "percentile": 50, "max_ms": 10_000},
        {"operation": "pay", "max_failure_ratio": 0.5},
        {"operation": "read_stock", "min_rate": 1},
    ]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(path), "--serve",
                           "--out", str(out), "--junit", str(tmp_path / "junit.xml")],
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    assert "FAIL: threshold(s) broken: order p99 < 0.001 ms during flash-sale\n" in done.stderr
    th = {t["name"]: t for t in json.loads((out / "verdicts.json").read_text())["thresholds"]}
    assert th["order p99 < 0.001 ms during flash-sale"]["status"] == "fail"
    assert th["order p99 < 0.001 ms during flash-sale"]["measured"] > 0.001
    assert [th[n]["status"] for n in ("order p50 < 10000 ms", "pay failure ratio <= 0.5",
                                      "read_stock rate >= 1/s")] == ["pass"] * 3

    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="order p99 &lt; 0.001 ms during flash-sale"' in junit
    assert junit.count("<failure") == 1  # the threshold; every rule passed

    assert CHROMIUM, "chromium is not installed (.ci/run installs Debian's chromium)"
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          (out / "report.html").as_uri()], capture_output=True, text=True,
                         timeout=90)
    html = dom.stdout
    assert dom.returncode == 0, dom.stderr[-2000:]
    for title in ("Request rate over time", "Latency percentiles over time",
                  "Failures over time"):
        assert title in html
    assert html.count("<svg") >= 3 and html.count("<path") > 30  # drawn, not empty
    assert "flash sale" in html  # the windows are marked in the legends
    assert "threshold(s) broken: order p99 &lt; 0.001 ms during flash-sale" in html
    assert html.index('id="verdicts"') < html.index('id="thresholds"') < html.index("<svg")
