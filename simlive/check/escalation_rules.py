"""``aftersales.escalations-answered`` on a shop: every escalation the shop acknowledged is
in its books and decided by the platform within ``decide_within``.

The history says which escalations the shop acknowledged (``escalate`` ok, by ticket id);
the final state's tickets say when each was escalated and decided (``escalated_at``,
``decided_at``). One acknowledged but absent from the state (no such ticket, or one with no
``escalated_at``) is lost: the platform cannot decide what it never recorded. One still
undecided when the state was read is overdue past the deadline, else pending. A load lasts
minutes and the deadline is days: a shop that decided nothing and lost nothing has shown
nothing, and the verdict is unknown.
"""

from __future__ import annotations

from typing import Any

from simlive.check.history import OK, Op, of
from simlive.check.state import FinalState, epoch, needed
from simlive.judge.measures import EscalationMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import RULES, Status, Verdict

RULE = "aftersales.escalations-answered"


def escalation_record(ops: list[Op], state: FinalState,
                      p: dict[str, float]) -> EscalationMeasures:
    """The escalations of this run, measured from the history and the final state."""
    tickets = {t.get("id"): t for t in needed(state.tickets)}
    acked: dict[Any, None] = {}
    for op in of(ops, "escalate"):
        if op.type == OK:
            acked.setdefault(op.args.get("ticket_id"), None)
    lost = [tid for tid in acked if (tickets.get(tid) or {}).get("escalated_at") is None]
    within = p["decide_within"]
    in_time = late = overdue = pending = escalated = 0
    slowest: float | None = None
    oldest: float | None = None
    unanswered: list[str] = [f"ticket {tid} (lost)" for tid in lost]
    for t in tickets.values():
        at = epoch(t.get("escalated_at"))
        if at is None:
            continue
        escalated += 1
        decided = epoch(t.get("decided_at"))
        if decided is not None:
            took = decided - at
            slowest = took if slowest is None else max(slowest, took)
            if took > within:
                late += 1
                unanswered.append(f"ticket {t.get('id')}")
            else:
                in_time += 1
            continue
        age = state.fetched_at - at
        oldest = age if oldest is None else max(oldest, age)
        if age > within:
            overdue += 1
            unanswered.append(f"ticket {t.get('id')}")
        else:
            pending += 1
    return EscalationMeasures(len(tickets), escalated + len(lost), in_time, late, overdue,
                              pending, slowest, oldest, len(lost), tuple(unanswered[:5]))


def escalations_answered(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    record = escalation_record(ops, state, p)
    limit = RULES[RULE].limits(p)
    if not record.escalated:
        return Verdict(RULE, Status.UNKNOWN, None, limit,
                       "no escalation to the platform was acknowledged during the load test")
    judged = verdict(RULE, record, p)
    if judged.status is Status.PASS and not (record.decided_in_time or record.decided_late):
        return Verdict(RULE, Status.UNKNOWN, judged.measured, limit,
                       f"none of the {record.escalated} escalations was decided during the "
                       f"load test and none is past the deadline yet: a deadline of days "
                       f"cannot be observed otherwise")
    return judged
