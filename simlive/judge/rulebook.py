"""What each rule says about one simulated broadcast, and what it says over many.

One judge per rule, for the simulator and the load-test checker alike. A judge reads its
rule's measure record (``measures``): ``record`` picks it out of a replication's measures,
``broken`` says whether the rule broke in one broadcast (the event whose probability the
verdict is about, see ``odds``), and ``report`` says what was measured against which limit,
with one sentence of evidence. ``finding`` runs them over replications, ``verdict`` over the
one record a checker measured from a history and a final state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from simlive.judge import desk_judges, record_judges, shown_judges, stock_judges
from simlive.judge.judging import M, Numbers, RuleJudge
from simlive.judge.measures import Measures
from simlive.rules import RULES, Status, Verdict


@dataclass(frozen=True)
class Finding:
    """One rule over some replications: broken per replication, and the report."""

    broken: list[bool]
    measured: Any
    limit: Any
    evidence: str
    numbers: list[Numbers]  # per replication, for the mean and interval of each figure


_BY_THEME = (stock_judges.JUDGES, shown_judges.JUDGES, desk_judges.JUDGES,
             record_judges.JUDGES)
_ALL = {rid: j for theme in _BY_THEME for rid, j in theme.items()}
assert set(_ALL) == set(RULES) and sum(map(len, _BY_THEME)) == len(RULES), \
    "every rule needs a judge, and one only"
JUDGES: dict[str, RuleJudge] = {rid: _ALL[rid] for rid in RULES}
"""Every rule's judge, in the rulebook's order (each theme's module holds its own)."""


def broken_by_rule(m: Measures, params: dict[str, dict]) -> dict[str, bool | None]:
    """Whether each rule broke in one replication (None: its judge crashed)."""
    out: dict[str, bool | None] = {}
    for rid, j in JUDGES.items():
        try:
            record = j.record(m)
            if record is None:
                continue  # not modelled by the scenario: never judged, never a crash
            out[rid] = bool(j.broken(record, params[rid]))
        except Exception:  # noqa: BLE001 - a broken judge must not pass a rule
            out[rid] = None
    return out


DESK_RULES = ("aftersales.first-reply", "aftersales.refund-deadline",
              "aftersales.tracked-to-closure", "returns.seven-day")
"""The rules a desk answers for (``aftersales.desks``): what happens to its tickets."""


def desk_key(desk: int, rule_id: str) -> str:
    """The sequential test's name for desk ``desk``'s verdict on ``rule_id``."""
    return f"desk {desk}|{rule_id}"


def rule_of(key: str) -> str:
    """The rule a key of ``desk_key`` (or a rule id) is about."""
    return key.rsplit("|", 1)[-1]


def desk_measures(m: Measures, d: int) -> Measures:
    """The measures as desk ``d`` alone sees them: its tickets for the whole desk's."""
    return dataclasses.replace(m, desk=m.desks[d])


def broken_by_desk(m: Measures, params: dict[str, dict]) -> dict[str, bool | None]:
    """Whether each desk broke each of its rules in one replication (keys ``desk_key``)."""
    out: dict[str, bool | None] = {}
    for d in range(len(m.desks)):
        view = desk_measures(m, d)
        for rid in DESK_RULES:
            try:
                j = JUDGES[rid]
                out[desk_key(d, rid)] = bool(j.broken(j.record(view), params[rid]))
            except Exception:  # noqa: BLE001 - a broken judge must not pass a rule
                out[desk_key(d, rid)] = None
    return out


def finding(rule_id: str, ms: list[Measures], p: dict) -> Finding:
    """One rule over the replications ``ms``; raises if its judge is broken (the caller
    says unknown)."""
    j = JUDGES[rule_id]
    return judged(rule_id, [j.record(m) for m in ms], p)


def judged(rule_id: str, records: M, p: dict) -> Finding:
    """One rule over its own records: the simulator's replications, or a load test's one."""
    j = JUDGES[rule_id]
    broken = [bool(j.broken(r, p)) for r in records]
    measured, limit, evidence = j.report(records, p, broken)
    return Finding(broken, measured, limit, evidence, [j.numbers(r) for r in records])


def verdict(rule_id: str, record: Any, p: dict) -> Verdict:
    """A load test's verdict on one rule from the record its checker measured: the same
    judge, limits and evidence as a simulated broadcast's."""
    f = judged(rule_id, [record], p)
    return Verdict(rule_id, Status.FAIL if f.broken[0] else Status.PASS, f.measured, f.limit,
                   f.evidence)
