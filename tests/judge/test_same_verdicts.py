"""One broadcast, two measurers, one judge: the simulator's records and the load-test
checker's history and final state of the same small broadcast give the same verdicts.

The broadcasts are built by hand, with times in seconds: tickets, orders, reviews, a
replay, a stock ledger, displayed stock. ``stock.display-matches`` is judged alike but told
in each side's unit (the model's SKU-seconds of its steps, a load test's readings).
The simulator's side is its own record functions over the tickets' arrays (what
``run_aftersales`` calls); the checker's side is its rules over a history and a final state
holding the same events. Both records go through ``judge.rulebook``; the verdicts must agree
in status, measured figures, limits and evidence (the checker names a few ids besides).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from simlive.check.history import FAIL, OK, Op
from simlive.check.service_rules import (
    first_reply,
    not_deleted,
    receipts,
    refund_deadline,
    replay_available,
    retained,
    seven_day_returns,
    tracked_to_closure,
)
from simlive.check.state import FinalState
from simlive.check.stock_rules import display_matches, ledger_balances, no_oversell
from simlive.judge.measures import (
    ClosureMeasures,
    DisplayMeasures,
    FirstReplyMeasures,
    LedgerMeasures,
    OversellMeasures,
    PublishMeasures,
    ReceiptMeasures,
    ReplayMeasures,
    RetentionMeasures,
    ReturnMeasures,
    ReviewMeasures,
)
from simlive.judge.rulebook import verdict
from simlive.judge.stats import p95
from simlive.rules import DAY, HOUR, MINUTE, YEAR, Status, rule_params
from simlive.sim.aftersales import refund_record
from simlive.sim.returns import ReturnPolicy, returns_refused
from testing.alike import HORIZON, T0, same

INF = np.inf


@dataclass(frozen=True)
class Ticket:
    kind: str
    created: float
    first_reply: float | None = None
    goods_back: float | None = None
    refund_paid: float | None = None


def broadcast(refund_only_paid_after: float) -> list[Ticket]:
    """A return refunded on time, a refund with no goods paid ``refund_only_paid_after``
    its first handling, a consultation, and a return of goods still in the window."""
    return [
        Ticket("return", 100.0, 160.0, 2 * DAY, 2 * DAY + 3 * DAY),
        Ticket("refund", 200.0, 300.0, None, 300.0 + refund_only_paid_after),
        Ticket("consultation", 400.0, 420.0),
        Ticket("return", 3 * DAY + 500.0, 3 * DAY + 560.0),
    ]


def sim_refunds(tickets: list[Ticket], max_delay: float):
    """The simulator's arrays for the tickets: a refund is due when the goods are back, or
    at the first handling when there are none (``received``); never paid is inf."""
    refund = np.array([t.kind in ("return", "refund") and (t.kind == "refund"
                                                            or t.goods_back is not None)
                       for t in tickets])
    received = np.array([t.goods_back if t.goods_back is not None else
                         (t.first_reply if t.kind == "refund" else INF) for t in tickets])
    paid = np.array([INF if t.refund_paid is None else t.refund_paid for t in tickets])
    return refund_record(refund, received, paid, HORIZON, max_delay)


def shop_state(tickets: list[Ticket], orders: list[dict] | None = None,
               receipts_of: list[int] | None = None) -> FinalState:
    def at(x: float | None) -> float | None:
        return None if x is None else T0 + x

    rows = [{"id": i + 1, "kind": t.kind, "state": "in_progress", "order_id": i + 1,
             "created_at": at(t.created), "first_reply_at": at(t.first_reply),
             "goods_received_at": at(t.goods_back), "refund_paid_at": at(t.refund_paid)}
            for i, t in enumerate(tickets)]
    return FinalState(orders=orders or [], tickets=rows,
                      receipts=[{"order_id": i, "receipt_no": f"R{i}"}
                                for i in receipts_of or []],
                      fetched_at=T0 + HORIZON)


@pytest.mark.parametrize(("paid_after", "status"), [(2 * DAY, Status.PASS),
                                                    (9 * DAY, Status.FAIL)])
def test_refund_deadline_is_judged_alike(paid_after: float, status: Status) -> None:
    """The refund with no goods to send back counts from its first handling on both sides
    (the checker used to skip it: a refund paid 9 days late passed a load test)."""
    p = rule_params()["aftersales.refund-deadline"]
    tickets = broadcast(paid_after)
    sim = verdict("aftersales.refund-deadline", sim_refunds(tickets, p["max_delay"]), p)
    shop = refund_deadline([], shop_state(tickets), p)
    assert sim.status is status
    same(sim, shop)


def test_a_refund_still_owed_past_the_deadline_is_late_on_both_sides() -> None:
    p = rule_params()["aftersales.refund-deadline"]
    tickets = [Ticket("return", 100.0, 160.0, 2 * DAY, None)]  # owed 18 days at the end
    sim = verdict("aftersales.refund-deadline", sim_refunds(tickets, p["max_delay"]), p)
    shop = refund_deadline([], shop_state(tickets), p)
    assert sim.status is Status.FAIL and sim.measured["late"] == 1
    same(sim, shop)


LOCAL = 8 * HOUR  # the shop's consumers' calendar: UTC+8, the rule's default
CLOCK = 20 * HOUR  # the simulated broadcast starts at 20:00 local time
MIDNIGHT = (T0 + LOCAL) // DAY * DAY - LOCAL  # a local midnight on the shop's clock


def judged_alike(delivered: float, asked: float, accept_within: float,
                 counted: str = "calendar", excluded: str | None = None,
                 confirmed: bool = False, not_intact: bool = False) -> Status:
    """One return of a delivered order, by local time since a midnight (``delivered``,
    ``asked``), judged from the simulator's arrays and from a shop's history and state:
    the merchant's window ``accept_within`` counted as ``counted``; goods it excludes for
    ``excluded`` (the buyer ``confirmed`` it at purchase or not), or not intact."""
    p = rule_params()["returns.seven-day"]
    refusable = np.array([excluded is not None or not_intact])
    lawful = np.array([excluded is not None and confirmed or not_intact])
    policy = ReturnPolicy(accept_within, counted, CLOCK)
    start = -CLOCK  # the simulator's time 0 is 20:00 local time; its midnight is -20 h
    refused, wrongly = returns_refused(np.array([True]), np.array([start + delivered]),
                                       np.array([start + asked]), refusable, lawful, policy,
                                       p["window"])
    unconfirmed = int(wrongly.sum()) if excluded and not confirmed else 0
    sim = verdict("returns.seven-day", ReturnMeasures(int(wrongly.sum()),
                                                      unconfirmed=unconfirmed), p)
    code = "goods_not_intact" if not_intact else "return_excluded" if excluded else \
        "return_window_closed"
    outcome = (FAIL, {"code": code}) if refused[0] else (OK, {"ticket_id": 9})
    history = [Op("agent-1", "open_ticket", {"kind": "return", "order_id": 7}, outcome[0],
                  outcome[1], MIDNIGHT + asked, MIDNIGHT + asked + 0.05)]
    order: dict = {"id": 7, "state": "paid", "delivered_at": MIDNIGHT + delivered}
    if excluded:
        order["return_exclusion"] = {"reason": excluded, "confirmed": confirmed}
    shop = seven_day_returns(history, shop_state([], orders=[order]), p)
    same(sim, shop, ", e.g. ['order 7']" if sim.status is Status.FAIL else "")
    return sim.status


@pytest.mark.parametrize(("accept_within", "status"), [(7 * DAY, Status.PASS),
                                                       (2 * DAY, Status.FAIL)])
def test_seven_day_returns_are_judged_alike(accept_within: float, status: Status) -> None:
    """A return asked 3 days after delivery, of goods not exempt: refused by a merchant
    who accepts returns for 2 days only, which the rule's 7 days forbid."""
    assert judged_alike(DAY + 10 * HOUR, 4 * DAY + 10 * HOUR, accept_within) is status


