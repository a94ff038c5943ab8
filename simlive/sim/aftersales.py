"""After-sales: the desks that answer the tickets (``tickets``), and their way to closure.

Every ticket goes through its desk (``desk``; ``aftersales.desks`` routes them) for its
first reply, then through the steps of its kind to closure with the consumer's feedback.
What is still open at the horizon is reported open with its age.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.judge.measures import RefundMeasures
from simlive.judge.stats import p95
from simlive.scenario.desks import DeskSettings, pooled
from simlive.scenario.schema import TICKET_KINDS, Scenario
from simlive.sim.contacts import clock_seconds
from simlive.sim.desk import DeskOutcome, desk_recursion
from simlive.sim.desk_simpy import desk_simpy
from simlive.sim.duty import Roster
from simlive.sim.per_desk import DeskResult, closure_measures, queue_results, split
from simlive.sim.platform_desk import RequestTimes
from simlive.sim.returns import ReturnPolicy, returns_refused
from simlive.sim.service_levels import (
    IntervalCounts,
    busy_per_interval,
    desk_slots,
    duty_per_interval,
    interval_counts,
    service_level_name,
    slot_seconds,
)
from simlive.sim.tickets import (
    COMPLAINT,
    CONSULTATION,
    PRICE_PROTECTION,
    REFUND,
    REPLACEMENT,
    RETURN,
    Tickets,
)

SIMPY_LIMIT = 20_000  # tickets; above this the auto engine takes the recursion


@dataclass
class AftersalesOutcome:
    tickets: int
    by_kind: dict[str, int]
    lost: int
    wait_mean: float
    p_delayed: float
    chat_first_reply_p95: float | None
    chat_first_reply: np.ndarray  # seconds, every chat (abandoned ones included)
    abandoned_fraction: float
    utilization: float
    unanswered_overdue: int  # no first reply and older than max_reply at the horizon
    first_reply_late: int  # first reply after max_reply
    first_reply_max: float | None  # over replied tickets
    first_reply_max_all: float | None  # over every ticket in the desk; inf if one is unanswered
    refunds_paid: int
    refunds_late: int  # paid later than max_delay after goods came back, or overdue
    refund_delay_max: float | None
    returns_refused_in_window: int
    returns_refused_unconfirmed: int  # of which goods excluded without the buyer's consent
    closed: int
    closed_without_feedback: int  # closed as 'no feedback' after the merchant's timeout
    closed_too_early: int  # of which before the rule's feedback_timeout
    open: int
    open_overdue: int
    oldest_open_age: float | None
    engine: str
    backlog_times: np.ndarray  # for the backlog series: arrival and reply times, sorted
    reply_times: np.ndarray
    by_shift: list[dict[str, float | None]]  # the desk KPIs of tickets arriving in each shift
    intervals: IntervalCounts  # service level counts per interval
    steady: dict[str, float | None] | None = None  # the same from simulation.warmup on
    desks: list[DeskResult] | None = None  # each desk's figures, with several desks
    requests: RequestTimes | None = None  # with aftersales.escalation: what may escalate
    protection_refused: int = 0  # price-protection requests refused when resolved


def run_aftersales(s: Scenario, tickets: Tickets, params: dict[str, dict],
                   rng: np.random.Generator,
                   desks: list[DeskSettings] | None = None) -> AftersalesOutcome:
    """The desks' first replies, then each ticket's way to closure. ``desks``: each desk's
    settings (``scenario.desks``), tickets routed by ``tickets.desk``; None: one pooled
    desk. The draws are made in the same order whatever the desks (per desk, then per kind),
    so a scenario with the pooled desk alone draws what it always did. Each phase is a
    function of its own, so the large per-ticket arrays of one are freed when it returns."""
    a = s.aftersales
    horizon_end = s.duration + a.horizon
    if desks is None:
        desks = [pooled(s)]
    # each desk's tickets in arrival order (None: all of them, the one desk)
    desk_of = tickets.desk if len(desks) > 1 else None
    index = None if desk_of is None else split(desk_of, len(desks))
    handling, patience = _draw_handling(desks, index, tickets.kind, rng)
    lost = rng.random(len(tickets)) < a.lose_fraction
    queue = _run_desks(s, desks, index, tickets.arrival, handling, patience, lost, horizon_end)
    replies = _first_replies(s, desks, index, tickets, queue, handling, patience, lost,
                             params["aftersales.first-reply"]["max_reply"], horizon_end)
    del patience
    end = queue.start + handling
    np.copyto(end, queue.start, where=queue.abandoned)
    del handling
    closure = _to_closure(s, tickets, params, rng, queue, end, lost, horizon_end,
                          replies.per_desk, index)
    chats = tickets.kind == CONSULTATION
    return AftersalesOutcome(
        tickets=len(tickets),
        by_kind={name: int((tickets.kind == code).sum())
                 for code, name in enumerate(TICKET_KINDS)},
        lost=int(lost.sum()),
        wait_mean=replies.wait_mean,
        p_delayed=replies.p_delayed,
        chat_first_reply_p95=p95(replies.chat_first),
        chat_first_reply=replies.chat_first,
        abandoned_fraction=float(queue.abandoned[chats].mean()) if chats.any() else 0.0,
        utilization=queue.busy / queue.on_duty if queue.on_duty else 0.0,
        unanswered_overdue=replies.unreplied,
        first_reply_late=replies.late,
        first_reply_max=replies.max_replied,
        first_reply_max_all=replies.max_all,
        engine=queue.engine,
        backlog_times=tickets.arrival,
        reply_times=replies.reply_times,
        by_shift=replies.by_shift,
        intervals=replies.intervals,
        steady=replies.steady,
        desks=replies.per_desk,
        **vars(closure),
    )


def _draw_handling(desks: list[DeskSettings], index: list[np.ndarray] | None,
                   kind: np.ndarray, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each ticket's handling time (by its desk and kind) and each chat's patience (inf:
    the others wait for ever), drawn desk by desk."""
    n = kind.size
    handling = np.zeros(n)
    patience = np.full(n, np.inf)
    chats = kind == CONSULTATION
    for d, spec in enumerate(desks):
        if index is None:
            for code, name in enumerate(TICKET_KINDS):
                mask = kind == code
                handling[mask] = spec.handling[name].sample(rng, int(mask.sum()))
            if spec.chat_concurrency > 1:  # an agent holding several tickets takes longer
                handling *= spec.stretch
            continue
        mine = index[d]
        kinds = kind[mine]
        for code, name in enumerate(TICKET_KINDS):
            at = mine[kinds == code]
            handling[at] = spec.handling[name].sample(rng, at.size)
        if spec.chat_concurrency > 1:
            handling[mine] *= spec.stretch
    for d, spec in enumerate(desks):
        if spec.patience is not None:
            at = np.flatnonzero(chats) if index is None else index[d][chats[index[d]]]
            patience[at] = spec.patience.sample(rng, at.size)
    return handling, patience


