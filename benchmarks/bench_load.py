"""Load-test overheads, each against a baseline taken in the same run. A script, not a test.

1. Bare FastHttpUser on the reference service's no-op ``/health`` vs the same user recording
   every request in the history (goal: recording costs <= 20 %), and vs the same request
   run as a target-file operation (template rendering, reading the answer, a JMESPath
   extraction, recording): what speaking operations instead of URLs costs. Requests/s are
   printed, but on one 2-core machine the service, not the client, sets them; the cost is
   therefore measured where it is paid: the Locust process's CPU time per request (taken
   between Locust's test_start and test_stop events, so start-up is not counted).
2. The checker's operations per second on synthetic histories of 250k, 500k and 1M
   operations (goal: >= 200k ops/s, linear).

    python benchmarks/bench_load.py [--seconds 8] [--users 20]
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOCUSTFILE = '''
import os
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser
from simlive.load.recorder import Recorder

import time
from locust import events

MODE = os.environ.get("BENCH_MODE", "bare")
rec = Recorder(os.environ["BENCH_HISTORY"]) if MODE != "bare" else None
_cpu = {}
TARGET = None
if MODE == "target":
    from simlive.shops.files import parse_target
    TARGET = parse_target(chr(10).join([
        "name: bench", "operations:", "  browse:", "    method: GET", "    url: /health",
        "    extract: {status: status}"]), "bench.yaml")


@events.test_start.add_listener
def _started(**_kw):
    _cpu["start"] = time.process_time()


@events.test_stop.add_listener
def _stopped(**_kw):
    with open(os.environ["BENCH_CPU"], "w") as fh:
        fh.write(str(time.process_time() - _cpu["start"]))


class Health(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        if TARGET is not None:
            from simlive.load.users import LocustTransport
            from simlive.shops.client import OperationClient

            self.ops = OperationClient(TARGET, LocustTransport(self.client), {},
                                       {"run_id": "bench", "marker": "bench"}, {}, rec,
                                       "bench")

    @task
    def health(self):
        if TARGET is not None:
            self.ops.run("browse", {})
            return
        if rec is None:
            self.client.get("/health")
            return
        h = rec.invoke("bench", "health", {})
        with self.client.get("/health", catch_response=True) as resp:
            rec.complete(h, "ok" if resp.status_code == 200 else "info",
                         {"status": resp.status_code})
'''


def locust_rps(base_url: str, mode: str, seconds: int, users: int,
               work: Path) -> tuple[float, float]:
    """(requests/s, client CPU microseconds per request) of one headless Locust run;
    ``mode``: bare, record, or target."""
    import os

    lf = work / "bench_locustfile.py"
    lf.write_text(LOCUSTFILE)
    prefix = work / mode
    cpu_file = work / f"{mode}.cpu"
    env = {**os.environ, "BENCH_MODE": mode,
           "BENCH_HISTORY": str(work / f"{mode}.jsonl"), "BENCH_CPU": str(cpu_file)}
    done = subprocess.run([sys.executable, "-m", "locust", "-f", str(lf), "--headless",
                           "--host", base_url, "-u", str(users), "-r", str(users), "-t",
                           f"{seconds}s", "--csv", str(prefix), "--only-summary"], env=env,
                          check=False, capture_output=True, text=True, timeout=seconds + 60)
    if not cpu_file.exists():
        raise SystemExit(f"locust ({mode}) did not run:\n{done.stderr[-3000:]}")
    cpu = float(cpu_file.read_text())
    with open(f"{prefix}_stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                count = int(row["Request Count"])
                return float(row["Requests/s"]), cpu / max(count, 1) * 1e6
    return 0.0, float("nan")


def checker_rate(n: int) -> tuple[float, float]:
    from simlive.check.checker import check

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # testing/: shared helpers
    from testing.synthetic import big_history

    events, state = big_history(random.Random(1), n)
    t = time.perf_counter()
    verdicts = check(events, state)
    dt = time.perf_counter() - t
    assert all(v.status.value != "fail" for v in verdicts), verdicts
    return n / dt, dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--skip-http", action="store_true")
    a = ap.parse_args()
    if not a.skip_http:
        from simlive.service.process import ServiceProcess

        with tempfile.TemporaryDirectory() as tmp, ServiceProcess(
                f"sqlite:///{tmp}/b.db", Path(tmp) / "svc") as svc:
            bare, bare_cpu = locust_rps(svc.base_url, "bare", a.seconds, a.users, Path(tmp))
            rec, rec_cpu = locust_rps(svc.base_url, "record", a.seconds, a.users, Path(tmp))
            op, op_cpu = locust_rps(svc.base_url, "target", a.seconds, a.users, Path(tmp))
        cost = (rec_cpu / bare_cpu - 1) * 100
        print(f"/health FastHttpUser: bare {bare:,.0f} req/s at {bare_cpu:.0f} us client CPU "
              f"per request; recording {rec:,.0f} req/s at {rec_cpu:.0f} us; recording costs "
              f"{cost:+.1f} % client CPU per request (goal <= 20 %)")
        print(f"/health as a target operation: {op:,.0f} req/s at {op_cpu:.0f} us client CPU "
              f"per request: {(op_cpu / bare_cpu - 1) * 100:+.1f} % vs bare, "
              f"{(op_cpu / rec_cpu - 1) * 100:+.1f} % vs recording by hand")
    for n in (250_000, 500_000, 1_000_000):
        rate, dt = checker_rate(n)
        print(f"checker: {n:>9,} ops in {dt:5.2f} s = {rate:,.0f} ops/s (goal >= 200,000)")


if __name__ == "__main__":
    main()