@pytest.mark.parametrize(("delivered_at", "status"), [(1 * HOUR, Status.FAIL),
                                                      (23 * HOUR, Status.PASS)])
def test_the_window_counts_calendar_days_alike(delivered_at: float, status: Status) -> None:
    """The law's 7 days run from the day after signing to 24:00 of the 7th: a return asked
    7.5 days after a 01:00 delivery is within it (until 7 d 23 h), so a merchant counting
    7 x 24 h breaks the law refusing it; 7.5 days after a 23:00 delivery it is past (7 d
    1 h), and the refusal is lawful."""
    assert judged_alike(delivered_at, delivered_at + 7.5 * DAY, 7 * DAY, "hours") is status
    # a merchant counting calendar days as the law does accepts the first
    assert judged_alike(delivered_at, delivered_at + 7.5 * DAY, 7 * DAY) is Status.PASS


@pytest.mark.parametrize(("confirmed", "status"), [(True, Status.PASS),
                                                   (False, Status.FAIL)])
def test_an_excluded_return_is_refused_lawfully_only_if_confirmed(
        confirmed: bool, status: Status) -> None:
    """Cosmetics the seller excludes, returned unsealed 2 days after delivery: refused
    lawfully only when the buyer confirmed the exclusion at purchase."""
    got = judged_alike(10 * HOUR, 2 * DAY + 10 * HOUR, 7 * DAY,
                       excluded="unsealed-health-quality", confirmed=confirmed)
    assert got is status