@dataclass
class _Queue:
    """The desks' queues run: when an agent took each ticket (inf: never), who left."""

    start: np.ndarray
    abandoned: np.ndarray
    duty_by_desk: list[tuple[float, float]]  # (busy, on duty) agent-seconds per desk
    rosters: list[tuple[list, Roster]]  # each desk's slots and roster
    engine: str

    @property
    def busy(self) -> float:
        return sum(b for b, _ in self.duty_by_desk)

    @property
    def on_duty(self) -> float:
        return sum(d for _, d in self.duty_by_desk)


def _run_desks(s: Scenario, desks: list[DeskSettings], index: list[np.ndarray] | None,
               arr: np.ndarray, handling: np.ndarray, patience: np.ndarray,
               lost: np.ndarray, horizon_end: float) -> _Queue:
    """Every desk's queue, on the engine the scenario asks for (SimPy or the recursion; the
    engines agree ticket by ticket)."""
    n = arr.size
    rosters = []
    for spec in desks:
        slots_d = desk_slots([(sh.start, sh.end, sh.agents) for sh in spec.agents],
                             horizon_end, spec.shrinkage, spec.chat_concurrency)
        rosters.append((slots_d, Roster(slots_d, horizon_end)))
    if index is None and not lost.any():  # every ticket reaches the one desk
        engine = _engine(s.simulation.desk_engine, n)
        run = desk_simpy if engine == "simpy" else desk_recursion
        desk = run(arr, handling, patience, rosters[0][1])
        return _Queue(desk.start, desk.abandoned,
                      [(desk.busy_seconds, desk.on_duty_seconds)], rosters, engine)
    start = np.full(n, np.inf)
    abandoned = np.zeros(n, dtype=bool)
    duty_by_desk = []
    # one engine for every desk, by the tickets of all (SimPy is the reference for small
    # cases, not for a night's many desks)
    engine = _engine(s.simulation.desk_engine, n - int(lost.sum()))
    run = desk_simpy if engine == "simpy" else desk_recursion
    for d in range(len(desks)):
        idx = np.flatnonzero(~lost) if index is None else index[d][~lost[index[d]]]
        out: DeskOutcome = run(arr[idx], handling[idx], patience[idx], rosters[d][1])
        start[idx] = out.start
        abandoned[idx] = out.abandoned
        duty_by_desk.append((out.busy_seconds, out.on_duty_seconds))
    return _Queue(start, abandoned, duty_by_desk, rosters, engine)


