"""A roster plan is a scenario one can run: plan -> --write-scenario -> run --until-decided.

A roster that says it held must hold as a scenario too: every interval with tickets has
someone on the desk (to the end of the after-sales horizon), the scenario's compliance rules
are judged on the plan's fresh replications, and the written scenario passes when run until
Wald's test decides every rule. Each case runs the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simlive.plan.desk_staffing import Judged, unstaffed
from simlive.rules import RULE_IDS
from simlive.scenario import load_scenario
from simlive.scenario.scope import unmodelled
from simlive.sim.engine import ReplicationResult
from simlive.sim.service_levels import IntervalCounts

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SL = "aftersales.service_level(20s) >= 0.8 per interval"

pytestmark = pytest.mark.slow


def simlive(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simlive.cli", *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, cwd=ROOT)


CASES = {
    # the README's command: boutique on the standard roster file
    "boutique": (ROOT / "scenarios" / "boutique.yaml", ROOT / "rosters" / "standard.yaml",
                 ["--interval", "30m"]),
    # the chat spike off the planner's grid
    "spike": (HERE / "spike.yaml", HERE / "hourly.yaml", ["-r", "6", "--validate", "10"]),
    # three desks, each its own roster
    "desks": (HERE / "desks.yaml", HERE / "hourly.yaml", ["-r", "4", "--validate", "6"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_plan_written_as_a_scenario_passes_until_decided(case: str, tmp_path: Path) -> None:
    scenario, roster, extra = CASES[case]
    written, out, html = tmp_path / "planned.yaml", tmp_path / "plan.json", tmp_path / "p.html"
    done = simlive("plan", str(scenario), "--target", SL, "--roster", str(roster), *extra,
                   "--json", str(out), "--html", str(html), "--write-scenario", str(written))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"scenario with the plan written to {written}" in done.stderr
    plan = json.loads(out.read_text())
    desks = plan.get("desks") or [plan]
    for d in desks:
        # shifts as a scenario takes them, and nobody missing where tickets came
        assert all(set(s) == {"from", "to", "agents"} for s in d["shifts"])
        assert all(r["scheduled"] > 0 for r in d["intervals"]
                   if r["service_level"] is not None), d["desk" if "desk" in d else "scenario"]
    rules = desks[0]["rules"]
    assert len(rules) == len(RULE_IDS) and not [r for r in rules if r["status"] == "fail"]
    page = html.read_text()
    assert "plan: " in page and "Roster" in page and "<table" in page
    ran = simlive("run", str(written), "--until-decided", "-j", "2", "--json",
                  str(tmp_path / "run.json"))
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    result = json.loads((tmp_path / "run.json").read_text())
    assert result["status"] == "pass"
    # every rule the written scenario models passes; the rest say why they are not judged
    skipped = unmodelled(load_scenario(written))
    assert {r["id"]: r["status"] for r in result["rules"]} == {
        rid: "not judged" if rid in skipped else "pass" for rid in RULE_IDS}


def test_an_interval_with_tickets_and_nobody_on_the_desk_is_a_miss() -> None:
    """One ticket in one replication of twenty gives its interval no CI, so the confident
    judgement alone never calls it missed; nobody scheduled there makes it a miss."""
    offered = [np.array([5, 0, 0]) for _ in range(19)] + [np.array([5, 0, 1])]
    reps = [ReplicationResult(i, {}, None, intervals=IntervalCounts(
        1800.0, o, {20.0: np.minimum(o, 4)}, o * 60.0)) for i, o in enumerate(offered)]
    held = Judged([], [], [], True)
    got = unstaffed(held, np.array([3, 0, 0]), reps)
    assert got.misses == [2] and got.unstaffed == [2] and not got.held
    # someone on the desk there: nothing added
    assert unstaffed(held, np.array([3, 0, 1]), reps).held


def test_misses_no_template_covers_are_named(tmp_path: Path) -> None:
    """A roster file whose templates stop before the tickets do: the plan fails naming the
    intervals (and their times), never with an empty list."""
    roster = tmp_path / "short.yaml"
    roster.write_text("templates:\n  - name: hour\n    length: 1h\n"
                      "    starts: {from: 0s, to: 2h, every: 15m}\n    cost_per_hour: 20\n")
    done = simlive("plan", str(HERE / "spike.yaml"), "--target", SL, "--roster", str(roster),
                   "-r", "3", "--validate", "4")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    line = next(x for x in done.stderr.splitlines() if x.startswith("FAIL"))
    assert "interval(s) miss and no template of the roster file covers them: 12 (from 3h)" \
        in line, line
