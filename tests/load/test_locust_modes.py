"""Locust's own modes: headless via the locustfile, the web UI, master + workers, and a
service SIGKILLed and restarted mid-load. Every process on 127.0.0.1, every run bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from simlive.check.checker import check
from simlive.check.history import merge, pair
from simlive.check.state import FinalState
from simlive.rules import Status
from simlive.service.process import ServiceProcess, free_port

SCENARIO = Path(__file__).with_name("flash.yaml")
LOCUSTFILE = Path(__file__).parents[2] / "loadtests" / "locustfile.py"


def simlive(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simlive.cli", *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_workers_run_and_histories_merge(clean_load_on_workers) -> None:
    """``load --serve --workers 2`` (the clean load test_e2e reads for its verdicts and
    reports)."""
    done = clean_load_on_workers
    out = done.dir / "out"
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    workers = sorted((out / "history").glob("w*.jsonl"))
    assert len(workers) == 2
    merged = (out / "history.jsonl").read_text().splitlines()
    processes = {json.loads(line)["process"].split("-")[0] for line in merged}
    assert {w.stem.split("-")[0] for w in workers} <= processes


@pytest.mark.slow
def test_locustfile_headless_then_web_ui(tmp_path: Path) -> None:
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                        payment_timeout=1.0, sweep_interval=0.5) as svc:
        out = tmp_path / "out"
        base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", svc.base_url,
                "--scenario", str(SCENARIO), "--admin-token", svc.token("admin"),
                "--simlive-out", str(out)]
        done = subprocess.run(base + ["--headless", "-t", "4s"], capture_output=True,
                              text=True, timeout=90, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr[-3000:]  # every rule passes
        runs = sorted(out.iterdir())  # one swarm, one run folder (two seen once, under load)
        assert len(runs) == 1, ([sorted(p.name for p in r.iterdir()) for r in runs],
                                done.stderr[-3000:])
        run = runs[0]
        assert list((run / "history").glob("local*.jsonl")) and (run / "run.json").exists()
        assert (run / "verdicts.json").exists() and (run / "report.html").exists()
        assert "stock.no-oversell" in done.stdout  # checked and printed when the test stops
        port = free_port()
        web = subprocess.Popen(base + ["--web-host", "127.0.0.1", "--web-port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL)
        try:
            status = 0
            for _ in range(100):
                try:
                    status = httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            assert status == 200
        finally:
            web.terminate()
            try:
                web.wait(timeout=20)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()


@pytest.mark.slow
def test_sigkill_and_restart_mid_load_keeps_stock_rules(tmp_path: Path) -> None:
    port = free_port()
    svc = ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                         payment_timeout=1.0, sweep_interval=0.5,
                         extra_args=("--port", str(port))).start()
    out = tmp_path / "out"
    env = {**os.environ, "SIMLIVE_ADMIN_TOKEN": svc.token("admin")}
    load = subprocess.Popen([sys.executable, "-m", "simlive.cli", "load", str(SCENARIO),
                             "--host", svc.base_url, "--run-time", "7s", "--settle", "2",
                             "--out", str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    try:
        # kill only once the load is really running (Locust's start-up time varies with the
        # machine), so requests are in flight at the kill
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lines = sum(len(p.read_bytes().splitlines())
                        for p in (out / "history").glob("*.jsonl")) if (
                out / "history").exists() else 0
            if lines >= 400:
                break
            time.sleep(0.1)
        svc.kill()
        time.sleep(0.5)
        svc.start()
        text, _ = load.communicate(timeout=120)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
        svc.stop()
    assert (out / "verdicts.json").exists(), text[-3000:]
    verdicts = {v["id"]: v["status"] for v in
                json.loads((out / "verdicts.json").read_text())["verdicts"]}
    for rid in ("stock.no-oversell", "stock.ledger-balances"):
        assert verdicts[rid] == "pass", (rid, text[-3000:])
    ops = pair(merge(sorted((out / "history").glob("*.jsonl"))))
    # the load ran through the crash: requests in flight at the kill are unknown (info), and
    # those sent while the service was down were refused; which of the two a run sees
    # depends on the instant of the kill, so either proves it
    met_the_crash = [op for op in ops if op.type == "info" or (
        op.type == "fail" and "refused" in str((op.value or {}).get("error")))]
    assert met_the_crash, text[-3000:]
    state = FinalState.from_dict(json.loads((out / "state.json").read_text()))
    again = {v.rule_id: v.status for v in check(ops, state)}
    assert again["stock.no-oversell"] is Status.PASS


@pytest.mark.slow
def test_master_and_workers_in_separate_folders_end_with_every_history(tmp_path: Path
                                                                      ) -> None:
    """Workers send their history to the master over Locust's messages: the master's run
    folder ends with every worker's history, the flash sale's reports and the verdicts;
    the workers' folders stay empty (no copying by hand across machines)."""
    port = free_port()
    folders = [tmp_path / name for name in ("master", "worker1", "worker2")]
    for f in folders:
        f.mkdir()
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                        payment_timeout=1.0, sweep_interval=0.5) as svc:
        common = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host",
                  svc.base_url, "--scenario", str(SCENARIO)]
        workers = [subprocess.Popen(common + ["--worker", "--master-host", "127.0.0.1",
                                              "--master-port", str(port)], cwd=f,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    stdin=subprocess.DEVNULL) for f in folders[1:]]
        try:
            done = subprocess.run(common + [
                "--master", "--headless", "-t", "5s", "--expect-workers", "2",
                "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                "--admin-token", svc.token("admin"), "--simlive-out", "out"],
                cwd=folders[0], capture_output=True, text=True, timeout=150,
                stdin=subprocess.DEVNULL)
        finally:
            for w in workers:
                try:
                    w.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait()
    assert done.returncode in (0, 1), done.stderr[-3000:]
    (run,) = (folders[0] / "out").iterdir()
    histories = sorted((run / "history").glob("w*.jsonl"))
    assert len(histories) == 2, (sorted(p.name for p in (run / "history").iterdir()),
                                 done.stderr[-2000:])
    ops = pair(merge(histories))
    assert ops and all(op.end != float("inf") for op in ops)  # every operation completed
    assert {op.process.split("-")[0] for op in ops} == {h.stem for h in histories}
    # each worker's share of the flash sale's buyers reported through the master
    assert len(list((run / "history").glob("flash-w*-0.json"))) == 2
    verdicts = json.loads((run / "verdicts.json").read_text())
    assert verdicts["flash_sales"][0]["processes"] == 2
    assert "stock.no-oversell" in done.stdout
    for f in folders[1:]:
        assert not list(f.rglob("*.json*")), list(f.rglob("*"))