@dataclass
class _Replies:
    """The first replies' figures: the whole desk's, each shift's, each desk's."""

    wait_mean: float
    p_delayed: float
    chat_first: np.ndarray
    late: int
    unreplied: int
    max_replied: float | None
    max_all: float | None
    reply_times: np.ndarray
    intervals: IntervalCounts
    by_shift: list[dict[str, float | None]]
    steady: dict[str, float | None] | None
    per_desk: list[DeskResult] | None


def _first_replies(s: Scenario, desks: list[DeskSettings], index: list[np.ndarray] | None,
                   tickets: Tickets, queue: _Queue, handling: np.ndarray,
                   patience: np.ndarray, lost: np.ndarray, max_reply: float,
                   horizon_end: float) -> _Replies:
    """Waits, first replies, service levels per interval, per shift and per desk."""
    a = s.aftersales
    arr, start, abandoned = tickets.arrival, queue.start, queue.abandoned
    chats = tickets.kind == CONSULTATION
    replied = np.isfinite(start)
    some_lost = bool(lost.any())
    # time in queue: until an agent takes the ticket, or until the customer leaves
    wait = np.where(replied, start, horizon_end)
    wait -= arr
    left = np.flatnonzero(abandoned)
    wait[left] = np.minimum(patience[left], wait[left])
    in_desk = ~lost
    wait_d = wait[in_desk] if some_lost else wait
    first = start - arr  # time to the first reply (not kept: 31 MB on Double 11)
    late = int((replied & (first > max_reply)).sum())
    max_replied = float(np.max(first, where=replied, initial=-np.inf)) \
        if replied.any() else None
    max_all = float((first[in_desk] if some_lost else first).max()) \
        if in_desk.any() else None
    del first
    chat = chats & in_desk
    served = replied & ~abandoned
    sl = a.service_level
    intervals = interval_counts(arr, start, served, handling, sl.within, sl.interval,
                                horizon_end)
    starts = start[served]
    ends = handling[served]
    ends += starts
    edges = np.arange(intervals.offered.size + 1) * sl.interval
    intervals.busy = busy_per_interval(starts, np.minimum(ends, horizon_end), edges)
    intervals.duty = sum((duty_per_interval(r[0], edges) for r in queue.rosters),
                         np.zeros(edges.size - 1))
    reach = np.maximum.accumulate(ends) if not (starts[1:] < starts[:-1]).any() else None
    parts = (arr, in_desk, chats, wait, start, abandoned, starts, ends, reach, handling,
             sl.within)
    per_desk = None
    own = parts
    if index is not None:  # each desk's queue, and the pooled desk's shifts its own
        per_desk = queue_results(desks, index, arr, start, abandoned, served, wait,
                                 handling, chats, lost, queue.duty_by_desk, max_reply,
                                 horizon_end, s.duration)
        own = _parts(index[0], arr, in_desk, chats, wait, start, abandoned, served,
                     handling, desks[0].service_level.within)
    slots = queue.rosters[0][0]
    by_shift = [_shift_kpis(sh.start, min(sh.end, horizon_end),
                            slot_seconds(slots, sh.start, min(sh.end, horizon_end)), *own)
                for sh in a.agents]
    steady = None
    warmup = s.simulation.warmup
    if warmup > 0:  # the desk KPIs of a steady-state study: tickets from the warm-up on
        duty = sum(slot_seconds(r[0], warmup, horizon_end) for r in queue.rosters)
        steady = _shift_kpis(warmup, horizon_end, duty, *parts)
    reply_times = start[replied]
    if (reply_times[1:] < reply_times[:-1]).any():  # first come, first served: in order
        reply_times = np.sort(reply_times)
    return _Replies(
        wait_mean=float(wait_d.mean()) if wait_d.size else 0.0,
        p_delayed=float((wait_d > 1e-9).mean()) if wait_d.size else 0.0,  # not float dust
        chat_first=start[chat] - arr[chat], late=late,
        unreplied=int((~replied & (horizon_end - arr > max_reply)).sum()),
        max_replied=max_replied, max_all=max_all, reply_times=reply_times,
        intervals=intervals, by_shift=by_shift, steady=steady, per_desk=per_desk)


