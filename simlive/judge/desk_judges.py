"""The judges of after-sales: first replies, refunds, closure, seven-day returns, and the
platform's decisions on escalated requests (``rulebook.JUDGES`` holds them).
"""

from __future__ import annotations

import math
from typing import Any

from simlive.judge.judging import (
    RuleJudge,
    figures,
    in_runs,
    largest,
    named_examples,
)
from simlive.judge.measures import (
    ClosureMeasures,
    EscalationMeasures,
    FirstReplyMeasures,
    RefundMeasures,
    ReturnMeasures,
)
from simlive.rules import DAY, format_duration
from simlive.text import plural

# --- after-sales ---------------------------------------------------------------------------


def _reply_late(m: FirstReplyMeasures, p: dict) -> bool:
    p95 = m.chat_p95
    return (p95 is not None and p95 > p["chat_p95"]) or m.overdue > 0


def _reply_report(ms: list[FirstReplyMeasures], p: dict, broken: list[bool]
                  ) -> tuple[Any, Any, str]:
    p95s = [m.chat_p95 for m in ms if m.chat_p95 is not None]
    worst_p95 = max(p95s) if p95s else None
    k95 = sum(1 for v in p95s if v > p["chat_p95"])
    overdue = max(m.overdue for m in ms)
    parts = []
    if worst_p95 is not None:
        shown = "never" if worst_p95 == math.inf else format_duration(worst_p95)
        parts.append(f"chat first-reply p95 {shown} (limit {format_duration(p['chat_p95'])})"
                     + (f", over the limit in {k95} of {len(ms)}" if k95 and len(ms) > 1
                        else ""))
    if overdue:
        parts.append(f"{plural(overdue, 'request')} without a reply within "
                     f"{format_duration(p['max_reply'])}")
    elif not any(broken):
        parts.append(f"every request answered within {format_duration(p['max_reply'])}")
    measured_p95 = None if worst_p95 is None or worst_p95 == math.inf else worst_p95
    return ({"chat_p95_s": measured_p95, "late_or_unanswered": overdue},
            {"chat_p95_s": p["chat_p95"], "max_reply_s": p["max_reply"]}, "; ".join(parts))


def _refund_late(m: RefundMeasures, p: dict) -> bool:
    return m.late > 0


def _refund_report(ms: list[RefundMeasures], p: dict, broken: list[bool]
                   ) -> tuple[Any, Any, str]:
    late = max(m.late for m in ms)
    k, n = sum(broken), len(ms)
    worst = largest([m.slowest for m in ms])
    paid = sum(m.paid for m in ms)
    if k:
        ev = (f"{plural(late, 'refund')} paid or still owed past {format_duration(p['max_delay'])}"
              f"{in_runs(k, n)}")
    elif paid:
        ev = (f"{plural(paid, 'refund')}{'' if n == 1 else f' over {n} replications'}, "
              f"slowest paid {format_duration(worst or 0)} after goods came back")
    else:
        ev = "no refunds were due"
    return {"late": late, "slowest_s": worst}, {"max_delay_s": p["max_delay"]}, ev


def _untracked(m: ClosureMeasures, p: dict) -> bool:
    return m.lost > p["max_lost"] or m.open_overdue > 0 or m.closed_too_early > 0


def _tracked_report(ms: list[ClosureMeasures], p: dict, broken: list[bool]
                    ) -> tuple[Any, Any, str]:
    lost = max(m.lost for m in ms)
    overdue = max(m.open_overdue for m in ms)
    early = max(m.closed_too_early for m in ms)
    k, n = sum(broken), len(ms)
    still = max(m.open for m in ms)
    silent = max(m.closed_without_feedback for m in ms)
    age = largest([m.oldest_open_age for m in ms])
    timeout = format_duration(p["feedback_timeout"])
    if k:
        parts = [f"{plural(lost, 'ticket')} lost", f"{overdue} open past "
                 f"{format_duration(p['close_within'])}"]
        if early:
            parts.append(f"{early} closed without feedback before the consumer had {timeout}")
        ev = ", ".join(parts) + in_runs(k, n) + named_examples(ms)
    else:
        ev = ("every ticket closed with feedback" if not silent else
              f"every ticket closed with feedback or, for up to "
              f"{plural(silent, 'silent consumer')}, as 'no feedback' after {timeout}")
        if still:
            ev += (f"; {still} still open at the horizon, oldest {format_duration(age or 0)}"
                   f" (within {format_duration(p['close_within'])})")
    return ({"lost": lost, "open_overdue": overdue, "closed_too_early": early, "open": still},
            {"max_lost": p["max_lost"], "close_within_s": p["close_within"],
             "feedback_timeout_s": p["feedback_timeout"]}, ev)


