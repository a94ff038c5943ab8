"""Simulator speed, measured against a baseline taken in the same run.

Baseline: a bare SimPy M/M/c loop (one process per customer, a Resource of c servers), in
customers per second. Then simlive on the full-scale ``double11-top-host.yaml``: simulated
orders per second of wall time, wall time for one replication, and peak memory of that
replication (measured in a child process so the baseline does not count). The goal is one
replication in <= 60 s on one core with <= 2 GiB peak memory.

Run: python benchmarks/bench_sim.py [--customers 200000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bare_simpy(customers: int, servers: int = 10, seed: int = 1) -> float:
    """Customers per second through a textbook SimPy M/M/c model."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    done = [0]

    def customer():
        with desk.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1 / 60))
        done[0] += 1

    def source():
        for _ in range(customers):
            yield env.timeout(rng.expovariate(servers * 0.9 / 60))
            env.process(customer())

    env.process(source())
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    assert done[0] == customers
    return customers / elapsed


CHILD = """
import json, resource, sys, time
from simlive.scenario import load_scenario
from simlive.sim.engine import run_replication
s = load_scenario(sys.argv[1])
t = time.perf_counter()
r = run_replication(s, 0)
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "peak_mib": peak, "orders": r.kpis["orders.placed"],
                  "tickets": r.kpis["aftersales.tickets"],
                  "engine": r.measures.desk.engine}))
"""


def simlive_double11(path: Path) -> dict:
    # taskset pins the child to one core: the goal is stated for one core
    cmd = [sys.executable, "-c", CHILD, str(path)]
    try:
        subprocess.run(["taskset", "-c", "0", "true"], check=True, capture_output=True)
        cmd = ["taskset", "-c", "0", *cmd]
    except (OSError, subprocess.CalledProcessError):
        pass
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "double11-top-host.yaml"))
    args = ap.parse_args()
    base = bare_simpy(args.customers)
    print(f"bare SimPy M/M/10: {base:,.0f} customers/s ({args.customers:,} customers)")
    d = simlive_double11(Path(args.scenario))
    rate = d["orders"] / d["wall_s"]
    print(f"simlive double11-top-host: {d['orders']:,.0f} orders and {d['tickets']:,.0f} "
          f"tickets in {d['wall_s']:.1f} s on one core ({rate:,.0f} simulated orders/s), "
          f"peak memory {d['peak_mib']:,.0f} MiB, desk engine {d['engine']}")
    print(f"ratio: simlive orders/s / bare SimPy customers/s = {rate / base:,.1f}")
    ok = d["wall_s"] <= 60 and d["peak_mib"] <= 2048
    print("goal (<= 60 s, <= 2 GiB):", "met" if ok else "NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