def test_goods_not_intact_may_be_refused_alike() -> None:
    assert judged_alike(10 * HOUR, 2 * DAY, 7 * DAY, not_intact=True) is Status.PASS


@pytest.mark.parametrize(("with_receipt", "status"), [([1, 2, 3], Status.PASS),
                                                      ([1, 3], Status.FAIL)])
def test_receipts_are_judged_alike(with_receipt: list[int], status: Status) -> None:
    p = rule_params()["evidence.receipt"]
    orders = [{"id": i, "state": "paid"} for i in (1, 2, 3)]
    missing = sorted({1, 2, 3} - set(with_receipt))
    sim = verdict("evidence.receipt", ReceiptMeasures(3, len(missing)), p)
    shop = receipts([], shop_state([], orders=orders, receipts_of=with_receipt), p)
    assert sim.status is status
    # the checker says what it judged over: the paid orders in the shop's books
    same(sim, shop, (f", e.g. {[str(i) for i in missing]}" if missing else "")
         + "; 3 paid orders in the shop's books")


@pytest.mark.parametrize(("chat_waits", "status"), [([30.0, 60.0, 90.0], Status.PASS),
                                                    ([30.0, 60.0, 400.0], Status.FAIL)])
def test_first_reply_is_judged_alike(chat_waits: list[float], status: Status) -> None:
    """Three live chats and a refund request answered in a day: the chats' p95 is numpy's
    95th percentile on both sides (the checker's own nearest rank differed)."""
    p = rule_params()["aftersales.first-reply"]
    tickets = [Ticket("consultation", 100.0 * i, 100.0 * i + w)
               for i, w in enumerate(chat_waits)] + [Ticket("refund", 50.0, 50.0 + DAY)]
    waits = np.array(chat_waits + [DAY])
    sim_record = FirstReplyMeasures(p95(np.array(chat_waits)),
                                    int((waits > p["max_reply"]).sum()))
    sim = verdict("aftersales.first-reply", sim_record, p)
    shop = first_reply([], shop_state(tickets), p)
    assert sim.status is status
    same(sim, shop)


@pytest.mark.parametrize("silent_for", [8 * DAY, 2 * DAY])
def test_closure_is_judged_alike(silent_for: float) -> None:
    """Two tickets closed with feedback, one closed as 'no feedback' ``silent_for`` after
    it was resolved (the rule waits 7 days), one still open 3 days at the end."""
    p = rule_params()["aftersales.tracked-to-closure"]
    early = int(silent_for < p["feedback_timeout"])
    sim = verdict("aftersales.tracked-to-closure",
                  ClosureMeasures(0, 1, 0, 3 * DAY, 1, early), p)
    rows = [{"id": i, "kind": "complaint", "state": "closed", "feedback": "ok",
             "created_at": T0, "resolved_at": T0 + DAY, "closed_at": T0 + 2 * DAY}
            for i in (1, 2)]
    rows.append({"id": 3, "kind": "return", "state": "closed", "feedback": None,
                 "created_at": T0, "resolved_at": T0 + DAY, "closed_at": T0 + DAY + silent_for})
    rows.append({"id": 4, "kind": "consultation", "state": "open", "created_at":
                 T0 + HORIZON - 3 * DAY})
    history = [Op("buyer-1", "open_ticket", {"kind": r["kind"], "order_id": None},
                  OK, {"ticket_id": r["id"]}, T0, T0 + 0.1) for r in rows]
    shop = tracked_to_closure(history, FinalState(tickets=rows, fetched_at=T0 + HORIZON), p)
    assert sim.status is (Status.FAIL if early else Status.PASS)
    same(sim, shop)