def _returns_refused(m: ReturnMeasures, p: dict) -> bool:
    return m.refused_in_window > 0


def _returns_report(ms: list[ReturnMeasures], p: dict, broken: list[bool]
                    ) -> tuple[Any, Any, str]:
    worst = max(m.refused_in_window for m in ms)
    unconfirmed = max(m.unconfirmed for m in ms)
    k, n = sum(broken), len(ms)
    within = f"by 24:00 of day {p['window'] / DAY:g} after the day of signing"
    ev = (f"{worst} returns requested {within} refused{in_runs(k, n)}"
          + (f" ({unconfirmed} of goods excluded without the buyer's confirmation at "
             "purchase)" if unconfirmed else "") + named_examples(ms) if k else
          f"every return requested {within} accepted (exempt goods, exclusions the buyer "
          "confirmed and goods not intact aside)")
    return {"refused_in_window": worst}, {"window_s": p["window"]}, ev


# --- aftersales.escalations-answered ------------------------------------------------------


def _escalations_unanswered(m: EscalationMeasures, p: dict) -> bool:
    return m.unanswered > p["max_undecided"]


def _escalations_report(ms: list[EscalationMeasures], p: dict, broken: list[bool]
                        ) -> tuple[Any, Any, str]:
    within = format_duration(p["decide_within"])
    k, n = sum(broken), len(ms)
    worst = max(ms, key=lambda m: (m.unanswered, m.escalated))
    slowest = largest([m.slowest for m in ms])
    oldest = largest([m.oldest_undecided for m in ms])
    pending = max(m.pending for m in ms)
    escalated = sum(m.escalated for m in ms)
    if k:
        parts = [f"{worst.decided_late:,} decided late" if worst.decided_late else "",
                 f"{worst.overdue:,} undecided past it" if worst.overdue else "",
                 f"{worst.lost:,} acknowledged but never recorded" if worst.lost else ""]
        ev = (f"{worst.unanswered} of {plural(worst.escalated, 'escalation')} to the platform "
              f"had no decision within {within} ({', '.join(x for x in parts if x)})"
              f"{in_runs(k, n)}; the rule allows {p['max_undecided']:g}")
        if slowest is not None:
            ev += f"; the slowest decision took {format_duration(slowest)}"
        ev += named_examples(ms)
    elif escalated:
        decided = sum(m.decided_in_time for m in ms)
        ev = (f"{plural(escalated, 'escalation')} to the platform"
              f"{'' if n == 1 else f' over {n} replications'}: {decided:,} decided, each within "
              f"{within}" + (f" (the slowest took {format_duration(slowest)})"
                             if slowest is not None else ""))
        if pending:
            ev += (f"; {pending:,} still undecided, within the deadline"
                   + (f" (oldest {format_duration(oldest)})" if oldest is not None else ""))
    else:
        ev = "no request was escalated to the platform"
    measured = {"unanswered": worst.unanswered, "escalated": worst.escalated,
                "slowest_s": slowest, "pending": pending}
    return measured, {"decide_within_s": p["decide_within"],
                      "max_undecided": p["max_undecided"]}, ev


JUDGES: dict[str, RuleJudge] = {
    "aftersales.first-reply": RuleJudge(
        lambda m: m.desk.first_replies(), _reply_late, _reply_report,
        figures(chat_p95_s=lambda m: m.chat_p95, late_or_unanswered=lambda m: m.overdue)),
    "aftersales.refund-deadline": RuleJudge(
        lambda m: m.desk.refunds(), _refund_late, _refund_report,
        figures(late=lambda m: m.late, slowest_s=lambda m: m.slowest)),
    "aftersales.tracked-to-closure": RuleJudge(
        lambda m: m.desk.closure(), _untracked, _tracked_report,
        figures(lost=lambda m: m.lost, open_overdue=lambda m: m.open_overdue,
           open=lambda m: m.open)),
    "returns.seven-day": RuleJudge(
        lambda m: m.desk.returns_record(), _returns_refused, _returns_report,
        figures(refused_in_window=lambda m: m.refused_in_window)),
    "aftersales.escalations-answered": RuleJudge(
        lambda m: m.escalations, _escalations_unanswered, _escalations_report,
        figures(escalated=lambda m: m.escalated,
           unanswered=lambda m: m.unanswered,
           slowest_s=lambda m: m.slowest)),
}
