"""Running replications, in parallel processes, and summarising them.

Replication ``r`` always uses the streams of ``(seed, r)``, results are gathered in
replication order, and ``--until-decided`` feeds Wald's test one replication at a time in
that order, so the summary is the same bytes whatever ``jobs`` is.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlive import __version__
from simlive.errors import UsageError
from simlive.judge.certainty import Certainty, certainties
from simlive.judge.odds import Confidence, SequentialState, judge_all
from simlive.judge.rulebook import broken_by_desk, broken_by_rule
from simlive.judge.stats import rounded, summarise_metric
from simlive.rules import Status, Verdict, overall, rule_params
from simlive.scenario.schema import Scenario
from simlive.scenario.scope import unmodelled
from simlive.sim.desk_summaries import desk_summaries
from simlive.sim.engine import KPI_UNITS, OPTIONAL_KPIS, ReplicationResult
from simlive.sim.service_levels import SERVICE_LEVEL
from simlive.sim.workers import Workers, open_workers

Progress = Callable[[float], None]


@dataclass
class SimulationResult:
    scenario: Scenario
    replications: list[ReplicationResult]
    verdicts: list[Verdict]
    kpis: dict[str, dict[str, Any]]
    confidence: Confidence = field(default_factory=Confidence)
    until_decided: bool = False
    max_replications: int | None = None
    shifts: list[dict[str, Any]] = field(default_factory=list)
    desks: list[dict[str, Any]] = field(default_factory=list)  # with aftersales.desks

    @property
    def series(self) -> dict[str, Any]:
        return self.replications[0].series

    @property
    def status(self) -> Status:
        return overall(self.verdicts)

    def to_dict(self) -> dict[str, Any]:
        mode = {"mode": "until-decided", "max_replications": self.max_replications} \
            if self.until_decided else {"mode": "fixed"}
        return {
            "simlive_version": __version__,
            "scenario": self.scenario.name,
            "seed": self.scenario.seed,
            "replications": len(self.replications),
            "status": self.status.value,
            "compliance": {**self.confidence.to_dict(), **mode},
            "kpis": self.kpis,
            "shifts": self.shifts,
            "sold_out": sold_out(self.scenario, self.replications),
            "service_level_by_interval": service_levels(self.replications),
            "rules": [v.to_dict() for v in self.verdicts],
            **({"desks": self.desks} if self.desks else {}),
        }


def confidence_of(scenario: Scenario, risk: float | None = None, alpha: float | None = None,
                  beta: float | None = None,
                  indifference: float | None = None) -> Confidence:
    """The scenario's ``compliance`` settings, with the command line's over them (a risk
    given on the command line applies to every rule)."""
    c = scenario.compliance
    return Confidence(risk=c.risk if risk is None else risk,
                      per_rule={} if risk is not None else scenario.rule_risks(),
                      alpha=c.alpha if alpha is None else alpha,
                      beta=c.beta if beta is None else beta,
                      indifference=c.indifference if indifference is None else indifference)


def _kpis(reps: list[ReplicationResult]) -> dict[str, dict[str, Any]]:
    kpis: dict[str, dict[str, Any]] = {}
    levels = [k for k in reps[0].kpis if k.startswith(SERVICE_LEVEL)]
    for name, unit in [*KPI_UNITS.items(), *((k, "fraction") for k in levels)]:
        values = [r.kpis.get(name) for r in reps]
        if name in OPTIONAL_KPIS and all(v is None for v in values):
            continue
        mean, ci = summarise_metric(values)
        n = sum(v is not None for v in values)
        if mean is None or not math.isfinite(mean):
            kpis[name] = {"mean": mean, "ci95": None, "unit": unit, "n": n}
            continue
        kpis[name] = {"mean": rounded(mean), "ci95": None if ci is None else
                      [rounded(ci[0]), rounded(ci[1])], "unit": unit, "n": n}
    return kpis


def service_levels(reps: list[ReplicationResult]) -> dict[str, Any] | None:
    """The desk's service level per interval (``aftersales.service_level.interval``) at the
    first threshold, pooled over replications (answered / offered), with the tickets offered
    per replication; up to the last interval with a ticket."""
    counts = [r.intervals for r in reps if r.intervals is not None]
    if not counts:
        return None
    within = min(counts[0].answered)
    offered = np.sum([c.offered for c in counts], axis=0)  # the same intervals in each
    answered = np.sum([c.answered[within] for c in counts], axis=0)
    busy = np.flatnonzero(offered)
    last = int(busy[-1]) + 1 if busy.size else 0
    length = counts[0].length
    out = {"interval_s": length, "within_s": within,
           "from_s": [i * length for i in range(last)],
           "offered": [rounded(float(n) / len(counts)) for n in offered[:last]],
           "level": [rounded(float(a) / float(n)) if n else None
                     for a, n in zip(answered[:last], offered[:last], strict=True)]}
    busies = [c.busy for c in counts if c.busy is not None]
    duties = [c.duty for c in counts if c.duty is not None]
    if len(busies) == len(duties) == len(counts):
        # every desk's agents: time handling within the interval over time on duty in it,
        # pooled over the replications (None: nobody on duty)
        busy = np.sum(busies, axis=0)
        duty = np.sum(duties, axis=0)
        out["utilization"] = [rounded(float(b) / float(d)) if d > 0 else None
                              for b, d in zip(busy[:last], duty[:last], strict=True)]
    return out


def sold_out(scenario: Scenario, reps: list[ReplicationResult]) -> list[dict[str, Any]]:
    """Every SKU a buyer found sold out in some replication, earliest first: in how many
    replications, when (seconds from the start: mean and 95 % CI over those replications)
    and how long into its first presentation (its slot in the schedule)."""
    from simlive.scenario.catalogue import build_catalogue

    catalogue = build_catalogue(scenario)
    first_slot: dict[str, float] = {}
    for seg in catalogue.schedule:
        first_slot[seg.sku] = min(seg.start, first_slot.get(seg.sku, math.inf))
    rows: list[dict[str, Any]] = []
    for j, sku in enumerate(catalogue.skus):
        times = [t for r in reps if r.sold_out_at and (t := r.sold_out_at[j]) is not None]
        if not times:
            continue
        mean, ci = summarise_metric(list(times))
        assert mean is not None  # the mean of some times
        slot = first_slot.get(sku.sku)
        into = [t - slot for t in times if slot is not None and t >= slot]
        rows.append({"sku": sku.sku, "name": sku.name, "replications": len(times),
                     "share": rounded(len(times) / len(reps)),
                     "at_s": {"mean": rounded(mean), "ci95": None if ci is None
                              else [rounded(ci[0]), rounded(ci[1])]},
                     "into_slot_s": rounded(statistics.mean(into)) if into else None})
    rows.sort(key=lambda row: (row["at_s"]["mean"], row["sku"]))
    return rows


def _shifts(scenario: Scenario, reps: list[ReplicationResult]) -> list[dict[str, Any]]:
    """The desk KPIs of each shift (tickets arriving in it, agent time spent in it)."""
    out = []
    for i, sh in enumerate(scenario.aftersales.agents):
        row: dict[str, Any] = {"from_s": sh.start, "to_s": sh.end, "agents": sh.agents}
        names = reps[0].by_shift[i].keys() if reps[0].by_shift else []
        for name in names:
            mean, ci = summarise_metric([r.by_shift[i].get(name) for r in reps])
            if mean is None or not math.isfinite(mean):
                row[name] = {"mean": mean, "ci95": None}
                continue
            row[name] = {"mean": rounded(mean),
                         "ci95": None if ci is None else [rounded(ci[0]), rounded(ci[1])]}
        out.append(row)
    return out


def summarise(scenario: Scenario, reps: list[ReplicationResult],
              conf: Confidence | None = None,
              stops: dict[str, tuple[int, str | None]] | None = None,
              max_replications: int | None = None,
              certain: dict[str, Certainty] | None = None) -> SimulationResult:
    conf = conf or confidence_of(scenario)
    params = rule_params(scenario.rule_overrides())
    certain = certainties(scenario, params) if certain is None else certain
    verdicts = judge_all([r.measures for r in reps], params, conf, certain, stops,
                         unmodelled(scenario))
    return SimulationResult(scenario, reps, verdicts, _kpis(reps), conf, stops is not None,
                            max_replications, _shifts(scenario, reps),
                            desk_summaries(scenario, reps, params, conf, stops))


def simulate(scenario: Scenario, replications: int = 1, jobs: int = 1,
             progress: Progress | None = None, until_decided: bool = False,
             conf: Confidence | None = None, first: int = 0,
             workers: Workers | None = None) -> SimulationResult:
    """Run replications and judge every rule.

    Without ``until_decided``, exactly ``replications``. With it, batches of ``jobs`` (or
    of the cluster's workers) until Wald's test has decided every rule, ``replications``
    being the most it may take. ``progress`` gets the fraction done (of the maximum, for
    ``until_decided``). ``workers``: where to run them (``workers.open_workers``; a plan
    keeps one open, so its workers keep each replication's orders and tickets between
    candidates); without it, ``jobs`` local processes for this call alone.
    ``first``: the index of the first replication (a plan validates on replications its
    search never saw).
    """
    if replications < 1:
        raise UsageError(f"replications(={replications}) must be >= 1")
    if jobs < 1:
        raise UsageError(f"jobs(={jobs}) must be >= 1")
    conf = conf or confidence_of(scenario)

    def report(done: float) -> None:
        if progress is not None:
            progress(min(1.0, done / replications))

    own = workers is None
    if workers is None:
        workers = open_workers(min(jobs, replications))
    try:
        if not until_decided:
            reps = list(workers.map(scenario, first, replications, report))
            return summarise(scenario, reps, conf)
        params = rule_params(scenario.rule_overrides())
        certain = certainties(scenario, params)
        state = SequentialState(conf, certain, frozenset(unmodelled(scenario)))
        reps = []
        batch_size = workers.size

        def report_from(done: int) -> Progress:
            return lambda d: report(done + d)

        while len(reps) < replications and not state.done():
            batch = min(batch_size, replications - len(reps))
            done = len(reps)
            for r in workers.map(scenario, done, batch, report_from(done)):
                if state.done():
                    break  # decided by an earlier replication of this batch: not counted
                reps.append(r)
                state.add({**broken_by_rule(r.measures, params),
                           **broken_by_desk(r.measures, params)})
        return summarise(scenario, reps, conf, state.stopped, replications, certain)
    finally:
        if own:
            workers.close()