@pytest.mark.parametrize(("after", "status"), [(4 * MINUTE, Status.PASS),
                                               (30 * MINUTE, Status.FAIL)])
def test_replay_and_its_retention_are_judged_alike(after: float, status: Status) -> None:
    """One broadcast, ended and its replay published ``after``; the replay promises three
    years from the end, the order and its receipt three years from the delivery."""
    pa, pr = rule_params()["replay.available"], rule_params()["replay.retained"]
    end = T0 + 2 * 3600
    state = FinalState(
        broadcasts=[{"id": 1, "state": "ended", "ended_at": end, "replay": {
            "published_at": end + after, "retain_until": end + 3 * YEAR}}],
        orders=[{"id": 1, "state": "paid", "created_at": T0, "delivered_at": T0 + 2 * DAY,
                 "retain_until": T0 + 2 * DAY + 3 * YEAR}],
        receipts=[{"order_id": 1, "issued_at": T0 + 9,
                   "retain_until": T0 + 2 * DAY + 3 * YEAR}],
        tickets=[], fetched_at=end + HORIZON)
    sim = verdict("replay.available", PublishMeasures(True, after), pa)
    assert sim.status is status
    same(sim, replay_available([], state, pa))
    sim = verdict("replay.retained", RetentionMeasures(3 * YEAR, 3 * YEAR), pr)
    assert sim.status is Status.PASS
    same(sim, retained([], state, pr), " (order 1, from its delivery)")


@pytest.mark.parametrize("clock", ["creation", "completion"])
def test_a_presale_orders_records_are_kept_from_its_delivery_on_both_sides(
        clock: str) -> None:
    """A presale order: the deposit placed on day 0, the balance's goods delivered on day
    20. A shop counting three years from creation keeps it 20 days short; from the
    delivery, it keeps it three years. The simulator's record is its own
    (``ReplayMeasures.kept``: the policy's retention less what its clock loses)."""
    pr = rule_params()["replay.retained"]
    early = 20 * DAY if clock == "creation" else 0.0
    end = T0 + 12 * 3600
    start = T0 if clock == "creation" else T0 + 20 * DAY
    state = FinalState(
        broadcasts=[{"id": 1, "state": "ended", "ended_at": end, "replay": {
            "published_at": end + 60, "retain_until": end + 3 * YEAR}}],
        orders=[{"id": 7, "state": "paid", "created_at": T0, "paid_at": T0 + 12 * DAY,
                 "delivered_at": T0 + 20 * DAY, "retain_until": start + 3 * YEAR}],
        receipts=[{"order_id": 7, "receipt_no": "R7", "issued_at": T0 + 60,
                   "retain_until": start + 3 * YEAR}],
        tickets=[], fetched_at=end + HORIZON)
    sim = verdict("replay.retained", ReplayMeasures(True, 60.0, 3 * YEAR, 3 * YEAR - early,
                                                    early).kept(), pr)
    shop = retained([], state, pr)
    assert (shop.status, shop.measured, shop.limit) == (sim.status, sim.measured, sim.limit)
    if clock == "creation":
        assert sim.status is Status.FAIL and sim.measured["retention_s"] == 3 * YEAR - 20 * DAY
        said = "recording or records kept only 2.9y, 20d short of 3y"
        assert sim.evidence == f"{said} (records counted from their creation, an order's " \
            "up to 20d before its completion)"
        assert shop.evidence == f"{said} (order 7, from its delivery)", shop.evidence
    else:
        assert sim.status is Status.PASS
        same(sim, shop, " (order 7, from its delivery)")


