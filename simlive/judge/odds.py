"""From "broken in k of n broadcasts" to a verdict with a stated error.

A rule's verdict is about P(broken), the probability that it breaks in one broadcast,
against the rule's ``risk`` (``compliance.risk``, 5 % unless the scenario or the command line
says otherwise):

- over a fixed number of replications: ``pass`` when the exact 95 % interval of P(broken)
  lies at or below the risk, ``fail`` when it lies above, else ``undecided``;
- with ``--until-decided``: Wald's sequential test (``sequential.Sprt``) between
  ``risk*(1-indifference)`` and ``risk*(1+indifference)``, which stops a rule as soon as
  its answer is established with error rates at most ``alpha`` (a wrong fail) and ``beta``
  (a wrong pass) outside that indifference region;
- either way, a rule the scenario's policies decide outright (``certainty``) is decided by
  one replication.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from simlive.judge.certainty import Certainty
from simlive.judge.measures import Measures
from simlive.judge.rulebook import Finding, finding, rule_of
from simlive.judge.sequential import Sprt, clopper_pearson
from simlive.judge.stats import ci_list, rounded, summarise_metric
from simlive.rules import RULES, Odds, Status, Verdict, ordered
from simlive.rules import not_judged as not_judged_verdict


@dataclass(frozen=True)
class Confidence:
    """The risk each rule may run, and the sequential test's error bounds."""

    risk: float = 0.05
    per_rule: Mapping[str, float] = field(default_factory=dict)
    alpha: float = 0.05
    beta: float = 0.05
    indifference: float = 0.5  # the region's half-width, as a fraction of the risk

    def risk_of(self, rule_id: str) -> float:
        return self.per_rule.get(rule_id, self.risk)

    def sprt(self, rule_id: str) -> Sprt:
        risk = self.risk_of(rule_id)
        return Sprt(risk, risk * self.indifference, self.alpha, self.beta)

    def to_dict(self) -> dict:
        return {"risk": self.risk, "risk_by_rule": dict(sorted(self.per_rule.items())),
                "alpha": self.alpha, "beta": self.beta, "indifference": self.indifference}


def by_interval(k: int, n: int, risk: float) -> Status:
    lo, hi = clopper_pearson(k, n)
    if hi <= risk:
        return Status.PASS
    if lo > risk:
        return Status.FAIL
    return Status.UNDECIDED


def consistent(certain: Certainty, broken: list[bool]) -> bool:
    """The model's claim holds in every replication seen."""
    if certain is None:
        return False
    return all(broken) if certain else not any(broken)


@dataclass
class SequentialState:
    """Wald's test run one replication at a time, per rule, in replication order: the same
    stopping point whatever the number of processes that simulated them."""

    conf: Confidence
    certain: dict[str, Certainty]
    not_judged: frozenset[str] = frozenset()  # rules the scenario does not model
    counts: dict[str, list[int]] = field(default_factory=dict)  # rule -> [k, n]
    stopped: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # rule -> (n, how)
    contradicted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for rid in self.not_judged:  # nothing to test: stopped before the first replication
            self.stopped[rid] = (0, None)

    def add(self, broken: Mapping[str, bool | None]) -> None:
        """One replication's rules broken or not; keys beyond the rules (a desk's rule,
        ``desk_key``) are tested the same way, at their rule's risk."""
        for rid in [*RULES, *(k for k in broken if k not in RULES)]:
            if rid in self.not_judged:
                continue
            b = broken.get(rid)
            if b is None:  # a crashed judge: judged (as unknown) at the end
                self.stopped.setdefault(rid, (self._n(rid) + 1, None))
                continue
            c = self.certain.get(rid)
            if c is not None and bool(c) != b:
                self.contradicted.add(rid)
            if rid in self.stopped:
                continue
            k, n = self.counts.setdefault(rid, [0, 0])
            k, n = k + int(b), n + 1
            self.counts[rid] = [k, n]
            decision = self.conf.sprt(rule_of(rid)).decide(k, n)
            if decision is not None:
                self.stopped[rid] = (n, decision)

    def _n(self, rid: str) -> int:
        return self.counts.get(rid, [0, 0])[1]

    def done(self) -> bool:
        return all(rid in self.stopped or (self.certain.get(rid) is not None
                                           and rid not in self.contradicted)
                   for rid in [*RULES, *self.counts])


def rule_verdict(rule_id: str, ms: list[Measures], p: dict, conf: Confidence,
                 certain: Certainty, sequential: tuple[int, str | None] | None,
                 not_judged: str | None = None) -> Verdict:
    """The verdict of one rule over the replications ``ms`` (in replication order).

    ``sequential`` is where Wald's test stopped this rule (replications, decision), or None
    for a fixed number of replications. ``not_judged``: why the scenario gives this rule
    nothing to judge (``simlive.scenario.scope``), or None when it is in scope."""
    if not_judged is not None:
        return not_judged_verdict(rule_id, p, not_judged)
    try:
        f = finding(rule_id, ms, p)
        model = consistent(certain, f.broken)
        n = len(ms) if sequential is None or model else sequential[0]
        if n < len(ms):  # Wald's test stopped this rule earlier: judge what decided it
            f = finding(rule_id, ms[:n], p)
    except Exception as exc:  # noqa: BLE001 - a broken judge must not pass a rule
        return Verdict(rule_id, Status.UNKNOWN, None, None,
                       f"could not be judged: {type(exc).__name__}: {exc}")
    risk = conf.risk_of(rule_id)
    if model:
        return _verdict(rule_id, f, Status.FAIL if certain else Status.PASS, risk, "model",
                        None)
    if sequential is not None and sequential[1] is not None:
        return _verdict(rule_id, f, Status(sequential[1]), risk, "sequential", None)
    k = sum(f.broken)
    status = by_interval(k, n, risk)
    if status is not Status.UNDECIDED:
        return _verdict(rule_id, f, status, risk, "interval", None)
    return _verdict(rule_id, f, status, risk, "none", conf.sprt(rule_id).more_needed(k, n))


def _verdict(rule_id: str, f: Finding, status: Status, risk: float, how: str,
             more: int | None) -> Verdict:
    k, n = sum(f.broken), len(f.broken)
    odds = Odds(k, n, k / n, clopper_pearson(k, n), risk, how, more)
    return Verdict(rule_id, status, f.measured, f.limit, f.evidence, odds,
                   _over_replications(f) if n > 1 else None)


def _over_replications(f: Finding) -> dict[str, dict]:
    """Mean and 95 % interval of each measured figure over the replications."""
    out = {}
    for name in f.numbers[0]:
        mean, ci = summarise_metric([row[name] for row in f.numbers])
        shown = rounded(mean) if mean is not None and math.isfinite(mean) else mean
        out[name] = {"mean": shown, "ci95": ci_list(mean, ci)}
    return out


def judge_all(ms: list[Measures], params: dict[str, dict], conf: Confidence,
              certain: dict[str, Certainty],
              stops: Mapping[str, tuple[int, str | None]] | None = None,
              not_judged: Mapping[str, str] | None = None) -> list[Verdict]:
    """Every rule's verdict over the replications ``ms``; ``not_judged``: the rules the
    scenario does not model, and why (``simlive.scenario.scope.unmodelled``)."""
    skip = not_judged or {}
    return ordered(rule_verdict(rid, ms, params[rid], conf, certain.get(rid),
                                None if stops is None else stops.get(rid, (len(ms), None)),
                                skip.get(rid))
                   for rid in RULES)
