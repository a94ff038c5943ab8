"""The after-sales, review, replay and receipt rules, decided from the final state.

A load test lasts minutes, so a rule about days (refund deadline, 7-day returns, 3-year
retention) is decided from what the state shows: a refund paid and its delay, a return asked
within the window and whether it was refused, the retention the service promises on each
record. When the state holds nothing to decide on, the verdict is ``unknown`` and says why.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from simlive.check.history import FAIL, OK, Op, of
from simlive.check.state import FinalState, epoch, needed
from simlive.judge.measures import (
    ClosureMeasures,
    FirstReplyMeasures,
    PublishMeasures,
    ReceiptMeasures,
    RefundMeasures,
    RetentionMeasures,
    ReturnMeasures,
    ReviewMeasures,
)
from simlive.judge.rulebook import verdict
from simlive.judge.stats import p95
from simlive.rules import (
    BAD_RATING,
    HIDE_REASONS,
    RETURN_EXCLUDABLE,
    RETURN_EXEMPT,
    Status,
    Verdict,
    format_duration,
    return_deadline,
)
from simlive.text import plural


def acknowledged(ops: list[Op], f: str, id_key: str) -> dict[Any, list[dict[str, Any]]]:
    """Acknowledged records by the id the service gave, each with the arguments sent."""
    out: dict[Any, list[dict[str, Any]]] = {}
    for op in of(ops, f):
        if op.type == OK and op.value and id_key in op.value:
            out.setdefault(op.value[id_key], []).append(op.args)
    return out


def missing(acked: dict[Any, list[dict[str, Any]]], present: dict[Any, dict[str, Any]],
            fields: tuple[str, ...]) -> list[Any]:
    """Acknowledged records the state does not hold. A record counts as held only if its id
    is there with the same ``fields`` as sent: a lost row's id can be handed out again (SQLite
    reuses the highest id), so an id alone proves nothing; one id acknowledged twice means
    all but one of those records were lost."""
    lost = []
    for rid, sent in acked.items():
        row = present.get(rid)
        matched = 0
        for args in sent:
            if row is not None and matched == 0 and all(
                    args.get(k) == row.get(k) for k in fields if k in args and k in row):
                matched = 1
            else:
                lost.append(rid)
    return sorted(lost, key=str)


def _waited(ticket: dict[str, Any], timeout: float) -> bool:
    """Closed as 'no feedback' only after the consumer was given ``timeout`` from resolution
    (the rule's meaning in rules.py, as in the simulator); unknown resolution: not shown."""
    resolved, closed = epoch(ticket.get("resolved_at")), epoch(ticket.get("closed_at"))
    return resolved is not None and closed is not None and closed - resolved >= timeout


def tracked_to_closure(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    acked = acknowledged(ops, "open_ticket", "ticket_id")
    present = {t["id"]: t for t in needed(state.tickets)}
    if not acked and not present:
        return Verdict("aftersales.tracked-to-closure", Status.UNKNOWN, None,
                       {"max_lost": p["max_lost"], "close_within_s": p["close_within"],
                        "feedback_timeout_s": p["feedback_timeout"]},
                       "no ticket was opened during the load test")
    lost = missing(acked, present, ("kind", "order_id", "message"))
    ages = [state.fetched_at - (epoch(t["created_at"]) or state.fetched_at)
            for t in present.values() if t["state"] != "closed"]
    silent = [t for t in present.values() if t["state"] == "closed" and not t.get("feedback")]
    early = [t for t in silent if not _waited(t, p["feedback_timeout"])]
    record = ClosureMeasures(len(lost), len(ages), sum(a > p["close_within"] for a in ages),
                             max(ages, default=None), len(silent), len(early),
                             tuple(f"ticket {i}" for i in lost[:5]))
    return verdict("aftersales.tracked-to-closure", record, p)


def first_reply(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    if not state.tickets:
        return Verdict("aftersales.first-reply", Status.UNKNOWN, None,
                       {"chat_p95_s": p["chat_p95"], "max_reply_s": p["max_reply"]},
                       "no ticket in the service's final state")
    waits, chats = [], []
    for t in state.tickets:
        created = epoch(t["created_at"]) or 0.0
        replied = epoch(t.get("first_reply_at"))
        # one still waiting counts at its age: how long it has waited at least
        wait = (replied if replied is not None else state.fetched_at) - created
        waits.append(wait)
        if t["kind"] == "consultation":
            chats.append(wait)
    record = FirstReplyMeasures(p95(np.array(chats)), sum(w > p["max_reply"] for w in waits))
    return verdict("aftersales.first-reply", record, p)


def refund_due(ticket: dict[str, Any]) -> float | None:
    """When a ticket's refund fell due: when the goods came back or, for a refund with no
    goods to send back, at its first handling (the first reply), as the simulator has it."""
    if ticket["kind"] not in ("return", "refund"):
        return None
    got = epoch(ticket.get("goods_received_at"))
    if got is None and ticket["kind"] == "refund":
        return epoch(ticket.get("first_reply_at"))
    return got


def refund_record(state: FinalState, p: dict[str, float]) -> RefundMeasures:
    """Each refund due in the final state: paid (and how long after it was due), or still
    owed (late once owed longer than the rule allows)."""
    paid = late = pending = 0
    slowest: float | None = None
    for t in needed(state.tickets):
        due = refund_due(t)
        if due is None:
            continue
        at = epoch(t.get("refund_paid_at"))
        waited = (at if at is not None else state.fetched_at) - due
        if at is not None:
            paid += 1
            slowest = waited if slowest is None else max(slowest, waited)
        late += waited > p["max_delay"]
        pending += at is None and waited <= p["max_delay"]
    return RefundMeasures(paid, late, slowest, pending)


def refund_deadline(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    record = refund_record(state, p)
    if not record.paid and not record.late:
        return Verdict("aftersales.refund-deadline", Status.UNKNOWN,
                       {"late": 0, "slowest_s": None, "pending": record.pending},
                       {"max_delay_s": p["max_delay"]},
                       "no refund was paid during the load test; a deadline of days cannot "
                       "be observed otherwise")
    return verdict("aftersales.refund-deadline", record, p)


REFUSED_LATE, REFUSED_EXCLUDED, REFUSED_NOT_INTACT = (
    "return_window_closed", "return_excluded", "goods_not_intact")
"""The refusals of a return the checker recognises (a target's ``refusals`` maps a shop's
own answers onto them): too late, goods the seller excludes, goods not intact."""


def _exclusion_confirmed(order: dict[str, Any]) -> bool:
    """Whether ``order`` shows a lawful exclusion: ``return_exclusion`` holding a reason
    the law exempts, or one the seller may exclude with ``confirmed: true`` (the buyer's
    confirmation at purchase). A record without one shows none."""
    ex = order.get("return_exclusion")
    if not isinstance(ex, dict):
        return False
    return ex.get("reason") in RETURN_EXEMPT or (
        ex.get("reason") in RETURN_EXCLUDABLE and ex.get("confirmed") is True)


def seven_day_returns(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    """Returns of delivered orders asked by the law's deadline (``p['window']`` calendar
    days after the day of signing, local time ``p['utc_offset']``): a refusal as too late
    is unlawful; one as excluded, unless the order shows the buyer confirmed the exclusion
    (or the goods are exempt); one as not intact is lawful."""
    orders = {o["id"]: o for o in needed(state.orders)}
    asked, refused, unconfirmed = 0, [], 0
    for op in of(ops, "open_ticket"):
        order = orders.get(op.args.get("order_id"), {})
        at = epoch(order.get("delivered_at"))
        if op.args.get("kind") != "return" or at is None:
            continue
        code = (op.value or {}).get("code") if op.type == FAIL else None
        if op.type == OK or code in (REFUSED_LATE, REFUSED_EXCLUDED, REFUSED_NOT_INTACT):
            asked += 1  # answered, in the window or after it
        if op.start > return_deadline(at, p["window"], p["utc_offset"]):
            continue
        if code == REFUSED_LATE or code == REFUSED_EXCLUDED and not _exclusion_confirmed(
                order):
            refused.append(f"order {op.args.get('order_id')}")
            unconfirmed += code == REFUSED_EXCLUDED
    if not asked:
        return Verdict("returns.seven-day", Status.UNKNOWN, {"refused_in_window": 0},
                       {"window_s": p["window"]},
                       "no return of a delivered order was asked for during the load test")
    return verdict("returns.seven-day", ReturnMeasures(len(refused), tuple(refused[:5]),
                                                       unconfirmed), p)


def not_deleted(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    limit = {"max_deletions": p["max_deletions"], "max_suppressed": p["max_suppressed"]}
    acked = acknowledged(ops, "review", "review_id")
    if not acked:
        return Verdict("reviews.not-deleted", Status.UNKNOWN, None, limit,
                       "no review was acknowledged during the load test")
    reviews = needed(state.reviews)
    present = {r["id"]: r for r in reviews}
    gone = missing(acked, present, ("sku", "rating", "text"))
    deletes = sum(1 for op in of(ops, "delete_review") if op.type == OK)
    sent = [args for rid in acked for args in acked[rid]]
    bad_sent = sum(1 for a in sent if a.get("rating") is not None
                   and a["rating"] <= BAD_RATING)
    gone_bad = sum(1 for rid in set(gone) for a in acked[rid]
                   if a.get("rating") is not None and a["rating"] <= BAD_RATING)
    hidden = [r for r in reviews if r.get("hidden")]
    bad = [r for r in hidden if r.get("rating") is None or r["rating"] <= BAD_RATING]
    unread = [r["id"] for r in bad if "hidden_reason" not in r]
    suppressed = [r["id"] for r in bad if "hidden_reason" in r
                  and str(r["hidden_reason"] or "").strip().lower() not in HIDE_REASONS]
    deleted = max(len(gone), deletes)
    record = ReviewMeasures(len(sent), bad_sent, deleted, len(bad) - len(suppressed),
                            len(suppressed), max(0, deleted - gone_bad),
                            tuple(f"review {i}" for i in (gone + suppressed)[:5]))
    judged = verdict("reviews.not-deleted", record, p)
    if judged.status is Status.PASS and unread:
        return Verdict("reviews.not-deleted", Status.UNKNOWN, judged.measured, limit,
                       f"{len(unread)} hidden bad review(s) whose reason the state does not "
                       "show (map hidden_reason in the target's state.reviews)")
    return judged


def _replay_from_history(ops: list[Op], p: dict[str, float]) -> Verdict:
    """No broadcast listing: the replay read back after the first acknowledged end. A read
    within ``publish_within`` of the end may come before a replay still being published, so
    only a read later than that can fail the rule, and only such reads decide it. A load
    rarely waits that long: then the rule could not have failed on this shop, and the
    verdict says so and is unknown (a pass must be earned), whatever the reads showed."""
    within = p["publish_within"]
    limit = {"publish_within_s": within}
    ends = [op for op in of(ops, "end_broadcast") if op.type == OK]
    if not ends:
        return Verdict("replay.available", Status.UNKNOWN, None, limit,
                       "no broadcast end was acknowledged during the load test")
    end = ends[0]
    reads = [op for op in of(ops, "read_replay") if op.start >= end.start]
    opened = [op for op in reads if op.type == OK]
    late = [op for op in reads if op.start - end.end >= within and op.type in (OK, FAIL)]
    measured = {"ended": len(ends), "replay_reads_ok": len(opened),
                "reads_past_limit": len(late)}
    if late:
        missed = [op for op in late if op.type == FAIL]
        if missed:
            after = format_duration(missed[0].start - end.end)
            return Verdict("replay.available", Status.FAIL, measured, limit,
                           f"the replay could not be opened {after} after the broadcast "
                           f"ended (the rule allows {format_duration(within)})")
        return Verdict("replay.available", Status.PASS, measured, limit,
                       f"the replay opened {format_duration(late[0].end - end.end)} after the "
                       f"broadcast ended, past the {format_duration(within)} the rule allows")
    seen = (f"the replay opened {format_duration(opened[0].end - end.end)} after the "
            f"broadcast ended" if opened else
            "the replay could not be opened right after the end")
    return Verdict("replay.available", Status.UNKNOWN, measured, limit,
                   f"{seen}; the shop lists no broadcasts, so only a read "
                   f"{format_duration(within)} after the end could fail the rule and this "
                   f"load made none: the rule could not have failed on this shop")


def _receipts_from_history(ops: list[Op], p: dict[str, float]) -> Verdict:
    limit = {"min_fraction": p["min_fraction"]}
    paid = {op.value.get("order_id") for op in of(ops, "pay") if op.type == OK and op.value}
    if not paid:
        paid = {op.value.get("order_id") for op in of(ops, "order") if op.type == OK
                and op.value and not of(ops, "pay")}
    paid.discard(None)
    if not paid:
        return Verdict("evidence.receipt", Status.UNKNOWN, None, limit,
                       "no order was acknowledged paid during the load test")
    read = {(op.value or {}).get("order_id") for op in of(ops, "read_receipt")
            if op.type == OK}
    # an unknown outcome (timeout, 5xx) proves nothing either way: only definite answers
    tried = {op.args.get("order_id") for op in of(ops, "read_receipt")
             if op.type in (OK, FAIL)}
    judged = paid & tried
    without = sorted(judged - read, key=str)
    if not judged:
        return Verdict("evidence.receipt", Status.UNKNOWN, {"paid": len(paid)}, limit,
                       "no receipt of a paid order was read back")
    return verdict("evidence.receipt", ReceiptMeasures(
        len(judged), len(without), tuple(map(str, without[:5])),
        (f"{len(judged)} of {len(paid)} paid orders read back",)), p)


def replay_available(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    limit = {"publish_within_s": p["publish_within"]}
    if state.broadcasts is None:
        return _replay_from_history(ops, p)
    ended = [b for b in state.broadcasts if b.get("state") == "ended"]
    acked_end: set[Any] = {op.args.get("broadcast_id") for op in of(ops, "end_broadcast")
                           if op.type == OK}  # as recorded: any JSON value
    known = {b["id"] for b in ended}
    missing_ended = sorted(acked_end - known)
    if not ended and not acked_end:
        return Verdict("replay.available", Status.UNKNOWN, None, limit,
                       "no broadcast ended during the load test")
    bad, delays = [], []
    for b in ended:
        replay = b.get("replay")
        if not replay:
            bad.append(b["id"])
            continue
        delays.append((epoch(replay.get("published_at")) or 0.0) - (epoch(b.get("ended_at"))
                                                                  or 0.0))
    record = PublishMeasures(not bad and not missing_ended, max(delays, default=None),
                             tuple(f"broadcast {i}" for i in (bad + missing_ended)[:5]))
    return verdict("replay.available", record, p)


def completed_at(order: dict[str, Any]) -> tuple[float | None, str]:
    """When an order's transaction completed, and by what: its delivery, or for an order
    never delivered its closing (cancelled, expired); if a shop records both, the later (a
    transaction closed after its delivery completed then). None while it is still open."""
    delivered, closed = epoch(order.get("delivered_at")), epoch(order.get("closed_at"))
    if delivered is not None and (closed is None or closed <= delivered):
        return delivered, "delivery"
    return closed, "closing"


class _Promises:
    """The shortest promise among records, to the millisecond (the stored times' float
    noise is microseconds; a load test's shortfall is a fraction of a second), and the
    dated records whose clock has not started yet."""

    def __init__(self) -> None:
        self.shortest: tuple[float, str] | None = None
        self.not_complete = 0

    def add(self, record: dict[str, Any], since: float | None, what: str) -> None:
        keep = epoch(record.get("retain_until"))
        if keep is None:
            return
        if since is None:
            self.not_complete += 1
            return
        kept = round(keep - since, 3)
        if self.shortest is None or kept < self.shortest[0]:
            self.shortest = (kept, what)


def _records(orders: list[dict[str, Any]], receipts: list[dict[str, Any]]) -> _Promises:
    """Orders and receipts, each promise counted from its transaction's completion."""
    out = _Promises()
    done = {}
    for o in orders:
        at, how = completed_at(o)
        done[o.get("id")] = (at, how)
        out.add(o, at, f"order {o.get('id')}, from its {how}")
    for r in receipts:
        at, how = done.get(r.get("order_id"), (None, ""))
        out.add(r, at, f"receipt {r.get('receipt_no')}, from its order's {how}")
    return out


def _recording(broadcasts: list[dict[str, Any]]) -> _Promises:
    """Each ended broadcast's replay, its promise counted from the broadcast's end."""
    out = _Promises()
    for b in broadcasts:
        if b.get("replay"):
            out.add(b["replay"], epoch(b.get("ended_at")),
                    f"the replay of broadcast {b.get('id')}, from its end")
    return out


def retained(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    """The promise each record carries (``retain_until``), from when the law starts the
    clock: years of keeping cannot be observed in a load test. A record whose transaction
    is still open has no completion yet: it is counted, not judged; with no completed
    record the verdict is unknown unless the replay alone fails it. A broadcast that ended
    without a replay is ``replay.available``'s to fail."""
    limit = {"min_retention_s": p["min_retention"]}
    video = _recording(needed(state.broadcasts))
    books = _records(needed(state.orders), state.receipts or [])  # receipts: check.needs
    if video.shortest is None and books.shortest is None:
        return Verdict("replay.retained", Status.UNKNOWN, None, limit,
                       "no replay or order carries a retention date" if not books.not_complete
                       else f"no transaction was complete when the state was read: the "
                       f"promise of {plural(books.not_complete, 'record')} counts from "
                       f"a completion still to come and cannot be judged yet")
    least = min(x for x in (video.shortest, books.shortest) if x is not None)
    recording = (video.shortest or least)[0]  # a part no record dates is judged by the other
    record = RetentionMeasures(recording, (books.shortest or least)[0], least[1],
                               books.not_complete)
    v = verdict("replay.retained", record, p)
    if books.shortest is None and v.status is Status.PASS:
        return dataclasses.replace(v, status=Status.UNKNOWN, evidence=(
            f"{v.evidence}; no transaction record completed, so only the replay was judged"))
    return v


def receipts(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    limit = {"min_fraction": p["min_fraction"]}
    if state.orders is None or state.receipts is None:
        return _receipts_from_history(ops, p)
    paid = [o["id"] for o in state.orders if o.get("state") == "paid"]
    if not paid:
        return Verdict("evidence.receipt", Status.UNKNOWN, None, limit,
                       "no order was paid during the load test")
    have = {r["order_id"] for r in state.receipts}
    without = [i for i in paid if i not in have]
    return verdict("evidence.receipt", ReceiptMeasures(
        len(paid), len(without), tuple(map(str, without[:5])),
        (f"{len(paid)} paid orders in the shop's books",)), p)
