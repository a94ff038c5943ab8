"""The flash-sale second: 1,000 buyers released on one SKU, against a naive release in the
same run. A script, not a test.

The shop is ``tests/load/racy_shop.py`` in a process of its own: a cart, then a checkout
that answers in 200 ms and counts, per SKU, the checkouts in flight at once (the shop's
view). simlive's release (``simlive load`` on a one-SKU flash sale, ``load.flash_sale_buyers:
1000``), locally and with ``--workers 2``, against the baseline: the same 1,000 buyers, carts
made ahead, each sending its whole checkout through Locust's FastHttpSession when the
instant comes (what a Locust user does; no last byte held back). Goals: >= 800 checkouts in
flight at once, p99 send spread <= 100 ms, locally and with two workers.

    python benchmarks/bench_burst.py [--buyers 1000]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "tests" / "load" / "racy_shop.py"
TARGET = ROOT / "tests" / "load" / "racy-target.yaml"

SCENARIO = """
name: burst-bench
seed: 1
duration: 30m
audience:
  arrivals: [{at: 0m, rate: 100/s}, {at: 30m, rate: 100/s}]
products:
  skus:
    - {sku: HOT-1, price: 99, stock: 10, limit: 1}
    - {sku: CASE-1, price: 9, stock: 10}
  schedule:
    - {sku: HOT-1, from: 0m, to: 30m, propensity: 0.001/min}
  flash_sales:
    - {sku: HOT-1, at: 10m, duration: 5m, price: 9.9, quantity: 100}
aftersales:
  agents: [{from: 0m, to: 30m, agents: 1}]
load:
  run_time: 12s
  peak_users: 2
  weights: {viewer: 1, buyer: 0, aftersales: 0, agent: 0, reviewer: 0}
  max_stock: 100
  flash_sale_buyers: %d
  request_timeout: 20s
  thresholds: {p95_ms: null, max_failure_ratio: null}
"""

NAIVE = r'''
import json, sys, time
from gevent import monkey; monkey.patch_all()
import gevent
from locust.contrib.fasthttp import FastHttpSession
from locust.event import Events

host, n, sku = sys.argv[1], int(sys.argv[2]), sys.argv[3]
events = Events()
sessions = [FastHttpSession(host, events.request, None, concurrency=1) for _ in range(n)]
carts = [s.post("/carts", json={"sku": sku}).json()["cart"] for s in sessions]
release = time.time() + 1.0
sent = [None] * n

def buyer(i):
    gevent.sleep(max(0.0, release - time.time()))
    sent[i] = time.time()
    sessions[i].post(f"/carts/{carts[i]}/checkout", json={},
                     headers={"X-Process": f"naive-{i}"})

gevent.joinall([gevent.spawn(buyer, i) for i in range(n)], timeout=60)
print(json.dumps({"release_at": release, "sent": sent}))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stats(url: str) -> dict:
    with urllib.request.urlopen(url + "/stats", timeout=30) as r:
        return json.loads(r.read())


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def simlive_release(url: str, buyers: int, workers: int, tmp: Path) -> dict:
    sc = tmp / "burst.yaml"
    sc.write_text(SCENARIO % buyers)
    out = tmp / f"out-{workers}"
    cmd = [sys.executable, "-m", "simlive.cli", "load", str(sc), "--target", str(TARGET),
           "--host", url, "--out", str(out)]
    if workers:
        cmd += ["--workers", str(workers)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if not (out / "verdicts.json").exists():
        raise SystemExit(f"simlive load failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    (sale,) = json.loads((out / "verdicts.json").read_text())["flash_sales"]
    st = stats(url)
    hot = [k for k in st["max_in_flight"] if k.startswith("HOT-1.") and k in sale["sku"]]
    at_shop = [t - sale["release_at"] for t, p, s in st["arrivals"]
               if s == sale["sku"] and "-flash1-" in p]
    return {"released": sale["released"], "spread_p99_ms": sale["spread_ms"]["p99"],
            "in_flight_client": sale["max_in_flight"],
            "in_flight_shop": st["max_in_flight"][hot[0]] if hot else 0,
            "arrival_p99_ms": percentile(at_shop, 99) * 1000}


def naive_release(url: str, buyers: int) -> dict:
    sku = f"NAIVE.{time.time_ns()}"
    req = urllib.request.Request(url + "/products", data=json.dumps(
        {"sku": sku, "stock": 100}).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()
    done = subprocess.run([sys.executable, "-c", NAIVE, url, str(buyers), sku],
                          capture_output=True, text=True, timeout=300)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    sent = [s - got["release_at"] for s in got["sent"] if s is not None]
    st = stats(url)
    at_shop = [t - got["release_at"] for t, p, s in st["arrivals"] if s == sku]
    return {"released": len(sent), "spread_p99_ms": percentile(sent, 99) * 1000,
            "in_flight_client": None, "in_flight_shop": st["max_in_flight"].get(sku, 0),
            "arrival_p99_ms": percentile(at_shop, 99) * 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buyers", type=int, default=1000)
    args = ap.parse_args()
    port = free_port()
    shop = subprocess.Popen([sys.executable, str(SHOP), str(port), "0.2"])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                stats(url)
                break
            except OSError:
                time.sleep(0.1)
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(("naive (baseline)", naive_release(url, args.buyers)))
            rows.append(("simlive, local", simlive_release(url, args.buyers, 0, Path(tmp))))
            rows.append(("simlive, --workers 2",
                         simlive_release(url, args.buyers, 2, Path(tmp))))
    finally:
        shop.terminate()
        shop.wait()
    print(f"{args.buyers} buyers on one SKU; checkout answers in 200 ms; this machine")
    head = ("release", "released", "send p99 ms", "arrival p99 ms", "in flight (client)",
            "in flight (shop)", "goal")
    print(" | ".join(head))
    for name, r in rows:
        goal = r["in_flight_shop"] >= 0.8 * args.buyers and r["spread_p99_ms"] <= 100
        print(" | ".join([name, str(r["released"]), f"{r['spread_p99_ms']:.1f}",
                          f"{r['arrival_p99_ms']:.1f}",
                          "-" if r["in_flight_client"] is None else str(r["in_flight_client"]),
                          str(r["in_flight_shop"]), "met" if goal else "MISSED"]))


if __name__ == "__main__":
    main()
