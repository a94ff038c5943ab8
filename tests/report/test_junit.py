"""--junit: verdicts as JUnit XML, valid by the schema CI servers read and by an
independent JUnit reader (junitparser)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from junitparser import Failure, JUnitXml, Skipped
from lxml import etree

from simlive.rules import RULE_IDS
from simlive.scenario import load_scenario
from simlive.scenario.scope import unmodelled

NEW_DUTIES = {"display.complete", "display.counters-true", "pricing.claims-hold",
              "fulfilment.on-time", "aftersales.escalations-answered", "reviews.order-honest"}

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("junit.xsd"))))


def simlive(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simlive.cli", *args], capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL, cwd=ROOT)


def cases(path: Path) -> dict[str, str]:
    """{case name: pass / fail / skip}, read by junitparser."""
    out = {}
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            kinds = {type(r) for r in case.result}
            out[case.name] = "fail" if Failure in kinds else "skip" if Skipped in kinds \
                else "pass"
    return out


def test_run_writes_valid_junit_with_a_failure_per_broken_rule(until_decided) -> None:
    # the noncompliant scenario until decided on two processes, then on one (runs shared
    # with the tests that read their JSON and HTML)
    done = until_decided("noncompliant", 2, reports=True)
    path = done.dir / "junit.xml"
    assert done.returncode == 1
    SCHEMA.assertValid(etree.parse(str(path)))
    got = cases(path)
    assert len(got) == len(RULE_IDS)
    broken = {n.split(" ")[0] for n, k in got.items() if k == "fail"}
    assert broken == {"stock.display-matches", "replay.available", "aftersales.first-reply",
                      "reviews.not-deleted", "returns.seven-day"} | NEW_DUTIES
    again = until_decided("noncompliant", 1, reports=True).dir / "junit.xml"
    assert again.read_bytes() == path.read_bytes()  # the same run, the same bytes
    skipped = unmodelled(load_scenario(ROOT / "scenarios" / "noncompliant.yaml"))
    assert {k for n, k in got.items() if n.split(" ")[0] not in skipped} == {"pass", "fail"}
    assert all(got[n] == "skip" for n in got if n.split(" ")[0] in skipped)


def test_one_replication_leaves_rules_that_break_by_chance_skipped(tmp_path: Path) -> None:
    path = tmp_path / "one.xml"
    done = simlive("run", "scenarios/boutique.yaml", "-q", "--junit", str(path))
    assert done.returncode == 4
    SCHEMA.assertValid(etree.parse(str(path)))
    got = cases(path)
    skipped = {n.split(" ")[0] for n, k in got.items() if k == "skip"}
    skipped -= set(unmodelled(load_scenario(ROOT / "scenarios" / "boutique.yaml")))
    assert skipped == {"replay.available", "aftersales.first-reply",
                       "aftersales.refund-deadline", "aftersales.tracked-to-closure",
                       "pricing.claims-hold", "fulfilment.on-time",
                       "aftersales.escalations-answered"}
    text = path.read_text(encoding="utf-8")
    assert "undecided: broken in 0 of 1 replications" in text


def test_check_reports_unknown_as_skipped_and_thresholds_as_cases(tmp_path: Path) -> None:
    found = ROOT / "examples" / "oscar" / "findings" / "tracked-oversell"
    path = tmp_path / "check.xml"
    done = simlive("check", "--history", str(found / "history.jsonl.gz"), "--state",
                   str(found / "state.json.gz"), "--target", "examples/oscar/target.yaml",
                   "--junit", str(path))
    assert done.returncode == 1
    SCHEMA.assertValid(etree.parse(str(path)))
    got = cases(path)
    assert got["stock.no-oversell (No oversell)"] == "fail"
    # Oscar cannot show these; and its ledger balances by construction (remaining read
    # from num_allocated, the counter sold is read from): ledger-balances is not earned
    # nor, with no scenario beside the stored history, the duties added after it was
    # recorded (its history has none of their operations)
    aside = len(NEW_DUTIES)
    assert all(got[n] == "skip" for n in got if n.split(" ")[0] in NEW_DUTIES), got
    assert sum(1 for k in got.values() if k == "skip") == 8 + aside
    assert got["stock.ledger-balances (Stock ledger balances)"] == "skip"
    xml = JUnitXml.fromfile(str(path))
    assert (xml.failures, xml.skipped, xml.tests) == (1, 8 + aside, len(RULE_IDS))

    from simlive.check.thresholds import ThresholdResult
    from simlive.report.junit import junit_xml
    from simlive.rules import Status, Verdict

    doc = junit_xml("t", [Verdict("stock.no-oversell", Status.PASS, 0, 0, "fine")],
                    [ThresholdResult("order p99 < 300 ms during flash-sale", 412.0, 300.0,
                                     False)])
    (tmp_path / "t.xml").write_bytes(doc)
    SCHEMA.assertValid(etree.parse(str(tmp_path / "t.xml")))
    assert cases(tmp_path / "t.xml")["order p99 < 300 ms during flash-sale"] == "fail"