@pytest.mark.parametrize("deleted", [False, True])
def test_reviews_are_judged_alike(deleted: bool) -> None:
    """Three reviews, one of them bad (rated 1): deleted, or kept."""
    p = rule_params()["reviews.not-deleted"]
    sent = [("HOT-1", 5, "great"), ("HOT-1", 1, "broke on day one"), ("COLD-1", 4, "fine")]
    history = [Op("buyer-1", "review", {"sku": sku, "rating": r, "text": t}, OK,
                  {"review_id": i + 1}, T0 + i, T0 + i + 0.1)
               for i, (sku, r, t) in enumerate(sent)]
    rows = [{"id": i + 1, "sku": sku, "rating": r, "text": t, "hidden": False}
            for i, (sku, r, t) in enumerate(sent)]
    if deleted:
        rows.pop(1)
        history.append(Op("merchant-1", "delete_review", {"review_id": 2}, OK, {}, T0 + 9,
                          T0 + 9.1))
    sim = verdict("reviews.not-deleted", ReviewMeasures(3, 1, int(deleted), 0, 0), p)
    shop = not_deleted(history, FinalState(reviews=rows, fetched_at=T0 + HORIZON), p)
    assert sim.status is (Status.FAIL if deleted else Status.PASS)
    same(sim, shop, ", e.g. ['review 2']" if deleted else "")


@pytest.mark.parametrize("sold", [38, 43])
def test_oversell_and_the_ledger_are_judged_alike(sold: int) -> None:
    """HOT-1 has 40 units and ``sold`` are sold (each order one unit, paid); COLD-1 sells
    2 of 10. The checker says more than the model can (retries, the ledger's columns): its
    figures include the model's and its evidence begins with it."""
    po, pl = rule_params()["stock.no-oversell"], rule_params()["stock.ledger-balances"]
    over = max(0, sold - 40)
    sim = verdict("stock.no-oversell",
                  OversellMeasures(over, ("HOT-1",) if over else (), min(40 - sold, 8)), po)
    history, books = [], []
    for i, sku in enumerate(["HOT-1"] * sold + ["COLD-1"] * 2):
        history.append(Op(f"buyer-{i}", "order", {"sku": sku, "quantity": 1, "key": f"k{i}",
                                                   "buyer": i}, OK, {"order_id": i},
                          T0 + i, T0 + i + 0.1))
        history.append(Op(f"buyer-{i}", "pay", {"order_id": i}, OK, {"order_id": i},
                          T0 + i + 1, T0 + i + 1.1))
        books.append({"id": i, "sku": sku, "quantity": 1, "state": "paid"})
    ledger = [{"sku": "HOT-1", "initial": 40, "sold": sold, "reserved": 0,
               "remaining": 40 - sold},
              {"sku": "COLD-1", "initial": 10, "sold": 2, "reserved": 0, "remaining": 8}]
    state = FinalState(ledger=ledger, orders=books, fetched_at=T0 + HORIZON)
    for sim_v, shop in ((sim, no_oversell(history, state, po)),
                        (verdict("stock.ledger-balances", LedgerMeasures(0), pl),
                         ledger_balances(history, state, pl))):
        assert shop.status is sim_v.status
        assert shop.limit == sim_v.limit
        assert sim_v.measured.items() <= shop.measured.items()
        first = sim_v.evidence.replace("at every step", "at the end")
        assert shop.evidence.startswith(first), (shop.evidence, first)
    assert sim.status is (Status.FAIL if over else Status.PASS)


@pytest.mark.parametrize("stale", [0, 3])
def test_displayed_stock_is_judged_alike(stale: int) -> None:
    """HOT-1's real stock falls by one a second from 40; it is shown once a second, the
    last ``stale`` figures 5 s old (beyond the rule's 2 s)."""
    p = rule_params()["stock.display-matches"]
    step = 1.0
    real = [40 - t for t in range(10)]
    shown = [real[t] if t < 10 - stale else real[t - 5] for t in range(10)]
    wrong = sum(1 for t in range(10) if shown[t] not in real[max(0, t - 2):t + 1])
    sim = verdict("stock.display-matches",
                  DisplayMeasures(wrong, "HOT-1" if wrong else None, step, wrong * step), p)
    history = []
    for t in range(10):
        at = T0 + t
        history.append(Op("monitor", "true_stock", {}, OK, {"HOT-1": real[t]}, at, at + 0.01))
        history.append(Op("viewer-1", "read_stock", {}, OK, {"HOT-1": shown[t]}, at + 0.02,
                          at + 0.03))
    history.append(Op("monitor", "true_stock", {}, OK, {"HOT-1": real[-1]}, T0 + 10, T0 + 10.01))
    shop = display_matches(history, FinalState(fetched_at=T0 + 11), p)
    assert sim.status is shop.status is (Status.FAIL if stale else Status.PASS)
    assert sim.limit == shop.limit
    assert shop.measured["mismatches"] == sim.measured["mismatched_readings"] == wrong
