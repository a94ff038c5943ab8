"""Synthetic, self-consistent histories and final states, for the checker's tests and
benchmarks/bench_load.py.

A made-up run of a compliant service: buyers order (some retried with their key, some with
unknown outcome that did or did not take effect), pay or let orders expire, viewers read the
displayed stock, a monitor reads the real stock, tickets are opened and closed, reviews
written, the broadcast ended. Tests then break one thing and expect exactly one rule to fail.
Randomness comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random
from typing import Any

from simlive.check.state import FinalState

T0 = 1_700_000_000.0
YEAR3 = 3 * 365 * 86400.0


class Builder:
    """Appends invoke/completion event pairs with increasing client times."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.n = 0
        self.t = T0

    def op(self, process: str, f: str, args: dict[str, Any], typ: str, value: Any = None,
           dt: float = 0.002) -> tuple[float, float]:
        self.n += 1
        start = self.t
        self.events.append({"type": "invoke", "process": process, "op": self.n,
                            "time": start, "f": f, "args": args})
        self.t += dt
        self.events.append({"type": typ, "process": process, "op": self.n, "time": self.t,
                            "f": f, "value": value})
        return start, self.t


NOT_MODELLED: dict[str, str] = {
    rid: "the synthetic run does not exercise it"
    for rid in ("display.complete", "display.counters-true", "pricing.claims-hold",
                "fulfilment.on-time", "aftersales.escalations-answered")}
"""The duties ``clean_run`` has no operations for: a checker given its histories is told
they are not modelled, as a load of a scenario without them tells it."""


def clean_run(rng: random.Random, orders: int = 50, stock: int = 30,
              ) -> tuple[list[dict[str, Any]], FinalState]:
    """A compliant run on one SKU ``HOT`` with ``stock`` units; ``orders`` order attempts."""
    b = Builder()
    remaining = stock
    books: list[dict[str, Any]] = []
    receipts: list[dict[str, Any]] = []
    released = 0

    def truth() -> None:
        b.op("monitor", "true_stock", {}, "ok", {"HOT": remaining}, dt=0.001)

    truth()
    for i in range(orders):
        buyer, key = i % 97, f"k{i}"
        args = {"sku": "HOT", "quantity": 1, "key": key, "buyer": buyer}
        if remaining == 0:
            b.op(f"u{buyer}", "order", args, "fail", {"code": "sold_out"})
            truth()
            continue
        oid = len(books) + 1
        outcome = rng.random()
        if outcome < 0.1:  # unknown outcome, did not happen
            b.op(f"u{buyer}", "order", args, "info", {"error": "timeout"})
            truth()
            continue
        remaining -= 1
        start, _ = b.t, None
        order = {"id": oid, "buyer_id": buyer, "sku": "HOT", "quantity": 1,
                 "state": "reserved", "created_at": start, "paid_at": None,
                 "closed_at": None, "delivered_at": None, "retain_until": start + YEAR3}
        books.append(order)
        if outcome < 0.2:  # unknown outcome that did happen; the retry with the key says so
            b.op(f"u{buyer}", "order", args, "info", {"error": "timeout"})
        b.op(f"u{buyer}", "order", args, "ok", {"order_id": oid})
        b.op(f"v{buyer}", "read_stock", {}, "ok", {"HOT": remaining})
        truth()
        if rng.random() < 0.8:
            b.op(f"u{buyer}", "pay", {"order_id": oid, "sku": "HOT", "quantity": 1}, "ok",
                 {"order_id": oid, "state": "paid"})
            order.update(state="paid", paid_at=b.t)
            receipts.append({"order_id": oid, "receipt_no": f"R{oid}", "issued_at": b.t,
                             "retain_until": b.t + YEAR3})
        else:
            order.update(state="expired", closed_at=b.t, retain_until=b.t + YEAR3)
            remaining += 1
            released += 1
            truth()
    tickets, reviews = [], []
    for i in range(5):
        s, e = b.op(f"c{i}", "open_ticket", {"kind": "consultation", "order_id": None}, "ok",
                    {"ticket_id": i + 1})
        tickets.append({"id": i + 1, "kind": "consultation", "state": "closed",
                        "order_id": None, "created_at": s, "first_reply_at": e + 1.0,
                        "closed_at": e + 3.0, "feedback": "fine", "goods_received_at": None,
                        "refund_paid_at": None})
        b.op(f"r{i}", "review", {"sku": "HOT", "rating": 4}, "ok", {"review_id": i + 1})
        reviews.append({"id": i + 1, "hidden": False})
    paid = [o for o in books if o["state"] == "paid"]
    if paid:
        o = paid[0]
        # delivered: the order and its receipt are kept from now (replay.retained)
        o.update(delivered_at=b.t, retain_until=b.t + YEAR3)
        next(r for r in receipts if r["order_id"] == o["id"])["retain_until"] = b.t + YEAR3
        s, e = b.op("c9", "open_ticket", {"kind": "return", "order_id": o["id"]}, "ok",
                    {"ticket_id": 6})
        tickets.append({"id": 6, "kind": "return", "state": "resolved", "order_id": o["id"],
                        "created_at": s, "first_reply_at": e + 1, "closed_at": None,
                        "feedback": None, "goods_received_at": e + 2,
                        "refund_paid_at": e + 3})
    s, e = b.op("setup", "end_broadcast", {"broadcast_id": 1}, "ok", {"state": "ended"})
    # reviews.order-honest: the default listing read after the load, newest first
    b.op("setup", "list_reviews", {"sku": "HOT"}, "ok",
         {"items": [{"id": r["id"], "rating": 4} for r in reviews[::-1]], "next": None})
    broadcasts = [{"id": 1, "state": "ended", "ended_at": e,
                   "replay": {"published_at": e, "retain_until": e + YEAR3}}]
    sold = sum(1 for o in books if o["state"] == "paid")
    ledger = [{"sku": "HOT", "initial": stock, "restocked": 0, "sold": sold, "reserved": 0,
               "remaining": remaining, "released": released, "returned": released}]
    state = FinalState(ledger=ledger, orders=books, receipts=receipts, tickets=tickets,
                       reviews=reviews, broadcasts=broadcasts, fetched_at=b.t + 10.0)
    return b.events, state


def big_history(rng: random.Random, n_ops: int) -> tuple[list[dict[str, Any]], FinalState]:
    """``n_ops`` operations (2 events each) of a large compliant run, quickly generated."""
    events: list[dict[str, Any]] = []
    append = events.append
    t = T0
    remaining = n_ops
    oid = 0
    orders: list[dict[str, Any]] = []
    for i in range(n_ops):
        proc = f"u{i % 500}"
        r = rng.random()
        if r < 0.3:
            oid += 1
            remaining -= 1
            f, args, val = "order", {"sku": "S", "quantity": 1, "key": f"k{i}",
                                     "buyer": i % 500}, {"order_id": oid}
            orders.append({"id": oid, "sku": "S", "quantity": 1, "state": "reserved",
                           "created_at": t})
        elif r < 0.4:
            f, args, val = "true_stock", {}, {"S": remaining}
        else:
            f, args, val = "read_stock", {}, {"S": remaining}
        append({"type": "invoke", "process": proc, "op": i, "time": t, "f": f, "args": args})
        t += 0.0001
        append({"type": "ok", "process": proc, "op": i, "time": t, "f": f, "value": val})
    ledger = [{"sku": "S", "initial": n_ops, "restocked": 0, "sold": 0, "reserved": oid,
               "remaining": remaining, "released": 0, "returned": 0}]
    return events, FinalState(ledger=ledger, orders=orders, fetched_at=t)
