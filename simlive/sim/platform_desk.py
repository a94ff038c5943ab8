"""Requests consumers escalate to the platform, and the platform's desk that decides them.

The store's desk (``simlive.sim.aftersales``) leaves each request a resolution time (inf:
never, e.g. lost or unanswered) and whether it was a refused return. A request still
unresolved ``after`` its asking escalates with one probability, a refused return at its
refusal with another (``aftersales.escalation``). The platform takes escalations up first
come, first served, at most ``decisions_per_day`` a day, and decides each ``decision_time``
later. Everything is arrays: a Double 11 night escalates hundreds of thousands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.judge.measures import EscalationMeasures
from simlive.rules import DAY
from simlive.scenario.aftersales import Escalation


@dataclass
class RequestTimes:
    """The requests (chats aside) as the store's desk left them, in ticket order."""

    arrival: np.ndarray  # when the consumer asked (seconds from the broadcast's start)
    resolved: np.ndarray  # when the store resolved or refused it (inf: never)
    refused: np.ndarray  # bool: a return the store refused (at ``resolved``)


@dataclass
class EscalationOutcome:
    measures: EscalationMeasures
    backlog: int  # escalations undecided at the horizon
    escalated_at: np.ndarray  # sorted, for tests and plots
    decided_at: np.ndarray  # in the same order (inf: not decided by the horizon)


def escalation_times(esc: Escalation, req: RequestTimes, horizon_end: float,
                     rng: np.random.Generator) -> np.ndarray:
    """When each escalated request reached the platform, sorted (those by the horizon)."""
    n = req.arrival.size
    u = rng.random(n)  # one draw per request, in ticket order: adding a block shifts none
    waited = req.arrival + esc.after
    refused = req.refused & np.isfinite(req.resolved)  # a lost refusal: never answered
    unresolved = ~refused & (req.resolved > waited)
    at = np.where(refused, req.resolved, waited)
    chance = np.where(refused, esc.refused, esc.unresolved)
    goes = (refused | unresolved) & (u < chance) & (at <= horizon_end)
    return np.sort(at[goes])


def taken_up(escalated_at: np.ndarray, per_day: int, horizon_end: float) -> np.ndarray:
    """The time the platform takes each escalation (sorted) up, first come, first served,
    at most ``per_day`` a day (day d is [d x 1d, (d + 1) x 1d) from the broadcast's start);
    inf for those not reached by the horizon's last day.

    Escalations served by the end of day d: S_d = min(S_{d-1} + C, A_d) with A_d those
    arrived by then, which unrolls to C x d + min(C, min over i <= d of A_i - C x i): one
    running minimum, no loop over escalations or days."""
    m = escalated_at.size
    if m == 0:
        return np.zeros(0)
    days = max(1, int(np.ceil(horizon_end / DAY)))
    day = np.minimum((escalated_at // DAY).astype(np.int64), days - 1)
    arrived = np.cumsum(np.bincount(day, minlength=days))
    c = np.int64(per_day)
    d = np.arange(days, dtype=np.int64)
    served = c * d + np.minimum(c, np.minimum.accumulate(arrived - c * d))
    on_day = np.searchsorted(served, np.arange(m), side="right")
    start = np.full(m, np.inf)
    ok = on_day < days
    start[ok] = np.maximum(escalated_at[ok], on_day[ok] * DAY)
    return start


def simulate_escalations(esc: Escalation, req: RequestTimes, horizon_end: float,
                         decide_within: float, rng: np.random.Generator) -> EscalationOutcome:
    """The escalations of one replication and the platform's decisions, judged at the
    horizon against ``decide_within``."""
    at = escalation_times(esc, req, horizon_end, rng)
    start = taken_up(at, esc.decisions_per_day, horizon_end)
    decided = start + esc.decision_time.sample(rng, at.size)
    done = decided <= horizon_end
    decided[~done] = np.inf
    delay = decided[done] - at[done]
    age = horizon_end - at[~done]
    late = int((delay > decide_within).sum())
    overdue = int((age > decide_within).sum())
    record = EscalationMeasures(
        tickets=int(req.arrival.size), escalated=int(at.size),
        decided_in_time=int(delay.size) - late, decided_late=late, overdue=overdue,
        pending=int(age.size) - overdue,
        slowest=float(delay.max()) if delay.size else None,
        oldest_undecided=float(age.max()) if age.size else None)
    return EscalationOutcome(record, int(age.size), at, decided)
