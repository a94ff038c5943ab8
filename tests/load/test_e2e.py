"""End to end on 127.0.0.1: `simlive load --serve` against the reference service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simlive.rules import RULE_IDS
from simlive.scenario import load_scenario
from simlive.scenario.scope import unmodelled
from simlive.service.faults import BREAKS, Fault

SCENARIO = Path(__file__).with_name("flash.yaml")


def simlive(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``simlive`` in a subprocess (Locust and gevent never enter the pytest process)."""
    return subprocess.run([sys.executable, "-m", "simlive.cli", *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def statuses(out: Path) -> dict[str, str]:
    data = json.loads((out / "verdicts.json").read_text())
    return {v["id"]: v["status"] for v in data["verdicts"]}


@pytest.mark.slow
def test_clean_run_passes_every_rule_and_writes_reports(clean_load_on_workers) -> None:
    """``load --serve`` on two Locust workers (the load test_locust_modes reads for the
    merged histories; the fault loads below run locally)."""
    done = clean_load_on_workers
    out = done.dir / "out"
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # every rule the scenario models passes; the rest say so (scenario.scope)
    skipped = unmodelled(load_scenario(SCENARIO))
    assert statuses(out) == {rid: "not judged" if rid in skipped else "pass"
                             for rid in RULE_IDS}
    for name in ("locust.html", "locust_stats.csv", "history.jsonl", "state.json",
                 "run.json", "report.html"):
        assert (out / name).exists(), name
    report = (out / "report.html").read_text()
    assert "every rule passes" in report and "p95_ms" in report
    assert "stock.no-oversell" in done.stdout  # the verdict table
    assert "Aggregated" in done.stdout + done.stderr  # Locust's own stats
    # the stored run can be re-checked offline
    again = simlive("check", "--history", str(out / "history.jsonl"), "--state",
                    str(out / "state.json"), "--scenario", str(SCENARIO))
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.slow
def test_a_recheck_from_the_host_gives_the_load_runs_own_verdicts(tmp_path: Path) -> None:
    """``simlive check --host`` reads the state as the run did (its run id, products and
    broadcast from run.json): it once rendered {{ run_id }} empty and judged every run's
    orders, saying "38 acknowledged order(s) missing" where the run said 4."""
    from simlive.service.process import ServiceProcess

    out = tmp_path / "out"
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                        payment_timeout=1.0, sweep_interval=0.5) as svc:
        token = svc.token("admin")
        # a second run in the same shop, 2 s long: other orders for the re-check to ignore
        for run, length in (("first", "5s"), ("second", "2s")):
            done = simlive("load", str(SCENARIO), "--host", svc.base_url, "--admin-token",
                           token, "--settle", "2", "--run-time", length,
                           "--out", str(tmp_path / run))
            assert done.returncode in (0, 1), done.stderr[-3000:]
        out = tmp_path / "first"
        again = simlive("check", "--history", str(out / "history.jsonl"), "--target",
                        "reference", "--host", svc.base_url, "--admin-token", token,
                        "--json", str(tmp_path / "again.json"))
    assert again.returncode in (0, 1), again.stderr[-3000:]
    run = json.loads((out / "verdicts.json").read_text())["verdicts"]
    rechecked = json.loads((tmp_path / "again.json").read_text())["verdicts"]
    assert {v["id"]: v["status"] for v in rechecked} == {v["id"]: v["status"] for v in run}
    for a, b in zip(run, rechecked, strict=True):
        if a["id"].startswith("stock."):
            assert a["measured"] == b["measured"], (a, b)


# Every fault once, in three loads of independent faults (a load per fault cost seven
# Locust runs). Faults on the same stock run apart: the oversell's lost updates and the
# double restock both move the stock ledger, and the stale display was once missed in a
# load beside the oversell (1 run of ~10 on a busy machine), so each stock fault has a load
# of its own company. The records kept from their creation fall short by the seconds an
# order took to be delivered or to expire, which the checker counts to the millisecond.
FAULT_LOADS = [
    (Fault.OVERSELL, Fault.LOSE_TICKET, Fault.DELETE_REVIEW, Fault.LOST_SHIPMENT,
     Fault.INFLATED_REFERENCE),
    (Fault.STALE_DISPLAY, Fault.NO_REPLAY, Fault.NO_RECEIPT,
     Fault.INCOMPLETE_LISTING, Fault.ESCALATION_LOST),
    (Fault.DOUBLE_RESTOCK, Fault.RETAIN_FROM_CREATION, Fault.GOOD_REVIEWS_FIRST,
     Fault.INFLATED_COUNTERS),
]
assert sorted(f for load in FAULT_LOADS for f in load) == sorted(Fault)


@pytest.mark.slow
@pytest.mark.parametrize("faults", FAULT_LOADS,
                         ids=["+".join(f.value for f in load) for load in FAULT_LOADS])
def test_each_fault_fails_exactly_its_rule(tmp_path: Path, faults: tuple[Fault, ...]) -> None:
    """Each fault breaks its rule, and the faults together break nothing else: every other
    rule still passes in the same load."""
    out = tmp_path / "out"
    flags = [arg for f in faults for arg in ("--fault", f.value)]
    done = simlive("load", str(SCENARIO), "--serve", *flags, "--out", str(out))
    st = statuses(out)
    failing = {rid for rid, s in st.items() if s not in ("pass", "not judged")}
    expected = {BREAKS[f] for f in faults}
    if Fault.OVERSELL in faults and failing == expected | {"stock.ledger-balances"}:
        # the fault's read-pause-write also loses, now and then, a unit an expiring order
        # gave back at the same moment: the books then miss that unit as well (seen about
        # once in ten runs); the oversold units must still be found
        failing.discard("stock.ledger-balances")
    assert failing == expected, (st, done.stdout[-2000:])
    assert all(st[rid] == "fail" for rid in expected), st  # failed, not left unknown
    assert done.returncode == 1


def test_bad_input_exits_2(tmp_path: Path) -> None:
    assert simlive("load", str(SCENARIO)).returncode == 2  # neither --serve nor --host
    assert simlive("load", str(SCENARIO), "--serve", "--run-time", "soon").returncode == 2
    assert simlive("check", "--history", str(SCENARIO)).returncode == 2
