"""Staffing plan speed on Double 11, against the slow path taken in the same run. A script,
not a test.

1. The README's example as a user runs it: ``simlive plan
   scenarios/double11-flat-benchmark.yaml --target 'aftersales.service_level(20s) >= 0.8'
   --interval 30m --roster rosters/standard.yaml -j 2``: wall time and peak memory of the
   whole command. Goal: <= 60 s on 2 cores.
2. The slow path, in this process: the same plan (``plan_roster``) on one core with nothing
   reused between rosters (each candidate simulates every replication's orders and tickets
   again). Its roster must be the fast one's within one agent in every interval (the plan is
   deterministic, so it should be the same roster).

    python benchmarks/bench_plan.py [--target '...'] [--skip-slow]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "double11-flat-benchmark.yaml"
ROSTER = ROOT / "rosters" / "standard.yaml"
GOAL_S = 60.0


def fast(target: str, out: Path) -> tuple[float, float, int]:
    """Wall seconds, peak MiB and exit code of the command."""
    cmd = [sys.executable, "-c", "from simlive.cli import main; main()", "plan", str(SCENARIO),
           "--target", target, "--interval", "30m", "--roster", str(ROSTER), "-j", "2",
           "--json", str(out)]
    timed = ["/usr/bin/time", "-f", "%e %M", *cmd]
    proc = subprocess.run(timed, capture_output=True, text=True, cwd=ROOT)
    wall, kib = proc.stderr.strip().splitlines()[-1].split()
    return float(wall), int(kib) / 1024, proc.returncode


def slow(target: str) -> tuple[float, dict]:
    """The plan on one core, nothing reused between rosters: seconds and per-interval heads."""
    from simlive.plan.desk_staffing import plan_roster, with_service_levels
    from simlive.plan.roster_file import load_roster
    from simlive.plan.targets import parse_target
    from simlive.scenario import load_scenario
    from simlive.sim.engine import PLAN_METRICS
    from simlive.sim.replications import simulate
    from simlive.sim.workers import InProcess

    targets = [parse_target(target, PLAN_METRICS)]
    sc = with_service_levels(load_scenario(SCENARIO), targets, 1800.0)
    workers = InProcess(cached=False)

    def runner(s, first, count):
        return simulate(s, count, first=first, workers=workers)

    start = time.perf_counter()
    plan = plan_roster(sc, targets, load_roster(ROSTER), runner, 5, 20)
    elapsed = time.perf_counter() - start
    return elapsed, {"scheduled": plan.scheduled.tolist(), "agents": int(plan.heads.sum()),
                     "met": plan.met}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="aftersales.service_level(20s) >= 0.8")
    ap.add_argument("--skip-slow", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan.json"
        wall, mib, code = fast(args.target, out)
        plan = json.loads(out.read_text()) if out.exists() else {}
    print(f"plan (README example, -j 2): {wall:.1f} s wall, peak {mib:.0f} MiB, exit {code}; "
          f"{plan.get('agents')} agents, {len(plan.get('iterations', []))} iteration(s), "
          f"validated on {plan.get('validated_on')}  (goal <= {GOAL_S:.0f} s: "
          f"{'met' if wall <= GOAL_S and code == 0 else 'NOT met'})")
    if args.skip_slow:
        return
    seconds, ref = slow(args.target)
    fast_heads = [r["scheduled"] for r in plan.get("intervals", [])]
    diff = max((abs(a - b) for a, b in zip(fast_heads, ref["scheduled"], strict=False)),
               default=None)
    print(f"slow path (1 core, nothing reused): {seconds:.1f} s; {ref['agents']} agents, met "
          f"{ref['met']}; most agents apart in one interval: {diff} (goal <= 1: "
          f"{'met' if diff is not None and diff <= 1 else 'NOT met'}); "
          f"speed-up {seconds / wall:.2f} x")


if __name__ == "__main__":
    main()