@dataclass
class _Closure:
    """The tickets' way to closure: the figures of the closure rules."""

    refunds_paid: int
    refunds_late: int
    refund_delay_max: float | None
    returns_refused_in_window: int
    returns_refused_unconfirmed: int
    closed: int
    closed_without_feedback: int
    closed_too_early: int
    open: int
    open_overdue: int
    oldest_open_age: float | None
    requests: RequestTimes | None = None
    protection_refused: int = 0


def _to_closure(s: Scenario, tickets: Tickets, params: dict[str, dict],
                rng: np.random.Generator, queue: _Queue, end: np.ndarray, lost: np.ndarray,
                horizon_end: float, per_desk: list[DeskResult] | None,
                index: list[np.ndarray] | None) -> _Closure:
    """Each ticket's steps after its first handling (``end``): goods back, refund,
    replacement, resolution, the consumer's feedback, closure; the closure rules' figures
    (each desk's filled into ``per_desk``)."""
    a = s.aftersales
    kind, arr = tickets.kind, tickets.arrival
    replied, abandoned = np.isfinite(queue.start), queue.abandoned
    n = kind.size

    def draw(dist, mask: np.ndarray) -> np.ndarray:
        """A draw for each ticket of ``mask``, 0 for the others (in ticket order)."""
        out = np.zeros(mask.size)
        out[mask] = dist.sample(rng, int(mask.sum()))
        return out

    is_return = kind == RETURN
    refusable, lawful = tickets.refusable()
    policy = ReturnPolicy(a.accept_returns_within, a.accept_returns_counted,
                          clock_seconds(s.start_clock))
    refused, wrongly = returns_refused(is_return, tickets.delivered, arr, refusable, lawful,
                                       policy, params["returns.seven-day"]["window"])
    unconfirmed = wrongly & tickets.unconfirmed()
    del refusable, lawful
    goods_back = is_return & ~refused | (kind == REPLACEMENT)
    received = draw(a.goods_return, goods_back & replied)
    received += end
    refund = (is_return & ~refused) | (kind == REFUND)
    np.copyto(received, end, where=kind == REFUND)
    refund_paid = draw(a.refund_delay, refund & replied)
    refund_paid += received
    refund_paid[~refund] = np.inf
    resolved = end.copy()
    np.copyto(resolved, refund_paid, where=refund)
    at = np.flatnonzero(kind == REPLACEMENT)  # few: drawn for them alone
    later = draw(s.orders.delivery, replied[at])
    later += received[at]
    resolved[at] = later
    at = np.flatnonzero(kind == COMPLAINT)
    later = draw(a.resolve_delay, replied[at])
    later += end[at]
    at, later = at[~abandoned[at]], later[~abandoned[at]]
    resolved[at] = later
    # a price-protection request is resolved at its handling's end: the difference paid,
    # or (``tickets.declined``) refused; the refusals of those resolved by the horizon count
    protection_refused = 0 if tickets.declined is None else int(
        (tickets.declined & (kind == PRICE_PROTECTION) & replied & ~lost
         & (end <= horizon_end)).sum())
    feedback = draw(a.feedback_delay, replied)
    silent = np.zeros(n, dtype=bool)
    if a.feedback_timeout is not None:  # closed as 'no feedback' when the consumer is silent
        silent = feedback > a.feedback_timeout
        np.minimum(feedback, a.feedback_timeout, out=feedback)
    requests = None
    if a.escalation is not None:  # what the consumer may take to the platform (no chats)
        asks = kind != CONSULTATION
        requests = RequestTimes(arr[asks], resolved[asks], refused[asks])
    resolved += feedback  # now when each is closed
    closed = np.isfinite(resolved) & (resolved <= horizon_end) & ~lost
    open_ = ~closed & ~lost
    tc = params["aftersales.tracked-to-closure"]
    no_feedback = int((closed & silent).sum())
    # the rule's timeout, not the merchant's, says when a silent consumer may be closed on
    too_early = no_feedback if (a.feedback_timeout or 0.0) < tc["feedback_timeout"] else 0
    rd = params["aftersales.refund-deadline"]["max_delay"]
    refunds = refund_record(refund, received, refund_paid, horizon_end, rd)
    age = horizon_end - arr
    if per_desk is not None and index is not None:
        closure_measures(per_desk, index, {k: i for i, k in enumerate(TICKET_KINDS)}, kind,
                         lost, closed, silent, open_, age, tc["close_within"],
                         bool(too_early), (wrongly, unconfirmed), queue.engine,
                         [refund_record(refund[i], received[i], refund_paid[i], horizon_end,
                                        rd) for i in index])
    return _Closure(
        refunds_paid=refunds.paid, refunds_late=refunds.late,
        refund_delay_max=refunds.slowest, returns_refused_in_window=int(wrongly.sum()),
        returns_refused_unconfirmed=int(unconfirmed.sum()),
        closed=int(closed.sum()), closed_without_feedback=no_feedback,
        closed_too_early=too_early, open=int(open_.sum()),
        open_overdue=int((open_ & (age > tc["close_within"])).sum()),
        oldest_open_age=float(age[open_].max()) if open_.any() else None,
        requests=requests, protection_refused=protection_refused)


