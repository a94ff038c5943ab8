"""Each desk's KPIs and rule measures, from the per-ticket arrays of a replication.

The whole desk's figures are computed once over every ticket (``aftersales``); with
several desks (``aftersales.desks``) the same figures are worked out again over each desk's
own tickets: its queue (service level, waits, first replies, utilization, the backlog when
the broadcast ends, the service level per interval the planner staffs to) and its tickets'
way to closure (refunds, returns, open and lost tickets), so each desk gets the verdicts
of the after-sales rules as well as the whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simlive.judge.measures import DeskMeasures, RefundMeasures
from simlive.judge.stats import p95
from simlive.scenario.desks import DeskSettings
from simlive.sim.service_levels import IntervalCounts, interval_counts, service_level_name

DESK_KPIS = ("aftersales.tickets", "aftersales.wait.mean_s", "aftersales.wait.p_delayed",
             "aftersales.first_reply.p95_s", "aftersales.first_reply.max_s",
             "aftersales.abandoned_fraction", "aftersales.agent_utilization",
             "aftersales.open_at_horizon", "aftersales.backlog_at_end")
"""The KPIs reported per desk (beside its service levels): the whole desk's, over its
tickets alone (units as ``engine.KPI_UNITS``)."""


@dataclass
class DeskResult:
    """One desk's figures in one replication."""

    name: str
    kpis: dict[str, float | None]
    intervals: IntervalCounts
    measures: DeskMeasures | None = None
    queue: dict[str, float | None] = field(default_factory=dict)  # for the measures


def split(desk_of: np.ndarray, desks: int) -> list[np.ndarray]:
    """Each desk's tickets (indices in arrival order). Desk numbers fit 16 bits (at most
    DESKS_MAX desks), where numpy's stable sort is a radix sort: linear in the tickets."""
    order = np.argsort(desk_of.astype(np.int16), kind="stable")
    bounds = np.searchsorted(desk_of[order], np.arange(desks + 1), "left")
    return [order[bounds[d]:bounds[d + 1]] for d in range(desks)]


def queue_results(specs: list[DeskSettings], index: list[np.ndarray], arr: np.ndarray,
                  start: np.ndarray, abandoned: np.ndarray, served: np.ndarray,
                  wait: np.ndarray, handling: np.ndarray, chats: np.ndarray,
                  lost: np.ndarray, duty: list[tuple[float, float]], max_reply: float,
                  horizon_end: float, duration: float) -> list[DeskResult]:
    """Each desk's queue: what its customers waited for and how busy its agents were."""
    out = []
    for spec, idx, (busy, on_duty) in zip(specs, index, duty, strict=True):
        a, st, ab, sv = arr[idx], start[idx], abandoned[idx], served[idx]
        w, h, c, in_desk = wait[idx], handling[idx], chats[idx], ~lost[idx]
        replied = np.isfinite(st)
        first = st - a
        sl = spec.service_level
        counts = interval_counts(a, st, sv, h, sl.within, sl.interval, horizon_end)
        wd = w[in_desk]
        chat = c & in_desk
        kpis: dict[str, float | None] = {
            "aftersales.tickets": float(idx.size),
            "aftersales.wait.mean_s": float(wd.mean()) if wd.size else 0.0,
            "aftersales.wait.p_delayed": float((wd > 1e-9).mean()) if wd.size else 0.0,
            "aftersales.first_reply.p95_s": p95(first[chat]),
            "aftersales.first_reply.max_s": float(first[in_desk].max())
            if in_desk.any() else None,
            "aftersales.abandoned_fraction": float(ab[c].mean()) if c.any() else 0.0,
            "aftersales.agent_utilization": busy / on_duty if on_duty else 0.0,
            "aftersales.backlog_at_end": float(np.searchsorted(a, duration, "right")
                                               - int((st <= duration).sum())),
        }
        for t in sl.within:
            kpis[service_level_name(t)] = counts.overall(t)
        queue = {
            "chats": float(c.sum()),
            "chat_p95": kpis["aftersales.first_reply.p95_s"],
            "unanswered_overdue": float((~replied & (horizon_end - a > max_reply)).sum()),
            "first_reply_late": float((replied & (first > max_reply)).sum()),
            "first_reply_max": float(first[replied].max()) if replied.any() else None,
        }
        out.append(DeskResult(spec.name, kpis, counts, queue=queue))
    return out


def closure_measures(results: list[DeskResult], index: list[np.ndarray], kind_codes: dict,
                     kind: np.ndarray, lost: np.ndarray, closed: np.ndarray,
                     silent: np.ndarray, open_: np.ndarray, age: np.ndarray,
                     close_within: float, too_early: bool,
                     wrongly: tuple[np.ndarray, np.ndarray],
                     engine: str, refunds: list[RefundMeasures]) -> None:
    """Each desk's tickets on their way to closure: its rule measures (``DeskMeasures``)
    and its open tickets at the horizon, filled into ``results``. ``refunds``: each desk's
    refund record; ``wrongly``: the returns refused against the law, and of those the
    goods excluded without the buyer's confirmation."""
    for r, idx, owed in zip(results, index, refunds, strict=True):
        q = r.queue
        op = open_[idx]
        no_feedback = int((closed[idx] & silent[idx]).sum())
        r.kpis["aftersales.open_at_horizon"] = float(op.sum())
        r.measures = DeskMeasures(
            tickets=int(idx.size), chats=int(q["chats"] or 0), chat_p95=q["chat_p95"],
            unanswered_overdue=int(q["unanswered_overdue"] or 0),
            first_reply_late=int(q["first_reply_late"] or 0),
            first_reply_max=q["first_reply_max"],
            refunds_paid=owed.paid, refunds_late=owed.late, refund_delay_max=owed.slowest,
            lost=int(lost[idx].sum()), open=int(op.sum()),
            open_overdue=int((op & (age[idx] > close_within)).sum()),
            oldest_open_age=float(age[idx][op].max()) if op.any() else None,
            closed=int(closed[idx].sum()), closed_without_feedback=no_feedback,
            closed_too_early=no_feedback if too_early else 0,
            returns=int((kind[idx] == kind_codes["return"]).sum()),
            returns_refused_in_window=int(wrongly[0][idx].sum()), engine=engine,
            returns_refused_unconfirmed=int(wrongly[1][idx].sum()))
        r.queue = {}
