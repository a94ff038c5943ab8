"""Locust's web UI driven through its own API: the Compliance tab (operations and
provisional rule states while a swarm runs, the verdicts and a link to report.html after it
stops, read in Chromium), and a second swarm that is a run of its own."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from simlive.service.process import ServiceProcess, free_port

SCENARIO = Path(__file__).with_name("flash.yaml")
LOCUSTFILE = Path(__file__).parents[2] / "loadtests" / "locustfile.py"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rows(ui: str) -> dict[str, dict[str, str]]:
    data = httpx.get(ui + "/stats/requests", timeout=30).json()
    (tab,) = [t for t in data["extended_stats"] if t["key"] == "simlive"]
    return {r["item"]: r for r in tab["data"]}


def listening(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on ``port`` (/proc/net/tcp{,6})."""
    import ipaddress

    found = set()
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state != "0A" or int(hexport, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(addr)
            if len(raw) == 4:
                found.add(str(ipaddress.IPv4Address(raw[::-1])))
            else:  # four little-endian 32-bit words
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                found.add(str(ipaddress.IPv6Address(words)))
    return found


@pytest.mark.slow
def test_compliance_tab_and_a_second_swarm(tmp_path: Path) -> None:
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                        payment_timeout=1.0, sweep_interval=0.5) as svc:
        port = free_port()
        out = tmp_path / "o"
        log = tmp_path / "locust.log"
        log_file = log.open("w")
        web = subprocess.Popen([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE),
                                "--host", svc.base_url, "--scenario", str(SCENARIO),
                                "--admin-token", svc.token("admin"), "--simlive-out", str(out),
                                "--web-port", str(port)],  # the default bind, on purpose
                               stdout=subprocess.DEVNULL, stderr=log_file,
                               stdin=subprocess.DEVNULL)
        ui = f"http://127.0.0.1:{port}"
        try:
            page = None
            for _ in range(150):
                try:
                    page = httpx.get(ui + "/", timeout=1).text
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            assert page is not None, "the web UI never came up:\n" + log.read_text()[-3000:]
            # it holds the admin token: it listens on loopback only, unless told otherwise
            assert listening(port) == {"127.0.0.1"}, listening(port)
            assert '"extended_tabs"' in page and "Compliance" in page
            r = httpx.post(ui + "/swarm", data={"user_count": 10, "spawn_rate": 10,
                                                "host": svc.base_url}, timeout=30)
            assert r.json()["success"], r.text
            time.sleep(3)
            during = rows(ui)
            assert during["stock.no-oversell"]["status"] == "pending"
            assert "operation(s) of order recorded" in during["stock.no-oversell"]["detail"]
            assert int(during["operation order"]["detail"].split("ok ")[1].split()[0]) > 0
            httpx.get(ui + "/stop", timeout=60)
            deadline = time.monotonic() + 60
            while not list(out.glob("*/verdicts.json")):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            after = rows(ui)
            assert after["stock.no-oversell"]["status"] == "pass"
            (sale,) = [k for k in after if k.startswith("flash sale 1 (HOT-1.")]
            assert "buyers released on" in after[sale]["detail"], after[sale]
            assert after["report"]["detail"].startswith("/simlive/report")
            report = httpx.get(ui + "/simlive/report", timeout=30)
            assert report.status_code == 200 and "simlive report" in report.text
            assert CHROMIUM, "chromium is not installed (.ci/run installs Debian's chromium)"
            dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                                  f"--user-data-dir={tmp_path / 'profile'}",
                                  "--virtual-time-budget=10000", "--dump-dom",
                                  f"{ui}/?tab=simlive"], capture_output=True, text=True,
                                 timeout=90)
            html = dom.stdout
            assert "Compliance" in html
            assert "stock.no-oversell" in html and "/simlive/report" in html, html[-3000:]
            # a second swarm is a new run: its own id, products and folder; the run time
            # typed into the UI is the compressed broadcast's length, and the run ends by
            # itself then (it was once ignored: the shape ran the scenario's own)
            r = httpx.post(ui + "/swarm", data={"user_count": 10, "spawn_rate": 10,
                                                "host": svc.base_url, "run_time": "7s"},
                           timeout=30)
            assert r.json()["success"], r.text
            time.sleep(3)
            assert rows(ui)["stock.no-oversell"]["status"] == "pending"  # reset for the run
            deadline = time.monotonic() + 60
            while len(list(out.glob("*/verdicts.json"))) < 2:
                assert time.monotonic() < deadline, "no verdicts after the second swarm"
                time.sleep(0.2)
            runs = [json.loads(p.read_text()) for p in out.glob("*/verdicts.json")]
            assert len({r["run_id"] for r in runs}) == 2
            times = sorted(json.loads(p.read_text())["scenario"]["load"]["run_time"]
                           for p in out.glob("*/run.json"))
            assert times == [5.0, 7.0], times  # the scenario's 5s, then the UI's 7s
            assert all({v["id"]: v["status"] for v in r["verdicts"]}["stock.no-oversell"]
                       == "pass" for r in runs)
        finally:
            web.terminate()
            try:
                web.wait(timeout=30)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()
            log_file.close()
    err = log.read_text()
    assert "Traceback" not in err and "AttributeError" not in err, err[-3000:]
