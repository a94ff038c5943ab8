"""One broadcast, two measurers, one judge: the simulator's records and the load-test
checker's history and final state of the same small broadcast give the same verdicts.

The broadcast is built by hand: four tickets and three paid orders, with times in seconds.
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
from simlive.check.service_rules import receipts, refund_deadline, seven_day_returns
from simlive.check.state import FinalState
from simlive.judge.measures import ReceiptMeasures, ReturnMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import DAY, Status, rule_params
from simlive.sim.aftersales import refund_record, returns_refused

T0 = 1_700_000_000.0  # the broadcast's start, as the shop's clock has it
HORIZON = 20 * DAY  # the state is read (the simulation's horizon ends) 20 days in
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


def same(sim, shop, examples: str = "") -> None:
    assert (shop.status, shop.measured, shop.limit) == (sim.status, sim.measured, sim.limit)
    assert shop.evidence == sim.evidence + examples


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


@pytest.mark.parametrize(("accept_within", "status"), [(7 * DAY, Status.PASS),
                                                       (2 * DAY, Status.FAIL)])
def test_seven_day_returns_are_judged_alike(accept_within: float, status: Status) -> None:
    """A return asked 3 days after delivery, of goods not exempt: refused by a merchant
    who accepts returns for 2 days only, which the rule's 7 days forbid."""
    p = rule_params()["returns.seven-day"]
    delivered, asked = 1 * DAY, 4 * DAY
    refused, wrongly = returns_refused(np.array([True]), np.array([asked - delivered]),
                                       np.array([False]), accept_within, p["window"])
    sim = verdict("returns.seven-day", ReturnMeasures(int(wrongly.sum())), p)
    outcome = (FAIL, {"code": "return_window_closed"}) if refused[0] else (OK, {"ticket_id": 9})
    history = [Op("agent-1", "open_ticket", {"kind": "return", "order_id": 7}, outcome[0],
                  outcome[1], T0 + asked, T0 + asked + 0.05)]
    state = shop_state([], orders=[{"id": 7, "state": "paid", "delivered_at": T0 + delivered}])
    shop = seven_day_returns(history, state, p)
    assert sim.status is status
    same(sim, shop, ", e.g. ['order 7']" if status is Status.FAIL else "")


@pytest.mark.parametrize(("with_receipt", "status"), [([1, 2, 3], Status.PASS),
                                                      ([1, 3], Status.FAIL)])
def test_receipts_are_judged_alike(with_receipt: list[int], status: Status) -> None:
    p = rule_params()["evidence.receipt"]
    orders = [{"id": i, "state": "paid"} for i in (1, 2, 3)]
    missing = sorted({1, 2, 3} - set(with_receipt))
    sim = verdict("evidence.receipt", ReceiptMeasures(3, len(missing)), p)
    shop = receipts([], shop_state([], orders=orders, receipts_of=with_receipt), p)
    assert sim.status is status
    same(sim, shop, f", e.g. {[str(i) for i in missing]}" if missing else "")
