"""Verdicts as JUnit XML, so GitLab, Jenkins and GitHub show a broken rule like a failed
test: one test case per rule (failure with the evidence; skipped for unknown, which is not
a pass) and one per performance threshold. Pure: verdicts in, bytes out; no clock, no host
name, so the same verdicts give the same bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from simlive.report.tables import compact
from simlive.rules import Status, Verdict


def _suite(root: ET.Element, name: str, cases: list[tuple[str, str, str, str, str]]) -> None:
    """cases: (classname, name, outcome pass/fail/skip, message, detail)."""
    failures = sum(1 for c in cases if c[2] == "fail")
    skipped = sum(1 for c in cases if c[2] == "skip")
    suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(cases)),
                          failures=str(failures), errors="0", skipped=str(skipped), time="0")
    for classname, case_name, outcome, message, detail in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=case_name, time="0")
        if outcome == "fail":
            el = ET.SubElement(case, "failure", message=message, type="fail")
            el.text = detail
        elif outcome == "skip":
            ET.SubElement(case, "skipped", message=message)
        if outcome == "pass" and detail:
            ET.SubElement(case, "system-out").text = detail


def junit_xml(title: str, verdicts: Iterable[Verdict], thresholds: Iterable[Any] = ()) -> bytes:
    """The JUnit document: a suite of rules, and one of thresholds if any."""
    root = ET.Element("testsuites", name=f"simlive: {title}")
    rules = []
    for v in verdicts:
        outcome = {Status.PASS: "pass", Status.FAIL: "fail"}.get(v.status, "skip")
        detail = (f"{v.evidence}\nmeasured: {compact(v.measured)}\nlimit: "
                  f"{compact(v.limit)}")
        message = v.evidence
        if v.odds is not None:
            o = v.odds
            odds = (f"broken in {o.broken_in} of {o.replications} replications, P(broken) "
                    f"95% CI [{o.ci95[0]:.4g}, {o.ci95[1]:.4g}], risk {o.risk:g}")
            detail += f"\n{odds}"
            if v.status is Status.UNDECIDED:
                message = (f"undecided: {odds}" + (f"; about {o.more} more replications "
                                                   "would likely decide it" if o.more else ""))
        if v.status is Status.UNKNOWN:
            message = f"unknown: {v.evidence}"
        elif v.status is Status.NOT_JUDGED:
            message = v.evidence  # already says "not judged: ..."
        rules.append(("simlive.rules", f"{v.rule_id} ({v.name})", outcome, message, detail))
    _suite(root, f"compliance: {title}", rules)
    limits = [("simlive.thresholds", t.name, "pass" if t.passed else "fail",
               f"measured {'-' if t.measured is None else format(t.measured, '.4g')}, "
               f"limit {t.limit:g}", f"measured {t.measured}, limit {t.limit}")
              for t in thresholds]
    if limits:
        _suite(root, f"thresholds: {title}", limits)
    tests = sum(int(s.get("tests", 0)) for s in root)
    root.set("tests", str(tests))
    root.set("failures", str(sum(int(s.get("failures", 0)) for s in root)))
    root.set("errors", "0")
    root.set("skipped", str(sum(int(s.get("skipped", 0)) for s in root)))
    root.set("time", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
