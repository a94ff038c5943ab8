"""Every scenario shipped in scenarios/ validates and runs; the noncompliant one fails loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simlive.rules import RULE_IDS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SLOW = {"double11-top-host", "double11-flat-benchmark"}  # full scale: seconds a replication


PARAMS = [pytest.param(p, marks=[pytest.mark.slow] if p.stem in SLOW else [], id=p.stem)
          for p in SCENARIOS]


def test_the_glob_finds_the_bundled_scenarios():
    assert "boutique" in {p.stem for p in SCENARIOS}


@pytest.mark.parametrize("path", PARAMS)
def test_bundled_scenario_validates(invoke, path):
    result = invoke("validate", str(path))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: ok (")


@pytest.mark.parametrize("path", PARAMS)
def test_bundled_scenario_runs(invoke, path, tmp_path):
    reps = "1" if path.stem in SLOW else "2"
    out = tmp_path / "result.json"
    result = invoke("run", str(path), "-q", "-r", reps, "--json", str(out))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code in (0, 1, 4), result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in data["rules"]] == list(RULE_IDS)
    # a judge that crashed would say "unknown": none may
    assert {r["status"] for r in data["rules"]} <= {"pass", "fail", "undecided"}
    failed = [r["id"] for r in data["rules"] if r["status"] == "fail"]
    if failed:
        assert result.exit_code == 1
        assert result.stderr.startswith(
            f"FAIL: {len(failed)} rule(s) broken: {', '.join(failed)}\n")
    # one or two replications decide only what the model decides outright
    for r in data["rules"]:
        assert (r["status"] != "undecided") == (r["decided_by"] in ("model", "interval"))


# The double11 scenarios take seconds a replication: until decided the presale needs 56
# or more (every rule and every desk's rules pass; 2 to 4 minutes on 2 cores, in the
# closing note of issue #13), which the suite's 15-minute budget cannot hold beside the
# rest: they run above as one replication, and the presale below over 20.
UNTIL_DECIDED = [pytest.param(ROOT / "scenarios" / f"{name}.yaml", id=name)
                 for name in ("boutique", "flash-sale")]
RISK: dict[str, str] = {}


@pytest.mark.parametrize("path", UNTIL_DECIDED)
def test_compliant_scenarios_pass_until_decided(invoke, path):
    """Each bundled compliant scenario is compliant with stated error: every rule's
    P(broken) <= risk established by Wald's test (or by the model), not by a lucky seed."""
    risk = RISK.get(path.stem, "5%")
    result = invoke("run", str(path), "-q", "--until-decided", "-j", "2", "--risk", risk,
                    "--json", "-")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "pass" and data["compliance"]["mode"] == "until-decided"
    least = {"5%": 56, "20%": 12}[risk]  # clean replications to the pass boundary
    for r in data["rules"]:
        assert r["status"] == "pass", r
        assert r["decided_by"] in ("model", "sequential"), r
        if r["decided_by"] == "sequential":
            assert r["replications"] >= least
            assert r["broken_in"] < r["replications"] * 1.5 * r["risk"]
    assert data["replications"] == max(r["replications"] for r in data["rules"])


def test_until_decided_is_the_same_bytes_whatever_the_jobs(invoke):
    path = str(ROOT / "scenarios" / "noncompliant.yaml")
    one = invoke("run", path, "-q", "--until-decided", "--max-replications", "80",
                 "--json", "-")
    two = invoke("run", path, "-q", "--until-decided", "--max-replications", "80",
                 "-j", "2", "--json", "-")
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout


def test_noncompliant_fails_each_rule_it_says_it_breaks(invoke):
    path = ROOT / "scenarios" / "noncompliant.yaml"
    assert path.exists(), "scenarios/noncompliant.yaml is bundled"
    result = invoke("run", str(path), "-q", "--until-decided", "-j", "2", "--json", "-")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    status = {r["id"]: r["status"] for r in data["rules"]}
    # the rules its header comment lists fail, and every other rule passes
    broken = {"stock.display-matches", "aftersales.first-reply", "replay.available",
              "reviews.not-deleted", "returns.seven-day"}
    assert {rid for rid, st in status.items() if st == "fail"} == broken
    assert {rid for rid, st in status.items() if st != "fail"} == set(RULE_IDS) - broken
    assert set(status.values()) == {"pass", "fail"}
    assert result.stderr == (
        "FAIL: 5 rule(s) broken: stock.display-matches, replay.available, "
        "aftersales.first-reply, reviews.not-deleted, returns.seven-day\n")
    rules = {r["id"]: r for r in data["rules"]}
    assert "phantom stock" in rules["stock.display-matches"]["evidence"]
    # no recording at all: the model decides it from one broadcast
    assert rules["replay.available"]["decided_by"] == "model"
    assert "replay missing in" in rules["replay.available"]["evidence"]
    # broken in every broadcast: Wald's test fails it after three
    assert rules["reviews.not-deleted"]["decided_by"] == "sequential"
    assert rules["reviews.not-deleted"]["replications"] == 3
    assert rules["reviews.not-deleted"]["broken_in"] == 3


@pytest.mark.slow
def test_the_presale_breaks_no_rule_in_twelve_broadcasts(invoke):
    """The Double 11 presale over 12 replications (until-decided takes 56, ~3 minutes; the
    suite's budget keeps 12): no rule fails, and none, the whole's or a desk's, breaks in
    more than one broadcast of 12 (within the 5 % risk; a replacement whose customer stays
    silent takes 13 days to close by itself, so one open past 15 days at the horizon is a
    rare event, not an impossible one); the rules the model decides pass."""
    path = str(ROOT / "scenarios" / "double11-top-host.yaml")
    result = invoke("run", path, "-q", "-r", "12", "-j", "2", "--json", "-")
    assert result.exit_code in (0, 4), result.stderr
    data = json.loads(result.stdout)
    assert data["replications"] == 12
    for r in data["rules"]:
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
