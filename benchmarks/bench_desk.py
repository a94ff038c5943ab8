"""The after-sales desk's speed where planners live and at Double 11's scale, against a bare
SimPy M/M/c loop timed in the same run. A script, not a test.

1. Baseline: ``bench_sim.bare_simpy``, a textbook SimPy M/M/10 at 90 % occupancy (one process
   per customer, a Resource of 10 servers), in customers per second.
2. M/M/10 at 90 % occupancy through simlive: a scenario with only consultations (Poisson,
   9/min, exponential 1 min handling, 10 agents on duty throughout), about 490,000
   customers in one replication (``run_replication``, in a child process pinned to one
   core): customers per second of the whole replication (tickets drawn, the desk, the KPIs,
   the verdict measures), and of the desk call alone.
3. Double 11's shape: ``scenarios/double11-flat-benchmark.yaml`` (thousands of agents,
   millions of tickets), the same two figures.

Goal: the desk alone >= 10x the bare SimPy rate in both shapes (the whole replication is
shown beside it). The desk picks its form by the shape (``simlive.sim.desk.desk_recursion``).

    python benchmarks/bench_desk.py [--customers 200000] [--days 38]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sim import ROOT, bare_simpy, one_core  # noqa: E402

GOAL = 10.0

MMC = """\
name: mm10-rho0.9
seed: 2024
duration: {days}d
audience:
  arrivals: [{{at: 0s, rate: 0}}]
products:
  skus: [{{sku: ONLY, price: 1, stock: 1}}]
aftersales:
  consultations: {{rate: 9/min}}
  returns: {{fraction: 0}}
  replacements: {{fraction: 0}}
  refunds: {{fraction: 0}}
  complaints: {{fraction: 0}}
  agents: [{{from: 0s, to: 400d, agents: 10}}]
  handling:
    consultation: {{dist: exponential, mean: 1m}}
  horizon: 2d
simulation: {{step: 60, desk_engine: fast}}
"""

CHILD = """
import json, sys, time
import simlive.sim.aftersales as aftersales
from simlive.scenario import load_scenario, parse_scenario
from simlive.sim.engine import run_replication
spent = [0.0]
inner = aftersales.desk_recursion
def timed(*a):
    t = time.perf_counter()
    try:
        return inner(*a)
    finally:
        spent[0] += time.perf_counter() - t
aftersales.desk_recursion = timed
arg = sys.argv[1]
s = parse_scenario(arg) if "\\n" in arg else load_scenario(arg)
t = time.perf_counter()
r = run_replication(s, 0)
wall = time.perf_counter() - t
print(json.dumps({"wall_s": wall, "desk_s": spent[0], "tickets": r.kpis["aftersales.tickets"],
                  "engine": r.measures.desk.engine}))
"""


def measure(arg: str) -> dict:
    out = subprocess.run(one_core([sys.executable, "-c", CHILD, arg]), capture_output=True,
                         text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=200_000, help="for the SimPy baseline")
    ap.add_argument("--days", type=int, default=38, help="M/M/10 broadcast length")
    args = ap.parse_args()
    base = bare_simpy(args.customers)
    print(f"bare SimPy M/M/10 at 90 %: {base:,.0f} customers/s ({args.customers:,} customers)")
    shapes = [("M/M/10 at 90 %", MMC.format(days=args.days)),
              ("Double 11 (double11-flat-benchmark)",
               str(ROOT / "scenarios" / "double11-flat-benchmark.yaml"))]
    met = True
    for name, arg in shapes:
        d = measure(arg)
        whole, desk = d["tickets"] / d["wall_s"], d["tickets"] / d["desk_s"]
        print(f"{name}: {d['tickets']:,.0f} tickets, replication {d['wall_s']:.2f} s "
              f"({whole:,.0f}/s, {whole / base:.1f}x SimPy), desk alone {d['desk_s']:.2f} s "
              f"({desk:,.0f}/s, {desk / base:.1f}x SimPy), engine {d['engine']}")
        met = met and desk / base >= GOAL
    print(f"goal (the desk >= {GOAL:g}x bare SimPy, both shapes):",
          "met" if met else "NOT met")


if __name__ == "__main__":
    main()
