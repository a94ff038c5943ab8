"""Every scenario shipped in scenarios/ validates and runs; the noncompliant one fails loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simlive.rules import RULE_IDS
from simlive.scenario import load_scenario
from simlive.scenario.scope import unmodelled

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SLOW = {"double11-top-host", "double11-flat-benchmark"}  # full scale: seconds a replication


PARAMS = [pytest.param(p, marks=[pytest.mark.slow] if p.stem in SLOW else [], id=p.stem)
          for p in SCENARIOS]
PRESALE = "double11-top-host"  # runs below over 4 replications, with these checks too


def test_the_glob_finds_the_bundled_scenarios():
    assert "boutique" in {p.stem for p in SCENARIOS}


@pytest.mark.parametrize("path", PARAMS)
def test_bundled_scenario_validates(invoke, path):
    result = invoke("validate", str(path))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: ok (")


def in_scope(path: Path | str, data: dict) -> list[dict]:
    """The rules the scenario models; the others must say "not judged" and why."""
    skipped = unmodelled(load_scenario(path))
    for r in data["rules"]:
        assert (r["status"] == "not judged") == (r["id"] in skipped), r
        if r["id"] in skipped:
            assert r["evidence"] == f"not judged: {skipped[r['id']]}", r
    return [r for r in data["rules"] if r["id"] not in skipped]


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in PARAMS if p.id != PRESALE])
def test_bundled_scenario_runs(invoke, path, tmp_path):
    reps = "1" if path.stem in SLOW else "2"
    out = tmp_path / "result.json"
    result = invoke("run", str(path), "-q", "-r", reps, "--json", str(out))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code in (0, 1, 4), result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in data["rules"]] == list(RULE_IDS)
    # a judge that crashed would say "unknown": none may; a rule the scenario does not
    # model says "not judged", and only such a rule
    judged = in_scope(path, data)
    assert {r["status"] for r in judged} <= {"pass", "fail", "undecided"}
    failed = [r["id"] for r in data["rules"] if r["status"] == "fail"]
    if failed:
        assert result.exit_code == 1
        assert result.stderr.startswith(
            f"FAIL: {len(failed)} rule(s) broken: {', '.join(failed)}\n")
    # one or two replications decide only what the model decides outright
    for r in judged:
        assert (r["status"] != "undecided") == (r["decided_by"] in ("model", "interval"))


# The double11 scenarios take seconds a replication: until decided the presale needs 56
# or more (every rule and every desk's rules pass; 2 to 4 minutes on 2 cores, in the
# closing note of issue #13), which the suite's budget cannot hold beside the rest: the
# flat benchmark runs above as one replication, and the presale below over 12.
UNTIL_DECIDED = ["boutique", "flash-sale"]


@pytest.mark.parametrize("name", UNTIL_DECIDED)
def test_compliant_scenarios_pass_until_decided(until_decided, name):
    """Each bundled compliant scenario is compliant with stated error: every rule's
    P(broken) <= risk (5 %) established by Wald's test (or by the model), not by a lucky
    seed. The run is shared with the tests that read the same one (test_cli, the cluster)."""
    ran = until_decided(name, 1)
    assert ran.returncode == 0, ran.stderr
    data = ran.json()
    assert data["status"] == "pass" and data["compliance"]["mode"] == "until-decided"
    assert data["compliance"]["risk"] == 0.05
    least = 56  # clean replications to the pass boundary at a 5 % risk
    for r in in_scope(ROOT / "scenarios" / f"{name}.yaml", data):
        assert r["status"] == "pass", r
        assert r["decided_by"] in ("model", "sequential"), r
        if r["decided_by"] == "sequential":
            assert r["replications"] >= least
            assert r["broken_in"] < r["replications"] * 1.5 * r["risk"]
    assert data["replications"] == max(r["replications"] for r in data["rules"]
                                       if r["status"] != "not judged")


def test_until_decided_is_the_same_bytes_whatever_the_jobs(until_decided):
    """The noncompliant scenario until decided on one process and on two: the same JSON,
    HTML report and JUnit, byte for byte (the runs test_html and test_junit read too)."""
    one = until_decided("noncompliant", 1, reports=True)
    two = until_decided("noncompliant", 2, reports=True)
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout and one.stderr == two.stderr
    for name in ("run.json", "report.html", "junit.xml"):
        assert (one.dir / name).read_bytes() == (two.dir / name).read_bytes(), name


def test_noncompliant_fails_each_rule_it_says_it_breaks(until_decided):
    path = ROOT / "scenarios" / "noncompliant.yaml"
    assert path.exists(), "scenarios/noncompliant.yaml is bundled"
    result = until_decided("noncompliant", 2, reports=True)
    assert result.returncode == 1, result.stdout + result.stderr
    data = result.json()
    status = {r["id"]: r["status"] for r in data["rules"]}
    # the rules its header comment lists fail, and every other rule passes
    broken = {"stock.display-matches", "aftersales.first-reply", "replay.available",
              "reviews.not-deleted", "returns.seven-day", "display.complete",
              "fulfilment.on-time", "pricing.claims-hold", "aftersales.escalations-answered",
              "reviews.order-honest", "display.counters-true"}
    assert {rid for rid, st in status.items() if st == "fail"} == broken
    assert {rid for rid, st in status.items() if st != "fail"} == set(RULE_IDS) - broken
    assert {r["status"] for r in in_scope(path, data)} == {"pass", "fail"}
    named = [rid for rid in RULE_IDS if rid in broken]
    skipped = [rid for rid in RULE_IDS if rid in unmodelled(load_scenario(path))]
    assert result.stderr == (
        f"FAIL: {len(broken)} rule(s) broken: {', '.join(named)}\n"
        + (f"NOT JUDGED: {len(skipped)} rule(s) the scenario does not model (see each row "
           f"for what to add): {', '.join(skipped)}\n" if skipped else ""))
    rules = {r["id"]: r for r in data["rules"]}
    assert "phantom stock" in rules["stock.display-matches"]["evidence"]
    assert "BAG-1: discount from 599, 200 above the lowest price of the 7d before (399)" in \
        rules["pricing.claims-hold"]["evidence"]
    # no recording at all: the model decides it from one broadcast
    assert rules["replay.available"]["decided_by"] == "model"
    assert "replay missing in" in rules["replay.available"]["evidence"]
    # broken in every broadcast: Wald's test fails it after three
    assert rules["reviews.not-deleted"]["decided_by"] == "sequential"
    assert rules["reviews.not-deleted"]["replications"] == 3
    assert rules["reviews.not-deleted"]["broken_in"] == 3


@pytest.mark.slow
def test_the_presale_breaks_only_the_price_claim_the_2021_night_broke(invoke):
    """The Double 11 presale over 4 replications (until-decided takes 56, each ~12 s of CPU
    since its desks are staffed by its own plan; the suite's budget keeps 4, on two
    processes): it breaks the price claim that drew the 2021 presale's complaints in every
    broadcast, and no other rule; none, the whole's or a desk's, breaks in more than one
    broadcast of 4 (a replacement whose customer stays silent takes 13 days to close by
    itself, so one open past 15 days at the horizon is a rare event, not an impossible one);
    the rules the model decides pass. Every duty of the rulebook is modelled."""
    path = str(ROOT / "scenarios" / f"{PRESALE}.yaml")
    result = invoke("run", path, "-q", "-r", "4", "-j", "2", "--json", "-")
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith("FAIL: 1 rule(s) broken: pricing.claims-hold\n")
    data = json.loads(result.stdout)
    assert data["replications"] == 4
    # what test_bundled_scenario_runs asserts of every other scenario: every rule judged,
    # in the vocabulary's order, and no judge crashed (none "unknown")
    assert [r["id"] for r in data["rules"]] == list(RULE_IDS)
    assert not unmodelled(load_scenario(path))
    rules = {r["id"]: r for r in data["rules"]}
    claim = rules.pop("pricing.claims-hold")
    assert claim["status"] == "fail" and claim["broken_in"] == 4, claim
    # about 27,000 asks for the difference, as the 20,000-30,000 complaints reported
    asked = int(claim["evidence"].split(" asked for the difference")[0].rsplit(" ", 1)[1]
                .replace(",", ""))
    assert 20_000 <= asked <= 30_000, claim["evidence"]
    assert {r["status"] for r in rules.values()} <= {"pass", "undecided"}
    for r in rules.values():
        assert r["broken_in"] <= 1, r
        assert r["status"] == ("pass" if r["decided_by"] == "model" else "undecided"), r
    assert len(data["desks"]) == 21 and data["desks"][0]["name"] == "pooled"
    for d in data["desks"]:
        assert all(r["broken_in"] <= 1 and r["status"] != "fail" for r in d["rules"]), d
    assert sum(r["broken_in"] for d in data["desks"] for r in d["rules"]) <= 2
    kpis = data["kpis"]
    assert kpis["orders.deposits"]["mean"] > kpis["orders.paid"]["mean"] > 0
    assert kpis["orders.balance_fraction"]["mean"] > 0.85  # 0.9 pay, nearly all in time
    assert kpis["aftersales.backlog_at_end"]["mean"] == 0
    _holds_to_its_sources(data)


# the same night's reported takings of the two top hosts' presale streams (20 Oct 2021,
# third-party estimates quoted in the press); the scenario's host sits between them
REPORTED_GMV = (8.25e9, 10.65e9)


def _holds_to_its_sources(data: dict) -> None:
    """The flagship's figures against what was reported, and its desks staffed so their
    verdicts test something: the money within a factor 1.5 of both reported nights, stock
    sized to demand (most orders served), and the agents on duty at the broadcast's busiest
    hour between 50 % and 90 % busy (a desk idle at its peak answers every chat at once, one
    past 90 % has no room for a burst)."""
    kpis = data["kpis"]
    gmv = kpis["gmv"]["mean"]
    assert all(r / 1.5 <= gmv <= r * 1.5 for r in REPORTED_GMV), gmv
    refused = kpis["orders.sold_out_rejections"]["mean"] / kpis["orders.placed"]["mean"]
    assert refused < 0.3, refused
    per = data["service_level_by_interval"]
    show = [i for i, t in enumerate(per["from_s"]) if t < 12 * 3600]  # the 12 h broadcast
    peak = max(show, key=lambda i: per["offered"][i])
    assert 0.5 <= per["utilization"][peak] <= 0.9, (peak, per["utilization"][peak])