def refund_record(refund: np.ndarray, received: np.ndarray, refund_paid: np.ndarray,
                  horizon_end: float, max_delay: float) -> RefundMeasures:
    """``aftersales.refund-deadline``'s record from the tickets' arrays: ``refund`` marks
    the tickets owed a refund, due at ``received`` (the goods back or, for a refund with
    nothing to send back, the first handling) and paid at ``refund_paid`` (inf: never).
    Paid after the horizon counts as still owed then."""
    paid = refund & (refund_paid <= horizon_end)
    delays = refund_paid[paid] - received[paid]
    owed = refund & ~paid & np.isfinite(received)
    owed_late = owed & (horizon_end - received > max_delay)
    return RefundMeasures(int(paid.sum()), int((delays > max_delay).sum() + owed_late.sum()),
                          float(delays.max()) if delays.size else None,
                          int((owed & ~owed_late).sum()))


def _parts(idx: np.ndarray, arr: np.ndarray, in_desk: np.ndarray, chats: np.ndarray,
           wait: np.ndarray, start: np.ndarray, abandoned: np.ndarray, served: np.ndarray,
           handling: np.ndarray, within: list[float]) -> tuple:
    """What ``_shift_kpis`` takes, for the tickets ``idx`` (in arrival order) alone."""
    sv = served[idx]
    starts = start[idx][sv]
    ends = handling[idx][sv] + starts
    reach = np.maximum.accumulate(ends) if not (starts[1:] < starts[:-1]).any() else None
    return (arr[idx], in_desk[idx], chats[idx], wait[idx], start[idx], abandoned[idx], starts,
            ends, reach, handling[idx], within)


