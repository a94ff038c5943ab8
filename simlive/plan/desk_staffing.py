"""Staffing a desk from shift templates, checked by simulation on replications it never saw.

1. Interval requirements from Erlang C: per interval of the service level's length, the
   tickets offered and the work they bring (from a simulation: tickets do not depend on the
   agents), the least desk slots whose Erlang C service level meets each target and whose
   occupancy stays under ``max_occupancy``; slots / ``chat_concurrency`` agents, grossed up
   by the shrinkage.
2. An integer program (``cover``) picks how many agents start on each template at each
   allowed start to cover every interval's requirement at least cost.
3. The roster is simulated on the search replications; where an interval's mean service
   level misses its target, its requirement goes up and the program is solved again,
   keeping at least the heads of the last roster (else a cheaper reshuffle moves the miss
   elsewhere). A backlog carries from one interval to the next, so only the first interval
   of each run of misses is raised (the next ones often recover with it) (Atlason, Epelman
   & Henderson's point: simulation beats the two-step because of that carry-over).
4. When the search replications hold, the roster is simulated on fresh replications (in
   ``looks``); if an interval misses there, back to 3 with fresh ones next time, up to
   ``max_iterations``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlive.plan.roster_file import Columns, RosterFile
from simlive.plan.targets import IntervalLevel, Target, assess, interval_levels
from simlive.rules import Verdict
from simlive.scenario.desks import DeskSettings
from simlive.scenario.schema import Scenario, ServiceLevel, Shift
from simlive.sim.engine import ReplicationResult
from simlive.sim.replications import SimulationResult
from simlive.sim.service_levels import IntervalCounts, available

# simulate(scenario, first replication, count)
Runner = Callable[[Scenario, int, int], SimulationResult]


def with_service_levels(s: Scenario, targets: list[Target], interval: float | None) -> Scenario:
    """The scenario reporting every service level the targets name, per ``interval``."""
    sl = s.aftersales.service_level
    within = sorted({*sl.within, *(t.within for t in targets if t.within is not None)})
    new = ServiceLevel(within=within, interval=sl.interval if interval is None else interval)
    return s.model_copy(update={"aftersales": s.aftersales.model_copy(
        update={"service_level": new})})


def with_shifts(s: Scenario, shifts: list[tuple[float, float, int]]) -> Scenario:
    rows = [Shift.model_validate({"from": a, "to": b, "agents": n}) for a, b, n in shifts]
    if not rows:  # the desk needs a shift: one with nobody on it
        rows = [Shift.model_validate({"from": 0.0, "to": 1.0, "agents": 0})]
    return s.model_copy(update={"aftersales": s.aftersales.model_copy(
        update={"agents": rows})})


# --- 1. Erlang C per interval --------------------------------------------------------------


def erlang_c_slots(rate: float, mean_work: float, within: float, level: float,
                   max_occupancy: float = 1.0) -> int:
    """The least servers n whose Erlang C P(wait <= within) >= level and load / n <=
    max_occupancy. Erlang B by its recursion, carried upward from n = 1, so one interval
    costs O(n) however large the desk."""
    a = rate * mean_work
    if a <= 0:
        return 0
    n_min = max(1, math.ceil(a / max_occupancy - 1e-9))
    if n_min <= a:  # a stable queue needs more servers than the load
        n_min = math.floor(a) + 1
    b = 1.0
    for k in range(1, n_min):
        b = a * b / (k + a * b)
    n = n_min - 1
    while True:
        n += 1
        b = a * b / (n + a * b)
        rho = a / n
        c = b / (1 - rho + rho * b)
        if 1 - c * math.exp(-(n / mean_work - rate) * within) >= level - 1e-12:
            return n


def paid_heads(slots: int, concurrency: int, shrinkage: float) -> int:
    """Heads to schedule so that ``slots`` desk slots answer."""
    agents = math.ceil(slots / concurrency)
    heads = math.ceil(agents / (1 - shrinkage) - 1e-9) if agents else 0
    while available(heads, shrinkage) < agents:
        heads += 1
    return heads


def requirements(counts: list[IntervalCounts], targets: list[Target],
                 s: Scenario, desk: DeskSettings | None = None) -> np.ndarray:
    """Paid heads per interval, the most any service level target needs (Erlang C on the
    mean offered tickets and work of the replications), and one answering agent in every
    interval from the first with tickets to the end of the after-sales horizon: the search
    replications may have none in a quiet night interval, or after some day, where other
    replications have one, and nobody on the desk answers it at 0 %. ``desk``: the desk's
    own settings (default the pooled desk's)."""
    a = desk if desk is not None else s.aftersales
    offered = np.mean([c.offered for c in counts], axis=0)
    work = np.mean([c.work for c in counts], axis=0)
    length = counts[0].length
    levels = [(t.within, t.factor) for t in targets if t.within is not None]
    out = np.zeros(offered.size, dtype=np.int64)
    busy = np.flatnonzero(offered > 0)
    if busy.size:  # tickets may come at any time after the first, to the end of the
        # after-sales horizon (a return on day 15 where the search saw none after day 10):
        # someone answers throughout
        out[busy[0]:] = paid_heads(1, a.chat_concurrency, a.shrinkage)
    for i in busy:
        rate, mean_work = offered[i] / length, work[i] / offered[i]
        slots = max(erlang_c_slots(rate, mean_work, within, factor, a.max_occupancy)
                    for within, factor in levels)
        out[i] = max(out[i], paid_heads(slots, a.chat_concurrency, a.shrinkage))
    return out


# --- 2. the roster as shifts -----------------------------------------------------------------


def roster_shifts(cols: Columns, heads: np.ndarray) -> list[tuple[float, float, int]]:
    """The scenario's shifts for heads per column: one per stretch on the desk, equal
    stretches merged."""
    summed: dict[tuple[float, float], int] = {}
    for c in np.flatnonzero(heads > 0):
        for lo, hi in cols.duty[c]:
            summed[(lo, hi)] = summed.get((lo, hi), 0) + int(heads[c])
    return [(lo, hi, n) for (lo, hi), n in sorted(summed.items())]


# --- 3, 4. judging a roster ------------------------------------------------------------------


@dataclass
class Judged:
    rows: list[IntervalLevel]  # the first per-interval target's level in each interval
    misses: list[int]  # intervals where some target's mean misses it (``confident``: its CI)
    unmet: list[str]  # overall targets not met with confidence
    sure: bool  # every target holds, each interval's with confidence too
    unstaffed: list[int] = field(default_factory=list)  # tickets and nobody on the desk
    broken: list[str] = field(default_factory=list)  # compliance rules failed (fresh runs)

    @property
    def held(self) -> bool:
        return not self.misses and not self.unmet and not self.broken


def judge(targets: list[Target], reps: list[ReplicationResult],
          level: float = 0.95, confident: bool = False) -> Judged:
    """Per-interval targets judged in every interval (``interval_levels``, with CIs at
    ``level``): misses where the mean misses the target, or (``confident``: a check on
    fresh replications) where the CI does; overall targets with confidence, their misses
    being the intervals where the service level is below the target (or the lowest).

    The search raises every interval whose mean misses; the check fails a roster only on
    confident misses, else the last few intervals sitting right at the target would each
    fail on half of all fresh samples and the plan would never end."""
    counts = [r.interval_counts() for r in reps]
    per = [t for t in targets if t.per_interval]
    judged = [interval_levels(t, counts, level) for t in per]
    misses = {v.index for levels in judged for v in levels
              if (v.missed if confident else not v.held)}
    sure = all(v.sure for levels in judged for v in levels)
    runs = [r.kpis for r in reps]
    unmet = [t.text for t in targets
             if not t.per_interval and not assess(t, runs, level).met]
    offered = np.sum([c.offered for c in counts], axis=0)
    for t in targets:
        if t.per_interval or t.text not in unmet or t.within is None or misses:
            continue
        answered = np.sum([c.answered[t.within] for c in counts], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            sl = answered / np.where(offered > 0, offered, np.nan)  # pooled over replications
        below = np.flatnonzero(np.nan_to_num(sl, nan=1.0) < t.factor)
        misses.update(int(i) for i in below)
        if not below.size and (offered > 0).any():
            misses.add(int(np.nanargmin(sl)))
    return Judged(judged[0] if judged else [], sorted(misses), unmet,
                  sure and not misses and not unmet)


def looks(validate: int) -> list[int]:
    """How many fresh replications a roster is judged on at each look: a quarter, a half,
    then all of ``validate`` (one look below 10). A look before the last stops the check
    when every target holds for sure, each CI at 1 - 5 % / looks (Bonferroni: the chance of
    stopping on a roster that misses stays within 5 %); the last look fails it on confident
    misses alone (``judge``). A Double 11 interval holds thousands of tickets: its level is
    known well after a few replications."""
    if validate < 10:
        return [validate]
    return sorted({max(5, math.ceil(validate / 4)), math.ceil(validate / 2), validate})


def unstaffed(j: Judged, scheduled: np.ndarray, reps: list[ReplicationResult]) -> Judged:
    """``j`` with every interval that had tickets in some replication and nobody scheduled
    on the desk as a miss. Such an interval answers nothing, but one ticket in one of
    twenty replications gives its level no interval, so ``judge`` alone would not call it
    missed with confidence."""
    offered = np.sum([r.interval_counts().offered for r in reps], axis=0)
    empty = np.flatnonzero((offered > 0) & (scheduled[:offered.size] <= 0))
    if not empty.size:
        return j
    misses = sorted({*j.misses, *(int(i) for i in empty)})
    return Judged(j.rows, misses, j.unmet, False, unstaffed=[int(i) for i in empty])


def first_of_runs(misses: list[int]) -> list[int]:
    """The first interval of each run of consecutive misses."""
    return [i for k, i in enumerate(misses) if k == 0 or misses[k - 1] != i - 1]


@dataclass
class Iteration:
    number: int
    seeds: str  # "search" or "fresh"
    heads: int
    cost: float
    unmet: list[str]
    missed: list[int] = field(default_factory=list)  # the intervals that missed
    broken: list[str] = field(default_factory=list)  # compliance rules failed (fresh)

    @property
    def misses(self) -> int:
        return len(self.missed)


@dataclass
class RosterPlan:
    targets: list[Target]
    interval: float
    roster: RosterFile
    cols: Columns
    search_replications: int
    validate_replications: int
    requirement: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    erlang: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    heads: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cost: float = 0.0
    intervals: list[IntervalLevel] = field(default_factory=list)
    validated_on: tuple[int, int] | None = None  # first replication, count
    iterations: list[Iteration] = field(default_factory=list)
    met: bool = False
    why: str = ""
    uncovered: list[int] = field(default_factory=list)
    rules: list[Verdict] = field(default_factory=list)  # on the fresh replications
    missed: list[int] = field(default_factory=list)  # intervals missing, last judgement

    @property
    def scheduled(self) -> np.ndarray:
        """Heads on the desk for the whole of each interval."""
        return self.cols.cover @ self.heads

    @property
    def agent_hours(self) -> float:
        return float(sum(h * self.roster.templates[t].paid_hours
                         for h, t in zip(self.heads, self.cols.template, strict=True)))

    def starts(self) -> list[dict[str, Any]]:
        return [{"template": self.roster.templates[self.cols.template[c]].name,
                 "start_s": self.cols.start[c], "heads": int(self.heads[c])}
                for c in np.flatnonzero(self.heads > 0)]