def _engine(choice: str, tickets: int) -> str:
    if choice != "auto":
        return choice
    return "simpy" if tickets <= SIMPY_LIMIT else "fast"


def _shift_kpis(lo: float, hi: float, duty: float, arr: np.ndarray, in_desk: np.ndarray,
                chats: np.ndarray, wait: np.ndarray, start: np.ndarray,
                abandoned: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                reach: np.ndarray | None, handling: np.ndarray,
                within: list[float]) -> dict[str, float | None]:
    """The desk KPIs of one shift: tickets that arrived during it, agent time spent in it
    (``duty``: the desk slot-seconds on duty in ``lo .. hi``, agents x concurrency after
    shrinkage; ``start``: every ticket's first reply; ``starts``, ``ends``: of the tickets
    agents handled; ``reach``: the running maximum of ``ends`` when ``starts`` are in order,
    else None; ``within``: the service level thresholds). A roster plan has hundreds of
    shifts and millions of tickets: each shift looks at its own tickets alone.

    This is what per-shift staffing is judged on: each shift answers for the customers who
    came while it was on.
    """
    # tickets are in order of arrival: those of the shift are one stretch of them
    i, j = np.searchsorted(arr, [lo, hi], "left")
    arr, in_desk, chats, wait, start, abandoned, handling = (
        x[i:j] for x in (arr, in_desk, chats, wait, start, abandoned, handling))
    first = start - arr
    d = in_desk
    c = chats & in_desk
    if reach is not None:  # handled in order of start: only a stretch can overlap the shift
        # (before it every ticket ended by lo: ``reach`` is the latest end so far)
        u, v = np.searchsorted(reach, lo, "right"), np.searchsorted(starts, hi, "left")
        starts, ends = starts[u:v], ends[u:v]
    overlap = np.minimum(ends, hi)
    overlap -= np.maximum(starts, lo)
    busy = float(np.clip(overlap, 0.0, None, out=overlap).sum())
    del overlap
    fr = first[c]
    answered = np.isfinite(first) & ~abandoned
    levels = {service_level_name(t): float((answered & (first <= t)).mean()) if j > i
              else None for t in within}
    return {**levels,
        "aftersales.tickets": float(j - i),
        "aftersales.wait.mean_s": float(wait[d].mean()) if d.any() else 0.0,
        "aftersales.wait.p_delayed": float((wait[d] > 1e-9).mean()) if d.any() else 0.0,
        "aftersales.first_reply.p95_s": p95(fr),
        "aftersales.first_reply.max_s": float(first[d].max()) if d.any() else None,
        "aftersales.abandoned_fraction": float(abandoned[c].mean()) if c.any() else 0.0,
        "aftersales.agent_utilization": busy / duty if duty else 0.0,
        "handling.mean_s": float(handling[d].mean()) if d.any() else None,
        "chat.fraction": float(c.sum() / d.sum()) if d.any() else 0.0,
    }
